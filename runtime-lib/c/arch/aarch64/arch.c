/* arch.c (aarch64): process entry and a stack switch. The kernel supplies
 * the signal-return trampoline (vDSO), so no restorer is needed. */
#include "kiln_rt.h"

#ifndef KILN_EMBED /* an embedding has no process entry of its own */
__asm__(".text\n"
        ".globl _start\n"
        ".type _start,%function\n"
        "_start:\n"
        "    mov x29, #0\n"
        "    mov x30, #0\n"
        "    mov x0, sp\n"
        "    and sp, x0, #-16\n"
        "    bl kiln_main\n"
        "    udf #0\n");
#endif

__asm__(".text\n"
        ".globl kiln_arch_call_on_stack\n"
        ".type kiln_arch_call_on_stack,%function\n"
        "kiln_arch_call_on_stack:\n"
        "    and sp, x2, #-16\n"
        "    mov x29, #0\n"
        "    mov x30, #0\n"
        "    mov x3, x0\n"
        "    mov x0, x1\n"
        "    blr x3\n"
        "    udf #0\n");

/* long kiln_arch_clone(unsigned long flags, void *stack_top, uint32_t *ctid,
 *                      void (*fn)(void *), void *arg)
 * clone(2) for a thread: the child starts on stack_top (16-byte aligned
 * down) and runs fn(arg), then exits the thread (SYS_exit, never the
 * process); the kernel clears *ctid when it has left its stack
 * (CLONE_CHILD_CLEARTID). fn and arg travel on the child's stack, as no
 * register but the stack pointer is set for it. Returns the child's tid or
 * -errno in the parent. */
__asm__(".text\n"
        ".globl kiln_arch_clone\n"
        ".type kiln_arch_clone,%function\n"
        "kiln_arch_clone:\n"
        "    and x1, x1, #-16\n"
        "    stp x3, x4, [x1, #-16]!\n"
        "    mov x4, x2\n" /* generic order: flags, stack, ptid, tls, ctid */
        "    mov x2, xzr\n"
        "    mov x3, xzr\n"
        "    mov x8, #220\n" /* SYS_clone */
        "    svc #0\n"
        "    cbnz x0, 1f\n"
        "    ldp x3, x0, [sp], #16\n"
        "    mov x29, xzr\n"
        "    mov x30, xzr\n"
        "    blr x3\n"
        "    mov x0, xzr\n"
        "    mov x8, #93\n" /* SYS_exit: this thread only */
        "    svc #0\n"
        "    udf #0\n"
        "1:  ret\n");

/* kiln_arch_resume(pc, sp, fp, exn): enters an exception handler in a
 * wasm frame: Cranelift's exception ABI on aarch64 wants SP and x29 of the
 * frame that holds the handler, and the payload in x0 (x1 unused); every
 * other register is dead on that edge. */
__asm__(".text\n"
        ".globl kiln_arch_resume\n"
        ".type kiln_arch_resume,%function\n"
        "kiln_arch_resume:\n"
        "    mov sp, x1\n"
        "    mov x29, x2\n"
        "    mov x16, x0\n"
        "    mov x0, x3\n"
        "    mov x1, xzr\n"
        "    br x16\n");

/* kiln_arch_setjmp / kiln_arch_longjmp: callee-saved x19-x30, sp, d8-d15. */
__asm__(".text\n"
        ".globl kiln_arch_setjmp\n"
        ".type kiln_arch_setjmp,%function\n"
        "kiln_arch_setjmp:\n"
        "    stp x19, x20, [x0, #0]\n"
        "    stp x21, x22, [x0, #16]\n"
        "    stp x23, x24, [x0, #32]\n"
        "    stp x25, x26, [x0, #48]\n"
        "    stp x27, x28, [x0, #64]\n"
        "    stp x29, x30, [x0, #80]\n"
        "    mov x2, sp\n"
        "    str x2, [x0, #96]\n"
        "    stp d8, d9, [x0, #104]\n"
        "    stp d10, d11, [x0, #120]\n"
        "    stp d12, d13, [x0, #136]\n"
        "    stp d14, d15, [x0, #152]\n"
        "    mov w0, #0\n"
        "    ret\n"
        ".globl kiln_arch_longjmp\n"
        ".type kiln_arch_longjmp,%function\n"
        "kiln_arch_longjmp:\n"
        "    ldp x19, x20, [x0, #0]\n"
        "    ldp x21, x22, [x0, #16]\n"
        "    ldp x23, x24, [x0, #32]\n"
        "    ldp x25, x26, [x0, #48]\n"
        "    ldp x27, x28, [x0, #64]\n"
        "    ldp x29, x30, [x0, #80]\n"
        "    ldr x2, [x0, #96]\n"
        "    mov sp, x2\n"
        "    ldp d8, d9, [x0, #104]\n"
        "    ldp d10, d11, [x0, #120]\n"
        "    ldp d12, d13, [x0, #136]\n"
        "    ldp d14, d15, [x0, #152]\n"
        "    cmp w1, #0\n"
        "    csinc w0, w1, wzr, ne\n"
        "    ret\n");

/* CPU features by name, from AT_HWCAP. */
bool kiln_arch_cpu_has(const char *name, size_t len) {
    uint64_t hwcap = kiln_getauxval(16 /* AT_HWCAP */);
    if (len == 3 && memcmp(name, "lse", 3) == 0) return (hwcap >> 8) & 1; /* HWCAP_ATOMICS */
    return false;
}
