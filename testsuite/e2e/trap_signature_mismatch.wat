(module (type $t (func (result i32))) (type $u (func (param i32)))
  (table 3 funcref) (elem (i32.const 0) $f)
  (func $f (result i32) i32.const 7)
  (func (export "_start") (call_indirect (type $u) (i32.const 1) (i32.const 0)) ))
