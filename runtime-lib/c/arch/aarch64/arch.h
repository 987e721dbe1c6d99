/* arch.h (aarch64 Linux): syscall numbers (asm-generic), the svc
 * instruction, and ucontext PC/SP locations. */
#ifndef KILN_ARCH_H
#define KILN_ARCH_H
#include <stdint.h>

#define KILN_ARCH_NAME "aarch64"

#include "../asm-generic.h"

#define KILN_ARCH_NEEDS_RESTORER 0

static inline long kiln_syscall6(long n, long a, long b, long c, long d, long e, long f) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return x0;
}

/* struct ucontext: uc_flags, uc_link, uc_stack (24), uc_sigmask padded to
 * 128 bytes, then the 16-aligned sigcontext at 176:
 * fault_address, regs[31], sp, pc, pstate. */
#define KILN_UC_MCONTEXT 176
static inline uintptr_t *kiln_uc_pc(void *uc) { return (uintptr_t *)((char *)uc + KILN_UC_MCONTEXT + 8 + 32 * 8); }
static inline uintptr_t *kiln_uc_sp(void *uc) { return (uintptr_t *)((char *)uc + KILN_UC_MCONTEXT + 8 + 31 * 8); }
/* The frame pointer register (rbp / x29 / s0). Cranelift frames on every
 * target store the caller's frame pointer at [fp] and the return address at
 * [fp + 8]. */
static inline uintptr_t *kiln_uc_fp(void *uc) { return (uintptr_t *)((char *)uc + KILN_UC_MCONTEXT + 8 + 29 * 8); }
/* The caller's frame pointer, given __builtin_frame_address(0) of a C
 * function built by clang (x29 points at the frame record {caller's x29, x30}). */
static inline uintptr_t kiln_arch_caller_fp(void *frame) { return ((uintptr_t *)frame)[0]; }



/* open(2) flags whose values differ between architectures (arm64 has its own). */
#define K_O_DIRECTORY 040000
#define K_O_NOFOLLOW 0100000

#endif
