# Break in a SIMD function and print its v128 arguments and locals.
break simd.c:8
# check: Breakpoint 1 at
run
# check: Breakpoint 1, lanes
# check: simd.c:8
print a
# check: = {1, 2, 3, 4}
print b
# check: = {10, 20, 30, 40}
print s
# check: = {11, 22, 33, 44}
print/x s
# check: = {0xb, 0x16, 0x21, 0x2c}
bt
# check: #0  lanes
# check: #1  
# check: main () at
continue
# check: 55
# check: exited normally]
