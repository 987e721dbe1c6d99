/* The process floor for start-up times: a static executable with no libc,
 * no loader and no runtime, whose entry point only calls exit_group(0).
 * Nothing that starts a program and exits can be faster on this kernel.
 * Built with `-nostdlib -static` (bench.py, startup). */
__attribute__((noreturn)) void _start(void) {
#if defined(__x86_64__)
    __asm__ volatile("mov $231, %eax\n\txor %edi, %edi\n\tsyscall");
#elif defined(__aarch64__)
    __asm__ volatile("mov x8, #94\n\tmov x0, #0\n\tsvc #0");
#elif defined(__riscv)
    __asm__ volatile("li a7, 94\n\tli a0, 0\n\tecall");
#else
#error "unsupported host architecture"
#endif
    __builtin_unreachable();
}
