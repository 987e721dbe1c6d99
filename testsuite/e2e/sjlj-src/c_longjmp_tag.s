# Definition of the __c_longjmp exception tag used by wasm setjmp/longjmp.
# LLVM >= 21 no longer emits it in every object; LLVM's compiler-rt defines it in
# lib/builtins/wasm/__c_longjmp.S, but Zig ships its own compiler-rt without it.
	.globl	__c_longjmp
	.tagtype	__c_longjmp i32
__c_longjmp:
