/* sock.c: sock_accept, sock_recv, sock_send, sock_shutdown, and proc_raise.
 *
 * There is no way to grant a socket yet, so a program can only hold one it
 * inherited as stdio, or one it accepted from such a listening socket.
 * These functions act on those for real; on any other open descriptor they
 * answer ENOTSOCK, on a closed one EBADF (wasmtime, which implements no
 * sockets in preview1, answers exactly that for every descriptor that is
 * not a socket).
 *
 * SANDBOX-CRITICAL: message buffers are checked by w_iovecs; no address is
 * ever passed to the kernel (accept asks for none, send and recv use the
 * connection's), so a socket cannot reach anything new.
 */
#include "wasi_internal.h"

#define K_SOCK_NONBLOCK 04000
#define K_SOCK_CLOEXEC 02000000
#define K_MSG_PEEK 2
#define K_MSG_TRUNC 0x20
#define K_MSG_WAITALL 0x100
#define K_MSG_NOSIGNAL 0x4000
#define W_RIFLAGS_RECV_PEEK 1
#define W_RIFLAGS_RECV_WAITALL 2
#define W_ROFLAGS_RECV_DATA_TRUNCATED 1

struct k_msghdr {
    void *name;
    uint32_t namelen, pad0;
    void *iov;
    size_t iovlen;
    void *control;
    size_t controllen;
    int32_t flags, pad1;
};

static int32_t socket_of(struct kiln_wasi *w, int32_t fd, struct wfd **out) {
    struct wfd *e = wfd_get(w, fd);
    if (!e) return W_EBADF;
    if (e->kind == WK_STDIN || e->kind == WK_STDOUT || e->kind == WK_STDERR) {
        struct kiln_stat st;
        if (os_fstat(e->host, &st) != 0 || (st.st_mode & K_S_IFMT) != K_S_IFSOCK) return W_ENOTSOCK;
    } else if (e->kind != WK_SOCKET) {
        return W_ENOTSOCK;
    }
    *out = e;
    return W_ESUCCESS;
}

int32_t kiln_wasi_sock_accept(void *c, void *v, int32_t fd, int32_t flags, int32_t fd_out) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    if ((uint32_t)flags & ~(uint32_t)W_FDFLAGS_NONBLOCK) return W_EINVAL;
    struct wfd *e;
    int32_t err = socket_of(w, fd, &e);
    if (err) return err;
    WPTR(w, out, uint8_t, fd_out, 4);
    int nonblock = (flags & W_FDFLAGS_NONBLOCK) != 0;
    long r;
    int dup = wait_begin(e->host);
    do r = os_accept4(dup >= 0 ? dup : e->host, K_SOCK_CLOEXEC | (nonblock ? K_SOCK_NONBLOCK : 0)); while (r == -K_EINTR);
    wait_end(dup);
    if (r < 0) return werr(r);
    uint64_t rights = W_RIGHT_FD_READ | W_RIGHT_FD_WRITE | W_RIGHT_FD_FDSTAT_SET_FLAGS | W_RIGHT_FD_FILESTAT_GET |
                      W_RIGHT_POLL_FD_READWRITE | W_RIGHT_SOCK_SHUTDOWN;
    struct wfd s = {
        .kind = WK_SOCKET,
        .filetype = W_FILETYPE_SOCKET_STREAM,
        .mode = WP_READ | WP_WRITE,
        .nonblock = (uint8_t)nonblock,
        .host = (int32_t)r,
        .base = rights,
    };
    int32_t n;
    err = wfd_insert(w, &s, &n);
    if (err) return err;
    put_u32(out, (uint32_t)n);
    return W_ESUCCESS;
}

int32_t kiln_wasi_sock_recv(void *c, void *v, int32_t fd, int32_t iovs, int32_t iovs_len, int32_t ri_flags,
                            int32_t datalen_ptr, int32_t roflags_ptr) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    if ((uint32_t)ri_flags > (W_RIFLAGS_RECV_PEEK | W_RIFLAGS_RECV_WAITALL)) return W_EINVAL;
    struct wfd *e;
    int32_t err = socket_of(w, fd, &e);
    if (err) return err;
    WPTR(w, datalen, uint8_t, datalen_ptr, 4);
    WPTR(w, roflags, uint8_t, roflags_ptr, 2);
    struct k_iovec io[W_IOV_MAX];
    int n;
    err = w_iovecs(w, iovs, iovs_len, io, &n);
    if (err) return err;
    struct k_msghdr m = {.iov = io, .iovlen = (size_t)n};
    int flags = ((ri_flags & W_RIFLAGS_RECV_PEEK) ? K_MSG_PEEK : 0) | ((ri_flags & W_RIFLAGS_RECV_WAITALL) ? K_MSG_WAITALL : 0);
    long r;
    int dup = wait_begin(e->host);
    do r = os_recvmsg(dup >= 0 ? dup : e->host, &m, flags); while (r == -K_EINTR);
    wait_end(dup);
    if (r < 0) return werr(r);
    put_u32(datalen, (uint32_t)r);
    put_u16(roflags, (m.flags & K_MSG_TRUNC) ? W_ROFLAGS_RECV_DATA_TRUNCATED : 0);
    return W_ESUCCESS;
}

int32_t kiln_wasi_sock_send(void *c, void *v, int32_t fd, int32_t iovs, int32_t iovs_len, int32_t si_flags, int32_t datalen_ptr) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    if (si_flags != 0) return W_EINVAL; /* preview1 defines no send flags */
    struct wfd *e;
    int32_t err = socket_of(w, fd, &e);
    if (err) return err;
    WPTR(w, datalen, uint8_t, datalen_ptr, 4);
    struct k_iovec io[W_IOV_MAX];
    int n;
    err = w_iovecs(w, iovs, iovs_len, io, &n);
    if (err) return err;
    struct k_msghdr m = {.iov = io, .iovlen = (size_t)n};
    long r;
    /* MSG_NOSIGNAL: a closed peer is EPIPE for the program, not SIGPIPE. */
    do r = os_sendmsg(e->host, &m, K_MSG_NOSIGNAL); while (r == -K_EINTR);
    if (r < 0) return werr(r);
    put_u32(datalen, (uint32_t)r);
    return W_ESUCCESS;
}

int32_t kiln_wasi_sock_shutdown(void *c, void *v, int32_t fd, int32_t how) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    /* sdflags RD = 1, WR = 2; Linux SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2. */
    if (how < 1 || how > 3) return W_EINVAL;
    struct wfd *e;
    int32_t err = socket_of(w, fd, &e);
    if (err) return err;
    long r = os_shutdown(e->host, how - 1);
    return r < 0 ? werr(r) : W_ESUCCESS;
}

/* wasmtime does not deliver signals a program raises: for every valid
 * signal number (0-30 in preview1) proc_raise answers ENOTSUP, and Kiln
 * does exactly the same so that programs behave alike under both. (An
 * out-of-range number is a trap in wasmtime; Kiln answers EINVAL.) */
int32_t kiln_wasi_proc_raise(void *c, void *v, int32_t sig) {
    if ((uint32_t)sig > 30) return W_EINVAL;
    return W_ENOTSUP;
}
