;; br_table with block results: edge blocks carry the branch arguments.
(module
  (func (export "select") (param i32) (result i32)
    (block $c (result i32)
      (block $b (result i32)
        (block $a (result i32)
          (br_table $a $b $c (i32.const 10) (local.get 0)))
        (i32.add (i32.const 1)) (return))
      (i32.add (i32.const 2)) (return))))
