;; Not runnable: imports that Kiln cannot provide are all reported at once.
(module
  (import "env" "host_log" (func (param i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "no_such_call" (func))
  (import "env" "mem" (memory 1))
  (func (export "_start")))
