/* fdtable.c: WASI contexts (kiln_wasi_new, kiln_wasi_free), their
 * descriptor tables, the directory grants, and the functions that act on
 * the table itself (fd_close, fd_renumber, fd_prestat_*, fd_fdstat_*).
 *
 * SANDBOX-CRITICAL: capabilities are deny-by-default. A context starts with
 * the stdio descriptors and exactly the directories its configuration
 * grants (an executable's start-up builds that from its compile-time grants,
 * `\001dir=ro:HOST::GUEST` / `\001dir=rw:HOST::GUEST` config entries,
 * and, only if the build allowed it, `\001runtime-dirs`, from KILN_DIRS;
 * see start.c). Every other host descriptor the program ever holds was
 * opened by path.c beneath one of those, and inherits that grant's
 * permissions (a read-only grant can never yield a writable file or a
 * mutation: see path.c). A guest descriptor number is only ever an index
 * into its context's table; the host descriptor behind it is never exposed.
 *
 * Numbering follows wasmtime: 0-2 stdio, then the grants from 3 in order,
 * and a new descriptor takes the highest number freed so far, else one past
 * the highest ever used.
 */
#include "wasi_internal.h"

struct wfd *wfd_get(struct kiln_wasi *w, int32_t fd) {
    uint32_t i = (uint32_t)fd;
    if (i >= w->tab_len || w->tab[i].kind == WK_FREE || w->tab[i].kind == WK_ABSENT) return 0;
    return &w->tab[i];
}

static int is_stdio(const struct wfd *e) {
    return e->kind == WK_STDIN || e->kind == WK_STDOUT || e->kind == WK_STDERR;
}

void wfd_close_host(const struct wfd *e) {
    /* The stdio descriptors were given to the context, not opened by it:
     * closing wasm's 0-2 drops only the entry. (In an executable, host 0-2
     * so stay open for the life of the process: the runtime reports traps
     * on 2, and no file the program opens later can land on those numbers.) */
    if (!is_stdio(e)) os_close(e->host);
}

static int grow(struct kiln_wasi *w, uint32_t need) {
    if (need <= w->tab_cap) return 1;
    uint32_t cap = w->tab_cap ? w->tab_cap : 16;
    while (cap < need) {
        if (cap > 0x3fffffff) return 0;
        cap *= 2;
    }
    struct wfd *t = rt_zalloc((size_t)cap * sizeof *t); /* zero-filled: WK_FREE */
    if (!t) return 0;
    if (w->tab_len) memcpy(t, w->tab, (size_t)w->tab_len * sizeof *t);
    rt_free(w->tab, (size_t)w->tab_cap * sizeof *t);
    w->tab = t;
    w->tab_cap = cap;
    return 1;
}

int32_t wfd_insert(struct kiln_wasi *w, const struct wfd *e, int32_t *fd_out) {
    uint32_t i = w->tab_len;
    while (i > 0 && w->tab[i - 1].kind != WK_FREE) i--;
    /* i is now the lowest index of the run of used slots at the top; the
     * highest free slot, if any, is just below it. */
    if (i > 0) {
        i--;
    } else {
        i = w->tab_len;
        int32_t err = i >= 0x7fffffffu ? W_EMFILE : !grow(w, i + 1) ? W_ENOMEM : W_ESUCCESS;
        if (err) {
            wfd_close_host(e);
            return err;
        }
        w->tab_len = i + 1;
    }
    w->tab[i] = *e;
    *fd_out = (int32_t)i;
    return W_ESUCCESS;
}

/* What fd_fdstat_get reports for a descriptor path_open created: wasmtime
 * starts from every right, drops seeking and sizing for directories, reading
 * (and listing) when not opened for reading, and writing when not opened
 * for writing; base and inheriting are the same. */
uint64_t wfd_rights(uint8_t filetype, uint8_t mode) {
    uint64_t r = W_RIGHTS_ALL;
    if (filetype == W_FILETYPE_DIRECTORY)
        r &= ~(W_RIGHT_FD_SEEK | W_RIGHT_FD_FILESTAT_SET_SIZE | W_RIGHT_PATH_FILESTAT_SET_SIZE);
    if (!(mode & WP_READ)) r &= ~(W_RIGHT_FD_READ | W_RIGHT_FD_READDIR);
    if (!(mode & WP_WRITE)) r &= ~W_RIGHT_FD_WRITE;
    return r;
}

/* The rights wasmtime reports for a granted directory, whatever the grant's
 * permissions: a fixed set "expected by many userlands". wasi-libc derives
 * the rights it asks path_open for from `inheriting`, so reporting fewer
 * for a read-only grant would change what programs request (and turn
 * wasmtime's EPERM for opening a file for writing into a silently
 * read-only descriptor). Read-only grants are enforced by dperm/fperm. */
#define PREOPEN_BASE                                                                                     \
    (W_RIGHT_PATH_CREATE_DIRECTORY | W_RIGHT_PATH_CREATE_FILE | W_RIGHT_PATH_LINK_SOURCE |                 \
     W_RIGHT_PATH_LINK_TARGET | W_RIGHT_PATH_OPEN | W_RIGHT_FD_READDIR | W_RIGHT_PATH_READLINK |           \
     W_RIGHT_PATH_RENAME_SOURCE | W_RIGHT_PATH_RENAME_TARGET | W_RIGHT_PATH_SYMLINK |                      \
     W_RIGHT_PATH_REMOVE_DIRECTORY | W_RIGHT_PATH_UNLINK_FILE | W_RIGHT_PATH_FILESTAT_GET |                \
     W_RIGHT_PATH_FILESTAT_SET_TIMES | W_RIGHT_FD_FILESTAT_GET | W_RIGHT_FD_FILESTAT_SET_TIMES)
#define PREOPEN_INHERITING                                                                               \
    (PREOPEN_BASE | W_RIGHT_FD_DATASYNC | W_RIGHT_FD_READ | W_RIGHT_FD_SEEK | W_RIGHT_FD_FDSTAT_SET_FLAGS | \
     W_RIGHT_FD_SYNC | W_RIGHT_FD_TELL | W_RIGHT_FD_WRITE | W_RIGHT_FD_ADVISE | W_RIGHT_FD_ALLOCATE |      \
     W_RIGHT_FD_FILESTAT_GET | W_RIGHT_FD_FILESTAT_SET_SIZE | W_RIGHT_FD_FILESTAT_SET_TIMES |              \
     W_RIGHT_POLL_FD_READWRITE)

/* ---- contexts ---- */

static const char *reason(long neg) {
    switch (-neg) {
    case 2: return "No such file or directory";
    case 13: return "Permission denied";
    case 20: return "Not a directory";
    case 24: return "Too many open files";
    case 36: return "File name too long";
    case 40: return "Too many levels of symbolic links";
    default: return 0;
    }
}

/* "cannot open granted directory HOST: REASON", allocated for the life of
 * the process (kiln_wasi_new's *error). */
static const char *grant_failed(const char *host, long err) {
    const char *r = reason(err);
    char num[32] = "error ";
    if (!r) {
        char tmp[24];
        int k = 0;
        uint64_t v = (uint64_t)-err;
        do { tmp[k++] = (char)('0' + v % 10); v /= 10; } while (v);
        size_t at = 6;
        while (k) num[at++] = tmp[--k];
        num[at] = 0;
        r = num;
    }
    const char *parts[4] = {"cannot open granted directory ", host, ": ", r};
    size_t len = 0;
    for (int i = 0; i < 4; i++) len += strlen(parts[i]);
    char *msg = rt_alloc(len + 1), *p = msg;
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(parts[i]);
        memcpy(p, parts[i], n);
        p += n;
    }
    *p = 0;
    return msg;
}

/* Opens a granted directory (a relative host path is relative to the
 * process's working directory) and appends it to the table. A directory we
 * may search but not list is still granted (O_PATH): lookups work, listing
 * it answers EBADF. Returns 0 or the error message. */
static const char *add_grant(struct kiln_wasi *w, const char *host, const char *guest, int read_only) {
    long fd = os_openat(K_AT_FDCWD, host, K_O_RDONLY | K_O_DIRECTORY | K_O_CLOEXEC, 0);
    if (fd == -K_EACCES) fd = os_openat(K_AT_FDCWD, host, K_O_PATH | K_O_DIRECTORY | K_O_CLOEXEC, 0);
    if (fd < 0) return grant_failed(host, fd);
    struct wfd e = {
        .kind = WK_DIR,
        .filetype = W_FILETYPE_DIRECTORY,
        .dperm = read_only ? WP_READ : WP_READ | WP_MUTATE,
        .fperm = read_only ? WP_READ : WP_READ | WP_WRITE,
        .mode = WP_READ,
        .host = (int32_t)fd,
        .base = PREOPEN_BASE,
        .inheriting = PREOPEN_INHERITING,
        .preopen = guest,
        .preopen_len = (uint32_t)strlen(guest),
    };
    int32_t n;
    int32_t err = wfd_insert(w, &e, &n);
    if (err) return grant_failed(host, err == W_EMFILE ? -24 : -12);
    return 0;
}

static int is_tty(int fd) {
    uint8_t termios[64];
    return os_ioctl(fd, 0x5401 /* TCGETS, the same on all three targets */, termios) == 0;
}

uint8_t wfd_filetype(struct wfd *e) {
    /* Two threads may both ask; they store the same answer. */
    if (e->filetype == W_FILETYPE_UNPROBED)
        e->filetype = is_tty(e->host) ? W_FILETYPE_CHARACTER_DEVICE : W_FILETYPE_UNKNOWN;
    return e->filetype;
}

/* Copies the configuration's strings into one allocation: the argv and env
 * pointer arrays (NULL-terminated), then the strings, then the guest names
 * of the grants (returned in *guests, one per directory, as a pointer to
 * their first; they follow one another, NUL-terminated). */
static int copy_strings(struct kiln_wasi *w, const struct kiln_wasi_config *c, char **guests) {
    size_t n_ptrs = (size_t)c->argc + 1 + c->envc + 1;
    size_t size = n_ptrs * sizeof(char *);
    for (int i = 0; i < c->argc; i++) size += strlen(c->argv[i]) + 1;
    for (size_t i = 0; i < c->envc; i++) size += strlen(c->env[i]) + 1;
    for (size_t i = 0; i < c->n_dirs; i++) size += strlen(c->dirs[i].guest) + 1;
    char **block = rt_zalloc(size);
    if (!block) return 0;
    w->strings = block;
    w->strings_size = size;
    w->argv = block;
    w->argc = (size_t)c->argc;
    w->env = block + c->argc + 1;
    w->envc = c->envc;
    char *p = (char *)(block + n_ptrs);
    for (int i = 0; i < c->argc; i++) {
        size_t n = strlen(c->argv[i]) + 1;
        w->argv[i] = memcpy(p, c->argv[i], n);
        p += n;
    }
    for (size_t i = 0; i < c->envc; i++) {
        size_t n = strlen(c->env[i]) + 1;
        w->env[i] = memcpy(p, c->env[i], n);
        p += n;
    }
    *guests = p;
    for (size_t i = 0; i < c->n_dirs; i++) {
        size_t n = strlen(c->dirs[i].guest) + 1;
        memcpy(p, c->dirs[i].guest, n);
        p += n;
    }
    return 1;
}

static int valid_config(const struct kiln_wasi_config *c) {
    if (!c || c->argc < 0 || (c->argc && !c->argv) || (c->envc && !c->env) || (c->n_dirs && !c->dirs)) return 0;
    /* Bounds that keep the sizes below from overflowing. */
    if (c->envc > ((size_t)1 << 40) || c->n_dirs > ((size_t)1 << 30)) return 0;
    for (int i = 0; i < c->argc; i++)
        if (!c->argv[i]) return 0;
    for (size_t i = 0; i < c->envc; i++)
        if (!c->env[i]) return 0;
    for (size_t i = 0; i < c->n_dirs; i++)
        if (!c->dirs[i].host || !c->dirs[i].guest) return 0;
    int fds[3] = {c->stdin_fd, c->stdout_fd, c->stderr_fd};
    for (int i = 0; i < 3; i++)
        if (fds[i] < -1) return 0;
    return 1;
}

struct kiln_wasi *kiln_wasi_new(const struct kiln_wasi_config *c, const char **error) {
    const char *ignored;
    if (!error) error = &ignored;
    if (!valid_config(c)) {
        *error = "invalid WASI configuration";
        return 0;
    }
    struct kiln_wasi *w = rt_zalloc(sizeof *w);
    char *guest;
    if (!w || !copy_strings(w, c, &guest)) {
        rt_free(w, sizeof *w);
        *error = "out of memory";
        return 0;
    }

    /* stdio: wasmtime types these as streams, reports them as character
     * devices only when they are terminals, with just the read or write
     * right, and never lets them be seeked. A number without a descriptor
     * stays absent (EBADF) for good. */
    static const uint8_t kinds[3] = {WK_STDIN, WK_STDOUT, WK_STDERR};
    int hosts[3] = {c->stdin_fd, c->stdout_fd, c->stderr_fd};
    for (int i = 0; i < 3; i++) {
        uint64_t r = i == 0 ? W_RIGHT_FD_READ : W_RIGHT_FD_WRITE;
        struct wfd e = {
            .kind = hosts[i] < 0 ? WK_ABSENT : kinds[i],
            .filetype = hosts[i] >= 0 ? W_FILETYPE_UNPROBED : W_FILETYPE_UNKNOWN,
            .mode = i == 0 ? WP_READ : WP_WRITE,
            .host = hosts[i],
            .base = r,
            .inheriting = r,
        };
        int32_t n;
        if (wfd_insert(w, &e, &n)) {
            kiln_wasi_free(w);
            *error = "out of memory";
            return 0;
        }
    }

    for (size_t i = 0; i < c->n_dirs; i++) {
        const char *err = add_grant(w, c->dirs[i].host, guest, c->dirs[i].read_only);
        if (err) {
            kiln_wasi_free(w);
            *error = err;
            return 0;
        }
        guest += strlen(guest) + 1;
    }
    return w;
}

void kiln_wasi_free(struct kiln_wasi *w) {
    if (!w) return;
    for (uint32_t i = 0; i < w->tab_len; i++)
        if (w->tab[i].kind != WK_FREE && w->tab[i].kind != WK_ABSENT) wfd_close_host(&w->tab[i]);
    rt_free(w->tab, (size_t)w->tab_cap * sizeof *w->tab);
    rt_free(w->poll_block, w->poll_block_size);
    rt_free(w->strings, w->strings_size);
    rt_free(w, sizeof *w);
}

void kiln_wasi_set_memory(struct kiln_wasi *w, struct kiln_memory *m) { w->memory = m; }

/* ---- functions on the table ---- */

int32_t kiln_wasi_fd_close(void *c, void *v, int32_t fd) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *e = wfd_get(w, fd);
    if (!e) return W_EBADF;
    /* Closing stdio or a granted directory is allowed, as in wasmtime: the
     * program only gives up its own capability. */
    wfd_close_host(e);
    e->kind = WK_FREE;
    return W_ESUCCESS;
}

/* Moves `from` onto `to`, closing what `to` held; both must be open. */
int32_t kiln_wasi_fd_renumber(void *c, void *v, int32_t from, int32_t to) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *t = wfd_get(w, to);
    if (!t) return W_EBADF;
    struct wfd *f = wfd_get(w, from);
    if (!f) return W_EBADF;
    if (f == t) return W_ESUCCESS;
    wfd_close_host(t);
    *t = *f;
    f->kind = WK_FREE;
    return W_ESUCCESS;
}

int32_t kiln_wasi_fd_prestat_get(void *c, void *v, int32_t fd, int32_t buf) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *e = wfd_get(w, fd);
    if (!e || !e->preopen) return W_EBADF; /* how wasi-libc finds the end of the grants */
    WPTR(w, out, uint8_t, buf, 8);
    memset(out, 0, 8);                     /* tag 0: a directory */
    put_u32(out + 4, e->preopen_len);
    return W_ESUCCESS;
}

int32_t kiln_wasi_fd_prestat_dir_name(void *c, void *v, int32_t fd, int32_t path, int32_t len) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *e = wfd_get(w, fd);
    if (!e) return W_EBADF;
    if (!e->preopen) return W_ENOTDIR;
    if (e->preopen_len > (uint32_t)len) return W_ENAMETOOLONG;
    WPTR(w, out, uint8_t, path, e->preopen_len);
    memcpy(out, e->preopen, e->preopen_len);
    return W_ESUCCESS;
}

/* fdstat: filetype u8, flags u16 at 2, rights base u64 at 8, inheriting at 16. */
int32_t kiln_wasi_fd_fdstat_get(void *c, void *v, int32_t fd, int32_t stat_ptr) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *e = wfd_get(w, fd);
    if (!e) return W_EBADF;
    WPTR(w, st, uint8_t, stat_ptr, 24);
    memset(st, 0, 24);
    st[0] = wfd_filetype(e);
    uint16_t flags = 0;
    if (e->kind == WK_FILE || e->kind == WK_SOCKET) {
        if (e->append) flags |= W_FDFLAGS_APPEND;
        if (e->nonblock) flags |= W_FDFLAGS_NONBLOCK;
    }
    put_u16(st + 2, flags);
    put_u64(st + 8, e->base);
    put_u64(st + 16, e->inheriting);
    return W_ESUCCESS;
}

/* Only APPEND and NONBLOCK can change, and only on files (wasmtime answers
 * EBADF for stdio and directories, EINVAL for the sync flags). */
int32_t kiln_wasi_fd_fdstat_set_flags(void *c, void *v, int32_t fd, int32_t flags) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    if ((uint32_t)flags > W_FDFLAGS_ALL) return W_EINVAL;
    struct wfd *e = wfd_get(w, fd);
    if (!e || (e->kind != WK_FILE && e->kind != WK_SOCKET)) return W_EBADF;
    if (flags & (W_FDFLAGS_DSYNC | W_FDFLAGS_RSYNC | W_FDFLAGS_SYNC)) return W_EINVAL;
    long fl = os_fcntl(e->host, K_F_GETFL, 0);
    if (fl < 0) return werr(fl);
    long want = fl & ~(long)K_O_APPEND;
    if (flags & W_FDFLAGS_APPEND) want |= K_O_APPEND;
    /* Regular files never wait long, so NONBLOCK is only recorded for them
     * (as in wasmtime); a socket really becomes non-blocking. */
    if (e->kind == WK_SOCKET) {
        want &= ~(long)K_O_NONBLOCK;
        if (flags & W_FDFLAGS_NONBLOCK) want |= K_O_NONBLOCK;
    }
    if (want != fl) {
        long r = os_fcntl(e->host, K_F_SETFL, want);
        if (r < 0) return werr(r);
    }
    e->append = (flags & W_FDFLAGS_APPEND) != 0;
    e->nonblock = (flags & W_FDFLAGS_NONBLOCK) != 0;
    return W_ESUCCESS;
}

/* wasmtime does not let a program change its rights: after checking that
 * the descriptor is a file or directory it answers ENOTSUP, and so do we.
 * Rights never grow anyway; what a descriptor may do is fixed by how it was
 * opened and by its grant (dperm/fperm). */
int32_t kiln_wasi_fd_fdstat_set_rights(void *c, void *v, int32_t fd, int64_t base, int64_t inheriting) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *e = wfd_get(w, fd);
    if (!e || (e->kind != WK_FILE && e->kind != WK_DIR)) return W_EBADF;
    return W_ENOTSUP;
}
