/* arch.h (riscv64 Linux): syscall numbers (asm-generic), ecall, and
 * ucontext PC/SP locations. */
#ifndef KILN_ARCH_H
#define KILN_ARCH_H
#include <stdint.h>

#define KILN_ARCH_NAME "riscv64"

#define SYS_fcntl 25
#define SYS_lseek 62
#define SYS_read 63
#define SYS_write 64
#define SYS_readv 65
#define SYS_writev 66
#define SYS_close 57
#define SYS_fstat 80
#define SYS_exit_group 94
#define SYS_nanosleep 101
#define SYS_clock_gettime 113
#define SYS_clock_getres 114
#define SYS_sched_yield 124
#define SYS_tkill 130
#define SYS_sigaltstack 132
#define SYS_rt_sigaction 134
#define SYS_rt_sigreturn 139
#define SYS_getpid 172
#define SYS_gettid 178
#define SYS_munmap 215
#define SYS_mmap 222
#define SYS_mprotect 226
#define SYS_getrandom 278
#define SYS_memfd_create 279

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


/* struct stat as the asm-generic kernel ABI fills it (aarch64, riscv64). */
struct kiln_stat {
    uint64_t st_dev, st_ino;
    uint32_t st_mode, st_nlink, st_uid, st_gid;
    uint64_t st_rdev, __pad1;
    int64_t st_size;
    int32_t st_blksize, __pad2;
    int64_t st_blocks;
    int64_t st_atime_sec, st_atime_nsec, st_mtime_sec, st_mtime_nsec, st_ctime_sec, st_ctime_nsec;
    uint32_t __unused[2];
};
_Static_assert(sizeof(struct kiln_stat) == 128, "generic struct stat");

/* ---- WASI file system, polling and sockets (the wasi/ files, through os.c) ----
 * asm-generic numbers: there is no renameat here, only renameat2. */
#define SYS_ioctl 29
#define SYS_mkdirat 34
#define SYS_unlinkat 35
#define SYS_symlinkat 36
#define SYS_linkat 37
#define SYS_ftruncate 46
#define SYS_openat 56
#define SYS_getdents64 61
#define SYS_preadv 69
#define SYS_pwritev 70
#define SYS_ppoll 73
#define SYS_readlinkat 78
#define SYS_newfstatat 79 /* "fstatat" in asm-generic */
#define SYS_fsync 82
#define SYS_fdatasync 83
#define SYS_utimensat 88
#define SYS_shutdown 210
#define SYS_sendmsg 211
#define SYS_recvmsg 212
#define SYS_fadvise64 223
#define SYS_accept4 242
#define SYS_renameat2 276
#define SYS_openat2 437
/* open(2) flags whose values differ between architectures. */
#define K_O_DIRECTORY 0200000
#define K_O_NOFOLLOW 0400000

#endif
