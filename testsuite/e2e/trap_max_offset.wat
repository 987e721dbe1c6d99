;; The farthest access wasm32 allows (index 0xffffffff, offset 0xffffffff,
;; 8 bytes) still lands inside the guard reservation and traps cleanly.
(module (memory 1)
  (func $far (i64.store offset=0xffffffff (i32.const -1) (i64.const 0x4141414141414141)))
  (func (export "_start") call $far))
