/* arch.h (riscv64 Linux): syscall numbers (asm-generic), ecall, and
 * ucontext PC/SP locations. */
#ifndef KILN_ARCH_H
#define KILN_ARCH_H
#include <stdint.h>

#define KILN_ARCH_NAME "riscv64"

#include "../asm-generic.h"

#define KILN_ARCH_NEEDS_RESTORER 0

static inline long kiln_syscall6(long n, long a, long b, long c, long d, long e, long f) {
    register long a7 __asm__("a7") = n;
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a3 __asm__("a3") = d;
    register long a4 __asm__("a4") = e;
    register long a5 __asm__("a5") = f;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a7), "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5) : "memory");
    return a0;
}

/* struct ucontext: uc_flags, uc_link, uc_stack (24), uc_sigmask padded to
 * 128 bytes, then the 16-aligned sigcontext at 176 whose first registers
 * are pc, ra, sp. */
#define KILN_UC_MCONTEXT 176
static inline uintptr_t *kiln_uc_pc(void *uc) { return (uintptr_t *)((char *)uc + KILN_UC_MCONTEXT); }
static inline uintptr_t *kiln_uc_sp(void *uc) { return (uintptr_t *)((char *)uc + KILN_UC_MCONTEXT + 16); }
/* The frame pointer register (rbp / x29 / s0). Cranelift frames on every
 * target store the caller's frame pointer at [fp] and the return address at
 * [fp + 8]. */
static inline uintptr_t *kiln_uc_fp(void *uc) { return (uintptr_t *)((char *)uc + KILN_UC_MCONTEXT + 8 * 8); }
/* The caller's frame pointer, given __builtin_frame_address(0) of a C
 * function built by clang (s0 is the frame's top (the caller's sp); ra is at s0 - 8 and the caller's s0 at s0 - 16). */
static inline uintptr_t kiln_arch_caller_fp(void *frame) { return ((uintptr_t *)frame)[-2]; }



/* open(2) flags whose values differ between architectures. */
#define K_O_DIRECTORY 0200000
#define K_O_NOFOLLOW 0400000

#endif
