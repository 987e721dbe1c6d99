;; kiln-e2e: expected output written by hand (wasmtime's Python API runs no
;; wasi-threads program): an out-of-bounds load from the imported shared
;; memory, in a spawned thread, is the trap "out of bounds memory access"
;; (status 134), not a crash: the signal handler knows the runtime-provided
;; memory's reservation.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 2 shared))
  (func $peek (param i32) (result i32)
    (i32.load (local.get 0)))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (drop (call $peek (i32.const 70000))))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))))
