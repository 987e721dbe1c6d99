;; A command's memory 0 sits at a fixed address, and generated code uses
;; that address as a constant (compiler/src/translate/heap.rs, "Fixed
;; memories"). On x86-64 the constant and an access's offset fold into one
;; 32-bit displacement when their sum fits (FIXED_MEMORY_BASE + offset <
;; 2^31, i.e. offset < 0x2000_0000) and are added in a register otherwise.
;; These accesses reach the same cells with the offset on either side of
;; that limit, after memory.grow, up to the last byte; one byte past the
;; end, with an offset far beyond the limit, traps.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "0123456789")

  (func $say (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  ;; Prints a non-negative number below 10^6 and a newline.
  (func $num (param $v i32)
    (local $i i32)
    (local.set $i (i32.const 6))
    (loop $l
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (i32.add (i32.const 32) (local.get $i))
        (i32.load8_u (i32.add (i32.const 16) (i32.rem_u (local.get $v) (i32.const 10)))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $l (i32.gt_u (local.get $i) (i32.const 0))))
    (i32.store8 (i32.const 38) (i32.const 10))
    (call $say (i32.const 32) (i32.const 7)))

  (func $far (param $index i32) (result i32)
    (i32.load8_u offset=0xa0000000 (local.get $index)))

  (func (export "_start")
    ;; 0x2001 pages: 512 MiB + 64 KiB. Prints the old size, 1.
    (call $num (memory.grow (i32.const 0x2000)))
    ;; The cell at 0x2000_0000, stored through the index alone...
    (i32.store (i32.const 0x20000000) (i32.const 111111))
    ;; ...read through an offset past the limit, and one just below it.
    (call $num (i32.load offset=0x20000000 (i32.const 0)))
    (call $num (i32.load offset=0x1ffffff0 (i32.const 0x10)))
    ;; Stored through an offset below the limit, read through the index.
    (i32.store offset=0x1ffffffc (i32.const 0) (i32.const 222222))
    (call $num (i32.load (i32.const 0x1ffffffc)))
    ;; A store whose bytes straddle the limit: its top byte lands at
    ;; 0x2000_0005 and reads back as 1.
    (i64.store offset=0x1ffffffe (i32.const 0) (i64.const 0x0102030405060708))
    (call $num (i32.load8_u (i32.const 0x20000005)))
    ;; The last byte of the memory.
    (i32.store8 offset=0x2000ffff (i32.const 0) (i32.const 77))
    (call $num (i32.load8_u (i32.const 0x2000ffff)))
    (call $num (memory.size))
    ;; Far past the end (offset 0xa000_0000: base + offset needs 33 bits).
    (call $num (call $far (i32.const 0)))))
