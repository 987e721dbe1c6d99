/* arch.c (riscv64): process entry and a stack switch. The kernel supplies
 * the signal-return trampoline (vDSO). */
#include "kiln_rt.h"

__asm__(".text\n"
        ".globl _start\n"
        ".type _start,@function\n"
        "_start:\n"
        "    .option push\n"
        "    .option norelax\n"
        "    mv fp, zero\n"
        "    mv ra, zero\n"
        "    mv a0, sp\n"
        "    andi sp, sp, -16\n"
        "    call kiln_main\n"
        "    unimp\n"
        "    .option pop\n");

__asm__(".text\n"
        ".globl kiln_arch_call_on_stack\n"
        ".type kiln_arch_call_on_stack,@function\n"
        "kiln_arch_call_on_stack:\n"
        "    andi sp, a2, -16\n"
        "    mv fp, zero\n"
        "    mv t0, a0\n"
        "    mv a0, a1\n"
        "    jalr t0\n"
        "    unimp\n");
