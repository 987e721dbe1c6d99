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

/* int kiln_arch_setjmp(kiln_jmpbuf *buf) / void kiln_arch_longjmp(buf, int)
 * Saves and restores the callee-saved registers, stack pointer and return
 * address: enough to unwind out of wasm frames to a trap recovery point. */
__asm__(".text\n"
        ".globl kiln_arch_setjmp\n"
        ".type kiln_arch_setjmp,@function\n"
        "kiln_arch_setjmp:\n"
        "    mov %rbx, 0(%rdi)\n"
        "    mov %rbp, 8(%rdi)\n"
        "    mov %r12, 16(%rdi)\n"
        "    mov %r13, 24(%rdi)\n"
        "    mov %r14, 32(%rdi)\n"
        "    mov %r15, 40(%rdi)\n"
        "    lea 8(%rsp), %rdx\n"
        "    mov %rdx, 48(%rdi)\n"
        "    mov (%rsp), %rdx\n"
        "    mov %rdx, 56(%rdi)\n"
        "    xor %eax, %eax\n"
        "    ret\n"
        ".globl kiln_arch_longjmp\n"
        ".type kiln_arch_longjmp,@function\n"
        "kiln_arch_longjmp:\n"
        "    mov %esi, %eax\n"
        "    test %eax, %eax\n"
        "    jnz 1f\n"
        "    inc %eax\n"
        "1:  mov 0(%rdi), %rbx\n"
        "    mov 8(%rdi), %rbp\n"
        "    mov 16(%rdi), %r12\n"
        "    mov 24(%rdi), %r13\n"
        "    mov 32(%rdi), %r14\n"
        "    mov 40(%rdi), %r15\n"
        "    mov 48(%rdi), %rsp\n"
        "    jmp *56(%rdi)\n");
