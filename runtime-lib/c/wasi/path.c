/* path.c: sandboxed path resolution and the path_* functions.
 *
 * SANDBOX-CRITICAL. Every path a program gives is resolved beneath a
 * directory descriptor from its context's table, and resolution can never
 * reach anything outside that directory:
 *   - absolute paths are refused (EPERM, as wasmtime answers);
 *   - `..` may climb back up only as far as the directory it started from;
 *   - symlinks are followed only if where they lead stays beneath it too:
 *     an absolute target, or `..` leaving it (even through a chain of
 *     links), is refused with EPERM; more than 40 links give ELOOP;
 *   - nothing is checked first and used later by name: every step is
 *     taken relative to a descriptor of the directory already reached, so
 *     swapping a directory for a symlink between two calls (or during one)
 *     cannot redirect a lookup.
 *
 * Where the kernel has openat2 (Linux 5.6+), RESOLVE_BENEATH gives exactly
 * these rules atomically, in the kernel (its EXDEV for an escape becomes
 * EPERM; RESOLVE_NO_MAGICLINKS also keeps /proc-style links out). Where it
 * does not (older kernels, seccomp filters, some qemu-user versions), walk()
 * does the same work itself: it opens one component at a time with
 * O_PATH|O_NOFOLLOW|O_DIRECTORY relative to the previous one, records the
 * names it went down through, resolves `..` by going back along those
 * names from its start (never by asking the kernel for a parent, so a
 * directory moved meanwhile cannot lead elsewhere) and refuses to go back
 * past its start, and reads symlinks with readlinkat to splice their
 * target into the rest of the path, never letting the kernel follow them.
 *
 * Functions that act on a name rather than open it (mkdir, unlink, rename,
 * link, symlink, readlink, set times) resolve the path's parent that way
 * and then call the *at syscall on the last component, which is a single
 * name: no `/`, never `..` (a path ending in `.` or `..` becomes "the
 * directory itself" with name `.`), and these syscalls do not follow a
 * symlink in the last component. Permission to change anything is checked
 * first, from the grant (dperm MUTATE): a read-only grant answers EPERM.
 *
 * How paths with trailing slashes, `.` and `..` end behave per function
 * follows wasmtime (cap-std), e.g. rmdir("d/") is EINVAL there.
 */
#include "wasi_internal.h"

/* ---- reading a path from guest memory ---- */

/* Strict UTF-8, as Rust's str (wasmtime answers EILSEQ otherwise). */
static int utf8_valid(const uint8_t *s, uint32_t n) {
    uint32_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        uint32_t need, cp;
        if (c >= 0xc2 && c <= 0xdf) need = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef) need = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4) need = 3, cp = c & 0x07;
        else return 0;
        if (n - i <= need) return 0;
        for (uint32_t k = 1; k <= need; k++) {
            uint8_t d = s[i + k];
            if ((d & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (d & 0x3f);
        }
        if (need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) return 0;
        if (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) return 0;
        i += need + 1;
    }
    return 1;
}

/* Copies a guest path (ptr, len) into out[W_PATH_MAX], NUL-terminated. */
static int32_t read_path(struct kiln_wasi *w, int32_t ptr, int32_t len, char *out) {
    uint32_t n = (uint32_t)len;
    WPTR(w, src, uint8_t, ptr, n);
    if (!utf8_valid(src, n)) return W_EILSEQ;
    if (n >= W_PATH_MAX) return W_ENAMETOOLONG;
    for (uint32_t i = 0; i < n; i++)
        if (src[i] == 0) return W_EINVAL;
    memcpy(out, src, n);
    out[n] = 0;
    return W_ESUCCESS;
}

/* ---- resolution ---- */

struct open_how {
    uint64_t flags, mode, resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_BENEATH 0x08

/* 0: not tried yet, 1: works, -1: unavailable. A fact about the process
 * (its kernel and seccomp filter), the same for every context: relaxed
 * atomics, since contexts may probe it from several threads at once, and
 * any of them finds the same answer. */
static int openat2_state;

static long via_openat2(int base, const char *path, int flags, int mode) {
    struct open_how how = {
        (uint64_t)(uint32_t)(flags | K_O_CLOEXEC),
        (flags & K_O_CREAT) ? (uint64_t)mode : 0,
        RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    for (int i = 0; i < 16; i++) {
        long r = os_openat2(base, path, &how, sizeof how);
        /* EAGAIN: a rename elsewhere raced with a `..` lookup; retry. */
        if (r != -K_EAGAIN) return r == -K_EXDEV ? -K_EPERM : r;
    }
    return -K_EAGAIN;
}

/* Whether openat2 works here: tried once, on a lookup that must succeed,
 * so that a kernel without it (ENOSYS) or a filter that denies it (EPERM)
 * is never mistaken for an escape. */
static int openat2_works(int base) {
    int state = __atomic_load_n(&openat2_state, __ATOMIC_RELAXED);
    if (state == 0) {
        long r = via_openat2(base, ".", K_O_PATH | K_O_DIRECTORY, 0);
        state = r >= 0 ? 1 : -1;
        if (r >= 0) os_close((int)r);
        __atomic_store_n(&openat2_state, state, __ATOMIC_RELAXED);
    }
    return state > 0;
}

/* The directory reached from base through the first `depth` recorded
 * names, opened again one name at a time (O_NOFOLLOW: if one has been
 * replaced by a symlink meanwhile, this fails instead of following it).
 * Returns base itself for depth 0. */
static long reopen(struct kiln_wasi *w, int base, uint32_t depth) {
    int cur = base;
    for (uint32_t i = 0; i < depth; i++) {
        long fd = os_openat(cur, w->walk_names + w->walk_name_at[i], K_O_PATH | K_O_NOFOLLOW | K_O_DIRECTORY | K_O_CLOEXEC, 0);
        if (cur != base) os_close(cur);
        if (fd < 0) return fd;
        cur = (int)fd;
    }
    return cur;
}

/* The user-space resolution (see the header). flags are the open flags for
 * the last component; K_O_NOFOLLOW there means a symlink in the last
 * component is opened as such (or refused with ELOOP), not followed.
 * `path` is relative and not empty. Returns a host fd or -errno.
 *
 * Only one descriptor is held at a time (the current directory), so any
 * depth works within the descriptor limit; `..` goes back by opening the
 * recorded names again from base, never through the kernel's "..". */
static long walk(struct kiln_wasi *w, int base, const char *path, int flags, int mode) {
    int cur = base; /* owned unless it is base */
    uint32_t depth = 0, links = 0;
    size_t names_len = 0;
    /* O_CREAT|O_EXCL never follows a symlink in the last component (it is
     * EEXIST, as the kernel has it). */
    int follow = !(flags & K_O_NOFOLLOW) && !((flags & K_O_CREAT) && (flags & K_O_EXCL));
    long r = -K_EINVAL;
    size_t n = strlen(path);
    if (n + 3 > sizeof w->walk_rest) return -K_ENAMETOOLONG;
    memcpy(w->walk_rest, path, n + 1);
    /* "d/" is "d/.": d must be a directory. Creating "f/" is EISDIR, as
     * the kernel answers before it even looks f up. */
    int creat_slash = (flags & K_O_CREAT) && w->walk_rest[n - 1] == '/';
    if (w->walk_rest[n - 1] == '/' && !creat_slash) memcpy(w->walk_rest + n, ".", 2);
    char *p = w->walk_rest;
    for (;;) {
        while (*p == '/') p++;
        char *end = p;
        while (*end && *end != '/') end++;
        char *q = end;
        while (*q == '/') q++;
        int last = *q == 0;
        char save = *end;
        *end = 0;
        long k = -K_EINVAL;
        if (p[0] == '.' && p[1] == 0) {
            if (last) {
                r = os_openat(cur, ".", flags | K_O_CLOEXEC, mode);
                break;
            }
        } else if (p[0] == '.' && p[1] == '.' && p[2] == 0) {
            /* `..` goes back to where we came from; at depth 0 it would
             * leave the directory we were given. */
            if (depth == 0) {
                r = -K_EPERM;
                break;
            }
            depth--;
            names_len = w->walk_name_at[depth];
            if (cur != base) os_close(cur);
            cur = base;
            r = reopen(w, base, depth);
            if (r < 0) break;
            cur = (int)r;
            if (last) {
                r = os_openat(cur, ".", flags | K_O_CLOEXEC, mode);
                break;
            }
        } else if (!last) {
            /* A directory to go through. O_NOFOLLOW: if it is a symlink we
             * get ENOTDIR (or ELOOP) instead of the kernel following it. */
            size_t len = (size_t)(end - p);
            if (depth == sizeof w->walk_name_at / sizeof *w->walk_name_at || names_len + len + 1 > sizeof w->walk_names) {
                r = -K_ENAMETOOLONG;
                break;
            }
            r = os_openat(cur, p, K_O_PATH | K_O_NOFOLLOW | K_O_DIRECTORY | K_O_CLOEXEC, 0);
            if (r >= 0) {
                if (cur != base) os_close(cur);
                cur = (int)r;
                w->walk_name_at[depth++] = (uint16_t)names_len; /* < sizeof walk_names */
                memcpy(w->walk_names + names_len, p, len + 1);
                names_len += len + 1;
            } else {
                if (r != -K_ENOTDIR && r != -K_ELOOP) break;
                k = os_readlinkat(cur, p, w->walk_link, W_PATH_MAX);
                if (k < 0) {
                    r = k == -K_EINVAL ? -K_ENOTDIR : k; /* a file in the middle of the path */
                    break;
                }
            }
        } else {
            if (creat_slash) {
                r = -K_EISDIR;
                break;
            }
            if (follow) k = os_readlinkat(cur, p, w->walk_link, W_PATH_MAX);
            if (k < 0) {
                /* Not a symlink (or not followed): open it, still with
                 * O_NOFOLLOW, so a symlink swapped in since is not followed
                 * by the kernel either. */
                r = os_openat(cur, p, flags | K_O_NOFOLLOW | K_O_CLOEXEC, mode);
                break;
            }
        }
        *end = save;
        p = end;
        if (k < 0) continue;
        /* p named a symlink to walk_link[0..k): continue with its target
         * followed by the rest of the path, from the same directory. */
        if (++links > W_SYMLOOP_MAX) {
            r = -K_ELOOP;
            break;
        }
        if (k == 0) {
            r = -K_ENOENT;
            break;
        }
        if (k >= W_PATH_MAX) {
            r = -K_ENAMETOOLONG;
            break;
        }
        if (w->walk_link[0] == '/') { /* absolute: it can only lead outside */
            r = -K_EPERM;
            break;
        }
        size_t restlen = strlen(end);
        if ((size_t)k + restlen + 3 > sizeof w->walk_tmp) {
            r = -K_ENAMETOOLONG;
            break;
        }
        size_t m = (size_t)k;
        memcpy(w->walk_tmp, w->walk_link, m);
        if (w->walk_link[m - 1] == '/' && restlen == 0) {
            if (flags & K_O_CREAT) creat_slash = 1;
            else w->walk_tmp[m++] = '.';
        }
        memcpy(w->walk_tmp + m, end, restlen + 1);
        memcpy(w->walk_rest, w->walk_tmp, m + restlen + 1);
        p = w->walk_rest;
    }
    if (cur != base) os_close(cur);
    return r;
}

/* Opens `path` beneath `base` with host open flags `flags` (K_O_NOFOLLOW:
 * do not follow a symlink in the last component). Returns an owned host fd
 * or -errno; -EPERM for any attempt to leave `base`. */
static long open_beneath(struct kiln_wasi *w, int base, const char *path, int flags, int mode) {
    if (path[0] == 0) return -K_ENOENT;
    if (path[0] == '/') return -K_EPERM;
    if (openat2_works(base)) {
        long r = via_openat2(base, path, flags, mode);
        if (r != -K_EAGAIN && r != -K_ENOSYS) return r;
    }
    return walk(w, base, path, flags, mode);
}

/* A path split into an open parent directory and a last name. */
struct wparent {
    int fd;                      /* owned, O_PATH */
    int trailing;                /* the path ended in '/' */
    size_t dirlen;               /* length of the parent part of the path */
    char name[W_NAME_MAX + 2];   /* one component, or "." */
};

/* Opens the parent of `path` beneath base. The name is the last component,
 * or "." when the path names a directory itself: it ends in `.` or `..`
 * (then the whole path is resolved), or, if dot_slash, in '/'. Without
 * dot_slash a trailing '/' is left off the name and reported in
 * `trailing` (mkdir and rename give it its POSIX meaning). */
static int32_t open_parent(struct kiln_wasi *w, int base, const char *path, int dot_slash, struct wparent *out) {
    size_t n = strlen(path);
    if (n == 0) return W_ENOENT;
    if (path[0] == '/') return W_EPERM;
    size_t end = n;
    while (end > 0 && path[end - 1] == '/') end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/') start--;
    size_t clen = end - start;
    const char *comp = path + start;
    int dots = (clen == 1 && comp[0] == '.') || (clen == 2 && comp[0] == '.' && comp[1] == '.');
    out->trailing = end < n;
    out->dirlen = start;
    long fd;
    if (dots || (out->trailing && dot_slash)) {
        fd = open_beneath(w, base, path, K_O_PATH | K_O_DIRECTORY, 0);
        memcpy(out->name, ".", 2);
    } else {
        if (clen > W_NAME_MAX) return W_ENAMETOOLONG;
        memcpy(w->parent_buf, path, start);
        if (start == 0) memcpy(w->parent_buf, ".", 2);
        else w->parent_buf[start] = 0;
        fd = open_beneath(w, base, w->parent_buf, K_O_PATH | K_O_DIRECTORY, 0);
        memcpy(out->name, comp, clen);
        out->name[clen] = 0;
    }
    if (fd < 0) return werr(fd);
    out->fd = (int)fd;
    return W_ESUCCESS;
}

/* Like open_parent, but a symlink in the last component is followed (as
 * far as it stays beneath base), so that out->name is not a symlink. */
static int32_t open_final(struct kiln_wasi *w, int base, const char *path, struct wparent *out) {
    size_t n = strlen(path);
    memcpy(w->final_buf, path, n + 1);
    for (int links = 0;; links++) {
        int32_t err = open_parent(w, base, w->final_buf, 1, out);
        if (err) return err;
        if (out->name[0] == '.' && out->name[1] == 0) return W_ESUCCESS;
        long k = os_readlinkat(out->fd, out->name, w->final_link, W_PATH_MAX);
        if (k < 0) return W_ESUCCESS; /* not a symlink: the caller's syscall decides */
        os_close(out->fd);
        if (links == W_SYMLOOP_MAX) return W_ELOOP;
        if (k == 0) return W_ENOENT;
        if (k >= W_PATH_MAX) return W_ENAMETOOLONG;
        if (w->final_link[0] == '/') return W_EPERM;
        /* The target is relative to the link's directory: the path so far
         * up to the last name, then the target. */
        if (out->dirlen + (size_t)k + 1 > sizeof w->final_buf) return W_ENAMETOOLONG;
        memcpy(w->final_buf + out->dirlen, w->final_link, (size_t)k);
        w->final_buf[out->dirlen + (size_t)k] = 0;
    }
}

/* ---- the functions ---- */

/* The directory a path_* call is relative to; wasmtime answers EBADF for
 * anything else (path_open says ENOTDIR for a file). */
static struct wfd *dir_fd(struct kiln_wasi *w, int32_t fd) {
    struct wfd *e = wfd_get(w, fd);
    return e && e->kind == WK_DIR ? e : 0;
}

int32_t kiln_wasi_path_open(void *c, void *v, int32_t fd, int32_t dirflags, int32_t path_ptr, int32_t path_len,
                            int32_t oflags, int64_t rights_base, int64_t rights_inheriting, int32_t fdflags,
                            int32_t fd_out) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    if ((uint32_t)dirflags > 1 || (uint32_t)oflags > 15 || (uint64_t)rights_base > W_RIGHTS_ALL ||
        (uint64_t)rights_inheriting > W_RIGHTS_ALL || (uint32_t)fdflags > W_FDFLAGS_ALL)
        return W_EINVAL;
    int32_t err = read_path(w, path_ptr, path_len, w->path_a);
    if (err) return err;
    struct wfd *d = wfd_get(w, fd);
    if (!d) return W_EBADF;
    if (d->kind == WK_FILE) return W_ENOTDIR;
    if (d->kind != WK_DIR) return W_EBADF;
    WPTR(w, out, uint8_t, fd_out, 4);

    /* What the new descriptor is opened for, as wasmtime decides it: for
     * writing if FD_WRITE is asked for or the file is created or truncated;
     * for reading if FD_READ is asked for or it is not opened for writing.
     * The other requested rights are not kept: what a descriptor may do is
     * what its open mode and its grant allow (wfd_rights reports that). */
    int write = (rights_base & (int64_t)W_RIGHT_FD_WRITE) != 0;
    int read = (rights_base & (int64_t)W_RIGHT_FD_READ) != 0 || !write;
    int creat = oflags & W_OFLAGS_CREAT, trunc = oflags & W_OFLAGS_TRUNC;
    uint8_t mode = (uint8_t)((read ? WP_READ : 0) | (write || creat || trunc ? WP_WRITE : 0));

    /* Combinations wasmtime refuses outright, before anything else. */
    if (fdflags & (W_FDFLAGS_DSYNC | W_FDFLAGS_RSYNC | W_FDFLAGS_SYNC)) return W_ENOTSUP;
    if ((oflags & W_OFLAGS_DIRECTORY) && (oflags & (W_OFLAGS_CREAT | W_OFLAGS_EXCL | W_OFLAGS_TRUNC))) return W_EINVAL;
    /* SANDBOX-CRITICAL: the grant's permissions, checked before the host
     * is asked anything: under a read-only grant nothing is created,
     * truncated or opened for writing. */
    if (!(d->dperm & WP_READ)) return W_EPERM;
    if (!(d->dperm & WP_MUTATE) && (creat || trunc || write)) return W_EPERM;
    if ((mode & WP_WRITE) && !(d->fperm & WP_WRITE)) return W_EPERM;

    int flags = (mode == (WP_READ | WP_WRITE)) ? K_O_RDWR : (mode & WP_WRITE) ? K_O_WRONLY : K_O_RDONLY;
    if (creat) flags |= K_O_CREAT | ((oflags & W_OFLAGS_EXCL) ? K_O_EXCL : 0);
    if (trunc) flags |= K_O_TRUNC;
    if (oflags & W_OFLAGS_DIRECTORY) flags |= K_O_DIRECTORY;
    if (fdflags & W_FDFLAGS_APPEND) flags |= K_O_APPEND;
    if (!(dirflags & W_LOOKUP_SYMLINK_FOLLOW)) flags |= K_O_NOFOLLOW;
    long h = open_beneath(w, d->host, w->path_a, flags, 0666);
    if (h == -K_ENOTDIR && (flags & K_O_DIRECTORY) && (flags & K_O_NOFOLLOW)) {
        /* The kernel says ENOTDIR for a symlink opened with O_DIRECTORY and
         * O_NOFOLLOW; wasmtime says ELOOP, as for any unfollowed link. */
        long l = open_beneath(w, d->host, w->path_a, K_O_PATH | K_O_NOFOLLOW, 0);
        struct kiln_stat ls;
        if (l >= 0) {
            if (os_fstat((int)l, &ls) == 0 && (ls.st_mode & K_S_IFMT) == K_S_IFLNK) h = -K_ELOOP;
            os_close((int)l);
        }
    }
    if (h < 0) return werr(h);

    struct kiln_stat st;
    long r = os_fstat((int)h, &st);
    if (r < 0) {
        os_close((int)h);
        return werr(r);
    }
    struct wfd e = {
        .kind = (st.st_mode & K_S_IFMT) == K_S_IFDIR ? WK_DIR : WK_FILE,
        .filetype = w_filetype(st.st_mode),
        .dperm = d->dperm,
        .fperm = d->fperm,
        .mode = mode,
        .append = (fdflags & W_FDFLAGS_APPEND) != 0,
        .nonblock = (fdflags & W_FDFLAGS_NONBLOCK) != 0,
        .host = (int32_t)h,
    };
    e.base = e.inheriting = wfd_rights(e.filetype, mode);
    int32_t n;
    err = wfd_insert(w, &e, &n);
    if (err) return err;
    put_u32(out, (uint32_t)n);
    return W_ESUCCESS;
}

int32_t kiln_wasi_path_filestat_get(void *c, void *v, int32_t fd, int32_t flags, int32_t path_ptr, int32_t path_len, int32_t buf) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    if ((uint32_t)flags > 1) return W_EINVAL;
    struct wfd *d = dir_fd(w, fd);
    if (!d) return W_EBADF;
    int32_t err = read_path(w, path_ptr, path_len, w->path_a);
    if (err) return err;
    WPTR(w, out, uint8_t, buf, 64);
    long h = open_beneath(w, d->host, w->path_a, K_O_PATH | ((flags & W_LOOKUP_SYMLINK_FOLLOW) ? 0 : K_O_NOFOLLOW), 0);
    if (h < 0) return werr(h);
    struct kiln_stat st;
    long r = os_fstat((int)h, &st);
    os_close((int)h);
    if (r < 0) return werr(r);
    w_filestat(out, &st);
    return W_ESUCCESS;
}

int32_t kiln_wasi_path_filestat_set_times(void *c, void *v, int32_t fd, int32_t flags, int32_t path_ptr,
                                          int32_t path_len, int64_t atim, int64_t mtim, int32_t fst) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    int64_t ts[4];
    int32_t err = w_times((uint64_t)atim, (uint64_t)mtim, fst, ts);
    if (err) return err;
    if ((uint32_t)flags > 1) return W_EINVAL;
    struct wfd *d = dir_fd(w, fd);
    if (!d) return W_EBADF;
    err = read_path(w, path_ptr, path_len, w->path_a);
    if (err) return err;
    if (!(d->dperm & WP_MUTATE)) return W_EPERM;
    struct wparent pw;
    err = (flags & W_LOOKUP_SYMLINK_FOLLOW) ? open_final(w, d->host, w->path_a, &pw) : open_parent(w, d->host, w->path_a, 1, &pw);
    if (err) return err;
    long r = os_utimensat(pw.fd, pw.name, ts, K_AT_SYMLINK_NOFOLLOW);
    os_close(pw.fd);
    return r < 0 ? werr(r) : W_ESUCCESS;
}

int32_t kiln_wasi_path_create_directory(void *c, void *v, int32_t fd, int32_t path_ptr, int32_t path_len) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *d = dir_fd(w, fd);
    if (!d) return W_EBADF;
    int32_t err = read_path(w, path_ptr, path_len, w->path_a);
    if (err) return err;
    if (!(d->dperm & WP_MUTATE)) return W_EPERM;
    struct wparent pw;
    err = open_parent(w, d->host, w->path_a, 0, &pw);
    if (err) return err;
    long r = os_mkdirat(pw.fd, pw.name, 0777);
    os_close(pw.fd);
    return r < 0 ? werr(r) : W_ESUCCESS;
}

static int32_t remove_at(struct kiln_wasi *w, int32_t fd, int32_t path_ptr, int32_t path_len, int flag) {
    struct wfd *d = dir_fd(w, fd);
    if (!d) return W_EBADF;
    int32_t err = read_path(w, path_ptr, path_len, w->path_a);
    if (err) return err;
    if (!(d->dperm & WP_MUTATE)) return W_EPERM;
    struct wparent pw;
    err = open_parent(w, d->host, w->path_a, 1, &pw);
    if (err) return err;
    long r = os_unlinkat(pw.fd, pw.name, flag);
    os_close(pw.fd);
    return r < 0 ? werr(r) : W_ESUCCESS;
}

int32_t kiln_wasi_path_remove_directory(void *c, void *v, int32_t fd, int32_t path_ptr, int32_t path_len) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    return remove_at(w, fd, path_ptr, path_len, K_AT_REMOVEDIR);
}

int32_t kiln_wasi_path_unlink_file(void *c, void *v, int32_t fd, int32_t path_ptr, int32_t path_len) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    return remove_at(w, fd, path_ptr, path_len, 0);
}

/* Hard links: the new name and the linked file both stay beneath their
 * directories. wasmtime refuses to follow a symlink at the source (EINVAL). */
int32_t kiln_wasi_path_link(void *c, void *v, int32_t old_fd, int32_t old_flags, int32_t old_ptr, int32_t old_len,
                            int32_t new_fd, int32_t new_ptr, int32_t new_len) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    if ((uint32_t)old_flags > 1) return W_EINVAL;
    struct wfd *od = dir_fd(w, old_fd), *nd = dir_fd(w, new_fd);
    if (!od || !nd) return W_EBADF;
    int32_t err = read_path(w, old_ptr, old_len, w->path_a);
    if (!err) err = read_path(w, new_ptr, new_len, w->path_b);
    if (err) return err;
    if (!(od->dperm & WP_MUTATE) || !(nd->dperm & WP_MUTATE)) return W_EPERM;
    if (old_flags & W_LOOKUP_SYMLINK_FOLLOW) return W_EINVAL;
    struct wparent a, b;
    err = open_parent(w, od->host, w->path_a, 1, &a);
    if (err) return err;
    err = open_parent(w, nd->host, w->path_b, 1, &b);
    if (err) {
        os_close(a.fd);
        return err;
    }
    long r = os_linkat(a.fd, a.name, b.fd, b.name, 0);
    os_close(a.fd);
    os_close(b.fd);
    return r < 0 ? werr(r) : W_ESUCCESS;
}

int32_t kiln_wasi_path_rename(void *c, void *v, int32_t old_fd, int32_t old_ptr, int32_t old_len, int32_t new_fd,
                              int32_t new_ptr, int32_t new_len) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *od = dir_fd(w, old_fd), *nd = dir_fd(w, new_fd);
    if (!od || !nd) return W_EBADF;
    int32_t err = read_path(w, old_ptr, old_len, w->path_a);
    if (!err) err = read_path(w, new_ptr, new_len, w->path_b);
    if (err) return err;
    if (!(od->dperm & WP_MUTATE) || !(nd->dperm & WP_MUTATE)) return W_EPERM;
    struct wparent a, b;
    err = open_parent(w, od->host, w->path_a, 0, &a);
    if (err) return err;
    err = open_parent(w, nd->host, w->path_b, 0, &b);
    if (err) {
        os_close(a.fd);
        return err;
    }
    /* A trailing slash keeps its meaning ("must be a directory") by going
     * to the kernel with the name; it is still a single component. */
    if (a.trailing) memcpy(a.name + strlen(a.name), "/", 2);
    if (b.trailing) memcpy(b.name + strlen(b.name), "/", 2);
    long r = os_renameat2(a.fd, a.name, b.fd, b.name, 0);
    os_close(a.fd);
    os_close(b.fd);
    return r < 0 ? werr(r) : W_ESUCCESS;
}

/* A symlink's target is only text until someone follows it, and following
 * is confined as above, so any relative target may be created (wasmtime
 * refuses absolute ones with EPERM, and so do we). */
int32_t kiln_wasi_path_symlink(void *c, void *v, int32_t old_ptr, int32_t old_len, int32_t fd, int32_t new_ptr, int32_t new_len) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *d = dir_fd(w, fd);
    if (!d) return W_EBADF;
    int32_t err = read_path(w, old_ptr, old_len, w->path_a);
    if (!err) err = read_path(w, new_ptr, new_len, w->path_b);
    if (err) return err;
    if (!(d->dperm & WP_MUTATE)) return W_EPERM;
    if (w->path_a[0] == '/') return W_EPERM;
    struct wparent pw;
    err = open_parent(w, d->host, w->path_b, 1, &pw);
    if (err) return err;
    long r = os_symlinkat(w->path_a, pw.fd, pw.name);
    os_close(pw.fd);
    return r < 0 ? werr(r) : W_ESUCCESS;
}

/* The target is cut to buf_len bytes if longer (no error, as wasmtime).
 * An absolute target is not revealed (EPERM, as wasmtime/cap-std). */
int32_t kiln_wasi_path_readlink(void *c, void *v, int32_t fd, int32_t path_ptr, int32_t path_len, int32_t buf,
                                int32_t buf_len, int32_t used_ptr) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    struct wfd *d = dir_fd(w, fd);
    if (!d) return W_EBADF;
    int32_t err = read_path(w, path_ptr, path_len, w->path_a);
    if (err) return err;
    WPTR(w, out, uint8_t, buf, (uint32_t)buf_len);
    WPTR(w, used, uint8_t, used_ptr, 4);
    struct wparent pw;
    err = open_parent(w, d->host, w->path_a, 1, &pw);
    if (err) return err;
    long k = os_readlinkat(pw.fd, pw.name, w->link_buf, W_PATH_MAX);
    os_close(pw.fd);
    if (k < 0) return werr(k);
    if (k > 0 && w->link_buf[0] == '/') return W_EPERM;
    uint32_t n = (uint32_t)k < (uint32_t)buf_len ? (uint32_t)k : (uint32_t)buf_len;
    memcpy(out, w->link_buf, n);
    put_u32(used, n);
    return W_ESUCCESS;
}
