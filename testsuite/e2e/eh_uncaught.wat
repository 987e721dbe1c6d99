;; An exception no wasm frame catches ends the program like a trap: output
;; written before stays, one line names the exception's tag, then the wasm
;; backtrace, and the status is 134, as under wasmtime.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "before the throw\n")
  (tag $parse_error (export "parse_error") (param i32 f64))
  (func $parse (param i32)
    (throw $parse_error (local.get 0) (f64.const 0.5)))
  (func $run
    (call $parse (i32.const 3)))
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 17))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $run)))
