;; Explicitly bounds-checked memories (translate/heap.rs): a 64-bit memory,
;; whose index + offset + size may wrap (uadd_overflow_trap), and a 32-bit
;; memory of 1-byte pages (custom-page-sizes), whose sum cannot wrap. In
;; the loop, base and length are loaded in the memory-state alias region:
;; the heap stores do not force them to be reloaded.
(module
  (memory $m64 i64 1)
  (memory $bytes 100 (pagesize 1))
  (func (export "load64") (param i64) (result i32)
    (i32.load offset=8 (local.get 0)))
  (func (export "load64_huge_offset") (param i64) (result i64)
    (i64.load $m64 offset=0xffff_ffff_ffff_fff0 (local.get 0)))
  (func (export "store_bytes") (param i32 i32)
    (i32.store8 $bytes (local.get 0) (local.get 1)))
  (func (export "size_grow") (param i64) (result i64 i32)
    (memory.grow $m64 (local.get 0))
    (memory.size $bytes))
  (func (export "fill_loop") (param i64 i64)
    (loop $l
      (i64.store $m64 (local.get 0) (local.get 1))
      (local.set 0 (i64.add (local.get 0) (i64.const 8)))
      (br_if $l (i64.lt_u (local.get 0) (i64.const 4096))))))
