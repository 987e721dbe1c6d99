(module (type $t (func (result i32)))
  (table 3 funcref) (elem (i32.const 0) $f)
  (func $f (result i32) i32.const 7)
  (func (export "_start") (drop (call_indirect (type $t) (i32.const 1))) ))
