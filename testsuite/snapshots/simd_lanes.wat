;; SIMD: v128 is I8X16 between operators; an operator sees its lane type
;; through one bitcast (little-endian lane order), and a chain of
;; same-shape operators needs none in between. Loads and stores use the
;; scalar heap path (no bounds checks, little-endian, trapping).
(module (memory 1)
  (func (export "axpy") (param $p i32) (param $a f32) (result v128)
    (f32x4.add
      (f32x4.mul (f32x4.splat (local.get $a)) (v128.load offset=16 (local.get $p)))
      (v128.load offset=32 (local.get $p))))
  (func (export "lanes") (param $p i32) (param $v v128) (result i32)
    (v128.store32_lane offset=8 3 (local.get $p) (local.get $v))
    (i32.add
      (i8x16.extract_lane_u 15
        (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23
          (local.get $v) (v128.load8x8_s (local.get $p))))
      (i32x4.extract_lane 1
        (i32x4.mul (i32x4.add (local.get $v) (local.get $v)) (local.get $v))))))
