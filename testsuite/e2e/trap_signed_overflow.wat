(module
  (func $div (param i64 i64) (result i64) local.get 0 local.get 1 i64.div_s)
  (func (export "_start") (drop (call $div (i64.const 0x8000000000000000) (i64.const -1)))))
