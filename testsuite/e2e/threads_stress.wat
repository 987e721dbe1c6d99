;; kiln-e2e: expected output written by hand (wasmtime's Python API runs no
;; wasi-threads program; the output is the arithmetic below).
;;
;; 64 threads hammer one atomic counter (1000 increments each) and feed a
;; shared queue (100 items each: a ticket from an atomic tail, a store, a
;; notify), which the main thread drains in order, waiting on each empty
;; slot. Prints the counter and the queue's sum: 64000 and 1 + ... + 6400.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  ;; 0: counter; 4: queue tail; 64..96: text; 1024..: the queue (6400 i32)
  (func $print (param $n i64) (param $end i32)
    (local $p i32)
    (local.set $p (i32.const 96))
    (i32.store8 (local.get $p) (local.get $end))
    (loop $d
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i64.store8 (local.get $p) (i64.add (i64.const 48) (i64.rem_u (local.get $n) (i64.const 10))))
      (local.set $n (i64.div_u (local.get $n) (i64.const 10)))
      (br_if $d (i64.ne (local.get $n) (i64.const 0))))
    (i32.store (i32.const 16) (local.get $p))
    (i32.store (i32.const 20) (i32.sub (i32.const 97) (local.get $p)))
    (drop (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))
  (func (export "wasi_thread_start") (param $tid i32) (param $t i32)
    (local $i i32) (local $slot i32)
    (loop $l
      (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))
    (local.set $i (i32.const 0))
    (loop $q
      (local.set $slot (i32.atomic.rmw.add (i32.const 4) (i32.const 1)))
      (local.set $slot (i32.add (i32.const 1024) (i32.shl (local.get $slot) (i32.const 2))))
      ;; the values t*100 + i + 1 over all threads are 1..6400
      (i32.atomic.store (local.get $slot)
        (i32.add (i32.add (i32.mul (local.get $t) (i32.const 100)) (local.get $i)) (i32.const 1)))
      (drop (memory.atomic.notify (local.get $slot) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $q (i32.lt_u (local.get $i) (i32.const 100)))))
  (func (export "_start")
    (local $n i32) (local $k i32) (local $v i32) (local $sum i64)
    (loop $s
      (if (i32.le_s (call $spawn (local.get $n)) (i32.const 0)) (then (call $exit (i32.const 3))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $s (i32.lt_u (local.get $n) (i32.const 64))))
    ;; drain the 6400 slots in order, sleeping on each until it is filled
    (loop $d
      (block $got
        (loop $w
          (local.set $v (i32.atomic.load (i32.add (i32.const 1024) (i32.shl (local.get $k) (i32.const 2)))))
          (br_if $got (local.get $v))
          (drop (memory.atomic.wait32 (i32.add (i32.const 1024) (i32.shl (local.get $k) (i32.const 2))) (i32.const 0) (i64.const -1)))
          (br $w)))
      (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_u (local.get $v))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $d (i32.lt_u (local.get $k) (i32.const 6400))))
    ;; every item is in, so every thread is past its counter loop
    (call $print (i64.extend_i32_u (i32.atomic.load (i32.const 0))) (i32.const 32))
    (call $print (local.get $sum) (i32.const 10))))
