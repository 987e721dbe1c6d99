;; Loads and stores: no bounds checks (the guard reservation covers every
;; offset), little-endian accesses trapping as "out of bounds memory access".
(module (memory 1)
  (func (export "load_store") (param i32 i64)
    (i64.store offset=8 (local.get 0) (local.get 1))
    (i32.store8 (local.get 0) (i32.load16_s offset=3 (local.get 0))))
  (func (export "big_offset") (param i32) (result f64)
    (f64.load offset=4294967295 (local.get 0))))
