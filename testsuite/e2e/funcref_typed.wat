;; Typed function references: a table of (ref $binop) filled by its
;; initialiser and partly overwritten by an element segment, call_ref and
;; call_indirect through it, br_on_null and br_on_non_null, ref.as_non_null,
;; non-nullable locals, a global of a typed reference, a recursive type
;; (an iterator that returns its own continuation) and a Collatz state
;; machine in return_call_ref. Prints one number per line.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)

  (type $binop (func (param i64 i64) (result i64)))
  (type $state (func (param i64 i64) (result i64)))
  ;; A step of an iterator: the next value and the next step, null at the end.
  (rec (type $step (func (param i64) (result i64 (ref null $step)))))

  (func $add (type $binop) (i64.add (local.get 0) (local.get 1)))
  (func $mul (type $binop) (i64.mul (local.get 0) (local.get 1)))
  (func $sub (type $binop) (i64.sub (local.get 0) (local.get 1)))

  ;; Every element starts as $add; element 1 becomes $mul.
  (table $ops 4 (ref $binop) (ref.func $add))
  (elem (table $ops) (i32.const 1) (ref $binop) (ref.func $mul))
  (elem declare func $add $mul $sub $down $collatz $even $odd)

  (global $best (ref $binop) (ref.func $mul))
  (global $maybe (mut (ref null $binop)) (ref.null $binop))

  (func $print (param $v i64)
    (local $p i32) (local $neg i32)
    (local.set $neg (i64.lt_s (local.get $v) (i64.const 0)))
    (if (local.get $neg) (then (local.set $v (i64.sub (i64.const 0) (local.get $v)))))
    (local.set $p (i32.const 100))
    (i32.store8 (local.get $p) (i32.const 10))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digits (i64.ne (local.get $v) (i64.const 0))))
    (if (local.get $neg)
      (then
        (local.set $p (i32.sub (local.get $p) (i32.const 1)))
        (i32.store8 (local.get $p) (i32.const 45))))
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (i32.sub (i32.const 101) (local.get $p)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  ;; f(a, b), or -1 when f is null.
  (func $apply_or (param $f (ref null $binop)) (param $a i64) (param $b i64) (result i64)
    (block $null
      (return (call_ref $binop (local.get $a) (local.get $b) (br_on_null $null (local.get $f)))))
    (i64.const -1))

  ;; The first non-null of x and y, else $sub.
  (func $first (param $x (ref null $binop)) (param $y (ref null $binop)) (result (ref $binop))
    (block $found (result (ref $binop))
      (br_on_non_null $found (local.get $x))
      (br_on_non_null $found (local.get $y))
      (ref.func $sub)))

  ;; f folded over n, n-1, ..., 1 from `init`, through a non-nullable local.
  (func $fold (param $f (ref $binop)) (param $init i64) (param $n i64) (result i64)
    (local $op (ref $binop)) (local $acc i64)
    (local.set $op (local.get $f))
    (local.set $acc (local.get $init))
    (block $done
      (loop $next
        (br_if $done (i64.eqz (local.get $n)))
        (local.set $acc (call_ref $binop (local.get $acc) (local.get $n) (local.get $op)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $next)))
    (local.get $acc))

  ;; Counts down: yields n-1, and itself while n-1 > 0.
  (func $down (type $step) (param $n i64) (result i64 (ref null $step))
    (i64.sub (local.get $n) (i64.const 1))
    (if (result (ref null $step)) (i64.gt_s (local.get $n) (i64.const 1))
      (then (ref.func $down))
      (else (ref.null $step))))

  ;; Runs an iterator from n to its end; returns the sum of what it yields.
  (func $sum_steps (param $n i64) (result i64)
    (local $sum i64) (local $next (ref null $step))
    (local.set $next (ref.func $down))
    (block $end
      (loop $again
        (call_ref $step (local.get $n) (ref.as_non_null (local.get $next)))
        (local.set $next)
        (local.set $n)
        (local.set $sum (i64.add (local.get $sum) (local.get $n)))
        (drop (br_on_null $end (local.get $next)))
        (br $again)))
    (local.get $sum))

  ;; Collatz: the number of steps from n to 1, each step a tail call.
  (func $collatz (type $state) (param $n i64) (param $steps i64) (result i64)
    (if (i64.eq (local.get $n) (i64.const 1)) (then (return (local.get $steps))))
    (return_call_ref $state
      (local.get $n) (local.get $steps)
      (select (result (ref $state)) (ref.func $odd) (ref.func $even) (i32.wrap_i64 (i64.and (local.get $n) (i64.const 1))))))
  (func $even (type $state) (param $n i64) (param $steps i64) (result i64)
    (return_call $collatz (i64.shr_u (local.get $n) (i64.const 1)) (i64.add (local.get $steps) (i64.const 1))))
  (func $odd (type $state) (param $n i64) (param $steps i64) (result i64)
    (return_call_ref $state
      (i64.add (i64.mul (local.get $n) (i64.const 3)) (i64.const 1)) (i64.add (local.get $steps) (i64.const 1))
      (ref.func $collatz)))

  (func (export "_start")
    (local $i i64) (local $total i64) (local $longest i64) (local $s i64)
    ;; The table: $add, $mul, $add, $add.
    (call $print (call_ref $binop (i64.const 6) (i64.const 7) (table.get $ops (i32.const 0))))
    (call $print (call_ref $binop (i64.const 6) (i64.const 7) (table.get $ops (i32.const 1))))
    (call $print (call_indirect $ops (type $binop) (i64.const 6) (i64.const 7) (i32.const 3)))
    (call $print (call_ref $binop (i64.const 6) (i64.const 7) (global.get $best)))
    ;; Null and non-null references.
    (call $print (call $apply_or (global.get $maybe) (i64.const 2) (i64.const 3)))
    (global.set $maybe (ref.func $sub))
    (call $print (call $apply_or (global.get $maybe) (i64.const 5) (i64.const 3)))
    (call $print (call_ref $binop (i64.const 9) (i64.const 4) (call $first (ref.null $binop) (ref.null $binop))))
    (call $print (call_ref $binop (i64.const 9) (i64.const 4) (call $first (ref.null $binop) (table.get $ops (i32.const 1)))))
    (call $print (call_ref $binop (i64.const 9) (i64.const 4) (call $first (ref.func $add) (ref.func $mul))))
    ;; 20! and 1 + 2 + ... + 100 by folding.
    (call $print (call $fold (table.get $ops (i32.const 1)) (i64.const 1) (i64.const 20)))
    (call $print (call $fold (ref.func $add) (i64.const 0) (i64.const 100)))
    ;; table.set and table.fill keep the type.
    (table.fill $ops (i32.const 2) (ref.func $sub) (i32.const 2))
    (call $print (call_indirect $ops (type $binop) (i64.const 6) (i64.const 7) (i32.const 3)))
    ;; 999 + 998 + ... + 0 through the recursive iterator type.
    (call $print (call $sum_steps (i64.const 1000)))
    ;; Collatz steps for 1..100000: their total and the longest.
    (local.set $i (i64.const 1))
    (loop $next
      (local.set $s (call_ref $state (local.get $i) (i64.const 0) (ref.func $collatz)))
      (local.set $total (i64.add (local.get $total) (local.get $s)))
      (if (i64.gt_u (local.get $s) (local.get $longest)) (then (local.set $longest (local.get $s))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $next (i64.le_u (local.get $i) (i64.const 100000))))
    (call $print (local.get $total))
    (call $print (local.get $longest))))
