/* arch.c (x86-64): process entry, the signal restorer, and a stack switch.
 * Every arch/<arch>/arch.c defines the same three symbols. */
#include "kiln_rt.h"

/* _start: the kernel enters with %rsp pointing at argc. Clear the frame
 * pointer, align the stack and hand the initial stack pointer to C. */
__asm__(".text\n"
        ".globl _start\n"
        ".type _start,@function\n"
        "_start:\n"
        "    xor %ebp, %ebp\n"
        "    mov %rsp, %rdi\n"
        "    and $-16, %rsp\n"
        "    call kiln_main\n"
        "    ud2\n"
        ".size _start, .-_start\n");

__asm__(".text\n"
        ".globl kiln_arch_restorer\n"
        ".type kiln_arch_restorer,@function\n"
        "kiln_arch_restorer:\n"
        "    mov $15, %eax\n"
        "    syscall\n"
        "    ud2\n");

/* void kiln_arch_call_on_stack(void (*fn)(void *), void *arg, void *stack_top)
 * Runs fn(arg) with the stack pointer at stack_top; fn must not return. */
__asm__(".text\n"
        ".globl kiln_arch_call_on_stack\n"
        ".type kiln_arch_call_on_stack,@function\n"
        "kiln_arch_call_on_stack:\n"
        "    mov %rdx, %rsp\n"
        "    and $-16, %rsp\n"
        "    xor %ebp, %ebp\n"
        "    mov %rdi, %rax\n"
        "    mov %rsi, %rdi\n"
        "    call *%rax\n"
        "    ud2\n");
