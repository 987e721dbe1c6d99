;; Atomics on a shared memory, on one thread (threads with several are
;; e2e's threads_* programs): wait returns 1 ("not-equal") when the cell
;; differs and 2 ("timed-out") when it does not and nobody notifies;
;; notify with no waiter wakes 0; the alignment and bounds checks come
;; first; grow is serialised and memory.size follows it.
(module
  (memory 1 4 shared)
  (func (export "wait32") (param i32 i32 i64) (result i32) (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "wait64") (param i32 i64 i64) (result i32) (memory.atomic.wait64 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "notify") (param i32 i32) (result i32) (memory.atomic.notify (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "store") (param i32 i32) (i32.atomic.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.atomic.load (local.get 0))))
(assert_return (invoke "wait32" (i32.const 0) (i32.const 1) (i64.const -1)) (i32.const 1))
(assert_return (invoke "wait32" (i32.const 0) (i32.const 0) (i64.const 1000000)) (i32.const 2))
(assert_return (invoke "wait64" (i32.const 8) (i64.const 0) (i64.const 0)) (i32.const 2))
(assert_return (invoke "wait64" (i32.const 8) (i64.const 5) (i64.const 0)) (i32.const 1))
(assert_return (invoke "notify" (i32.const 0) (i32.const 10)) (i32.const 0))
(assert_trap (invoke "wait32" (i32.const 2) (i32.const 0) (i64.const 0)) "unaligned atomic")
(assert_trap (invoke "wait64" (i32.const 65536) (i64.const 0) (i64.const 0)) "out of bounds memory access")
(assert_trap (invoke "notify" (i32.const 65536) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "load" (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "grow" (i32.const 2)) (i32.const 1))
(assert_return (invoke "size") (i32.const 3))
(invoke "store" (i32.const 196604) (i32.const 7))
(assert_return (invoke "load" (i32.const 196604)) (i32.const 7))
(assert_return (invoke "wait32" (i32.const 196604) (i32.const 7) (i64.const 0)) (i32.const 2))
(assert_trap (invoke "load" (i32.const 196608)) "out of bounds memory access")
(assert_return (invoke "grow" (i32.const 2)) (i32.const -1))
(assert_return (invoke "size") (i32.const 3))
