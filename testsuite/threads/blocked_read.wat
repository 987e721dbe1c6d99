;; The main thread blocks reading stdin while a spawned thread prints:
;; the print must not wait for the read (the WASI lock is dropped while a
;; read waits). tests/threads.rs holds stdin open, sees "thread", then
;; writes a line, which the main thread echoes.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (data (i32.const 64) "thread\n")
  (func (export "wasi_thread_start") (param i32 i32)
    (i32.store (i32.const 16) (i32.const 64))
    (i32.store (i32.const 20) (i32.const 7))
    (drop (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (i32.store (i32.const 32) (i32.const 128))
    (i32.store (i32.const 36) (i32.const 16))
    (drop (call $read (i32.const 0) (i32.const 32) (i32.const 1) (i32.const 40)))
    (i32.store (i32.const 36) (i32.load (i32.const 40)))
    (drop (call $write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 44)))))
