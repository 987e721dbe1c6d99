/* os.c: the runtime's only path to the kernel. Each wrapper is one raw
 * syscall through kiln_syscall6 from arch.h; failures come back as -errno.
 * Nothing here knows about wasm. */
#include "kiln_rt.h"

#define SC0(n) kiln_syscall6((n), 0, 0, 0, 0, 0, 0)
#define SC(n, a, b, c, d, e, f) kiln_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

long os_write(int fd, const void *buf, size_t len) { return SC(SYS_write, fd, buf, len, 0, 0, 0); }
long os_read(int fd, void *buf, size_t len) { return SC(SYS_read, fd, buf, len, 0, 0, 0); }
long os_writev(int fd, const void *iov, int n) { return SC(SYS_writev, fd, iov, n, 0, 0, 0); }
long os_readv(int fd, const void *iov, int n) { return SC(SYS_readv, fd, iov, n, 0, 0, 0); }
long os_lseek(int fd, int64_t off, int whence) { return SC(SYS_lseek, fd, off, whence, 0, 0, 0); }
long os_close(int fd) { return SC(SYS_close, fd, 0, 0, 0, 0, 0); }
long os_fstat(int fd, void *st) { return SC(SYS_fstat, fd, st, 0, 0, 0, 0); }
long os_fcntl(int fd, int cmd, long arg) { return SC(SYS_fcntl, fd, cmd, arg, 0, 0, 0); }

void *os_mmap(void *addr, size_t len, int prot, int flags) {
    long r = SC(SYS_mmap, addr, len, prot, flags, -1, 0);
    if (r < 0 && r > -4096) return K_MAP_FAILED;
    return (void *)r;
}
long os_mprotect(void *addr, size_t len, int prot) { return SC(SYS_mprotect, addr, len, prot, 0, 0, 0); }
void *os_mmap_fd(void *addr, size_t len, int prot, int flags, int fd, uint64_t offset) {
    long r = SC(SYS_mmap, addr, len, prot, flags, fd, offset);
    if (r < 0 && r > -4096) return K_MAP_FAILED;
    return (void *)r;
}
long os_memfd_create(const char *name) { return SC(SYS_memfd_create, name, 1 /* MFD_CLOEXEC */, 0, 0, 0, 0); }
long os_munmap(void *addr, size_t len) { return SC(SYS_munmap, addr, len, 0, 0, 0, 0); }
void *os_mremap_maymove(void *addr, size_t old_len, size_t new_len) {
    long r = SC(SYS_mremap, addr, old_len, new_len, 1 /* MREMAP_MAYMOVE */, 0, 0);
    if (r < 0 && r > -4096) return K_MAP_FAILED;
    return (void *)r;
}

struct k_timespec { int64_t sec, nsec; };

long os_clock_gettime(int clock, int64_t *sec, int64_t *nsec) {
    struct k_timespec ts;
    long r = SC(SYS_clock_gettime, clock, &ts, 0, 0, 0, 0);
    if (r == 0) { *sec = ts.sec; *nsec = ts.nsec; }
    return r;
}
long os_clock_getres(int clock, int64_t *sec, int64_t *nsec) {
    struct k_timespec ts;
    long r = SC(SYS_clock_getres, clock, &ts, 0, 0, 0, 0);
    if (r == 0) { *sec = ts.sec; *nsec = ts.nsec; }
    return r;
}
long os_nanosleep(int64_t sec, int64_t nsec) {
    struct k_timespec ts = {sec, nsec}, rem;
    long r;
    while ((r = SC(SYS_nanosleep, &ts, &rem, 0, 0, 0, 0)) == -K_EINTR) ts = rem;
    return r;
}
long os_getrandom(void *buf, size_t len) { return SC(SYS_getrandom, buf, len, 0, 0, 0, 0); }
long os_sched_yield(void) { return SC0(SYS_sched_yield); }
long os_sigaction(int sig, const void *act, void *old) { return SC(SYS_rt_sigaction, sig, act, old, 8, 0, 0); }
long os_sigaltstack(const void *ss, void *old) { return SC(SYS_sigaltstack, ss, old, 0, 0, 0, 0); }
long os_futex_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns) {
    struct k_timespec ts = {timeout_ns / 1000000000, timeout_ns % 1000000000};
    /* FUTEX_WAIT | FUTEX_PRIVATE_FLAG: the timeout is relative. */
    return SC(SYS_futex, addr, 128, expected, timeout_ns < 0 ? 0 : &ts, 0, 0);
}
long os_futex_wake(uint32_t *addr, uint32_t count) { return SC(SYS_futex, addr, 129 /* FUTEX_WAKE | PRIVATE */, count, 0, 0, 0); }
long os_kill_self(int sig) {
    long tid = SC0(SYS_gettid);
    return SC(SYS_tkill, tid, sig, 0, 0, 0, 0);
}
void os_exit(int status) {
    for (;;) SC(SYS_exit_group, status, 0, 0, 0, 0, 0);
}

void os_write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        long r = os_write(fd, p, len);
        if (r == -K_EINTR || r == -K_EAGAIN) continue;
        if (r <= 0) return;
        p += r;
        len -= (size_t)r;
    }
}

/* ---- file system, polling and sockets (for wasi/) ---- */

/* Every call that can add, remove or rename a directory entry bumps
 * kiln_os_namespace_generation (whether it succeeded or not), so a cache of
 * directory state (fd_readdir's resume point) can tell that this process
 * may have changed a directory since the cache was filled. A relaxed
 * atomic: WASI contexts on several threads may bump and read it at once. */
uint64_t kiln_os_namespace_generation;
static void namespace_changed(void) { __atomic_fetch_add(&kiln_os_namespace_generation, 1, __ATOMIC_RELAXED); }

long os_openat(int dirfd, const char *path, int flags, int mode) {
    if (flags & K_O_CREAT) namespace_changed();
    return SC(SYS_openat, dirfd, path, flags, mode, 0, 0);
}
long os_openat2(int dirfd, const char *path, const void *how, size_t size) {
    /* struct open_how starts with the u64 open flags. */
    if (*(const uint64_t *)how & K_O_CREAT) namespace_changed();
    return SC(SYS_openat2, dirfd, path, how, size, 0, 0);
}
long os_fstatat(int dirfd, const char *path, void *st, int flags) { return SC(SYS_newfstatat, dirfd, path, st, flags, 0, 0); }
long os_mkdirat(int dirfd, const char *path, int mode) {
    namespace_changed();
    return SC(SYS_mkdirat, dirfd, path, mode, 0, 0, 0);
}
long os_unlinkat(int dirfd, const char *path, int flags) {
    namespace_changed();
    return SC(SYS_unlinkat, dirfd, path, flags, 0, 0, 0);
}
long os_symlinkat(const char *target, int dirfd, const char *path) {
    namespace_changed();
    return SC(SYS_symlinkat, target, dirfd, path, 0, 0, 0);
}
long os_linkat(int olddir, const char *oldpath, int newdir, const char *newpath, int flags) {
    namespace_changed();
    return SC(SYS_linkat, olddir, oldpath, newdir, newpath, flags, 0);
}
long os_renameat2(int olddir, const char *oldpath, int newdir, const char *newpath, unsigned flags) {
    namespace_changed();
    return SC(SYS_renameat2, olddir, oldpath, newdir, newpath, flags, 0);
}
long os_readlinkat(int dirfd, const char *path, char *buf, size_t len) { return SC(SYS_readlinkat, dirfd, path, buf, len, 0, 0); }
long os_utimensat(int dirfd, const char *path, const int64_t times[4], int flags) {
    return SC(SYS_utimensat, dirfd, path, times, flags, 0, 0);
}
long os_ftruncate(int fd, int64_t len) { return SC(SYS_ftruncate, fd, len, 0, 0, 0, 0); }
long os_fsync(int fd) { return SC(SYS_fsync, fd, 0, 0, 0, 0, 0); }
long os_fdatasync(int fd) { return SC(SYS_fdatasync, fd, 0, 0, 0, 0, 0); }
long os_fadvise(int fd, int64_t off, int64_t len, int advice) { return SC(SYS_fadvise64, fd, off, len, advice, 0, 0); }
/* On 64-bit kernels the offset travels whole in pos_l; pos_h is ignored. */
long os_preadv(int fd, const void *iov, int n, int64_t off) { return SC(SYS_preadv, fd, iov, n, off, 0, 0); }
long os_pwritev(int fd, const void *iov, int n, int64_t off) { return SC(SYS_pwritev, fd, iov, n, off, 0, 0); }
long os_getdents64(int fd, void *buf, size_t len) { return SC(SYS_getdents64, fd, buf, len, 0, 0, 0); }
long os_ppoll(void *fds, size_t nfds, int64_t timeout_ns) {
    struct k_timespec ts = {timeout_ns / 1000000000ll, timeout_ns % 1000000000ll};
    return SC(SYS_ppoll, fds, nfds, timeout_ns < 0 ? 0 : &ts, 0, 8, 0);
}
long os_accept4(int fd, int flags) { return SC(SYS_accept4, fd, 0, 0, flags, 0, 0); }
long os_recvmsg(int fd, void *msg, int flags) { return SC(SYS_recvmsg, fd, msg, flags, 0, 0, 0); }
long os_sendmsg(int fd, const void *msg, int flags) { return SC(SYS_sendmsg, fd, msg, flags, 0, 0, 0); }
long os_shutdown(int fd, int how) { return SC(SYS_shutdown, fd, how, 0, 0, 0, 0); }
long os_ioctl(int fd, unsigned long request, void *arg) { return SC(SYS_ioctl, fd, request, arg, 0, 0, 0); }
