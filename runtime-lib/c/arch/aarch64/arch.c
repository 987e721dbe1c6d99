/* arch.c (aarch64): process entry and a stack switch. The kernel supplies
 * the signal-return trampoline (vDSO), so no restorer is needed. */
#include "kiln_rt.h"

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
