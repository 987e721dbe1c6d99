;; A call made by inlined code: $outer is inlined into _start and $middle
;; into that copy (the deepest level Kiln inlines), so the call to $leaf
;; is made from _start's native frame. The backtrace below the trap in
;; $leaf still shows $middle, $outer and _start, as with --no-inline.
(module
  (func $leaf (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func $middle (param i32) (result i32) (call $leaf (i32.sub (local.get 0) (i32.const 1))))
  (func $outer (param i32) (result i32) (call $middle (i32.mul (local.get 0) (i32.const 1))))
  (func (export "_start") (drop (call $outer (i32.const 1)))))
