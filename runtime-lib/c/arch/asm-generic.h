/* asm-generic.h: what aarch64 and riscv64 share because both use the
 * kernel's asm-generic ABI: syscall numbers and the layout of struct stat.
 * Included by arch/aarch64/arch.h and arch/riscv64/arch.h only. */
#ifndef KILN_ASM_GENERIC_H
#define KILN_ASM_GENERIC_H
#include <stdint.h>

#define SYS_fcntl 25
#define SYS_lseek 62
#define SYS_read 63
#define SYS_write 64
#define SYS_readv 65
#define SYS_writev 66
#define SYS_close 57
#define SYS_fstat 80
#define SYS_exit_group 94
#define SYS_exit 93
#define SYS_futex 98
#define SYS_clone 220
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
#define SYS_mremap 216
#define SYS_mmap 222
#define SYS_mprotect 226
#define SYS_getrandom 278
#define SYS_memfd_create 279

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

#endif
