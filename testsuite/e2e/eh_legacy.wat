;; kiln-e2e: expected output written by hand. The legacy exception encoding
;; (try/catch/catch_all/rethrow/delegate) end to end. wasmtime's Python API
;; (the reference the other tests are recorded from) cannot enable legacy
;; exceptions, so the expected output follows the legacy spec and is
;; checked by the same semantics in testsuite/spec/legacy-exceptions:
;; 1001 (caught with its payload, plus one), -2 (catch_all rethrows to the
;; outer catch), 7 (delegate hands the exception to the outer try), -42
;; (a payload from two frames down, 1000 - 1042), then the uncaught
;; exception (status 134, as a trap).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)

  ;; Prints a signed i64 in decimal and a newline.
  (func $print (param $v i64)
    (local $p i32) (local $neg i32)
    (local.set $p (i32.const 100))
    (i32.store8 (local.get $p) (i32.const 10))
    (if (i64.lt_s (local.get $v) (i64.const 0))
      (then (local.set $neg (i32.const 1)) (local.set $v (i64.sub (i64.const 0) (local.get $v)))))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digits (i64.ne (local.get $v) (i64.const 0))))
    (if (local.get $neg)
      (then (local.set $p (i32.sub (local.get $p) (i32.const 1))) (i32.store8 (local.get $p) (i32.const 45))))
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (i32.sub (i32.const 101) (local.get $p)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  (tag $ei (param i32))
  (tag $empty)
  (table $t 2 funcref)
  (elem (table $t) (i32.const 0) func $deep $throw_empty)
  (type $deep_t (func (param i32) (result i32)))

  (func $deep (param $n i32) (result i32)
    (if (i32.eqz (local.get $n)) (then (throw $ei (i32.const 1000))))
    (i32.add (call $deep (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))
  (func $throw_empty (param i32) (result i32) (throw $empty))

  (func $legacy (param $k i32) (result i32)
    try (result i32)
      try (result i32)
        (call_indirect $t (type $deep_t) (i32.const 2) (local.get $k))
      catch $ei
        (i32.add (i32.const 1))
      catch_all
        rethrow 0
      end
    catch $empty
      (i32.const -2)
    end)

  (func $delegated (result i32)
    try (result i32)
      try (result i32)
        (call $throw_empty (i32.const 0))
      delegate 0
    catch $empty
      (i32.const 7)
    end)

  (func $payload (result i32)
    try (result i32)
      (call $deep (i32.const 2))
    catch $ei
      (i32.sub (i32.const 1042))
    end)

  (func (export "_start")
    (call $print (i64.extend_i32_s (call $legacy (i32.const 0))))
    (call $print (i64.extend_i32_s (call $legacy (i32.const 1))))
    (call $print (i64.extend_i32_s (call $delegated)))
    (call $print (i64.extend_i32_s (call $payload)))
    (drop (call $deep (i32.const 1)))))
