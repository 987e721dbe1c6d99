;; A plugin with host imports: every value type crosses the boundary,
;; strings travel through linear memory, a host import calls back into
;; the instance, and each kind of failure comes back to the host.
(module
  (import "host" "log" (func $log (param i32 i32)))
  (import "host" "twice" (func $twice (param i64) (result i64)))
  (import "host" "scale" (func $scale (param f32 f64) (result f64)))
  (tag $oops (param i32))
  (memory (export "memory") 1)
  (global $count (export "count") (mut i32) (i32.const 0))
  (global (export "version") i64 (i64.const 0x0102030405060708))
  (table (export "table") 3 funcref)
  (func (export "add") (param i32 i32) (result i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (i32.add (local.get 0) (local.get 1)))
  ;; (i64, f32, f64) -> (f64, i64): through the host's twice and scale.
  (func (export "mix") (param i64 f32 f64) (result f64 i64)
    (call $scale (local.get 1) (local.get 2))
    (call $twice (local.get 0)))
  (func (export "negate_f32") (param f32) (result f32) (f32.neg (local.get 0)))
  ;; Logs the string at [ptr, ptr+len) through the host, then upper-cases it in place.
  (func (export "shout") (param $ptr i32) (param $len i32)
    (local $i i32) (local $c i32)
    (call $log (local.get $ptr) (local.get $len))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $c (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
          (then (i32.store8 (i32.add (local.get $ptr) (local.get $i)) (i32.sub (local.get $c) (i32.const 32)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
  (func (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func $deep (export "deep") (param i32) (result i32)
    (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "peek") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "throw") (param i32) (throw $oops (local.get 0)))
  (func (export "catch") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $oops $h) (throw $oops (local.get 0)))
      (i32.const -1)))
  ;; Busy work for the threads test: the sum of 0..n-1, wrapping.
  (func (export "sum") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (i32.add (local.get $s) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $s))
)
