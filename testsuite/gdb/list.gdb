# Rust: break at a line, Rust names in the backtrace, variables in nested
# lexical scopes, fields through references, stepping.
break list.rs:17
# check: Breakpoint 1 at
run
# check: Breakpoint 1, list::total
# check: list.rs:17
bt
# check: #0  list::total
# check: in list::main () at
print sum
# check: = 0
print node.value
# check: = 10
next
next
next
print sum
# check: = 10
delete
continue
# check: total=100
