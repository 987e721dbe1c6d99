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
long os_munmap(void *addr, size_t len) { return SC(SYS_munmap, addr, len, 0, 0, 0, 0); }

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
