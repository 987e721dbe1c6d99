/* arch.c (riscv64): process entry and a stack switch. The kernel supplies
 * the signal-return trampoline (vDSO). */
#include "kiln_rt.h"

#ifndef KILN_EMBED /* an embedding has no process entry of its own */
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
#endif

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
        "    andi a1, a1, -16\n"
        "    addi a1, a1, -16\n"
        "    sd a3, 0(a1)\n"
        "    sd a4, 8(a1)\n"
        "    mv a4, a2\n" /* generic order: flags, stack, ptid, tls, ctid */
        "    mv a2, zero\n"
        "    mv a3, zero\n"
        "    li a7, 220\n" /* SYS_clone */
        "    ecall\n"
        "    bnez a0, 1f\n"
        "    ld t0, 0(sp)\n"
        "    ld a0, 8(sp)\n"
        "    addi sp, sp, 16\n"
        "    mv fp, zero\n"
        "    mv ra, zero\n"
        "    jalr t0\n"
        "    mv a0, zero\n"
        "    li a7, 93\n" /* SYS_exit: this thread only */
        "    ecall\n"
        "    unimp\n"
        "1:  ret\n");

/* kiln_arch_resume(pc, sp, fp, exn): enters an exception handler in a
 * wasm frame: Cranelift's exception ABI on riscv64 wants sp and s0 (fp) of
 * the frame that holds the handler, and the payload in a0 (a1 unused);
 * every other register is dead on that edge. */
__asm__(".text\n"
        ".globl kiln_arch_resume\n"
        ".type kiln_arch_resume,@function\n"
        "kiln_arch_resume:\n"
        "    mv sp, a1\n"
        "    mv s0, a2\n"
        "    mv t0, a0\n"
        "    mv a0, a3\n"
        "    li a1, 0\n"
        "    jr t0\n");

/* kiln_arch_setjmp / kiln_arch_longjmp: ra, sp, s0-s11, fs0-fs11. */
__asm__(".text\n"
        ".globl kiln_arch_setjmp\n"
        ".type kiln_arch_setjmp,@function\n"
        "kiln_arch_setjmp:\n"
        "    sd ra, 0(a0)\n    sd sp, 8(a0)\n"
        "    sd s0, 16(a0)\n   sd s1, 24(a0)\n   sd s2, 32(a0)\n   sd s3, 40(a0)\n"
        "    sd s4, 48(a0)\n   sd s5, 56(a0)\n   sd s6, 64(a0)\n   sd s7, 72(a0)\n"
        "    sd s8, 80(a0)\n   sd s9, 88(a0)\n   sd s10, 96(a0)\n  sd s11, 104(a0)\n"
        "    fsd fs0, 112(a0)\n fsd fs1, 120(a0)\n fsd fs2, 128(a0)\n fsd fs3, 136(a0)\n"
        "    fsd fs4, 144(a0)\n fsd fs5, 152(a0)\n fsd fs6, 160(a0)\n fsd fs7, 168(a0)\n"
        "    fsd fs8, 176(a0)\n fsd fs9, 184(a0)\n fsd fs10, 192(a0)\n fsd fs11, 200(a0)\n"
        "    li a0, 0\n"
        "    ret\n"
        ".globl kiln_arch_longjmp\n"
        ".type kiln_arch_longjmp,@function\n"
        "kiln_arch_longjmp:\n"
        "    ld ra, 0(a0)\n    ld sp, 8(a0)\n"
        "    ld s0, 16(a0)\n   ld s1, 24(a0)\n   ld s2, 32(a0)\n   ld s3, 40(a0)\n"
        "    ld s4, 48(a0)\n   ld s5, 56(a0)\n   ld s6, 64(a0)\n   ld s7, 72(a0)\n"
        "    ld s8, 80(a0)\n   ld s9, 88(a0)\n   ld s10, 96(a0)\n  ld s11, 104(a0)\n"
        "    fld fs0, 112(a0)\n fld fs1, 120(a0)\n fld fs2, 128(a0)\n fld fs3, 136(a0)\n"
        "    fld fs4, 144(a0)\n fld fs5, 152(a0)\n fld fs6, 160(a0)\n fld fs7, 168(a0)\n"
        "    fld fs8, 176(a0)\n fld fs9, 184(a0)\n fld fs10, 192(a0)\n fld fs11, 200(a0)\n"
        "    mv a0, a1\n"
        "    bnez a0, 1f\n"
        "    li a0, 1\n"
        "1:  ret\n");

/* Instructions from each extension, for probing when riscv_hwprobe cannot
 * answer (kernels before 6.4; qemu-user). Each writes only x0. */
static void probe_zba(void) { __asm__ volatile(".insn r 0x33, 2, 0x10, x0, x0, x0"); } /* sh1add */
static void probe_zbb(void) { __asm__ volatile(".insn r 0x33, 7, 0x20, x0, x0, x0"); } /* andn */
static void probe_zbs(void) { __asm__ volatile(".insn r 0x33, 1, 0x14, x0, x0, x0"); } /* bset */
/* vsetivli x0, 0, e8, m1, ta, ma: sets vl and vtype only. Encoded by hand
 * because the runtime is assembled for rv64gc. */
static void probe_v(void) { __asm__ volatile(".4byte 0xcc007057"); }

/* CPU features by name: from the riscv_hwprobe syscall where the kernel has
 * it, else by executing one instruction of the extension under a SIGILL
 * probe. */
bool kiln_arch_cpu_has(const char *name, size_t len) {
    static const struct { const char *name; int bit; void (*probe)(void); } table[] = {
        {"v", 2, probe_v}, {"zba", 3, probe_zba}, {"zbb", 4, probe_zbb}, {"zbs", 5, probe_zbs}};
    struct { int64_t key; uint64_t value; } pair = {4 /* RISCV_HWPROBE_KEY_IMA_EXT_0 */, 0};
    long r = kiln_syscall6(258 /* riscv_hwprobe */, (long)&pair, 1, 0, 0, 0, 0);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strlen(table[i].name) != len || memcmp(table[i].name, name, len) != 0) continue;
        if (r == 0 && pair.key == 4) return (pair.value >> table[i].bit) & 1;
        return kiln_probe_instruction(table[i].probe);
    }
    return false;
}
