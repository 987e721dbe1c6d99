/* wasi.c: WASI preview1 host functions, and what the other files in wasi/
 * share: errno translation, iovecs, filestat and timestamps.
 *
 * Every function takes the callee and caller VMContexts first (the wasm
 * calling convention), then its wasm arguments, and returns a WASI errno.
 * Prototypes come from kiln_abi.h, generated from the compiler's list, so a
 * signature mismatch fails the runtime build. See wasi_internal.h for how
 * the layer is split and the two sandbox rules every file keeps.
 *
 * This file: arguments, environment (the context's, i.e. only what its
 * configuration grants), clocks, randomness, proc_exit and sched_yield.
 */
#include "wasi_internal.h"

/* Linux errno -> WASI errno. The numbering is the same on all three
 * targets. Anything unexpected becomes EIO rather than a wrong answer. */
int wait_begin(int host) {
    if (!kiln_threads_active) return -1;
    long d = os_fcntl(host, 1030 /* F_DUPFD_CLOEXEC */, 0);
    if (d < 0) return -1;
    kiln_wasi_unlock();
    return (int)d;
}

void wait_end(int dup) {
    if (dup < 0) return;
    kiln_wasi_lock();
    os_close(dup);
}

int32_t werr(long neg) {
    switch (-neg) {
    case 0: return W_ESUCCESS;
    case 1: return W_EPERM;
    case 2: return W_ENOENT;
    case 3: return W_ESRCH;
    case 4: return W_EINTR;
    case 5: return W_EIO;
    case 6: return W_ENXIO;
    case 7: return W_E2BIG;
    case 8: return W_ENOEXEC;
    case 9: return W_EBADF;
    case 10: return W_ECHILD;
    case 11: return W_EAGAIN;
    case 12: return W_ENOMEM;
    case 13: return W_EACCES;
    case 14: return W_EFAULT;
    case 16: return W_EBUSY;
    case 17: return W_EEXIST;
    case 18: return W_EXDEV;
    case 19: return W_ENODEV;
    case 20: return W_ENOTDIR;
    case 21: return W_EISDIR;
    case 22: return W_EINVAL;
    case 23: return W_ENFILE;
    case 24: return W_EMFILE;
    case 25: return W_ENOTTY;
    case 26: return W_ETXTBSY;
    case 27: return W_EFBIG;
    case 28: return W_ENOSPC;
    case 29: return W_ESPIPE;
    case 30: return W_EROFS;
    case 31: return W_EMLINK;
    case 32: return W_EPIPE;
    case 33: return W_EDOM;
    case 34: return W_ERANGE;
    case 35: return W_EDEADLK;
    case 36: return W_ENAMETOOLONG;
    case 37: return W_ENOLCK;
    case 38: return W_ENOSYS;
    case 39: return W_ENOTEMPTY;
    case 40: return W_ELOOP;
    case 42: return W_ENOMSG;
    case 43: return W_EIDRM;
    case 67: return W_ENOLINK;
    case 71: return W_EPROTO;
    case 72: return W_EMULTIHOP;
    case 74: return W_EBADMSG;
    case 75: return W_EOVERFLOW;
    case 84: return W_EILSEQ;
    case 88: return W_ENOTSOCK;
    case 89: return W_EDESTADDRREQ;
    case 90: return W_EMSGSIZE;
    case 91: return W_EPROTOTYPE;
    case 92: return W_ENOPROTOOPT;
    case 93: return W_EPROTONOSUPPORT;
    case 95: return W_ENOTSUP;
    case 97: return W_EAFNOSUPPORT;
    case 98: return W_EADDRINUSE;
    case 99: return W_EADDRNOTAVAIL;
    case 100: return W_ENETDOWN;
    case 101: return W_ENETUNREACH;
    case 102: return W_ENETRESET;
    case 103: return W_ECONNABORTED;
    case 104: return W_ECONNRESET;
    case 105: return W_ENOBUFS;
    case 106: return W_EISCONN;
    case 107: return W_ENOTCONN;
    case 110: return W_ETIMEDOUT;
    case 111: return W_ECONNREFUSED;
    case 113: return W_EHOSTUNREACH;
    case 114: return W_EALREADY;
    case 115: return W_EINPROGRESS;
    case 116: return W_ESTALE;
    case 122: return W_EDQUOT;
    case 125: return W_ECANCELED;
    case 130: return W_EOWNERDEAD;
    case 131: return W_ENOTRECOVERABLE;
    default: return W_EIO;
    }
}

/* SANDBOX-CRITICAL: the iovec array itself and every buffer it names are
 * checked by WPTR before any host pointer is formed. At most W_IOV_MAX
 * buffers are used (a short transfer, which callers must accept anyway). */
int32_t w_iovecs(struct kiln_wasi *w, int32_t iovs_ptr, int32_t iovs_len, struct k_iovec *out, int *n) {
    uint32_t count = (uint32_t)iovs_len;
    WPTR(w, iov, uint8_t, iovs_ptr, (uint64_t)count * 8);
    int k = 0;
    for (uint32_t i = 0; i < count && k < W_IOV_MAX; i++) {
        uint32_t p = get_u32(iov + 8 * i), l = get_u32(iov + 8 * i + 4);
        WPTR(w, b, uint8_t, p, l);
        out[k].base = b;
        out[k].len = l;
        k++;
    }
    *n = k;
    return W_ESUCCESS;
}

uint8_t w_filetype(uint32_t st_mode) {
    switch (st_mode & K_S_IFMT) {
    case K_S_IFREG: return W_FILETYPE_REGULAR_FILE;
    case K_S_IFDIR: return W_FILETYPE_DIRECTORY;
    case K_S_IFLNK: return W_FILETYPE_SYMBOLIC_LINK;
    case K_S_IFCHR: return W_FILETYPE_CHARACTER_DEVICE;
    case K_S_IFBLK: return W_FILETYPE_BLOCK_DEVICE;
    case K_S_IFSOCK: return W_FILETYPE_SOCKET_STREAM;
    default: return W_FILETYPE_UNKNOWN; /* FIFOs: preview1 has no code for them */
    }
}

static uint64_t ns(int64_t sec, int64_t nsec) { return (uint64_t)sec * 1000000000ull + (uint64_t)nsec; }

/* filestat: dev u64, ino u64, filetype u8 (+7), nlink u64, size u64,
 * atim, mtim, ctim u64 nanoseconds. struct kiln_stat is the per-arch
 * kernel layout (arch.h), so the field names hide the difference. */
void w_filestat(uint8_t *out, const struct kiln_stat *st) {
    memset(out, 0, 64);
    put_u64(out, st->st_dev);
    put_u64(out + 8, st->st_ino);
    out[16] = w_filetype(st->st_mode);
    put_u64(out + 24, (uint64_t)st->st_nlink);
    put_u64(out + 32, (uint64_t)st->st_size);
    put_u64(out + 40, ns(st->st_atime_sec, st->st_atime_nsec));
    put_u64(out + 48, ns(st->st_mtime_sec, st->st_mtime_nsec));
    put_u64(out + 56, ns(st->st_ctime_sec, st->st_ctime_nsec));
}

#define K_UTIME_NOW ((1l << 30) - 1)
#define K_UTIME_OMIT ((1l << 30) - 2)

static int32_t one_time(uint64_t t, int set, int now, int64_t *out) {
    if (set && now) return W_EINVAL;
    if (set) {
        out[0] = (int64_t)(t / 1000000000ull);
        out[1] = (int64_t)(t % 1000000000ull);
    } else {
        out[0] = 0;
        out[1] = now ? K_UTIME_NOW : K_UTIME_OMIT;
    }
    return W_ESUCCESS;
}

int32_t w_times(uint64_t atim, uint64_t mtim, int32_t fst, int64_t out[4]) {
    if ((uint32_t)fst > 15) return W_EINVAL;
    int32_t e = one_time(atim, fst & W_FSTFLAGS_ATIM, fst & W_FSTFLAGS_ATIM_NOW, out);
    if (e) return e;
    return one_time(mtim, fst & W_FSTFLAGS_MTIM, fst & W_FSTFLAGS_MTIM_NOW, out + 2);
}

/* ---- arguments and environment ---- */

static int32_t strings_sizes(struct kiln_wasi *w, char **list, size_t n, int32_t count_ptr, int32_t size_ptr) {
    WPTR(w, count, uint8_t, count_ptr, 4);
    WPTR(w, size, uint8_t, size_ptr, 4);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) total += strlen(list[i]) + 1;
    if (total > 0xffffffffu) return W_E2BIG;
    put_u32(count, (uint32_t)n);
    put_u32(size, (uint32_t)total);
    return W_ESUCCESS;
}

static int32_t strings_get(struct kiln_wasi *w, char **list, size_t n, int32_t ptrs_ptr, int32_t buf_ptr) {
    WPTR(w, ptrs, uint8_t, ptrs_ptr, (uint64_t)n * 4);
    uint32_t off = (uint32_t)buf_ptr;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(list[i]) + 1;
        WPTR(w, dst, uint8_t, off, len);
        memcpy(dst, list[i], len);
        put_u32(ptrs + 4 * i, off);
        off += (uint32_t)len;
    }
    return W_ESUCCESS;
}

int32_t kiln_wasi_args_sizes_get(void *c, void *v, int32_t count, int32_t size) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    return strings_sizes(w, w->argv, w->argc, count, size);
}
int32_t kiln_wasi_args_get(void *c, void *v, int32_t argv, int32_t buf) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    return strings_get(w, w->argv, w->argc, argv, buf);
}
int32_t kiln_wasi_environ_sizes_get(void *c, void *v, int32_t count, int32_t size) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    return strings_sizes(w, w->env, w->envc, count, size);
}
int32_t kiln_wasi_environ_get(void *c, void *v, int32_t env, int32_t buf) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    return strings_get(w, w->env, w->envc, env, buf);
}

/* ---- clocks and randomness ---- */

static int clock_id(int32_t id) {
    /* WASI's realtime, monotonic, process and thread CPU clocks have the
     * same numbers as Linux's CLOCK_* ids. */
    return (id >= 0 && id <= 3) ? id : -1;
}

/* wasmtime provides no CPU-time clocks: it answers EBADF for the process
 * and thread CPU clocks (ids 2 and 3), and so does Kiln, so a program
 * behaves the same under both. */
static bool cpu_clock(int32_t id) { return id == 2 || id == 3; }

int32_t kiln_wasi_clock_res_get(void *c, void *v, int32_t id, int32_t res_ptr) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    int clk = clock_id(id);
    if (clk < 0) return W_EINVAL;
    if (cpu_clock(id)) return W_EBADF;
    WPTR(w, res, uint8_t, res_ptr, 8);
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
    struct kiln_wasi *w = kiln_wasi_of(v);
    (void)precision;
    int clk = clock_id(id);
    if (clk < 0) return W_EINVAL;
    if (cpu_clock(id)) return W_EBADF;
    WPTR(w, out, uint8_t, time_ptr, 8);
    uint64_t t;
    long r = now_ns(clk, &t);
    if (r) return werr(r);
    put_u64(out, t);
    return W_ESUCCESS;
}

int32_t kiln_wasi_random_get(void *c, void *v, int32_t buf_ptr, int32_t len) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    WPTR(w, buf, uint8_t, buf_ptr, (uint32_t)len);
    uint32_t done = 0;
    while (done < (uint32_t)len) {
        long r = os_getrandom(buf + done, (uint32_t)len - done);
        if (r == -K_EINTR) continue;
        if (r < 0) return werr(r);
        done += (uint32_t)r;
    }
    return W_ESUCCESS;
}

/* ---- process (proc_raise lives in sock.c) ---- */

/* WASI exit codes are u32, but a process status keeps only 8 bits, so
 * exit(256) would report success. wasmtime accepts only [0..126) (126 and
 * up mean "cannot execute" and signals to shells) and otherwise fails with
 * an error and status 1; Kiln follows that rule and message. Generated code
 * calls this directly, so the return address and the caller's frame
 * pointer locate the call in wasm. Anything the program buffered is its own
 * to flush before proc_exit (wasi-libc's exit does). kiln_exit ends the
 * instance's run (in an executable, the process). */
__attribute__((noinline)) void kiln_wasi_proc_exit(void *c, void *v, int32_t code) {
    (void)c;
    if ((uint32_t)code >= 126)
        kiln_wasm_call_error("exit with invalid exit status outside of [0..126)", (uint32_t)code,
                             (uintptr_t)__builtin_return_address(0), kiln_arch_caller_fp(__builtin_frame_address(0)));
    kiln_exit(v, code);
}

int32_t kiln_wasi_sched_yield(void *c, void *v) {
    (void)c; (void)v;
    os_sched_yield();
    return W_ESUCCESS;
}
