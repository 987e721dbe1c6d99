;; Whole-module inlining (codegen/inline.rs). This CLIF is what Cranelift
;; gets, after inlining: `caller` has $small's body and $rec's (once: the
;; call to $rec inside that copy stays a call, as a function is never
;; inlined into itself), with synthetic source locations (above the
;; module's length) that the trap table resolves to wasm offsets and
;; inlining levels. Not inlined: the try_call to $small in $catches (its
;; handler would have to cover the copy), $catches (try_call) and $tail
;; (return_call), which need frames of their own.
(module
  (func $small (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $catches (param i32) (result i32)
    (block $h (try_table (catch_all $h) (return (call $small (local.get 0)))))
    (i32.const 0))
  (func $tail (param i32) (result i32) (return_call $small (local.get 0)))
  (func $rec (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (call $rec (i32.sub (local.get 0) (i32.const 1))))
      (else (i32.const 0))))
  (func (export "_start"))
  (func (export "caller") (param i32) (result i32)
    (i32.add
      (i32.add (call $small (local.get 0)) (call $catches (local.get 0)))
      (i32.add (call $tail (local.get 0)) (call $rec (local.get 0))))))
