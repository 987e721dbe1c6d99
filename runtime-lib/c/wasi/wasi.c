/* wasi.c: WASI preview1 host functions.
 *
 * Every function takes the callee and caller VMContexts first (the wasm
 * calling convention), then its wasm arguments, and returns a WASI errno.
 * Prototypes come from kiln_abi.h, generated from the compiler's list, so a
 * signature mismatch fails the runtime build.
 *
 * SANDBOX-CRITICAL: every pointer the module passes is an offset into its
 * linear memory and is checked against the memory's current length with
 * 64-bit arithmetic before use (wmem); nothing here dereferences a wasm
 * pointer any other way. Capabilities: the program sees its arguments, the
 * environment the build granted, and stdio. There are no preopened
 * directories yet, so no path can be opened.
 */
#include "kiln_rt.h"

/* WASI errno values. */
enum {
    W_ESUCCESS = 0, W_E2BIG = 1, W_EACCES = 2, W_EAGAIN = 6, W_EBADF = 8, W_EBUSY = 10, W_EEXIST = 20,
    W_EFAULT = 21, W_EFBIG = 22, W_EINTR = 27, W_EINVAL = 28, W_EIO = 29, W_EISDIR = 31, W_ELOOP = 32,
    W_EMFILE = 33, W_ENAMETOOLONG = 37, W_ENOENT = 44, W_ENOMEM = 48, W_ENOSPC = 51, W_ENOSYS = 52,
    W_ENOTDIR = 54, W_ENOTEMPTY = 55, W_ENOTSUP = 58, W_ENOTTY = 59, W_EOVERFLOW = 61, W_EPERM = 63,
    W_EPIPE = 64, W_EROFS = 69, W_ESPIPE = 70, W_EXDEV = 75,
};

/* Linux errno -> WASI errno. */
static int32_t werr(long neg) {
    switch (-neg) {
    case 1: return W_EPERM;
    case 2: return W_ENOENT;
    case 4: return W_EINTR;
    case 5: return W_EIO;
    case 9: return W_EBADF;
    case 11: return W_EAGAIN;
    case 12: return W_ENOMEM;
    case 13: return W_EACCES;
    case 14: return W_EFAULT;
    case 16: return W_EBUSY;
    case 17: return W_EEXIST;
    case 18: return W_EXDEV;
    case 20: return W_ENOTDIR;
    case 21: return W_EISDIR;
    case 22: return W_EINVAL;
    case 24: return W_EMFILE;
    case 25: return W_ENOTTY;
    case 27: return W_EFBIG;
    case 28: return W_ENOSPC;
    case 29: return W_ESPIPE;
    case 30: return W_EROFS;
    case 32: return W_EPIPE;
    case 36: return W_ENAMETOOLONG;
    case 38: return W_ENOSYS;
    case 39: return W_ENOTEMPTY;
    case 40: return W_ELOOP;
    case 75: return W_EOVERFLOW;
    case 95: return W_ENOTSUP;
    default: return W_EIO;
    }
}

/* A pointer into linear memory for [ptr, ptr+len), or NULL if any byte of
 * it lies outside the memory's current length. */
static void *wmem(uint32_t ptr, uint64_t len) {
    struct kiln_memory *m = kiln_wasi_memory;
    if (!m || (uint64_t)ptr + len > m->length) return 0;
    return m->base + ptr;
}

#define WPTR(var, type, ptr, len)              \
    type *var = (type *)wmem((uint32_t)(ptr), (len)); \
    if (!var) return W_EFAULT

static void put_u32(void *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(void *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get_u32(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get_u64(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* ---- arguments and environment ---- */

static int32_t strings_sizes(char **list, size_t n, int32_t count_ptr, int32_t size_ptr) {
    WPTR(count, uint8_t, count_ptr, 4);
    WPTR(size, uint8_t, size_ptr, 4);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) total += strlen(list[i]) + 1;
    if (total > 0xffffffffu) return W_E2BIG;
    put_u32(count, (uint32_t)n);
    put_u32(size, (uint32_t)total);
    return W_ESUCCESS;
}

static int32_t strings_get(char **list, size_t n, int32_t ptrs_ptr, int32_t buf_ptr) {
    WPTR(ptrs, uint8_t, ptrs_ptr, (uint64_t)n * 4);
    uint32_t off = (uint32_t)buf_ptr;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(list[i]) + 1;
        WPTR(dst, uint8_t, off, len);
        memcpy(dst, list[i], len);
        put_u32(ptrs + 4 * i, off);
        off += (uint32_t)len;
    }
    return W_ESUCCESS;
}

int32_t kiln_wasi_args_sizes_get(void *c, void *v, int32_t count, int32_t size) {
    (void)c; (void)v;
    return strings_sizes(kiln_proc.argv, (size_t)kiln_proc.argc, count, size);
}
int32_t kiln_wasi_args_get(void *c, void *v, int32_t argv, int32_t buf) {
    (void)c; (void)v;
    return strings_get(kiln_proc.argv, (size_t)kiln_proc.argc, argv, buf);
}
int32_t kiln_wasi_environ_sizes_get(void *c, void *v, int32_t count, int32_t size) {
    (void)c; (void)v;
    return strings_sizes(kiln_proc.wasi_env, kiln_proc.wasi_envc, count, size);
}
int32_t kiln_wasi_environ_get(void *c, void *v, int32_t env, int32_t buf) {
    (void)c; (void)v;
    return strings_get(kiln_proc.wasi_env, kiln_proc.wasi_envc, env, buf);
}

/* ---- clocks and randomness ---- */

static int clock_id(int32_t id) {
    /* WASI's realtime, monotonic, process and thread CPU clocks have the
     * same numbers as Linux's CLOCK_* ids. */
    return (id >= 0 && id <= 3) ? id : -1;
}

int32_t kiln_wasi_clock_res_get(void *c, void *v, int32_t id, int32_t res_ptr) {
    (void)c; (void)v;
    int clk = clock_id(id);
    if (clk < 0) return W_EINVAL;
    WPTR(res, uint8_t, res_ptr, 8);
    int64_t s, ns;
    long r = os_clock_getres(clk, &s, &ns);
    if (r) return werr(r);
    put_u64(res, (uint64_t)s * 1000000000ull + (uint64_t)ns);
    return W_ESUCCESS;
}

static long now_ns(int clk, uint64_t *out) {
    int64_t s, ns;
    long r = os_clock_gettime(clk, &s, &ns);
    if (r == 0) *out = (uint64_t)s * 1000000000ull + (uint64_t)ns;
    return r;
}

int32_t kiln_wasi_clock_time_get(void *c, void *v, int32_t id, int64_t precision, int32_t time_ptr) {
    (void)c; (void)v; (void)precision;
    int clk = clock_id(id);
    if (clk < 0) return W_EINVAL;
    WPTR(out, uint8_t, time_ptr, 8);
    uint64_t t;
    long r = now_ns(clk, &t);
    if (r) return werr(r);
    put_u64(out, t);
    return W_ESUCCESS;
}

int32_t kiln_wasi_random_get(void *c, void *v, int32_t buf_ptr, int32_t len) {
    (void)c; (void)v;
    WPTR(buf, uint8_t, buf_ptr, (uint32_t)len);
    uint32_t done = 0;
    while (done < (uint32_t)len) {
        long r = os_getrandom(buf + done, (uint32_t)len - done);
        if (r == -K_EINTR) continue;
        if (r < 0) return werr(r);
        done += (uint32_t)r;
    }
    return W_ESUCCESS;
}

/* ---- file descriptors: stdio only in this runtime ---- */

#define W_FILETYPE_UNKNOWN 0
#define W_FILETYPE_CHARACTER_DEVICE 2
#define W_FILETYPE_REGULAR_FILE 4
#define W_FILETYPE_SOCKET_STREAM 6
#define W_RIGHT_FD_READ (1ull << 1)
#define W_RIGHT_FD_SEEK (1ull << 2)
#define W_RIGHT_FD_FDSTAT_SET_FLAGS (1ull << 3)
#define W_RIGHT_FD_SYNC (1ull << 4)
#define W_RIGHT_FD_TELL (1ull << 5)
#define W_RIGHT_FD_WRITE (1ull << 6)
#define W_RIGHT_FD_ADVISE (1ull << 7)
#define W_RIGHT_FD_ALLOCATE (1ull << 8)
#define W_RIGHT_FD_FILESTAT_GET (1ull << 21)
#define W_RIGHT_FD_FILESTAT_SET_SIZE (1ull << 22)
#define W_RIGHT_POLL_FD_READWRITE (1ull << 27)

/* stdio descriptors the program has not closed. */
static uint8_t stdio_closed[3];

static int stdio_fd(int32_t fd) { return fd >= 0 && fd <= 2 && !stdio_closed[fd]; }

struct k_iovec { void *base; size_t len; };

/* Translate a wasm iovec array into native iovecs (at most `max`). */
static int32_t iovecs(int32_t iovs_ptr, int32_t iovs_len, struct k_iovec *out, int max, int *n) {
    if (iovs_len < 0) return W_EINVAL;
    WPTR(iov, uint8_t, iovs_ptr, (uint64_t)(uint32_t)iovs_len * 8);
    int k = 0;
    for (int32_t i = 0; i < iovs_len && k < max; i++) {
        uint32_t p = get_u32(iov + 8 * i), l = get_u32(iov + 8 * i + 4);
        WPTR(b, uint8_t, p, l);
        out[k].base = b;
        out[k].len = l;
        k++;
    }
    *n = k;
    return W_ESUCCESS;
}

int32_t kiln_wasi_fd_write(void *c, void *v, int32_t fd, int32_t iovs, int32_t iovs_len, int32_t nwritten_ptr) {
    (void)c; (void)v;
    if (!stdio_fd(fd)) return W_EBADF;
    WPTR(nw, uint8_t, nwritten_ptr, 4);
    struct k_iovec io[64];
    int n;
    int32_t e = iovecs(iovs, iovs_len, io, 64, &n);
    if (e) return e;
    long r;
    do r = os_writev(fd, io, n); while (r == -K_EINTR);
    if (r < 0) return werr(r);
    put_u32(nw, (uint32_t)r);
    return W_ESUCCESS;
}

int32_t kiln_wasi_fd_read(void *c, void *v, int32_t fd, int32_t iovs, int32_t iovs_len, int32_t nread_ptr) {
    (void)c; (void)v;
    if (!stdio_fd(fd)) return W_EBADF;
    WPTR(nr, uint8_t, nread_ptr, 4);
    struct k_iovec io[64];
    int n;
    int32_t e = iovecs(iovs, iovs_len, io, 64, &n);
    if (e) return e;
    long r;
    do r = os_readv(fd, io, n); while (r == -K_EINTR);
    if (r < 0) return werr(r);
    put_u32(nr, (uint32_t)r);
    return W_ESUCCESS;
}

int32_t kiln_wasi_fd_close(void *c, void *v, int32_t fd) {
    (void)c; (void)v;
    if (!stdio_fd(fd)) return W_EBADF;
    stdio_closed[fd] = 1;
    return W_ESUCCESS;
}

int32_t kiln_wasi_fd_seek(void *c, void *v, int32_t fd, int64_t offset, int32_t whence, int32_t newoffset_ptr) {
    (void)c; (void)v;
    if (!stdio_fd(fd)) return W_EBADF;
    if (whence < 0 || whence > 2) return W_EINVAL;
    WPTR(out, uint8_t, newoffset_ptr, 8);
    long r = os_lseek(fd, offset, whence);
    if (r < 0) return werr(r);
    put_u64(out, (uint64_t)r);
    return W_ESUCCESS;
}

int32_t kiln_wasi_fd_tell(void *c, void *v, int32_t fd, int32_t offset_ptr) {
    return kiln_wasi_fd_seek(c, v, fd, 0, 1, offset_ptr);
}

int32_t kiln_wasi_fd_fdstat_get(void *c, void *v, int32_t fd, int32_t stat_ptr) {
    (void)c; (void)v;
    if (!stdio_fd(fd)) return W_EBADF;
    WPTR(st, uint8_t, stat_ptr, 24);
    struct kiln_stat ks;
    long r = os_fstat(fd, &ks);
    if (r) return werr(r);
    uint8_t type;
    uint64_t rights = W_RIGHT_FD_FDSTAT_SET_FLAGS | W_RIGHT_FD_SYNC | W_RIGHT_FD_ADVISE |
                      W_RIGHT_FD_FILESTAT_GET | W_RIGHT_POLL_FD_READWRITE;
    rights |= fd == 0 ? W_RIGHT_FD_READ : W_RIGHT_FD_WRITE;
    switch (ks.st_mode & 0170000) {
    case 0020000: type = W_FILETYPE_CHARACTER_DEVICE; break; /* a tty: not seekable */
    case 0100000:
        type = W_FILETYPE_REGULAR_FILE;
        rights |= W_RIGHT_FD_SEEK | W_RIGHT_FD_TELL | W_RIGHT_FD_ALLOCATE | W_RIGHT_FD_FILESTAT_SET_SIZE;
        break;
    case 0140000: type = W_FILETYPE_SOCKET_STREAM; break;
    default: type = W_FILETYPE_UNKNOWN; break;
    }
    memset(st, 0, 24);
    st[0] = type;
    long fl = os_fcntl(fd, 3 /* F_GETFL */, 0);
    uint16_t flags = (fl >= 0 && (fl & 02000)) ? 1 /* APPEND */ : 0;
    memcpy(st + 2, &flags, 2);
    put_u64(st + 8, rights);
    put_u64(st + 16, 0);
    return W_ESUCCESS;
}

/* No directories are granted in this runtime: every fd past stdio is bad,
 * which is how wasi-libc learns there are no preopens. */
int32_t kiln_wasi_fd_prestat_get(void *c, void *v, int32_t fd, int32_t buf) {
    (void)c; (void)v; (void)fd; (void)buf;
    return W_EBADF;
}
int32_t kiln_wasi_fd_prestat_dir_name(void *c, void *v, int32_t fd, int32_t path, int32_t len) {
    (void)c; (void)v; (void)fd; (void)path; (void)len;
    return W_EBADF;
}

/* ---- process ---- */

void kiln_wasi_proc_exit(void *c, void *v, int32_t code) {
    (void)c; (void)v;
    os_exit(code);
}

int32_t kiln_wasi_sched_yield(void *c, void *v) {
    (void)c; (void)v;
    os_sched_yield();
    return W_ESUCCESS;
}

/* ---- poll_oneoff: clock subscriptions ---- */

#define W_EVENTTYPE_CLOCK 0
#define W_SUBSCRIPTION_CLOCK_ABSTIME 1

/* Nanoseconds from now until a clock subscription fires; -1 on a bad clock. */
static int64_t sub_delay(const uint8_t *s) {
    uint64_t timeout = get_u64(s + 24);
    uint16_t flags;
    memcpy(&flags, s + 40, 2);
    if (!(flags & W_SUBSCRIPTION_CLOCK_ABSTIME)) return (int64_t)(timeout > INT64_MAX ? INT64_MAX : timeout);
    uint64_t now;
    int clk = clock_id((int32_t)get_u32(s + 16));
    if (clk < 0 || now_ns(clk, &now)) return -1;
    return timeout > now ? (int64_t)(timeout - now) : 0;
}

int32_t kiln_wasi_poll_oneoff(void *c, void *v, int32_t in_ptr, int32_t out_ptr, int32_t nsubs, int32_t nevents_ptr) {
    (void)c; (void)v;
    if (nsubs <= 0) return W_EINVAL;
    WPTR(in, uint8_t, in_ptr, (uint64_t)(uint32_t)nsubs * 48);
    WPTR(out, uint8_t, out_ptr, (uint64_t)(uint32_t)nsubs * 32);
    WPTR(nev, uint8_t, nevents_ptr, 4);
    uint32_t n = 0;
    int64_t wait = INT64_MAX;
    for (int32_t i = 0; i < nsubs; i++) {
        const uint8_t *s = in + 48 * i;
        if (s[8] != W_EVENTTYPE_CLOCK) {
            /* fd readiness needs the file-system runtime: report it unsupported. */
            uint8_t *e = out + 32 * n++;
            memset(e, 0, 32);
            put_u64(e, get_u64(s));
            uint16_t err = W_ENOTSUP;
            memcpy(e + 8, &err, 2);
            e[10] = s[8];
            continue;
        }
        int64_t d = sub_delay(s);
        if (d < 0) return W_EINVAL;
        if (d < wait) wait = d;
    }
    if (n == 0) {
        /* Sleep until the earliest clock fires, then report every clock
         * subscription that is due by then. */
        os_nanosleep(wait / 1000000000ll, wait % 1000000000ll);
        for (int32_t i = 0; i < nsubs; i++) {
            const uint8_t *s = in + 48 * i;
            int64_t d = sub_delay(s);
            uint16_t flags;
            memcpy(&flags, s + 40, 2);
            /* A relative timeout is due if it was the shortest one. */
            if ((flags & W_SUBSCRIPTION_CLOCK_ABSTIME) ? d > 0 : d > wait) continue;
            uint8_t *e = out + 32 * n++;
            memset(e, 0, 32);
            put_u64(e, get_u64(s));
            e[10] = W_EVENTTYPE_CLOCK;
        }
    }
    put_u32(nev, n);
    return W_ESUCCESS;
}

/* ---- not available in this runtime: the file system and sockets ----
 * These link so that every preview1 import resolves, and answer ENOSYS. */
#define UNSUPPORTED(name, ...) \
    int32_t kiln_wasi_##name(void *c, void *v, __VA_ARGS__) { (void)c; (void)v; return W_ENOSYS; }
UNSUPPORTED(fd_advise, int32_t a0, int64_t a1, int64_t a2, int32_t a3)
UNSUPPORTED(fd_allocate, int32_t a0, int64_t a1, int64_t a2)
UNSUPPORTED(fd_datasync, int32_t a0)
UNSUPPORTED(fd_fdstat_set_flags, int32_t a0, int32_t a1)
UNSUPPORTED(fd_fdstat_set_rights, int32_t a0, int64_t a1, int64_t a2)
UNSUPPORTED(fd_filestat_get, int32_t a0, int32_t a1)
UNSUPPORTED(fd_filestat_set_size, int32_t a0, int64_t a1)
UNSUPPORTED(fd_filestat_set_times, int32_t a0, int64_t a1, int64_t a2, int32_t a3)
UNSUPPORTED(fd_pread, int32_t a0, int32_t a1, int32_t a2, int64_t a3, int32_t a4)
UNSUPPORTED(fd_pwrite, int32_t a0, int32_t a1, int32_t a2, int64_t a3, int32_t a4)
UNSUPPORTED(fd_readdir, int32_t a0, int32_t a1, int32_t a2, int64_t a3, int32_t a4)
UNSUPPORTED(fd_renumber, int32_t a0, int32_t a1)
UNSUPPORTED(fd_sync, int32_t a0)
UNSUPPORTED(path_create_directory, int32_t a0, int32_t a1, int32_t a2)
UNSUPPORTED(path_filestat_get, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4)
UNSUPPORTED(path_filestat_set_times, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int64_t a4, int64_t a5, int32_t a6)
UNSUPPORTED(path_link, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5, int32_t a6)
UNSUPPORTED(path_open, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int64_t a5, int64_t a6, int32_t a7, int32_t a8)
UNSUPPORTED(path_readlink, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5)
UNSUPPORTED(path_remove_directory, int32_t a0, int32_t a1, int32_t a2)
UNSUPPORTED(path_rename, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5)
UNSUPPORTED(path_symlink, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4)
UNSUPPORTED(path_unlink_file, int32_t a0, int32_t a1, int32_t a2)
UNSUPPORTED(proc_raise, int32_t a0)
UNSUPPORTED(sock_accept, int32_t a0, int32_t a1, int32_t a2)
UNSUPPORTED(sock_recv, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5)
UNSUPPORTED(sock_send, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4)
UNSUPPORTED(sock_shutdown, int32_t a0, int32_t a1)
