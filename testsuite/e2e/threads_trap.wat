;; kiln-e2e: expected output written by hand (wasmtime's Python API runs no
;; wasi-threads program): a trap in a spawned thread ends the whole process
;; with the trap's message and status 134, as a trap in the main thread does
;; (wasmtime's CLI exits with 1 for this one), while the main thread is
;; blocked in a wait that nobody will end.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (func $fail (param i32) (result i32)
    (i32.div_u (i32.const 1) (local.get 0)))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (drop (call $fail (local.get $arg))))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))))
