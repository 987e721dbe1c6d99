(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func $fac (param $n i64) (result i64)
    (if (result i64) (i64.eqz (local.get $n))
      (then (i64.const 1))
      (else (i64.mul (local.get $n) (call $fac (i64.sub (local.get $n) (i64.const 1)))))))
  (func (export "_start")
    (call $exit (i32.wrap_i64 (call $fac (i64.const 5))))))
