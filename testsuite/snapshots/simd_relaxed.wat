;; Relaxed SIMD in the deterministic profile: madd unfused (fmul, then
;; fadd), laneselect as bitselect, the i16x8 dot product with signed
;; saturation (pair sums formed in i32, narrowed with snarrow).
(module
  (func (export "madd") (param v128 v128 v128) (result v128)
    (f64x2.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "laneselect") (param v128 v128 v128) (result v128)
    (i32x4.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "dot_add") (param v128 v128 v128) (result v128)
    (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get 0) (local.get 1) (local.get 2))))
