;; Many exceptions, so caught objects are reused: 100000 rounds, each
;; throwing $e(i, 2i) three frames down. Most rounds catch it with `catch`
;; (the object can be reused); every seventh goes through catch_ref and
;; throw_ref to an outer `catch` (the object escaped and is kept). Prints
;; the sum of every payload received, and the number of rounds.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (tag $e (param i64 i64))

  (func $print (param $v i64)
    (local $p i32)
    (local.set $p (i32.const 100))
    (i32.store8 (local.get $p) (i32.const 10))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digits (i64.ne (local.get $v) (i64.const 0))))
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (i32.sub (i32.const 101) (local.get $p)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  (func $down (param $d i32) (param $i i64)
    (if (i32.eqz (local.get $d)) (then (throw $e (local.get $i) (i64.mul (local.get $i) (i64.const 2)))))
    (call $down (i32.sub (local.get $d) (i32.const 1)) (local.get $i)))

  ;; The sum of the payload of round i.
  (func $round (param $i i64) (result i64)
    (block $outer (result i64 i64)
      (try_table (catch $e $outer)
        (if (i64.eqz (i64.rem_u (local.get $i) (i64.const 7)))
          (then
            (block $h (result i64 i64 exnref)
              (try_table (catch_ref $e $h) (call $down (i32.const 3) (local.get $i)))
              (unreachable))
            (throw_ref)
            (drop) (drop)))
        (block $h2 (result i64 i64)
          (try_table (catch $e $h2) (call $down (i32.const 3) (local.get $i)))
          (unreachable))
        (return (i64.add)))
      (unreachable))
    (i64.add))

  (func (export "_start")
    (local $i i64) (local $sum i64)
    (loop $next
      (local.set $sum (i64.add (local.get $sum) (call $round (local.get $i))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $next (i64.lt_u (local.get $i) (i64.const 100000))))
    (call $print (local.get $sum))
    (call $print (local.get $i))))
