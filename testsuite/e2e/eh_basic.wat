;; Exception handling end to end, Wasm 3.0 encoding:
;; a throw caught several frames up, payloads of every value type, a catch
;; inside a loop, an exception crossing call_indirect, rethrow with
;; throw_ref, catch_all, tag mismatch passing an inner handler, and a trap
;; that no handler catches. (eh_legacy.wat: the legacy encoding.)
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)

  ;; Prints a signed i64 in decimal and a newline.
  (func $print (param $v i64)
    (local $p i32) (local $neg i32)
    (local.set $p (i32.const 100))
    (i32.store8 (local.get $p) (i32.const 10))
    (if (i64.lt_s (local.get $v) (i64.const 0))
      (then (local.set $neg (i32.const 1)) (local.set $v (i64.sub (i64.const 0) (local.get $v)))))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digits (i64.ne (local.get $v) (i64.const 0))))
    (if (local.get $neg)
      (then (local.set $p (i32.sub (local.get $p) (i32.const 1))) (i32.store8 (local.get $p) (i32.const 45))))
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (i32.sub (i32.const 101) (local.get $p)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  (tag $ei (param i32))
  (tag $eI (param i64))
  (tag $emix (param i32 i64 f32 f64 externref funcref))
  (tag $empty)
  (table $t 2 funcref)
  (elem (table $t) (i32.const 0) func $deep $throw_empty)
  (type $deep_t (func (param i32) (result i32)))

  ;; Recurses n times, then throws $ei(n * 10 + depth reached).
  (func $deep (param $n i32) (result i32)
    (if (i32.eqz (local.get $n)) (then (throw $ei (i32.const 1000))))
    (i32.add (call $deep (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))
  (func $throw_empty (param i32) (result i32) (throw $empty))

  (func $caught_far (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $ei $h) (call $deep (i32.const 20)))))

  (func $mix (result i32 i64 f32 f64 externref funcref)
    (block $h (result i32 i64 f32 f64 externref funcref)
      (try_table (catch $emix $h)
        (throw $emix (i32.const -7) (i64.const 0x123456789abcdef) (f32.const 1.5) (f64.const -2.25)
                     (ref.null extern) (ref.func $deep)))
      (unreachable)))

  ;; Sum over i in 0..10 of i, delivered by a return (even i) or by an
  ;; exception caught inside the loop body (odd i).
  (func $maybe (param $i i32) (result i32)
    (if (i32.and (local.get $i) (i32.const 1)) (then (throw $eI (i64.extend_i32_u (local.get $i)))))
    (local.get $i))
  (func $loop_catch (result i64)
    (local $i i32) (local $sum i64)
    (loop $next
      (block $done
        (local.set $sum (i64.add (local.get $sum)
          (block $h (result i64)
            (try_table (result i64) (catch $eI $h)
              (i64.extend_i32_u (call $maybe (local.get $i)))))))
        (br $done))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 10))))
    (local.get $sum))

  (func $indirect (param $k i32) (result i32)
    (block $all
      (block $h (result i32)
        (try_table (result i32) (catch $ei $h) (catch_all $all)
          (call_indirect $t (type $deep_t) (i32.const 3) (local.get $k))))
      (return (i32.add (i32.const 5000))))
    (i32.const -1))

  ;; catch_ref, then throw_ref to an outer handler; an inner handler for
  ;; another tag lets the exception pass.
  (func $rethrown (result i32)
    (block $outer (result i32)
      (try_table (result i32) (catch $ei $outer)
        (block $h (result i32 exnref)
          (block $never
            (try_table (catch $empty $never) (catch_ref $ei $h)
              (drop (call $deep (i32.const 3)))))
          (unreachable))
        (drop (throw_ref)))))

  ;; A trap is not an exception: catch_all does not see it.
  (func $trap_in_try (result i32)
    (block $h
      (try_table (catch_all $h) (drop (i32.div_u (i32.const 1) (i32.const 0))))
      (return (i32.const 0)))
    (i32.const 1))

  (func (export "_start")
    (call $print (i64.extend_i32_s (call $caught_far)))
    (call $mix)
    (drop) (drop)
    (call $print (i64.reinterpret_f64))
    (call $print (i64.extend_i32_u (i32.reinterpret_f32)))
    (call $print)
    (call $print (i64.extend_i32_s))
    (call $print (call $loop_catch))
    (call $print (i64.extend_i32_s (call $indirect (i32.const 0))))
    (call $print (i64.extend_i32_s (call $indirect (i32.const 1))))
    (call $print (i64.extend_i32_s (call $rethrown)))
    (call $print (i64.extend_i32_s (call $trap_in_try)))))
