;; An active data segment that does not fit traps during instantiation.
(module (memory 1) (data (i32.const 65530) "too long for the page")
  (func (export "_start")))
