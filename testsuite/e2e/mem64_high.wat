;; memory64: a 64-bit memory grown past 4 GiB, accessed above 4 GiB and
;; across the 4 GiB boundary, filled and copied there (also into the
;; 32-bit memory WASI prints from), then read one byte past its end, which
;; traps. Every access to the 64-bit memory is bounds-checked by generated
;; code (compiler/src/translate/heap.rs).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory $io (export "memory") 1)
  (memory $big i64 1 70000)
  (data (memory $io) (i32.const 32) "0123456789abcdef")
  (data (memory $big) (i64.const 0x10) "low bytes")

  (func $say (param $ptr i32) (param $len i32)
    (i32.store $io (i32.const 0) (local.get $ptr))
    (i32.store $io (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  ;; Prints `label: ` then 16 hex digits and a newline. The label is
  ;; passed as up to 8 ASCII bytes in an i64 (little-endian).
  (func $show (param $label i64) (param $v i64)
    (local $i i32)
    (i64.store $io (i32.const 48) (local.get $label))
    (i32.store16 $io (i32.const 56) (i32.const 0x203a))
    (local.set $i (i32.const 15))
    (loop $l
      (i32.store8 $io (i32.add (i32.const 58) (local.get $i))
        (i32.load8_u $io (i32.add (i32.const 32) (i32.wrap_i64 (i64.and (local.get $v) (i64.const 15))))))
      (local.set $v (i64.shr_u (local.get $v) (i64.const 4)))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $l (i32.ge_s (local.get $i) (i32.const 0))))
    (i32.store8 $io (i32.const 74) (i32.const 10))
    (call $say (i32.const 48) (i32.const 27)))

  (func (export "_start")
    (local $end i64)
    (call $show (i64.const 0x20202020657a6973) (memory.size $big))
    (call $show (i64.const 0x20202020776f7267) (memory.grow $big (i64.const 65536)))
    (call $show (i64.const 0x20202020657a6973) (memory.size $big))
    (call $show (i64.const 0x78616d207265766f) (memory.grow $big (i64.const 70000)))
    ;; Above 4 GiB.
    (i64.store $big (i64.const 0x1_0000_0008) (i64.const 0x1122334455667788))
    (call $show (i64.const 0x2020202068676968) (i64.load $big (i64.const 0x1_0000_0008)))
    ;; The same address through a large static offset.
    (call $show (i64.const 0x202074657366666f) (i64.load $big offset=0x1_0000_0000 (i64.const 8)))
    ;; Straddling the 4 GiB boundary.
    (i64.store $big (i64.const 0xffff_fffc) (i64.const 0x0102030405060708))
    (call $show (i64.const 0x656c646461727473) (i64.load $big (i64.const 0xffff_fffc)))
    (call $show (i64.const 0x20202065766f6261) (i64.load32_u $big (i64.const 0x1_0000_0000)))
    ;; Bulk operations above 4 GiB, and into the 32-bit memory.
    (memory.fill $big (i64.const 0x1_0000_1000) (i32.const 0xab) (i64.const 16))
    (call $show (i64.const 0x202020206c6c6966) (i64.load $big (i64.const 0x1_0000_1008)))
    (memory.copy $big $big (i64.const 0x20) (i64.const 0x1_0000_0008) (i64.const 8))
    (call $show (i64.const 0x2020202079706f63) (i64.load $big (i64.const 0x20)))
    (memory.copy $io $big (i32.const 200) (i64.const 0x1_0000_1000) (i32.const 8))
    (call $show (i64.const 0x2020206f69206f74) (i64.load $io (i32.const 200)))
    (call $show (i64.const 0x2020202020776f6c) (i64.load $big (i64.const 0x10)))
    ;; The last 8 bytes are in bounds; one byte further is not.
    (local.set $end (i64.shl (memory.size $big) (i64.const 16)))
    (i64.store $big (i64.sub (local.get $end) (i64.const 8)) (i64.const -1))
    (call $show (i64.const 0x202020207473616c) (i64.load $big (i64.sub (local.get $end) (i64.const 8))))
    (drop (i64.load $big (i64.sub (local.get $end) (i64.const 7))))))
