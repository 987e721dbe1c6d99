;; memory.size reads the length; memory.grow calls the runtime.
(module (memory 1 10)
  (func (export "grow") (param i32) (result i32)
    (drop (memory.size))
    (memory.grow (local.get 0))))
