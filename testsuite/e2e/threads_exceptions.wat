;; kiln-e2e: expected output written by hand (wasmtime's Python API runs no
;; wasi-threads program): three threads throw and catch at once, each its
;; own values (200,000 throws each), and every catch must get back the
;; value it threw: exceptions objects are shared among threads, and the
;; runtime's free list of them must hand each to one thread only. Exits
;; with the number of values that came back wrong: 0.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (tag $t (param i32))
  (func $one (param $v i32) (result i32)
    (block $h (result i32)
      (try_table (catch $t $h)
        (throw $t (local.get $v)))
      unreachable))
  (func $work (param $base i32)
    (local $i i32) (local $v i32)
    (loop $l
      (local.set $v (i32.add (local.get $base) (local.get $i)))
      (if (i32.ne (call $one (local.get $v)) (local.get $v))
        (then (i32.atomic.rmw.add (i32.const 16) (i32.const 1)) drop))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 200000)))))
  (func (export "wasi_thread_start") (param i32 i32)
    (call $work (i32.mul (local.get 1) (i32.const 0x1000000)))
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const 1))))
  (func (export "_start") (local $n i32)
    (drop (call $spawn (i32.const 1)))
    (drop (call $spawn (i32.const 2)))
    (call $work (i32.const 0x30000000))
    (loop $w
      (local.set $n (i32.atomic.load (i32.const 0)))
      (if (i32.lt_u (local.get $n) (i32.const 2))
        (then (drop (memory.atomic.wait32 (i32.const 0) (local.get $n) (i64.const -1))) (br $w))))
    (call $exit (i32.atomic.load (i32.const 16))))
)
