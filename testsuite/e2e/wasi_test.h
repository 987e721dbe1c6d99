/* wasi_test.h: what the wasi_*.c end-to-end tests share: WASI errno names
 * and macros that print a call, its result and errno. Not a test itself
 * (the e2e harness runs .c and .wat files only). */
#ifndef WASI_TEST_H
#define WASI_TEST_H
#include <errno.h>
#include <stdio.h>

/* Column width of the printed expressions; a test may define its own. */
#ifndef SHOW_WIDTH
#define SHOW_WIDTH 52
#endif

/* WASI errno names (wasi-libc's errno values are the WASI codes). */
static const char *const errnames[] = {
    "ok", "E2BIG", "EACCES", "EADDRINUSE", "EADDRNOTAVAIL", "EAFNOSUPPORT", "EAGAIN", "EALREADY", "EBADF",
    "EBADMSG", "EBUSY", "ECANCELED", "ECHILD", "ECONNABORTED", "ECONNREFUSED", "ECONNRESET", "EDEADLK",
    "EDESTADDRREQ", "EDOM", "EDQUOT", "EEXIST", "EFAULT", "EFBIG", "EHOSTUNREACH", "EIDRM", "EILSEQ",
    "EINPROGRESS", "EINTR", "EINVAL", "EIO", "EISCONN", "EISDIR", "ELOOP", "EMFILE", "EMLINK", "EMSGSIZE",
    "EMULTIHOP", "ENAMETOOLONG", "ENETDOWN", "ENETRESET", "ENETUNREACH", "ENFILE", "ENOBUFS", "ENODEV",
    "ENOENT", "ENOEXEC", "ENOLCK", "ENOLINK", "ENOMEM", "ENOMSG", "ENOPROTOOPT", "ENOSPC", "ENOSYS",
    "ENOTCONN", "ENOTDIR", "ENOTEMPTY", "ENOTRECOVERABLE", "ENOTSOCK", "ENOTSUP", "ENOTTY", "ENXIO",
    "EOVERFLOW", "EOWNERDEAD", "EPERM", "EPIPE", "EPROTO", "EPROTONOSUPPORT", "EPROTOTYPE", "ERANGE",
    "EROFS", "ESPIPE", "ESRCH", "ESTALE", "ETIMEDOUT", "ETXTBSY", "EXDEV", "ENOTCAPABLE",
};
static const char *en(int e) { return e >= 0 && e <= 76 ? errnames[e] : "E?"; }

#define SHOW(expr)                                                      \
    do {                                                                \
        errno = 0;                                                      \
        long r_ = (long)(expr);                                         \
        printf("%-*s -> %ld %s\n", SHOW_WIDTH, #expr, r_, r_ < 0 ? en(errno) : ""); \
    } while (0)
#define RAW(expr) printf("%-*s -> %s\n", SHOW_WIDTH, #expr, en(expr))

#endif
