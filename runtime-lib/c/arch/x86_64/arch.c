/* arch.c (x86-64): process entry, the signal restorer, and a stack switch.
 * Every arch/<arch>/arch.c defines the same three symbols. */
#include "kiln_rt.h"

#ifndef KILN_EMBED /* an embedding has no process entry of its own */
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
#endif

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
        ".type kiln_arch_clone,@function\n"
        "kiln_arch_clone:\n"
        "    and $-16, %rsi\n"
        "    sub $16, %rsi\n"
        "    mov %rcx, 0(%rsi)\n"
        "    mov %r8, 8(%rsi)\n"
        "    mov %rdx, %r10\n" /* x86-64 order: flags, stack, ptid, ctid, tls */
        "    xor %edx, %edx\n"
        "    xor %r8d, %r8d\n"
        "    mov $56, %eax\n" /* SYS_clone */
        "    syscall\n"
        "    test %rax, %rax\n"
        "    jnz 1f\n"
        "    xor %ebp, %ebp\n"
        "    pop %rax\n"
        "    pop %rdi\n"
        "    call *%rax\n"
        "    xor %edi, %edi\n"
        "    mov $60, %eax\n" /* SYS_exit: this thread only */
        "    syscall\n"
        "    ud2\n"
        "1:  ret\n");

/* kiln_arch_resume(pc, sp, fp, exn): enters an exception handler in a
 * wasm frame: Cranelift's exception ABI on x86-64 wants SP and RBP of the
 * frame that holds the handler, and the payload in RAX (RDX unused); every
 * other register is dead on that edge. */
__asm__(".text\n"
        ".globl kiln_arch_resume\n"
        ".type kiln_arch_resume,@function\n"
        "kiln_arch_resume:\n"
        "    mov %rsi, %rsp\n"
        "    mov %rdx, %rbp\n"
        "    mov %rcx, %rax\n"
        "    xor %edx, %edx\n"
        "    jmp *%rdi\n");

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

/* CPU features by name, from cpuid. AVX (and AVX2, FMA) also need the OS to
 * save YMM state: OSXSAVE set and XCR0 bits 1 and 2. */
static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

bool kiln_arch_cpu_has(const char *name, size_t len) {
    uint32_t l1[4], l7[4] = {0, 0, 0, 0}, e1[4] = {0, 0, 0, 0}, max[4];
    cpuid(0, 0, max);
    cpuid(1, 0, l1);
    if (max[0] >= 7) cpuid(7, 0, l7);
    cpuid(0x80000000u, 0, e1);
    uint32_t ext = e1[0];
    e1[2] = 0;
    if (ext >= 0x80000001u) cpuid(0x80000001u, 0, e1);
    bool ymm = false;
    if (l1[2] & (1u << 27)) {
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        ymm = (lo & 6) == 6;
    }
    static const struct { const char *name; int reg; int leaf; int bit; bool avx; } table[] = {
        {"sse3", 2, 1, 0, false},   {"ssse3", 2, 1, 9, false}, {"sse4.1", 2, 1, 19, false},
        {"sse4.2", 2, 1, 20, false}, {"popcnt", 2, 1, 23, false}, {"avx", 2, 1, 28, true},
        {"fma", 2, 1, 12, true},     {"avx2", 1, 7, 5, true},    {"bmi1", 1, 7, 3, false},
        {"bmi2", 1, 7, 8, false},    {"lzcnt", 2, 0x81, 5, false},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strlen(table[i].name) != len || memcmp(table[i].name, name, len) != 0) continue;
        const uint32_t *r = table[i].leaf == 1 ? l1 : table[i].leaf == 7 ? l7 : e1;
        bool has = (r[table[i].reg] >> table[i].bit) & 1;
        return has && (!table[i].avx || ymm);
    }
    return false;
}

/* Cranelift's libcall for `pshufb` where SSSE3 is missing (x86-64-v1, the
 * default): i8x16.swizzle and most i8x16.shuffle masks lower to it. Byte i
 * of the result is 0 if bit 7 of mask[i] is set, else src[mask[i] & 15].
 * The vectors travel in xmm0 and xmm1, the result in xmm0 (SysV). */
typedef uint8_t kiln_u8x16 __attribute__((vector_size(16)));
kiln_u8x16 __cranelift_x86_pshufb(kiln_u8x16 src, kiln_u8x16 mask);
kiln_u8x16 __cranelift_x86_pshufb(kiln_u8x16 src, kiln_u8x16 mask) {
    kiln_u8x16 r;
    for (int i = 0; i < 16; i++) r[i] = (mask[i] & 0x80) ? 0 : src[mask[i] & 15];
    return r;
}
