;; Tail calls (return_call, return_call_indirect): a state machine that
;; scans a 3,000,000-byte input one byte per call, its states being
;; functions that tail-call each other, and a million-deep mutual
;; recursion (even/odd). Without constant stack use either would exhaust
;; the stack many times over.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 64)
  (data (i32.const 16) "0123456789")
  (type $state (func (param i32 i32 i32 i32) (result i32 i32 i32)))
  (table $states 3 funcref)
  (elem (table $states) (i32.const 0) func $space $word $number)
  (global $len i32 (i32.const 3000000))

  (func $say (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  ;; Prints a number below 10^8 and a newline.
  (func $num (param $v i32)
    (local $i i32)
    (local.set $i (i32.const 8))
    (loop $l
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (i32.add (i32.const 32) (local.get $i))
        (i32.load8_u (i32.add (i32.const 16) (i32.rem_u (local.get $v) (i32.const 10)))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $l (i32.gt_u (local.get $i) (i32.const 0))))
    (i32.store8 (i32.const 40) (i32.const 10))
    (call $say (i32.const 32) (i32.const 9)))

  ;; The class of byte i: 0 space, 1 letter, 2 digit.
  (func $class (param $i i32) (result i32)
    (local $c i32)
    (local.set $c (i32.load8_u offset=4096 (local.get $i)))
    (if (result i32) (i32.eq (local.get $c) (i32.const 32))
      (then (i32.const 0))
      (else (if (result i32) (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))
        (then (i32.const 2)) (else (i32.const 1))))))

  ;; Each state: (position, words, numbers, spaces) -> (words, numbers, spaces).
  ;; It moves to the next byte's state through the table.
  (func $next (type $state)
    (if (i32.ge_u (local.get 0) (global.get $len))
      (then (return (local.get 1) (local.get 2) (local.get 3))))
    (return_call_indirect $states (type $state)
      (local.get 0) (local.get 1) (local.get 2) (local.get 3) (call $class (local.get 0))))
  (func $space (type $state)
    (return_call $next (i32.add (local.get 0) (i32.const 1))
      (local.get 1) (local.get 2) (i32.add (local.get 3) (i32.const 1))))
  (func $word (type $state)
    ;; counts a word where one starts: after a space or at the start
    (return_call $next (i32.add (local.get 0) (i32.const 1))
      (i32.add (local.get 1) (call $starts (local.get 0))) (local.get 2) (local.get 3)))
  (func $number (type $state)
    (return_call $next (i32.add (local.get 0) (i32.const 1))
      (local.get 1) (i32.add (local.get 2) (call $starts (local.get 0))) (local.get 3)))
  (func $starts (param $i i32) (result i32)
    (if (result i32) (i32.eqz (local.get $i))
      (then (i32.const 1))
      (else (i32.eqz (call $class (i32.sub (local.get $i) (i32.const 1)))))))

  (func $even (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 1))
      (else (return_call $odd (i32.sub (local.get $n) (i32.const 1))))))
  (func $odd (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 0))
      (else (return_call $even (i32.sub (local.get $n) (i32.const 1))))))

  (func (export "_start")
    (local $i i32) (local $seed i32) (local $r i32)
    ;; The input: pseudo-random runs of letters, digits and spaces.
    (local.set $seed (i32.const 12345))
    (loop $fill
      (local.set $seed (i32.add (i32.mul (local.get $seed) (i32.const 1103515245)) (i32.const 12345)))
      (local.set $r (i32.rem_u (i32.shr_u (local.get $seed) (i32.const 16)) (i32.const 10)))
      (i32.store8 offset=4096 (local.get $i)
        (if (result i32) (i32.lt_u (local.get $r) (i32.const 3)) (then (i32.const 32))
          (else (if (result i32) (i32.lt_u (local.get $r) (i32.const 5))
            (then (i32.add (i32.const 48) (local.get $r))) (else (i32.add (i32.const 97) (local.get $r)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (global.get $len))))
    (call $next (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (call $num) ;; spaces
    (call $num) ;; numbers
    (call $num) ;; words
    (call $num (call $even (i32.const 1000000)))
    (call $num (call $odd (i32.const 1000001)))
    (call $num (call $even (i32.const 7)))))
