/* fd.c: operations on open descriptors: read, write, pread, pwrite, seek,
 * tell, advise, allocate, sync, datasync, filestat, and readdir.
 *
 * SANDBOX-CRITICAL: these act only on host descriptors found in the
 * context's table (fdtable.c), i.e. on what the program was granted or
 * opened beneath a grant, and touch guest memory only through WPTR/w_iovecs. What each may
 * do is decided by the entry: its kind (stdio streams are neither seekable
 * nor stat-able, directories cannot be read like files), its rights (a
 * descriptor not opened for writing has no FD_WRITE right and cannot be
 * written, whatever the host would allow), and the grant's permissions
 * (nothing under a read-only grant changes size or times). Errors follow
 * wasmtime, the reference implementation.
 */
#include "wasi_internal.h"

/* fd_read/fd_write move data with readv/writev, i.e. through every buffer
 * given. (wasmtime transfers only the first non-empty one per call; both
 * are correct short transfers, and the bytes a program ends up with are the
 * same.) */
enum transfer { T_READ, T_WRITE, T_PREAD, T_PWRITE };

/* The common part of fd_read/fd_write/fd_pread/fd_pwrite, once the
 * descriptor has passed its checks: translate the iovecs, move the data
 * (retrying on EINTR), store the byte count. */
static int32_t transfer(struct kiln_wasi *w, struct wfd *e, enum transfer op, int32_t iovs, int32_t iovs_len, int64_t offset, int32_t count_ptr) {
    WPTR(w, count, uint8_t, count_ptr, 4);
    struct k_iovec io[W_IOV_MAX];
    int n;
    int32_t err = w_iovecs(w, iovs, iovs_len, io, &n);
    if (err) return err;
    /* Reading stdin or a socket may wait for as long as the peer likes
     * (wait_begin). */
    int dup = op == T_READ && (e->kind == WK_STDIN || e->kind == WK_SOCKET) ? wait_begin(e->host) : -1;
    int host = dup >= 0 ? dup : e->host;
    long r;
    do {
        switch (op) {
        case T_READ: r = os_readv(host, io, n); break;
        case T_WRITE: r = os_writev(host, io, n); break;
        case T_PREAD: r = os_preadv(host, io, n, offset); break;
        default: r = os_pwritev(host, io, n, offset); break;
        }
    } while (r == -K_EINTR);
    wait_end(dup);
    if (r < 0) return werr(r);
    put_u32(count, (uint32_t)r);
    return W_ESUCCESS;
}

int32_t kiln_wasi_fd_read(void *c, void *v, int32_t fd, int32_t iovs, int32_t iovs_len, int32_t nread_ptr) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *e = wfd_get(w, fd);
    if (!e || e->kind == WK_DIR || !(e->base & W_RIGHT_FD_READ)) return W_EBADF;
    return transfer(w, e, T_READ, iovs, iovs_len, 0, nread_ptr);
}

int32_t kiln_wasi_fd_write(void *c, void *v, int32_t fd, int32_t iovs, int32_t iovs_len, int32_t nwritten_ptr) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *e = wfd_get(w, fd);
    if (!e || e->kind == WK_DIR || !(e->base & W_RIGHT_FD_WRITE)) return W_EBADF;
    return transfer(w, e, T_WRITE, iovs, iovs_len, 0, nwritten_ptr);
}

int32_t kiln_wasi_fd_pread(void *c, void *v, int32_t fd, int32_t iovs, int32_t iovs_len, int64_t offset, int32_t nread_ptr) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *e = wfd_get(w, fd);
    if (!e) return W_EBADF;
    if (e->kind == WK_STDIN) return W_ESPIPE;
    if (e->kind != WK_FILE || !(e->base & W_RIGHT_FD_READ)) return W_EBADF;
    return transfer(w, e, T_PREAD, iovs, iovs_len, offset, nread_ptr);
}

/* In append mode Linux ignores the offset and appends; wasmtime implements
 * the same rule. */
int32_t kiln_wasi_fd_pwrite(void *c, void *v, int32_t fd, int32_t iovs, int32_t iovs_len, int64_t offset, int32_t nwritten_ptr) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *e = wfd_get(w, fd);
    if (!e) return W_EBADF;
    if (e->kind == WK_STDOUT || e->kind == WK_STDERR) return W_ESPIPE;
    if (e->kind != WK_FILE || !(e->base & W_RIGHT_FD_WRITE)) return W_EBADF;
    return transfer(w, e, T_PWRITE, iovs, iovs_len, offset, nwritten_ptr);
}

/* Only files seek; stdio answers ESPIPE even when the host stream is a
 * regular file (wasmtime treats stdio as streams). */
static int32_t seekable(struct kiln_wasi *w, int32_t fd, struct wfd **out) {
    struct wfd *e = wfd_get(w, fd);
    if (!e) return W_EBADF;
    if (e->kind == WK_STDIN || e->kind == WK_STDOUT || e->kind == WK_STDERR || e->kind == WK_SOCKET) return W_ESPIPE;
    if (e->kind != WK_FILE) return W_EBADF;
    *out = e;
    return W_ESUCCESS;
}

int32_t kiln_wasi_fd_seek(void *c, void *v, int32_t fd, int64_t offset, int32_t whence, int32_t newoffset_ptr) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    if ((uint32_t)whence > 2) return W_EINVAL;
    struct wfd *e;
    int32_t err = seekable(w, fd, &e);
    if (err) return err;
    WPTR(w, out, uint8_t, newoffset_ptr, 8);
    long r = os_lseek(e->host, offset, whence); /* WASI's SET, CUR, END are Linux's 0, 1, 2 */
    if (r < 0) return werr(r);
    put_u64(out, (uint64_t)r);
    return W_ESUCCESS;
}

int32_t kiln_wasi_fd_tell(void *c, void *v, int32_t fd, int32_t offset_ptr) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *e;
    int32_t err = seekable(w, fd, &e);
    if (err) return err;
    WPTR(w, out, uint8_t, offset_ptr, 8);
    long r = os_lseek(e->host, 0, K_SEEK_CUR);
    if (r < 0) return werr(r);
    put_u64(out, (uint64_t)r);
    return W_ESUCCESS;
}

static struct wfd *file(struct kiln_wasi *w, int32_t fd) {
    struct wfd *e = wfd_get(w, fd);
    return e && e->kind == WK_FILE ? e : 0;
}

int32_t kiln_wasi_fd_advise(void *c, void *v, int32_t fd, int64_t offset, int64_t len, int32_t advice) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    if ((uint32_t)advice > 5) return W_EINVAL;
    struct wfd *e = file(w, fd);
    if (!e) return W_EBADF;
    /* WASI: normal, sequential, random, willneed, dontneed, noreuse;
     * Linux swaps sequential (2) and random (1). */
    static const int linux_advice[6] = {0, 2, 1, 3, 4, 5};
    long r = os_fadvise(e->host, offset, len, linux_advice[advice]);
    return r < 0 ? werr(r) : W_ESUCCESS;
}

/* wasmtime does not implement fd_allocate: once the descriptor is known to
 * be a file it answers ENOTSUP, and so does Kiln, so that programs take the
 * same path under both (wasi-libc's posix_fallocate returns it). */
int32_t kiln_wasi_fd_allocate(void *c, void *v, int32_t fd, int64_t offset, int64_t len) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    if (!file(w, fd)) return W_EBADF;
    return W_ENOTSUP;
}

int32_t kiln_wasi_fd_datasync(void *c, void *v, int32_t fd) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *e = file(w, fd);
    if (!e) return W_EBADF;
    long r = os_fdatasync(e->host);
    return r < 0 ? werr(r) : W_ESUCCESS;
}

int32_t kiln_wasi_fd_sync(void *c, void *v, int32_t fd) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *e = file(w, fd);
    if (!e) return W_EBADF;
    long r = os_fsync(e->host);
    return r < 0 ? werr(r) : W_ESUCCESS;
}

int32_t kiln_wasi_fd_filestat_get(void *c, void *v, int32_t fd, int32_t buf) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *e = wfd_get(w, fd);
    if (!e) return W_EBADF;
    WPTR(w, out, uint8_t, buf, 64);
    if (e->kind == WK_STDIN || e->kind == WK_STDOUT || e->kind == WK_STDERR) {
        /* Streams have no metadata to show (wasmtime): only their type. */
        memset(out, 0, 64);
        out[16] = wfd_filetype(e);
        return W_ESUCCESS;
    }
    struct kiln_stat st;
    long r = os_fstat(e->host, &st);
    if (r < 0) return werr(r);
    w_filestat(out, &st);
    return W_ESUCCESS;
}

/* SANDBOX-CRITICAL: a file under a read-only grant never changes size. */
int32_t kiln_wasi_fd_filestat_set_size(void *c, void *v, int32_t fd, int64_t size) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *e = file(w, fd);
    if (!e) return W_EBADF;
    if (!(e->fperm & WP_WRITE)) return W_EPERM;
    long r = os_ftruncate(e->host, size);
    return r < 0 ? werr(r) : W_ESUCCESS;
}

/* SANDBOX-CRITICAL: nothing under a read-only grant changes its times
 * (files need the grant's WRITE, directories its MUTATE). */
int32_t kiln_wasi_fd_filestat_set_times(void *c, void *v, int32_t fd, int64_t atim, int64_t mtim, int32_t fst) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    int64_t ts[4];
    int32_t err = w_times((uint64_t)atim, (uint64_t)mtim, fst, ts);
    if (err) return err;
    struct wfd *e = wfd_get(w, fd);
    if (!e || (e->kind != WK_FILE && e->kind != WK_DIR)) return W_EBADF;
    if (e->kind == WK_FILE ? !(e->fperm & WP_WRITE) : !(e->dperm & WP_MUTATE)) return W_EPERM;
    long r = os_utimensat(e->host, 0, ts, 0);
    return r < 0 ? werr(r) : W_ESUCCESS;
}

/* ---- fd_readdir ----
 *
 * Entries as wasmtime produces them: "." and ".." first (cookies 1 and 2,
 * both with the directory's own inode), then the host's entries in the
 * order getdents64 returns them, entry k (from 0) having d_next k + 3. A
 * cookie is the number of entries to skip. The buffer is filled with
 * 24-byte headers (d_next u64, d_ino u64, d_namlen u32, d_type u8) each
 * followed by its name; the last entry may be cut short, and a full buffer
 * tells the caller to come back with the cookie of the last whole entry.
 *
 * Host directory offsets are opaque, so to start at a cookie we read from
 * the beginning and skip. Reading a directory in order would then cost
 * O(n^2), so the call remembers where it stopped (host entry number and
 * host offset) and the next call resumes there when it asks for exactly
 * that entry AND the remembered position is provably still the one a fresh
 * read would reach:
 *   - a cookie that starts at the first host entry (0, 1, 2: rewinddir, or
 *     a new listing) never uses it: it reads from offset 0, so entries
 *     created since the last read are listed (as POSIX and wasmtime do);
 *   - no call of this process has changed any directory since
 *     (kiln_os_namespace_generation, bumped by os.c for every create,
 *     unlink, rename, link and symlink);
 *   - the directory's mtime and ctime are unchanged, which catches other
 *     processes' changes. Timestamps are as fine as the file system keeps
 *     them; a change by another process within the same tick can go
 *     unseen, and the listing then continues as a POSIX readdir stream
 *     would (POSIX leaves entries changed after the last rewind
 *     unspecified).
 * Otherwise the call reads from the beginning and skips. */

struct dirent_out {
    uint8_t *p;
    uint32_t cap;
};

/* Appends one entry; returns 1 when the buffer is full. */
static int emit(struct dirent_out *o, uint64_t next, uint64_t ino, uint8_t type, const char *name, uint32_t namlen) {
    uint8_t h[24];
    memset(h, 0, 24);
    put_u64(h, next);
    put_u64(h + 8, ino);
    put_u32(h + 16, namlen);
    h[20] = type;
    uint32_t n = o->cap < 24 ? o->cap : 24;
    memcpy(o->p, h, n);
    o->p += n;
    o->cap -= n;
    if (o->cap == 0) return 1;
    n = o->cap < namlen ? o->cap : namlen;
    memcpy(o->p, name, n);
    o->p += n;
    o->cap -= n;
    return o->cap == 0;
}

static uint8_t dt_type(int dirfd, const char *name, uint8_t d_type) {
    switch (d_type) {
    case 1: return W_FILETYPE_UNKNOWN; /* DT_FIFO */
    case 2: return W_FILETYPE_CHARACTER_DEVICE;
    case 4: return W_FILETYPE_DIRECTORY;
    case 6: return W_FILETYPE_BLOCK_DEVICE;
    case 8: return W_FILETYPE_REGULAR_FILE;
    case 10: return W_FILETYPE_SYMBOLIC_LINK;
    case 12: return W_FILETYPE_SOCKET_STREAM;
    default: {
        /* DT_UNKNOWN: some file systems do not fill it in. */
        struct kiln_stat st;
        if (os_fstatat(dirfd, name, &st, K_AT_SYMLINK_NOFOLLOW) < 0) return W_FILETYPE_UNKNOWN;
        return w_filetype(st.st_mode);
    }
    }
}

int32_t kiln_wasi_fd_readdir(void *c, void *v, int32_t fd, int32_t buf, int32_t buf_len, int64_t cookie, int32_t used_ptr) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *e = wfd_get(w, fd);
    if (!e || e->kind != WK_DIR) return W_EBADF;
    WPTR(w, used, uint8_t, used_ptr, 4);
    WPTR(w, out, uint8_t, buf, (uint32_t)buf_len);
    struct dirent_out o = {out, (uint32_t)buf_len};
    uint64_t want = (uint64_t)cookie;

    struct kiln_stat self;
    long r = os_fstat(e->host, &self);
    if (r < 0) return werr(r);
    if ((want == 0 && emit(&o, 1, self.st_ino, W_FILETYPE_DIRECTORY, ".", 1)) ||
        (want <= 1 && emit(&o, 2, self.st_ino, W_FILETYPE_DIRECTORY, "..", 2))) {
        put_u32(used, (uint32_t)buf_len);
        return W_ESUCCESS;
    }
    uint64_t gen = __atomic_load_n(&kiln_os_namespace_generation, __ATOMIC_RELAXED);
    uint64_t first = want < 2 ? 0 : want - 2; /* first host entry wanted */
    uint64_t index = 0;                       /* number of the next host entry */
    int64_t off = 0;                          /* host offset of that entry */
    if (first > 0 && e->rd_valid && e->rd_index == first && e->rd_gen == gen &&
        e->rd_stamp[0] == self.st_mtime_sec && e->rd_stamp[1] == self.st_mtime_nsec &&
        e->rd_stamp[2] == self.st_ctime_sec && e->rd_stamp[3] == self.st_ctime_nsec) {
        index = first;
        off = e->rd_off;
    }
    e->rd_valid = 0;
    e->rd_gen = gen;
    e->rd_stamp[0] = self.st_mtime_sec;
    e->rd_stamp[1] = self.st_mtime_nsec;
    e->rd_stamp[2] = self.st_ctime_sec;
    e->rd_stamp[3] = self.st_ctime_nsec;
    r = os_lseek(e->host, off, K_SEEK_SET);
    if (r < 0) return werr(r);
    for (;;) {
        long n = os_getdents64(e->host, w->dents, sizeof w->dents);
        if (n < 0) return werr(n);
        if (n == 0) break;
        for (long at = 0; at < n;) {
            /* linux_dirent64: d_ino u64, d_off s64, d_reclen u16, d_type u8, d_name */
            const uint8_t *d = w->dents + at;
            uint16_t reclen = get_u16(d + 16);
            const char *name = (const char *)d + 19;
            int64_t start = off;
            off = (int64_t)get_u64(d + 8);
            at += reclen;
            if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
            if (index < first) {
                index++;
                continue;
            }
            uint32_t namlen = (uint32_t)strlen(name);
            int whole = o.cap >= 24 + namlen;
            if (emit(&o, index + 3, get_u64(d), dt_type(e->host, name, d[18]), name, namlen)) {
                /* The buffer is full: the caller comes back for the first
                 * entry it did not get whole. */
                e->rd_valid = 1;
                e->rd_index = whole ? index + 1 : index;
                e->rd_off = whole ? off : start;
                put_u32(used, (uint32_t)buf_len);
                return W_ESUCCESS;
            }
            index++;
        }
    }
    e->rd_valid = 1;
    e->rd_index = index;
    e->rd_off = off;
    put_u32(used, (uint32_t)buf_len - o.cap);
    return W_ESUCCESS;
}
