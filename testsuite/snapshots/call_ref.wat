;; Typed function references: call_ref checks only for null (validation
;; fixes the callee's type, so no signature compare), return_call_ref
;; replaces the frame, br_on_null and br_on_non_null are one conditional
;; branch each, ref.as_non_null one trap.
(module
  (type $binop (func (param i32 i32) (result i32)))
  (func $add (type $binop) (i32.add (local.get 0) (local.get 1)))
  (elem declare func $add)
  (func (export "_start"))
  (func (export "call") (param $f (ref null $binop)) (param i32 i32) (result i32)
    (call_ref $binop (local.get 1) (local.get 2) (local.get $f)))
  (func (export "tail") (param $f (ref $binop)) (param i32 i32) (result i32)
    (return_call_ref $binop (local.get 1) (local.get 2) (local.get $f)))
  (func (export "or_zero") (param $f (ref null $binop)) (param i32) (result i32)
    (block $null
      (return (call_ref $binop (local.get 1) (local.get 1) (br_on_null $null (local.get $f)))))
    (i32.const 0))
  (func (export "first") (param $f (ref null $binop)) (result (ref $binop))
    (block $found (result (ref $binop))
      (br_on_non_null $found (local.get $f))
      (ref.as_non_null (ref.func $add)))))
