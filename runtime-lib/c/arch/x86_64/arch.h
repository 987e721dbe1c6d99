/* arch.h (x86-64 Linux): syscall numbers, the raw syscall instruction, and
 * where the kernel puts the PC and SP in a signal's ucontext.
 * Every arch/<arch>/arch.h defines the same names. */
#ifndef KILN_ARCH_H
#define KILN_ARCH_H
#include <stdint.h>

#define KILN_ARCH_NAME "x86_64"

#define SYS_read 0
#define SYS_write 1
#define SYS_close 3
#define SYS_fstat 5
#define SYS_lseek 8
#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_munmap 11
#define SYS_mremap 25
#define SYS_rt_sigaction 13
#define SYS_rt_sigreturn 15
#define SYS_readv 19
#define SYS_writev 20
#define SYS_sched_yield 24
#define SYS_nanosleep 35
#define SYS_getpid 39
#define SYS_fcntl 72
#define SYS_sigaltstack 131
#define SYS_gettid 186
#define SYS_clone 56
#define SYS_exit 60
#define SYS_futex 202
#define SYS_tkill 200
#define SYS_clock_gettime 228
#define SYS_clock_getres 229
#define SYS_exit_group 231
#define SYS_getrandom 318
#define SYS_memfd_create 319

/* x86-64 requires SA_RESTORER: the kernel returns from a handler through it. */
#define KILN_ARCH_NEEDS_RESTORER 1
void kiln_arch_restorer(void);

static inline long kiln_syscall6(long n, long a, long b, long c, long d, long e, long f) {
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

/* struct ucontext: uc_flags, uc_link, uc_stack (24 bytes), then
 * uc_mcontext.gregs[23] with REG_RSP = 15 and REG_RIP = 16. */
#define KILN_UC_GREGS 40
static inline uintptr_t *kiln_uc_pc(void *uc) { return (uintptr_t *)((char *)uc + KILN_UC_GREGS + 16 * 8); }
static inline uintptr_t *kiln_uc_sp(void *uc) { return (uintptr_t *)((char *)uc + KILN_UC_GREGS + 15 * 8); }
/* The frame pointer register (rbp / x29 / s0). Cranelift frames on every
 * target store the caller's frame pointer at [fp] and the return address at
 * [fp + 8]. */
static inline uintptr_t *kiln_uc_fp(void *uc) { return (uintptr_t *)((char *)uc + KILN_UC_GREGS + 10 * 8); }
/* The caller's frame pointer, given __builtin_frame_address(0) of a C
 * function built by clang (push rbp; mov rbp, rsp: the caller's rbp is at [rbp]). */
static inline uintptr_t kiln_arch_caller_fp(void *frame) { return ((uintptr_t *)frame)[0]; }


/* struct stat as the x86-64 kernel fills it (fstat/newfstatat). */
struct kiln_stat {
    uint64_t st_dev, st_ino, st_nlink;
    uint32_t st_mode, st_uid, st_gid, __pad0;
    uint64_t st_rdev;
    int64_t st_size, st_blksize, st_blocks;
    int64_t st_atime_sec, st_atime_nsec, st_mtime_sec, st_mtime_nsec, st_ctime_sec, st_ctime_nsec;
    int64_t __unused[3];
};
_Static_assert(sizeof(struct kiln_stat) == 144, "x86-64 struct stat");

/* ---- WASI file system, polling and sockets (the wasi/ files, through os.c) ---- */
#define SYS_ioctl 16
#define SYS_sendmsg 46
#define SYS_recvmsg 47
#define SYS_shutdown 48
#define SYS_fsync 74
#define SYS_fdatasync 75
#define SYS_ftruncate 77
#define SYS_getdents64 217
#define SYS_fadvise64 221
#define SYS_openat 257
#define SYS_mkdirat 258
#define SYS_newfstatat 262
#define SYS_unlinkat 263
#define SYS_linkat 265
#define SYS_symlinkat 266
#define SYS_readlinkat 267
#define SYS_ppoll 271
#define SYS_utimensat 280
#define SYS_accept4 288
#define SYS_preadv 295
#define SYS_pwritev 296
#define SYS_renameat2 316 /* x86-64 also has renameat (264); renameat2 is on every arch */
#define SYS_openat2 437
/* open(2) flags whose values differ between architectures. */
#define K_O_DIRECTORY 0200000
#define K_O_NOFOLLOW 0400000

#endif
