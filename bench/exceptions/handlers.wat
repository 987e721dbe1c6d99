;; No-throw overhead: the same call chain, every call inside a try_table
;; (handlers active), never throwing.
;; Usage: ARGV0 N DEPTH: N times, a call chain DEPTH frames deep.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (tag $done (param i64))
  (tag $other)

  ;; argv[i] as an unsigned decimal (argv strings live at 1024+).
  (func $arg (param $i i32) (result i64)
    (local $p i32) (local $v i64) (local $c i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $args_get (i32.const 512) (i32.const 1024)))
    (local.set $p (i32.load (i32.add (i32.const 512) (i32.shl (local.get $i) (i32.const 2)))))
    (block $end
      (loop $next
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $end (i32.lt_u (local.get $c) (i32.const 48)))
        (local.set $v (i64.add (i64.mul (local.get $v) (i64.const 10)) (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 48)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $v))

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
  (func $down (param $d i32) (param $x i64) (result i64)
    (if (i32.eqz (local.get $d)) (then (return (local.get $x))))
    (block $h
      (try_table (catch $other $h)
        (return (i64.add (call $down (i32.sub (local.get $d) (i32.const 1)) (i64.add (local.get $x) (i64.const 1))) (i64.const 1)))))
    (i64.const 0))
  (func $round (param $d i32) (param $x i64) (result i64)
    (block $h (result i64)
      (try_table (result i64) (catch $done $h) (call $down (local.get $d) (local.get $x)))))
  (func (export "_start")
    (local $n i64) (local $d i32) (local $i i64) (local $sum i64)
    (local.set $n (call $arg (i32.const 1)))
    (local.set $d (i32.wrap_i64 (call $arg (i32.const 2))))
    (block $end
      (loop $next
        (br_if $end (i64.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (i64.add (local.get $sum) (call $round (local.get $d) (local.get $i))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $next)))
    (call $print (local.get $sum))))
