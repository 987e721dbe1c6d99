# Break at a C line, check where it stopped, print locals and arguments,
# follow pointers into linear memory (struct fields through a pointer and a
# list), walk the C call chain, step with `next`, and run to the end of a
# function with `finish`, which shows the returned value.
break points.c:9
# check: Breakpoint 1 at
run
# check: Breakpoint 1, sum_points
# check: points.c:9
# check: 9	        p = p->next;
print total
# check: $1 = 2
print *p
# check: = {x = 1, y = 2, next = 0x
print p->next->y
# check: = 4
print p->next->next->x
# check: = 5
bt
# check: #0  sum_points
# check: points.c:9
# check: #1
# check: in main () at
# check: points.c:23
next
# check: 7	    while (p) {
next
# check: 8	        total += p->x * p->y;
next
next
print total
# check: = 14
delete 1
break square
# check: Breakpoint 2 at
continue
# check: Breakpoint 2, square
# check: points.c:15
info args
# check: v = 44
next
print r
# check: = 1936
finish
# check: main () at
# check: points.c:24
# On aarch64, wasm functions return values where Cranelift's `tail`
# convention puts them (not x0), so gdb's `finish` cannot show them there.
# check(x86_64,riscv64): Value returned is $
# check(x86_64,riscv64): = 1936
continue
# check: sum=44 square=1936
# check: exited normally]
