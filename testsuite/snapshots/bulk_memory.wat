;; memory.copy and memory.fill: up to 16 bytes inline (a bounds check, then
;; two overlapping moves of the widest size that fits), longer ones call
;; the runtime.
(module (memory 1)
  (func (export "copy") (param i32 i32 i32)
    (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill") (param i32 i32 i32)
    (memory.fill (local.get 0) (local.get 1) (local.get 2))))
