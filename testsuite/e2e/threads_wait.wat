;; kiln-e2e: expected output written by hand (wasmtime's Python API runs no
;; wasi-threads program; each value is fixed by the protocol below).
;;
;; memory.atomic.wait32/wait64 and notify between two threads, with
;; timeouts. The spawned thread waits 10 ms with nobody notifying (2,
;; "timed-out"), then waits with no timeout until the main thread, which
;; retries notify until it wakes one waiter, wakes it (0, "ok"), then
;; wait64s on a cell that differs (1, "not-equal"). Prints the three
;; results and the count notify returned: "2 0 1 1".
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  ;; 8: the cell waited on; 12, 20, 24: the thread's results; 32: done flag;
;; 36: the first wait is over;
  ;; 40: a cell nobody notifies (the main thread's 1 ms naps); 64: text
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (i32.store (i32.const 12) (memory.atomic.wait32 (i32.const 8) (i32.const 0) (i64.const 10000000)))
    (i32.atomic.store (i32.const 36) (i32.const 1))
    (i32.store (i32.const 20) (memory.atomic.wait32 (i32.const 8) (i32.const 0) (i64.const -1)))
    (i32.store (i32.const 24) (memory.atomic.wait64 (i32.const 48) (i64.const 5) (i64.const -1)))
    (i32.atomic.store (i32.const 32) (i32.const 1))
    (drop (memory.atomic.notify (i32.const 32) (i32.const 1))))
  (func (export "_start")
    (local $woke i32)
    (if (i32.le_s (call $spawn (i32.const 0)) (i32.const 0)) (then (call $exit (i32.const 3))))
    ;; Wait (1 ms naps) until the thread's first wait has timed out (36),
    ;; then notify until a waiter is woken: its second wait.
    (block $t (loop $n
      (br_if $t (i32.atomic.load (i32.const 36)))
      (drop (memory.atomic.wait32 (i32.const 40) (i32.const 0) (i64.const 1000000)))
      (br $n)))
    (block $b (loop $l
      (local.set $woke (memory.atomic.notify (i32.const 8) (i32.const 1)))
      (br_if $b (local.get $woke))
      (drop (memory.atomic.wait32 (i32.const 40) (i32.const 0) (i64.const 1000000)))
      (br $l)))
    (block $d (loop $w
      (br_if $d (i32.atomic.load (i32.const 32)))
      (drop (memory.atomic.wait32 (i32.const 32) (i32.const 0) (i64.const -1)))
      (br $w)))
    (i64.store (i32.const 64) (i64.const 0x0a20202020202020))
    (i32.store8 (i32.const 64) (i32.add (i32.const 48) (i32.load (i32.const 12))))
    (i32.store8 (i32.const 66) (i32.add (i32.const 48) (i32.load (i32.const 20))))
    (i32.store8 (i32.const 68) (i32.add (i32.const 48) (i32.load (i32.const 24))))
    (i32.store8 (i32.const 70) (i32.add (i32.const 48) (local.get $woke)))
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 8))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 56)))))
