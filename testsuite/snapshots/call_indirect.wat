;; call_indirect: table bounds check, null check, signature check.
(module (type $t (func (param i32) (result i32))) (table 10 funcref)
  (func (export "dispatch") (param i32 i32) (result i32)
    (call_indirect (type $t) (local.get 1) (local.get 0))))
