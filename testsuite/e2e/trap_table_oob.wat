(module (table 2 funcref) (func (export "_start") (drop (table.get 0 (i32.const 5)))))
