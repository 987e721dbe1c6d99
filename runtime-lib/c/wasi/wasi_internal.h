/* wasi_internal.h: what the WASI preview1 files share. Internal to wasi/.
 *
 * The layer is split by function family:
 *   wasi.c     arguments, environment, clocks, randomness, process; the
 *              errno translation and the linear-memory accessors' home
 *   fdtable.c  WASI contexts (kiln_wasi_new/free), the descriptor table,
 *              the directory grants, fd_close/renumber/prestat/fdstat
 *   fd.c       operations on open descriptors (read, write, seek, stat,
 *              readdir, ...)
 *   path.c     sandboxed path resolution and every path_* function
 *   poll.c     poll_oneoff
 *   sock.c     sock_* and proc_raise
 *
 * All state lives in a context, struct kiln_wasi below: one per instance
 * (an executable has one, made at start-up from its baked configuration;
 * an embedding makes one per instance from the host's configuration). Every
 * host function starts from its caller's VMContext, finds the context with
 * kiln_wasi_of() and passes it to every helper; nothing in wasi/ keeps
 * mutable static state except process-wide facts that are the same for
 * every context (whether openat2 works, path.c), kept in relaxed atomics.
 * So contexts used on different threads at the same time share nothing
 * mutable; one context must be used by one thread at a time. A program
 * that spawns threads (wasi-threads) shares one context among them: it
 * calls the kiln_wasi_locked_* wrappers, which hold the WASI lock
 * (threads.c) around each call; the only code that drops it mid-call
 * (a blocking read in fd.c, a sleep in poll.c) touches no context state
 * while it is dropped.
 *
 * SANDBOX-CRITICAL, two rules every file here keeps:
 *  1. A wasm pointer is an offset into the context's linear memory (the
 *     one kiln_wasi_set_memory gave it). It is turned into a host pointer
 *     only by wmem()/WPTR, which checks the whole range [ptr, ptr+len)
 *     against that memory's current length in 64-bit arithmetic (no
 *     wrap-around). Nothing else dereferences guest memory. Memories never
 *     shrink; only memory.grow moves one (an explicitly checked memory, see
 *     memory.c), and WASI functions run on the instance's thread between
 *     its guest instructions and never grow memory, so a checked pointer
 *     stays valid for the whole call.
 *  2. The program reaches host files only through descriptors in its
 *     context's table (fdtable.c), which holds what it was granted and what
 *     it opened from there, and it names files only by paths relative to a
 *     directory descriptor, resolved by path.c so that they can never leave
 *     it. A context never sees another context's descriptors.
 *
 * Behaviour (errno values, rights reported, descriptor numbering) follows
 * wasmtime's preview1 implementation, the reference the test suite records
 * its expectations from; where wasmtime deliberately refuses something
 * (fd_allocate, fd_fdstat_set_rights, proc_raise) we refuse it the same way
 * and say so next to the code.
 */
#ifndef KILN_WASI_INTERNAL_H
#define KILN_WASI_INTERNAL_H

#include "kiln_rt.h"

/* ---- WASI errno values (preview1, all of them) ---- */
enum {
    W_ESUCCESS = 0, W_E2BIG = 1, W_EACCES = 2, W_EADDRINUSE = 3, W_EADDRNOTAVAIL = 4, W_EAFNOSUPPORT = 5,
    W_EAGAIN = 6, W_EALREADY = 7, W_EBADF = 8, W_EBADMSG = 9, W_EBUSY = 10, W_ECANCELED = 11, W_ECHILD = 12,
    W_ECONNABORTED = 13, W_ECONNREFUSED = 14, W_ECONNRESET = 15, W_EDEADLK = 16, W_EDESTADDRREQ = 17,
    W_EDOM = 18, W_EDQUOT = 19, W_EEXIST = 20, W_EFAULT = 21, W_EFBIG = 22, W_EHOSTUNREACH = 23,
    W_EIDRM = 24, W_EILSEQ = 25, W_EINPROGRESS = 26, W_EINTR = 27, W_EINVAL = 28, W_EIO = 29,
    W_EISCONN = 30, W_EISDIR = 31, W_ELOOP = 32, W_EMFILE = 33, W_EMLINK = 34, W_EMSGSIZE = 35,
    W_EMULTIHOP = 36, W_ENAMETOOLONG = 37, W_ENETDOWN = 38, W_ENETRESET = 39, W_ENETUNREACH = 40,
    W_ENFILE = 41, W_ENOBUFS = 42, W_ENODEV = 43, W_ENOENT = 44, W_ENOEXEC = 45, W_ENOLCK = 46,
    W_ENOLINK = 47, W_ENOMEM = 48, W_ENOMSG = 49, W_ENOPROTOOPT = 50, W_ENOSPC = 51, W_ENOSYS = 52,
    W_ENOTCONN = 53, W_ENOTDIR = 54, W_ENOTEMPTY = 55, W_ENOTRECOVERABLE = 56, W_ENOTSOCK = 57,
    W_ENOTSUP = 58, W_ENOTTY = 59, W_ENXIO = 60, W_EOVERFLOW = 61, W_EOWNERDEAD = 62, W_EPERM = 63,
    W_EPIPE = 64, W_EPROTO = 65, W_EPROTONOSUPPORT = 66, W_EPROTOTYPE = 67, W_ERANGE = 68, W_EROFS = 69,
    W_ESPIPE = 70, W_ESRCH = 71, W_ESTALE = 72, W_ETIMEDOUT = 73, W_ETXTBSY = 74, W_EXDEV = 75,
    W_ENOTCAPABLE = 76,
};

/* Linux errno values the layer tests for (the same on all three targets). */
#define K_EPERM 1
#define K_ENOENT 2
#define K_EBADF 9
#define K_EACCES 13
#define K_EXDEV 18
#define K_ENOTDIR 20
#define K_EISDIR 21
#define K_EINVAL 22
#define K_ENAMETOOLONG 36
#define K_ENOSYS 38
#define K_ELOOP 40

/* Linux -errno (as os_* return it) -> WASI errno. */
int32_t werr(long neg);

/* A call that may wait as long as a peer likes (reading stdin or a
 * socket, accepting a connection) lets other threads' WASI calls go on:
 * wait_begin drops the WASI lock (threads.c) and returns a duplicate of
 * host fd `host` to wait on, or -1 when it keeps the lock (one thread only,
 * or no duplicate could be made: then wait on `host` itself); wait_end
 * closes the duplicate and takes the lock again. In between the caller
 * touches no context state: the duplicate keeps the open file, so another
 * thread closing the descriptor (and a later open reusing its number)
 * cannot redirect the call to another file. */
int wait_begin(int host);
void wait_end(int dup);

/* ---- the context ---- */

struct wfd;
struct k_pollfd {
    int32_t fd;
    int16_t events, revents;
};

#define W_PATH_MAX 4096
#define W_NAME_MAX 255
#define W_SYMLOOP_MAX 40
#define W_DENTS_SIZE 8192

/* Everything one WASI context owns. Allocated with rt_zalloc (and freed by
 * kiln_wasi_free), about 90 KiB, most of it path.c's scratch. */
struct kiln_wasi {
    struct kiln_memory *memory; /* what wasm pointers point into, or NULL */

    /* The descriptor table (fdtable.c): tab[0..tab_len), tab_cap slots
     * allocated (rt_zalloc, tab_cap * sizeof *tab bytes). */
    struct wfd *tab;
    uint32_t tab_len; /* slots ever used (highest number + 1) */
    uint32_t tab_cap;

    /* Copies of the configuration's arguments and environment, and the
     * guest names of the granted directories: the pointer arrays and the
     * strings, all in one allocation of `strings_size` bytes. */
    char **argv;
    size_t argc;
    char **env;
    size_t envc;
    void *strings;
    size_t strings_size;

    /* poll_oneoff's per-call scratch (poll.c), grown as needed: one
     * allocation holding `poll_cap` of each array. */
    void *poll_block;
    size_t poll_block_size;
    uint32_t poll_cap;
    int64_t *poll_deadline; /* per subscription: monotonic ns, or -1 for a descriptor */
    struct k_pollfd *poll_fds;
    int32_t *poll_slot;     /* per subscription: its poll_fds index, or -1 */

    /* fd_readdir's getdents64 buffer (fd.c). */
    uint8_t dents[W_DENTS_SIZE] __attribute__((aligned(8)));

    /* path.c's scratch. Two paths may be in flight at once (rename, link,
     * symlink): path_a and path_b. Nothing in path.c re-enters, and one
     * context is used by one thread at a time. */
    char path_a[W_PATH_MAX], path_b[W_PATH_MAX];
    char walk_rest[2 * W_PATH_MAX + 4]; /* what is left of the path */
    char walk_tmp[2 * W_PATH_MAX + 4];
    char walk_link[W_PATH_MAX + 1];
    /* The names of the directories walk() descended into below its base,
     * each NUL-terminated, and where each starts: the way back up for `..`. */
    char walk_names[4 * W_PATH_MAX];
    uint16_t walk_name_at[2 * W_PATH_MAX];
    char parent_buf[W_PATH_MAX];
    char final_buf[2 * W_PATH_MAX];
    char final_link[W_PATH_MAX + 1];
    char link_buf[W_PATH_MAX + 1];
};
/* walk_name_at holds offsets into walk_names. */
_Static_assert(4 * W_PATH_MAX <= 65536, "walk_name_at entries are 16-bit");

/* ---- linear memory (rule 1 above) ---- */

/* A host pointer to [ptr, ptr+len) of the context's memory, or NULL if any
 * byte of it lies outside the memory's current length. */
static inline void *wmem(struct kiln_wasi *w, uint32_t ptr, uint64_t len) {
    struct kiln_memory *m = w->memory;
    if (!m || (uint64_t)ptr + len > m->length) return 0;
    return m->base + ptr;
}

/* Declares `var`, a checked pointer to len bytes at wasm address ptr in
 * context w's memory, or returns EFAULT from the enclosing function. */
#define WPTR(w, var, type, ptr, len)                      \
    type *var = (type *)wmem((w), (uint32_t)(ptr), (len)); \
    if (!var) return W_EFAULT

static inline void put_u16(void *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void put_u32(void *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void put_u64(void *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t get_u16(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t get_u32(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t get_u64(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Native iovecs for a wasm iovec array (each buffer checked by wmem). */
struct k_iovec { void *base; size_t len; };
#define W_IOV_MAX 128
int32_t w_iovecs(struct kiln_wasi *w, int32_t iovs_ptr, int32_t iovs_len, struct k_iovec *out, int *n);

/* ---- WASI types ---- */
#define W_FILETYPE_UNKNOWN 0
#define W_FILETYPE_BLOCK_DEVICE 1
#define W_FILETYPE_CHARACTER_DEVICE 2
#define W_FILETYPE_DIRECTORY 3
#define W_FILETYPE_REGULAR_FILE 4
#define W_FILETYPE_SOCKET_DGRAM 5
#define W_FILETYPE_SOCKET_STREAM 6
#define W_FILETYPE_SYMBOLIC_LINK 7
/* A stdio entry whose type nobody asked for yet: wfd_filetype finds out. */
#define W_FILETYPE_UNPROBED 0xff

#define W_RIGHT_FD_DATASYNC (1ull << 0)
#define W_RIGHT_FD_READ (1ull << 1)
#define W_RIGHT_FD_SEEK (1ull << 2)
#define W_RIGHT_FD_FDSTAT_SET_FLAGS (1ull << 3)
#define W_RIGHT_FD_SYNC (1ull << 4)
#define W_RIGHT_FD_TELL (1ull << 5)
#define W_RIGHT_FD_WRITE (1ull << 6)
#define W_RIGHT_FD_ADVISE (1ull << 7)
#define W_RIGHT_FD_ALLOCATE (1ull << 8)
#define W_RIGHT_PATH_CREATE_DIRECTORY (1ull << 9)
#define W_RIGHT_PATH_CREATE_FILE (1ull << 10)
#define W_RIGHT_PATH_LINK_SOURCE (1ull << 11)
#define W_RIGHT_PATH_LINK_TARGET (1ull << 12)
#define W_RIGHT_PATH_OPEN (1ull << 13)
#define W_RIGHT_FD_READDIR (1ull << 14)
#define W_RIGHT_PATH_READLINK (1ull << 15)
#define W_RIGHT_PATH_RENAME_SOURCE (1ull << 16)
#define W_RIGHT_PATH_RENAME_TARGET (1ull << 17)
#define W_RIGHT_PATH_FILESTAT_GET (1ull << 18)
#define W_RIGHT_PATH_FILESTAT_SET_SIZE (1ull << 19)
#define W_RIGHT_PATH_FILESTAT_SET_TIMES (1ull << 20)
#define W_RIGHT_FD_FILESTAT_GET (1ull << 21)
#define W_RIGHT_FD_FILESTAT_SET_SIZE (1ull << 22)
#define W_RIGHT_FD_FILESTAT_SET_TIMES (1ull << 23)
#define W_RIGHT_PATH_SYMLINK (1ull << 24)
#define W_RIGHT_PATH_REMOVE_DIRECTORY (1ull << 25)
#define W_RIGHT_PATH_UNLINK_FILE (1ull << 26)
#define W_RIGHT_POLL_FD_READWRITE (1ull << 27)
#define W_RIGHT_SOCK_SHUTDOWN (1ull << 28)
#define W_RIGHT_SOCK_ACCEPT (1ull << 29)
#define W_RIGHTS_ALL ((1ull << 30) - 1)

#define W_FDFLAGS_APPEND 1
#define W_FDFLAGS_DSYNC 2
#define W_FDFLAGS_NONBLOCK 4
#define W_FDFLAGS_RSYNC 8
#define W_FDFLAGS_SYNC 16
#define W_FDFLAGS_ALL 31

#define W_LOOKUP_SYMLINK_FOLLOW 1

#define W_OFLAGS_CREAT 1
#define W_OFLAGS_DIRECTORY 2
#define W_OFLAGS_EXCL 4
#define W_OFLAGS_TRUNC 8

#define W_FSTFLAGS_ATIM 1
#define W_FSTFLAGS_ATIM_NOW 2
#define W_FSTFLAGS_MTIM 4
#define W_FSTFLAGS_MTIM_NOW 8

/* ---- Linux ABI constants (same on all three targets unless in arch.h) ---- */
#define K_AT_FDCWD (-100)
#define K_AT_SYMLINK_NOFOLLOW 0x100
#define K_AT_REMOVEDIR 0x200
#define K_O_RDONLY 0
#define K_O_WRONLY 1
#define K_O_RDWR 2
#define K_O_EXCL 0200
#define K_O_TRUNC 01000
#define K_O_APPEND 02000
#define K_O_NONBLOCK 04000
#define K_O_CLOEXEC 02000000
#define K_O_PATH 010000000
#define K_F_GETFD 1
#define K_F_GETFL 3
#define K_F_SETFL 4
#define K_SEEK_SET 0
#define K_SEEK_CUR 1
#define K_S_IFMT 0170000
#define K_S_IFSOCK 0140000
#define K_S_IFLNK 0120000
#define K_S_IFREG 0100000
#define K_S_IFBLK 0060000
#define K_S_IFDIR 0040000
#define K_S_IFCHR 0020000
#define K_S_IFIFO 0010000

/* ---- the descriptor table (fdtable.c) ---- */

/* WK_ABSENT: a stdio number the context was given no host descriptor for.
 * It is not open (EBADF for everything) and, unlike a free slot, never
 * reused, so no file the program opens can become its stdin, stdout or
 * stderr. */
enum wfd_kind { WK_FREE = 0, WK_ABSENT, WK_STDIN, WK_STDOUT, WK_STDERR, WK_FILE, WK_DIR, WK_SOCKET };

/* Permission bits, as wasmtime keeps them per grant: a directory grant's
 * dperm (READ: look up and list; MUTATE: create, remove, rename, link,
 * set times) and fperm (READ, WRITE: what files under it may be opened
 * for) are inherited by every descriptor opened beneath it. `mode` is how
 * a file or directory was actually opened (READ, WRITE). */
#define WP_READ 1
#define WP_WRITE 2
#define WP_MUTATE 2

struct wfd {
    uint8_t kind;          /* enum wfd_kind; WK_FREE marks an unused slot */
    uint8_t filetype;      /* W_FILETYPE_*, fixed when opened; read it with wfd_filetype */
    uint8_t dperm, fperm;  /* grant permissions (WP_*) */
    uint8_t mode;          /* opened for WP_READ / WP_WRITE */
    uint8_t append;        /* fdflags APPEND (also set as O_APPEND on the host fd) */
    uint8_t nonblock;      /* fdflags NONBLOCK, recorded (files never block for long) */
    int32_t host;          /* the host descriptor */
    uint64_t base, inheriting; /* rights, as fd_fdstat_get reports them */
    const char *preopen;   /* guest name of a granted directory, else NULL */
    uint32_t preopen_len;
    /* fd_readdir resume point: host entry number rd_index starts at host
     * directory offset rd_off. Used only while provably current: see
     * fd_readdir in fd.c for what rd_gen and rd_stamp prove. */
    uint8_t rd_valid;
    uint64_t rd_index;
    int64_t rd_off;
    uint64_t rd_gen;       /* kiln_os_namespace_generation when filled */
    int64_t rd_stamp[4];   /* the directory's mtime and ctime (sec, nsec) then */
};

/* The entry for a guest descriptor of context w, or NULL if it is not open. */
struct wfd *wfd_get(struct kiln_wasi *w, int32_t fd);
/* Adds an entry, numbering it as wasmtime does (the highest number freed
 * earlier, else one past the highest ever used); the table owns e->host
 * from then on (unless it is a stdio entry). Returns 0 or a WASI errno (the
 * host fd is closed then). */
int32_t wfd_insert(struct kiln_wasi *w, const struct wfd *e, int32_t *fd_out);
/* Releases the host descriptor of an entry if the context owns it: every
 * descriptor but the stdio ones it was given. */
void wfd_close_host(const struct wfd *e);
/* Rights wasmtime reports for a file or directory opened with `mode`. */
uint64_t wfd_rights(uint8_t filetype, uint8_t mode);
/* An entry's W_FILETYPE_*: a stdio stream is a character device when it is
 * a terminal, asked the first time (a system call that most programs, which
 * never look, are spared at start-up). */
uint8_t wfd_filetype(struct wfd *e);

/* ---- shared helpers ---- */
uint8_t w_filetype(uint32_t st_mode);
/* Writes a WASI filestat (64 bytes) for a host stat. */
void w_filestat(uint8_t *out, const struct kiln_stat *st);
/* Converts (timestamp, fstflags) to utimensat times; returns 0 or EINVAL. */
int32_t w_times(uint64_t atim, uint64_t mtim, int32_t fst, int64_t out[4]);

#endif
