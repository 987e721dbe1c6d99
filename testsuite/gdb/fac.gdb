# A module without DWARF, compiled with -g: gdb steps through the module's
# text form, which Kiln writes next to the executable as NAME.kiln.wat.
break fac
# check: Breakpoint 1 at
run
# check: Breakpoint 1, fac ()
# check: fac.kiln.wat:10
# check: if (result i64)
bt
# check: #0  fac () at
# check: #1
# check: _start.wasm () at
next
next
# check: i64.sub
# check: call $fac
delete
continue
# check: exited with code 0170]
