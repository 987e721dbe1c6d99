/* fdtable.c: the WASI descriptor table, the directory grants, and the
 * functions that act on the table itself (fd_close, fd_renumber,
 * fd_prestat_*, fd_fdstat_*).
 *
 * SANDBOX-CRITICAL: capabilities are deny-by-default. A program starts with
 * stdio and exactly the directories granted to it: at compile time
 * (`\001dir=ro:HOST::GUEST` / `\001dir=rw:HOST::GUEST` config entries),
 * and, only if the build allowed it (`\001runtime-dirs`), by whoever runs
 * the executable through KILN_DIRS. Every other host descriptor the program
 * ever holds was opened by path.c beneath one of those, and inherits that
 * grant's permissions (a read-only grant can never yield a writable file or
 * a mutation: see path.c). A guest descriptor number is only ever an index
 * into this table; the host descriptor behind it is never exposed.
 *
 * Numbering follows wasmtime: 0-2 stdio, then the grants from 3 in order
 * (compile-time first), and a new descriptor takes the highest number
 * freed so far, else one past the highest ever used.
 */
#include "wasi_internal.h"

static struct wfd *tab;
static uint32_t tab_len; /* slots ever used (highest number + 1) */
static uint32_t tab_cap;

struct wfd *wfd_get(int32_t fd) {
    uint32_t i = (uint32_t)fd;
    if (i >= tab_len || tab[i].kind == WK_FREE) return 0;
    return &tab[i];
}

void wfd_close_host(const struct wfd *e) {
    /* Host 0-2 stay open for the life of the process even when the program
     * closes its stdio: the runtime reports traps on 2, and keeping them
     * means no file the program opens later can land on those numbers. */
    if (e->host > 2) os_close(e->host);
}

static int grow(uint32_t need) {
    if (need <= tab_cap) return 1;
    uint32_t cap = tab_cap ? tab_cap : 16;
    while (cap < need) {
        if (cap > 0x3fffffff) return 0;
        cap *= 2;
    }
    struct wfd *t = rt_alloc((size_t)cap * sizeof *t); /* zero-filled: WK_FREE */
    if (tab_len) memcpy(t, tab, (size_t)tab_len * sizeof *t);
    tab = t;
    tab_cap = cap;
    return 1;
}

int32_t wfd_insert(const struct wfd *e, int32_t *fd_out) {
    uint32_t i = tab_len;
    while (i > 0 && tab[i - 1].kind != WK_FREE) i--;
    /* i is now the lowest index of the run of used slots at the top; the
     * highest free slot, if any, is just below it. */
    if (i > 0) {
        i--;
    } else {
        i = tab_len;
        if (i >= 0x7fffffffu || !grow(i + 1)) {
            wfd_close_host(e);
            return W_EMFILE;
        }
        tab_len = i + 1;
    }
    tab[i] = *e;
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

/* ---- start-up ---- */

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

static KILN_NORETURN void grant_failed(const char *host, long err) {
    struct kiln_buf b = {.len = 0};
    buf_str(&b, "kiln: cannot open granted directory ");
    buf_str(&b, host);
    buf_str(&b, ": ");
    const char *r = reason(err);
    if (r) {
        buf_str(&b, r);
    } else {
        buf_str(&b, "error ");
        buf_u64(&b, (uint64_t)-err);
    }
    buf_str(&b, "\n");
    buf_flush(&b, 2);
    os_exit(1);
}

/* Opens a granted directory, relative to the working directory the
 * executable was started in, and appends it to the table. A directory we
 * may search but not list is still granted (O_PATH): lookups work, listing
 * it answers EBADF. */
static void add_grant(const char *host, size_t host_len, const char *guest, size_t guest_len, int read_only) {
    char *h = rt_alloc(host_len + 1);
    memcpy(h, host, host_len);
    h[host_len] = 0;
    long fd = os_openat(K_AT_FDCWD, h, K_O_RDONLY | K_O_DIRECTORY | K_O_CLOEXEC, 0);
    if (fd == -K_EACCES) fd = os_openat(K_AT_FDCWD, h, K_O_PATH | K_O_DIRECTORY | K_O_CLOEXEC, 0);
    if (fd < 0) grant_failed(h, fd);
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
        .preopen_len = (uint32_t)guest_len,
    };
    int32_t n;
    if (wfd_insert(&e, &n)) grant_failed(h, -24);
}

/* Position of the first "::" in s[0..len), or len. */
static size_t find_sep(const char *s, size_t len) {
    for (size_t i = 0; i + 1 < len; i++)
        if (s[i] == ':' && s[i + 1] == ':') return i;
    return len;
}

static KILN_NORETURN void bad_runtime_entry(const char *s, size_t len) {
    struct kiln_buf b = {.len = 0};
    buf_str(&b, "kiln: invalid " KILN_RUNTIME_DIRS_ENV " entry `");
    for (size_t i = 0; i < len; i++) {
        char one[2] = {s[i], 0};
        buf_str(&b, one);
    }
    buf_str(&b, "` (expected HOST::GUEST or HOST::GUEST::ro)\n");
    buf_flush(&b, 2);
    os_exit(1);
}

/* KILN_DIRS=HOST::GUEST[::ro];HOST::GUEST[::ro];... (empty entries are
 * skipped). The host part ends at the first "::", as in the compile-time
 * grants; a trailing "::ro" makes the grant read-only. */
static void add_runtime_grants(const char *v) {
    while (*v) {
        size_t len = 0;
        while (v[len] && v[len] != ';') len++;
        if (len) {
            size_t sep = find_sep(v, len);
            if (sep == 0 || sep + 2 >= len) bad_runtime_entry(v, len);
            const char *guest = v + sep + 2;
            size_t glen = len - sep - 2;
            int ro = 0;
            if (glen > 4 && memcmp(guest + glen - 4, "::ro", 4) == 0) {
                ro = 1;
                glen -= 4;
            }
            /* Any other "::" left in the guest part is a mistyped mode
             * (`::RO`, `::r`): refuse it rather than grant read-write. */
            if (find_sep(guest, glen) != glen) bad_runtime_entry(v, len);
            add_grant(v, sep, guest, glen, ro);
        }
        v += len;
        if (*v == ';') v++;
    }
}

static int is_tty(int fd) {
    uint8_t termios[64];
    return os_ioctl(fd, 0x5401 /* TCGETS, the same on all three targets */, termios) == 0;
}

void kiln_wasi_init(void) {
    /* Writing to a pipe or socket that nobody reads any more is EPIPE for
     * the program, which has no way to handle a signal: SIGPIPE is ignored,
     * as it is under wasmtime (like every Rust program). Only the handler
     * word is set, so the per-arch sigaction layouts do not matter. */
    uint64_t ignore[4] = {1 /* SIG_IGN */, 0, 0, 0};
    os_sigaction(13 /* SIGPIPE */, ignore, 0);

    /* If the process was started with 0, 1 or 2 closed, fill the hole with
     * /dev/null so that a file the program opens cannot become its stdio. */
    for (int i = 0; i < 3; i++)
        if (os_fcntl(i, K_F_GETFD, 0) == -K_EBADF) os_openat(K_AT_FDCWD, "/dev/null", K_O_RDWR, 0);

    /* stdio: wasmtime types these as streams, reports them as character
     * devices only when they are terminals, with just the read or write
     * right, and never lets them be seeked. */
    static const uint8_t kinds[3] = {WK_STDIN, WK_STDOUT, WK_STDERR};
    for (int i = 0; i < 3; i++) {
        uint64_t r = i == 0 ? W_RIGHT_FD_READ : W_RIGHT_FD_WRITE;
        struct wfd e = {
            .kind = kinds[i],
            .filetype = is_tty(i) ? W_FILETYPE_CHARACTER_DEVICE : W_FILETYPE_UNKNOWN,
            .mode = i == 0 ? WP_READ : WP_WRITE,
            .host = i,
            .base = r,
            .inheriting = r,
        };
        int32_t n;
        wfd_insert(&e, &n);
    }

    size_t plen = strlen(KILN_CONFIG_DIR_PREFIX);
    int runtime = 0;
    for (const char *c = kiln_config; *c; c += strlen(c) + 1) {
        if (strcmp(c, KILN_CONFIG_RUNTIME_DIRS) == 0) runtime = 1;
        if (strncmp(c, KILN_CONFIG_DIR_PREFIX, plen) != 0) continue;
        /* ro:HOST::GUEST or rw:HOST::GUEST; the compiler never writes
         * anything else, and a malformed entry is skipped, never granted
         * more than it says. */
        const char *spec = c + plen;
        size_t len = strlen(spec);
        if (len < 3 || spec[2] != ':' || (memcmp(spec, "ro", 2) != 0 && memcmp(spec, "rw", 2) != 0)) continue;
        int ro = spec[0] == 'r' && spec[1] == 'o';
        spec += 3;
        len -= 3;
        size_t sep = find_sep(spec, len);
        if (sep == 0 || sep + 2 >= len) continue;
        add_grant(spec, sep, spec + sep + 2, len - sep - 2, ro);
    }
    if (runtime) {
        size_t n = strlen(KILN_RUNTIME_DIRS_ENV);
        for (char **e = kiln_proc.envp; *e; e++)
            if (strncmp(*e, KILN_RUNTIME_DIRS_ENV, n) == 0 && (*e)[n] == '=') add_runtime_grants(*e + n + 1);
    }
}

/* ---- functions on the table ---- */

int32_t kiln_wasi_fd_close(void *c, void *v, int32_t fd) {
    struct wfd *e = wfd_get(fd);
    if (!e) return W_EBADF;
    /* Closing stdio or a granted directory is allowed, as in wasmtime: the
     * program only gives up its own capability. */
    wfd_close_host(e);
    e->kind = WK_FREE;
    return W_ESUCCESS;
}

/* Moves `from` onto `to`, closing what `to` held; both must be open. */
int32_t kiln_wasi_fd_renumber(void *c, void *v, int32_t from, int32_t to) {
    struct wfd *t = wfd_get(to);
    if (!t) return W_EBADF;
    struct wfd *f = wfd_get(from);
    if (!f) return W_EBADF;
    if (f == t) return W_ESUCCESS;
    wfd_close_host(t);
    *t = *f;
    f->kind = WK_FREE;
    return W_ESUCCESS;
}

int32_t kiln_wasi_fd_prestat_get(void *c, void *v, int32_t fd, int32_t buf) {
    struct wfd *e = wfd_get(fd);
    if (!e || !e->preopen) return W_EBADF; /* how wasi-libc finds the end of the grants */
    WPTR(out, uint8_t, buf, 8);
    memset(out, 0, 8);                     /* tag 0: a directory */
    put_u32(out + 4, e->preopen_len);
    return W_ESUCCESS;
}

int32_t kiln_wasi_fd_prestat_dir_name(void *c, void *v, int32_t fd, int32_t path, int32_t len) {
    struct wfd *e = wfd_get(fd);
    if (!e) return W_EBADF;
    if (!e->preopen) return W_ENOTDIR;
    if (e->preopen_len > (uint32_t)len) return W_ENAMETOOLONG;
    WPTR(out, uint8_t, path, e->preopen_len);
    memcpy(out, e->preopen, e->preopen_len);
    return W_ESUCCESS;
}

/* fdstat: filetype u8, flags u16 at 2, rights base u64 at 8, inheriting at 16. */
int32_t kiln_wasi_fd_fdstat_get(void *c, void *v, int32_t fd, int32_t stat_ptr) {
    struct wfd *e = wfd_get(fd);
    if (!e) return W_EBADF;
    WPTR(st, uint8_t, stat_ptr, 24);
    memset(st, 0, 24);
    st[0] = e->filetype;
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
    if ((uint32_t)flags > W_FDFLAGS_ALL) return W_EINVAL;
    struct wfd *e = wfd_get(fd);
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
    struct wfd *e = wfd_get(fd);
    if (!e || (e->kind != WK_FILE && e->kind != WK_DIR)) return W_EBADF;
    return W_ENOTSUP;
}
