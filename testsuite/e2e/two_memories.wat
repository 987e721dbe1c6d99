;; Multi-memory: three memories with their own sizes, limits and page
;; sizes, data segments into each, and bulk operations between them. WASI
;; prints from memory 0, the one exported as "memory".
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory $io (export "memory") 1)
  (memory $text 1 3)
  (memory $bytes 300 1000 (pagesize 1))
  (data (memory $text) (i32.const 100) "hello from memory 1\n")
  (data $passive "passive segment into the byte memory\n")
  (data (memory $io) (i32.const 16) "0123456789")

  (func $say (param $ptr i32) (param $len i32)
    (i32.store $io (i32.const 0) (local.get $ptr))
    (i32.store $io (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  ;; Prints a non-negative number below 10^6 and a newline.
  (func $num (param $v i32)
    (local $i i32)
    (local.set $i (i32.const 6))
    (loop $l
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 $io (i32.add (i32.const 32) (local.get $i))
        (i32.load8_u $io (i32.add (i32.const 16) (i32.rem_u (local.get $v) (i32.const 10)))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $l (i32.gt_u (local.get $i) (i32.const 0))))
    (i32.store8 $io (i32.const 38) (i32.const 10))
    (call $say (i32.const 32) (i32.const 7)))

  (func (export "_start")
    ;; memory 1 -> memory 0, then print from memory 0
    (memory.copy $io $text (i32.const 1000) (i32.const 100) (i32.const 20))
    (call $say (i32.const 1000) (i32.const 20))
    ;; passive segment -> memory 2 -> memory 1 -> memory 0
    (memory.init $bytes $passive (i32.const 200) (i32.const 0) (i32.const 37))
    (memory.copy $text $bytes (i32.const 5000) (i32.const 200) (i32.const 37))
    (memory.copy $io $text (i32.const 2000) (i32.const 5000) (i32.const 37))
    (call $say (i32.const 2000) (i32.const 37))
    ;; sizes: 1 page, 1 page, 300 one-byte pages
    (call $num (memory.size $io))
    (call $num (memory.size $text))
    (call $num (memory.size $bytes))
    ;; grow each by a different amount; the third is in bytes
    (call $num (memory.grow $text (i32.const 2)))
    (call $num (memory.grow $text (i32.const 1)))  ;; over the maximum: -1 (printed mod 10^6)
    (call $num (memory.grow $bytes (i32.const 700)))
    (call $num (memory.grow $bytes (i32.const 1)))
    (call $num (memory.size $text))
    (call $num (memory.size $bytes))
    ;; the new bytes are zero and usable; the last byte is 999
    (i32.store8 $bytes (i32.const 999) (i32.const 42))
    (call $num (i32.load8_u $bytes (i32.const 999)))
    (call $num (i32.load8_u $bytes (i32.const 998)))
    (memory.fill $bytes (i32.const 990) (i32.const 7) (i32.const 9))
    (call $num (i32.add (i32.load8_u $bytes (i32.const 990)) (i32.load8_u $bytes (i32.const 999))))
    ;; a word at the very end of the 1-byte-page memory fits; one byte on, it does not
    (call $num (i32.load16_u $bytes (i32.const 998)))
    (drop (i32.load16_u $bytes (i32.const 999)))))
