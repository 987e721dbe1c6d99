;; A trap in code inlined two levels deep: $load is inlined into $get,
;; $get into _start, so the trapping load runs in _start's native frame.
;; The message still names $load, and the backtrace shows each wasm frame
;; inlining folded away, exactly as with --no-inline.
(module
  (memory 1)
  (func $load (param i32) (result i32) (i32.load (local.get 0)))
  (func $get (param i32) (result i32) (i32.add (call $load (local.get 0)) (i32.const 1)))
  (func (export "_start") (drop (call $get (i32.const 0x10000)))))
