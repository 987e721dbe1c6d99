;; Multi-value, bulk memory, reference types, globals, memory.grow and the
;; start function, printing one line per check through fd_write.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1 4)
  (table $t 4 funcref)
  (table $ext 2 externref)
  (global $counter (mut i32) (i32.const 0))
  (global $base i32 (i32.const 1024))
  (data $msg "ok: ")
  (elem $fs func $sq $neg)
  (type $unary (func (param i32) (result i32)))

  ;; print "ok: <name>\n" where name is at [ptr, ptr+len)
  (func $print (param $ptr i32) (param $len i32)
    (memory.init $msg (i32.const 256) (i32.const 0) (i32.const 4))
    (memory.copy (i32.const 260) (local.get $ptr) (local.get $len))
    (i32.store8 (i32.add (i32.const 260) (local.get $len)) (i32.const 10))
    (i32.store (i32.const 0) (i32.const 256))
    (i32.store (i32.const 4) (i32.add (local.get $len) (i32.const 5)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $check (param $ok i32) (param $ptr i32) (param $len i32)
    (if (local.get $ok) (then (call $print (local.get $ptr) (local.get $len)))
      (else (call $exit (i32.const 1)))))

  (func $sq (type $unary) (i32.mul (local.get 0) (local.get 0)))
  (func $neg (type $unary) (i32.sub (i32.const 0) (local.get 0)))
  (func $divmod (param i32 i32) (result i32 i32)
    (i32.div_u (local.get 0) (local.get 1)) (i32.rem_u (local.get 0) (local.get 1)))
  (func $many (result i64 i32 f64 i32 i64)
    (i64.const 1) (i32.const 2) (f64.const 3.5) (i32.const 4) (i64.const 5))
  (func $init (global.set $counter (i32.const 41)))
  (start $init)

  (func (export "_start") (local $q i32) (local $r i32)
    (memory.fill (i32.const 1024) (i32.const 0x61) (i32.const 64))
    ;; multi-value call and block
    (call $divmod (i32.const 47) (i32.const 5))
    (local.set $r) (local.set $q)
    (memory.copy (i32.const 1024) (i32.const 2000) (i32.const 0))
    (call $check (i32.and (i32.eq (local.get $q) (i32.const 9)) (i32.eq (local.get $r) (i32.const 2)))
      (i32.const 1100) (i32.const 0))
    (i64.store (i32.const 1100) (i64.const 0x65756c61762d69)) ;; "i-value"
    (call $check (i32.const 1) (i32.const 1100) (i32.const 7))
    (i32.const 3) (i32.const 4)
    (block (param i32 i32) (result i32) (i32.add))
    (i32.const 7) (i32.eq) (call $check (i32.const 1100) (i32.const 7))
    (call $many) (drop) (drop) (drop) (drop) (i64.const 1) (i64.eq)
    (call $check (i32.const 1100) (i32.const 7))
    ;; tables: init from a passive segment, indirect calls, grow, fill
    (table.init $t $fs (i32.const 1) (i32.const 0) (i32.const 2))
    (elem.drop $fs)
    (i64.store (i32.const 1100) (i64.const 0x6c6c61632d6c6174)) ;; "tal-call"
    (call $check (i32.eq (call_indirect $t (type $unary) (i32.const 9) (i32.const 1)) (i32.const 81)) (i32.const 1100) (i32.const 8))
    (call $check (i32.eq (call_indirect $t (type $unary) (i32.const 9) (i32.const 2)) (i32.const -9)) (i32.const 1100) (i32.const 8))
    (call $check (i32.eq (table.grow $t (ref.func $sq) (i32.const 3)) (i32.const 4)) (i32.const 1100) (i32.const 3))
    (call $check (i32.eq (table.size $t) (i32.const 7)) (i32.const 1100) (i32.const 3))
    (call $check (ref.is_null (table.get $ext (i32.const 1))) (i32.const 1100) (i32.const 3))
    (table.fill $t (i32.const 0) (ref.null func) (i32.const 7))
    (call $check (ref.is_null (table.get $t (i32.const 6))) (i32.const 1100) (i32.const 3))
    ;; globals and the start function
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (i64.store (i32.const 1100) (i64.const 0x736c61626f6c67)) ;; "globals"
    (call $check (i32.eq (global.get $counter) (i32.const 42)) (i32.const 1100) (i32.const 7))
    ;; memory.grow up to the declared maximum, then refused
    (i64.store (i32.const 1100) (i64.const 0x776f72672e6d656d)) ;; "mem.grow"
    (call $check (i32.eq (memory.grow (i32.const 3)) (i32.const 1)) (i32.const 1100) (i32.const 8))
    (call $check (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (i32.const 1100) (i32.const 8))
    (call $check (i32.eq (memory.size) (i32.const 4)) (i32.const 1100) (i32.const 8))
    (i32.store (i32.const 262140) (i32.const 5))
    (call $check (i32.eq (i32.load (i32.const 262140)) (i32.const 5)) (i32.const 1100) (i32.const 8))
    ;; bulk memory filled 'a's at the global base
    (call $check (i32.eq (i32.load8_u (i32.add (global.get $base) (i32.const 63))) (i32.const 0x61)) (global.get $base) (i32.const 3))
    (call $exit (i32.const 0)))
)
