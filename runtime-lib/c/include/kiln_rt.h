/* kiln_rt.h: the runtime's internal interface.
 *
 * The runtime is freestanding C: no libc, no dynamic loader. It reaches the
 * kernel only through the os_* functions below, which sit on the per-arch
 * syscall layer in arch/<arch>/arch.h. Everything shared with generated code
 * (structure layouts, trap kinds, entry-point names) comes from the
 * generated kiln_abi.h; nothing here restates it.
 */
#ifndef KILN_RT_H
#define KILN_RT_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "kiln_abi.h"
#include "arch.h"

#define KILN_NORETURN __attribute__((noreturn))
#define KILN_UNUSED __attribute__((unused))
#define KILN_HIDDEN __attribute__((visibility("hidden")))

/* ---- Linux ABI constants (identical on x86-64, aarch64 and riscv64) ---- */
#define K_PROT_NONE 0
#define K_PROT_READ 1
#define K_PROT_WRITE 2
#define K_MAP_PRIVATE 0x02
#define K_MAP_FIXED 0x10
#define K_MAP_ANONYMOUS 0x20
#define K_MAP_NORESERVE 0x4000
#define K_MAP_SHARED 0x01
#define K_MAP_FIXED_NOREPLACE 0x100000
#define K_MAP_FAILED ((void *)-1)
#define K_SIGILL 4
#define K_SIGTRAP 5
#define K_SIGABRT 6
#define K_SIGBUS 7
#define K_SIGFPE 8
#define K_SIGSEGV 11
#define K_SA_SIGINFO 4
#define K_SA_ONSTACK 0x08000000
#define K_SA_RESTORER 0x04000000
#define K_SA_NODEFER 0x40000000
#define K_EINTR 4
#define K_EAGAIN 11

/* ---- os.c: thin wrappers over raw syscalls. Return -errno on failure. ---- */
long os_write(int fd, const void *buf, size_t len);
long os_read(int fd, void *buf, size_t len);
long os_writev(int fd, const void *iov, int iovcnt);
long os_readv(int fd, const void *iov, int iovcnt);
long os_lseek(int fd, int64_t off, int whence);
long os_close(int fd);
long os_fstat(int fd, void *statbuf);
long os_fcntl(int fd, int cmd, long arg);
void *os_mmap(void *addr, size_t len, int prot, int flags);
long os_mprotect(void *addr, size_t len, int prot);
/* mmap of a file descriptor; K_MAP_FAILED on failure. */
void *os_mmap_fd(void *addr, size_t len, int prot, int flags, int fd, uint64_t offset);
long os_memfd_create(const char *name);
long os_munmap(void *addr, size_t len);
/* mremap(MREMAP_MAYMOVE): grows or moves a private mapping; K_MAP_FAILED on failure. */
void *os_mremap_maymove(void *addr, size_t old_len, size_t new_len);
long os_clock_gettime(int clock, int64_t *sec, int64_t *nsec);
long os_clock_getres(int clock, int64_t *sec, int64_t *nsec);
long os_nanosleep(int64_t sec, int64_t nsec);
long os_getrandom(void *buf, size_t len);
long os_sched_yield(void);
long os_sigaction(int sig, const void *act, void *old);
long os_sigaltstack(const void *ss, void *old);
long os_kill_self(int sig);
/* futex(2) on a private word: wait while *addr == expected, for at most
 * timeout_ns (forever if < 0); wake at most count waiters. */
long os_futex_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns);
long os_futex_wake(uint32_t *addr, uint32_t count);
/* Starts a thread running fn(arg) on stack_top (arch/<arch>/arch.c); see
 * there. Returns its tid or -errno. */
long kiln_arch_clone(unsigned long flags, void *stack_top, uint32_t *ctid, void (*fn)(void *), void *arg);
KILN_NORETURN void os_exit(int status);

/* Write all of buf to fd, retrying on short writes and EINTR. */
void os_write_all(int fd, const void *buf, size_t len);

/* A lock for critical sections of a few instructions, never held across a
 * fault or a call that may block: it spins, yielding the CPU. */
static inline void kiln_spin_lock(uint32_t *l) {
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(l, __ATOMIC_RELAXED)) os_sched_yield();
}
static inline void kiln_spin_unlock(uint32_t *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

/* Mappings with a guard are sized in 64 KiB units, a multiple of every
 * page size Linux uses (4, 16 and 64 KiB), so the guard stays whole on any
 * kernel. */
#define KILN_MAP_UNIT ((size_t)0x10000)
static inline size_t kiln_round_map_unit(size_t n) { return (n + KILN_MAP_UNIT - 1) & ~(KILN_MAP_UNIT - 1); }

/* ---- libc.c: the handful of libc functions clang may call implicitly. ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* A tiny formatted writer for diagnostics (no printf). buf_flush writes
 * to the file descriptor, or, when `text` is set, appends to that text
 * instead (an embedding's trap message), truncating when it is full. */
struct kiln_text {
    char *data;
    size_t len, cap; /* cap includes the terminating NUL */
};
struct kiln_buf {
    char data[512];
    size_t len;
    struct kiln_text *text;
};
void buf_str(struct kiln_buf *b, const char *s);
void buf_u64(struct kiln_buf *b, uint64_t v);
void buf_hex(struct kiln_buf *b, uint64_t v);
void buf_flush(struct kiln_buf *b, int fd);


/* Bump allocator over anonymous mmap for runtime-side state that lives as
 * long as the process. Never freed or reused, so what it returns is always
 * zero-filled. Thread-safe; exits with a message when out of memory. */
void *rt_alloc(size_t size);
/* Gives the arena its first block, `size` bytes of fresh zero pages (an
 * executable's start-up: part of the wasm stack's mapping, see kiln_main). */
void rt_arena_seed(void *base, size_t size);
/* Memory that can be given back: zero-filled, 16-byte aligned, or NULL on
 * failure. Thread-safe. A request of up to 128 KiB comes from the arena's
 * seed while it has room, anything else is an anonymous mapping of `size`
 * bytes rounded up to whole pages. */
void *rt_zalloc(size_t size);
/* Gives back what rt_zalloc(size) returned (the same size): unmaps it, or
 * leaves it if it came from the seed. NULL is ignored. */
void rt_free(void *p, size_t size);

/* ---- start.c: process state. ---- */
struct kiln_process {
    int argc;
    char **argv;
    char **envp;        /* host environment */
    uint64_t *auxv;     /* ELF auxiliary vector: (type, value) pairs, 0-terminated */
    char **wasi_env;    /* environment the program is allowed to see */
    size_t wasi_envc;
    uintptr_t stack_limit;
    uintptr_t stack_lo, stack_hi; /* the wasm stack mapping */
};
extern struct kiln_process kiln_proc;

/* The module descriptors the compiler emitted (see kiln-abi). An
 * executable links them in (codegen's executable tables); `kiln run`
 * (KILN_JIT, the runtime inside the kiln binary) compiles them in memory
 * and hands them to kiln_jit_start. */
#ifdef KILN_JIT
extern const struct kiln_module *const *kiln_jit_modules;
extern uint32_t kiln_jit_module_count;
extern const char *kiln_jit_config;
#define kiln_modules kiln_jit_modules
#define kiln_module_count kiln_jit_module_count
#define kiln_config kiln_jit_config
/* Runs the program as _start would, with `sp` laid out as the kernel lays
 * out the initial stack (argc, argv, NULL, envp, NULL, auxv). Never returns:
 * the process exits with the program's status. */
void kiln_jit_start(uintptr_t *sp, const struct kiln_module *const *modules, uint32_t count, const char *config) KILN_NORETURN;
#else
extern const struct kiln_module *const kiln_modules[];
extern const uint32_t kiln_module_count;
extern const char kiln_config[];
#endif

/* ---- memory.c, table.c ---- */
void kiln_memory_setup(struct kiln_memory *m);
/* Debug builds (-g): also map memory m read-only at native addresses equal
 * to wasm addresses, so debuggers can follow wasm pointers. Best effort. */
void kiln_memory_mirror(struct kiln_memory *m);
/* The memory to mirror when it is set up (debug builds), or NULL. */
extern struct kiln_memory *kiln_mirror_request;
void kiln_table_setup(struct kiln_table *t);
/* Unmap a memory's pages and a table's elements (embedding: freeing an instance). */
void kiln_memory_release(struct kiln_memory *m);
void kiln_table_release(struct kiln_table *t);

/* ---- trap.c ---- */
void kiln_signals_install(void);
/* Size of the alternate signal stack each thread of an executable runs its
 * trap handler on, and installing one (sigaltstack is per thread). */
#define KILN_SIGNAL_STACK_SIZE ((size_t)64 << 10)
void kiln_signal_stack_install(void *base);
/* Report a trap raised outside generated code (e.g. by the runtime). */
KILN_NORETURN void kiln_trap_report(uint32_t kind, uintptr_t pc);
/* An error in a runtime function that wasm code called directly (not a
 * trap): prints "kiln: error: <msg>: <value>", the wasm location of the
 * call (`ret`, the runtime function's return address) and the wasm
 * backtrace from the calling frame (`caller_fp`), then exits with status 1,
 * as wasmtime's CLI does for a host error. */
KILN_NORETURN void kiln_wasm_call_error(const char *msg, uint64_t value, uintptr_t ret, uintptr_t caller_fp);
/* Fatal runtime error: prints "kiln: <msg>" and exits with status 1 (or the
 * given status). */
KILN_NORETURN void kiln_fatal(const char *msg, const char *detail);

/* Value of an auxiliary-vector entry (AT_HWCAP = 16), or 0. */
uint64_t kiln_getauxval(uint64_t type);
/* Whether the CPU has the named optional feature (kiln-targets' names);
 * arch/<arch>/arch.c. Unknown names count as missing. */
bool kiln_arch_cpu_has(const char *name, size_t len);

/* Runs fn and reports whether it completed without an illegal-instruction
 * fault (trap.c); for probing CPU features. */
bool kiln_probe_instruction(void (*fn)(void));

/* ---- Trap recovery (arch/<arch>/arch.c, instance.c) ---- */
typedef struct { uint64_t regs[32]; } kiln_jmpbuf;
int kiln_arch_setjmp(kiln_jmpbuf *buf) __attribute__((returns_twice));
KILN_NORETURN void kiln_arch_longjmp(kiln_jmpbuf *buf, int value);
/* Enters exception handler code `pc` of a wasm frame whose frame pointer
 * is `fp`, with the stack pointer `sp` and the exception `exn` in the
 * first exception-payload register (see unwind.c). */
KILN_NORETURN void kiln_arch_resume(uintptr_t pc, uintptr_t sp, uintptr_t fp, uintptr_t exn);
/* A call site of generated code, decoded (see kiln_call_lookup). */
struct kiln_call_info {
    const struct kiln_module *module;
    /* The function whose native frame made the call. For a call in code
     * inlined into it, wasm_offset is in the inlined function's body, and
     * the trap table names the inlining levels (trap.c, inlined_call). */
    uint32_t func_index, wasm_offset;
    const char *file; /* source position, or NULL */
    uint32_t line;
    uint32_t frame_offset;
    const struct kiln_handler *handlers; /* innermost first */
    uint32_t n_handlers;
};
/* Whether pc is the return address of a call site in any module (the
 * frames of generated code that made calls), and that call site. */
bool kiln_call_lookup(uintptr_t pc, struct kiln_call_info *out);
/* Moves (*ret, *fp), the return address and frame pointer seen by a
 * runtime function that generated code called, up to the wasm frame that
 * made the call, stepping over a host adapter if one is in between. */
void kiln_wasm_caller(uintptr_t *ret, uintptr_t *fp);
/* Prints `line` (the start of an error line, e.g. "kiln: wasm trap:
 * ..."), then ", in function F (#i) at wasm offset X" for the call site
 * `ret`, then a wasm backtrace from the frame with frame pointer `fp`
 * holding that call, and exits with `status`. */
KILN_NORETURN void kiln_report_at_call(struct kiln_buf *line, uintptr_t ret, uintptr_t fp, int status);
/* Where a trap in generated code resumes, or NULL: then a trap is reported
 * and the process exits with KILN_TRAP_EXIT_STATUS. */
extern kiln_jmpbuf *kiln_trap_catcher;
/* Whether kiln_call_catching recovers from traps (driver mode only). */
extern bool kiln_trap_recovery;

/* ---- The runtime's side of an instance (the VMContext header points at
 * it). An executable has one per module, made by kiln_instance_static; an
 * embedding makes one per kiln_api_new (embed.c). ---- */
struct kiln_wasi;
struct kiln_instance {
    uint8_t *vmctx;
    struct kiln_wasi *wasi;  /* WASI context, or NULL: no WASI for this instance */
    uintptr_t stack_limit;   /* what generated code's stack check compares with */
    uintptr_t stack_lo, stack_hi; /* the wasm stack the instance runs on */
#ifdef KILN_EMBED
    void *user_data;
    uint8_t *mapping;        /* one mapping: this struct, the VMContext, the stack */
    size_t mapping_size;
    kiln_jmpbuf *volatile catcher; /* innermost export call's recovery point */
    volatile uint32_t depth; /* export calls in progress (host imports may re-enter) */
    uint32_t trap_kind;      /* of the last trap (KILN_UNCAUGHT_EXCEPTION for an exception) */
    int exit_code;           /* of the last proc_exit */
    bool broken;             /* instantiation failed: no export may run */
    struct kiln_text message;
    char message_data[4096];
#endif
};
/* An embedding's export call ends (kiln_api_call's result). */
#define KILN_OUTCOME_OK KILN_EMBED_OK
#define KILN_OUTCOME_TRAP KILN_EMBED_TRAP
#define KILN_OUTCOME_EXIT KILN_EMBED_EXIT
#define KILN_OUTCOME_ERROR KILN_EMBED_ERROR
/* The instance whose export call this thread is running (embedding), else NULL. */
struct kiln_instance *kiln_running_instance(void);
/* Where a report goes: the running instance's message, emptied first; or
 * NULL, for stderr. */
struct kiln_text *kiln_report_text(void);
#ifdef KILN_EMBED
/* Ends the running export call of inst with `outcome` (never 0). */
KILN_NORETURN void kiln_embed_unwind(struct kiln_instance *inst, uint32_t outcome);
/* The instance running an export call on the wasm stack that holds sp, or NULL. */
struct kiln_instance *kiln_instance_on_stack(uintptr_t sp);
#endif
/* The executable's WASI context (start.c), which its instances share. */
extern struct kiln_wasi *kiln_process_wasi;
/* The instance of module m in an executable (created on first use). */
struct kiln_instance *kiln_instance_static(const struct kiln_module *m);
/* Whether fp lies on a wasm stack that code is running on, so a frame
 * walk may follow it. */
bool kiln_wasm_stack_contains(uintptr_t fp);

/* ---- instance.c: instances, instantiation and linking by name ----
 * An instance is identified by its VMContext block (see kiln-abi's
 * VmOffsets); these read the parts of it the runtime needs. */
static inline const struct kiln_module *kiln_vmctx_module(const uint8_t *vmctx) {
    return ((const struct kiln_vmctx_header *)vmctx)->module;
}
/* Defined memory i (counting defined memories only) of an instance. */
static inline struct kiln_memory *kiln_vmctx_memory(uint8_t *vmctx, uint32_t i) {
    return (struct kiln_memory *)(vmctx + kiln_vmctx_module(vmctx)->memories_offset) + i;
}
/* Defined table i (counting defined tables only) of an instance. */
static inline struct kiln_table *kiln_vmctx_table(uint8_t *vmctx, uint32_t i) {
    return (struct kiln_table *)(vmctx + kiln_vmctx_module(vmctx)->tables_offset) + i;
}
/* Copies module m's VMContext image (its emitted block, or a byte copy of
 * it made before instantiation) to dst, a block of m->vmctx_size bytes,
 * moving the pointers into the block itself (m->fixups) to the copy. */
void kiln_vmctx_copy(uint8_t *dst, const uint8_t *image, const struct kiln_module *m);
/* Resolves an instance's imports against registered instances. Returns
 * NULL, or a message saying why the module is unlinkable. */
const char *kiln_link(uint8_t *vmctx);
/* Sets up memories and tables, runs init and the start function. Returns 0,
 * or the trap kind if instantiation trapped (only when a catcher is set). */
uint32_t kiln_instantiate(uint8_t *vmctx);
/* Makes an instance's exports importable under `name`. */
/* Names are byte strings of the given length (wasm names may hold NUL). */
void kiln_register(const char *name, size_t len, uint8_t *vmctx);
const struct kiln_export *kiln_find_export(const struct kiln_module *m, const char *name, size_t len);
/* The entity an export of the instance names (see kiln-abi's EXPORT). */
void *kiln_export_entity(uint8_t *vmctx, const struct kiln_export *e);
/* Calls an array-call function, catching traps: returns 0 or the trap kind. */
uint32_t kiln_call_catching(void *fn, void *vmctx, uint64_t *values);

/* ---- threads.c: wasi-threads and the shared-memory wait queues ----
 * Set (never cleared) when a second thread first exists: from then on the
 * WASI layer serialises its calls (kiln_wasi_lock). */
extern volatile uint32_t kiln_threads_active;
/* Keeps a pristine copy of the command module's VMContext block, which
 * each spawned thread's instance is copied from; called before the
 * module's instance is first instantiated (start.c). */
void kiln_threads_prepare(const struct kiln_module *m);
/* Whether fp lies on a spawned thread's wasm stack. */
bool kiln_threads_stack_contains(uintptr_t fp);
/* Whether addr lies in the reservation of a guarded memory of a spawned
 * thread's instance (trap.c's test for a memory fault), and that test for
 * one memory. */
bool kiln_threads_in_reservation(uintptr_t addr);
bool kiln_in_reservation(const struct kiln_memory *mem, uintptr_t addr);
/* The process-wide WASI lock (a futex mutex); a no-op while only one
 * thread exists. A WASI function called through a kiln_wasi_locked_*
 * wrapper holds it, and may drop it (unlock, then lock) around a call that
 * may block and touches no context state (wasi/fd.c, wasi/poll.c). */
void kiln_wasi_lock(void);
void kiln_wasi_unlock(void);

/* ---- driver.c: the test-driver mode (KILN_CONFIG_DRIVER) ---- */
KILN_NORETURN void kiln_driver_run(void);

/* Array-call ABI shared by init functions and export trampolines: the
 * generated function reads its arguments from `values` (16-byte slots) and
 * writes its results back over them. */
typedef void (*kiln_array_call)(void *vmctx, void *caller_vmctx, uint64_t *values);

/* ---- os.c: the file system, polling and sockets, for the WASI layer.
 * Same convention: -errno on failure. Paths are NUL-terminated host paths. */
/* O_CREAT, the same on all three targets (os.c watches for it). */
#define K_O_CREAT 0100
/* Bumped by every os_* call that may change a directory's entries. */
extern uint64_t kiln_os_namespace_generation;
long os_openat(int dirfd, const char *path, int flags, int mode);
long os_openat2(int dirfd, const char *path, const void *how, size_t size);
long os_fstatat(int dirfd, const char *path, void *statbuf, int flags);
long os_mkdirat(int dirfd, const char *path, int mode);
long os_unlinkat(int dirfd, const char *path, int flags);
long os_symlinkat(const char *target, int dirfd, const char *path);
long os_linkat(int olddir, const char *oldpath, int newdir, const char *newpath, int flags);
long os_renameat2(int olddir, const char *oldpath, int newdir, const char *newpath, unsigned flags);
long os_readlinkat(int dirfd, const char *path, char *buf, size_t len);
/* times: atime sec, nsec, mtime sec, nsec (struct timespec[2]). */
long os_utimensat(int dirfd, const char *path, const int64_t times[4], int flags);
long os_ftruncate(int fd, int64_t len);
long os_fsync(int fd);
long os_fdatasync(int fd);
long os_fadvise(int fd, int64_t off, int64_t len, int advice);
long os_preadv(int fd, const void *iov, int iovcnt, int64_t off);
long os_pwritev(int fd, const void *iov, int iovcnt, int64_t off);
long os_getdents64(int fd, void *buf, size_t len);
/* Waits on struct pollfd[nfds] for at most timeout_ns (forever if < 0). */
long os_ppoll(void *fds, size_t nfds, int64_t timeout_ns);
long os_accept4(int fd, int flags);
long os_recvmsg(int fd, void *msghdr, int flags);
long os_sendmsg(int fd, const void *msghdr, int flags);
long os_shutdown(int fd, int how);
long os_ioctl(int fd, unsigned long request, void *arg);

/* ---- wasi/: WASI preview1 contexts. A context holds all of one
 * instance's WASI state: its descriptor table (stdio, the granted
 * directories, what it opened beneath them), arguments, environment and
 * the linear memory its WASI calls read and write. Capabilities are deny by
 * default: a context has exactly what its configuration grants. Contexts
 * share no mutable state, so different contexts may be used on different
 * threads at the same time; one context, one thread at a time. ---- */
struct kiln_wasi;
struct kiln_wasi_dir {
    const char *host;  /* host path, relative to the working directory or absolute */
    const char *guest; /* the name the program sees it under */
    int read_only;     /* nothing beneath it can be created, changed or removed */
};
struct kiln_wasi_config {
    int argc; const char *const *argv;          /* argv[0] included */
    size_t envc; const char *const *env;        /* "KEY=VALUE" entries the program may see */
    size_t n_dirs; const struct kiln_wasi_dir *dirs; /* preopens, in fd order from 3 */
    int stdin_fd, stdout_fd, stderr_fd;         /* host fds for wasm fds 0,1,2; -1 = none (EBADF) */
};
/* Creates a WASI context; the config's strings are copied. On failure
 * (a directory cannot be opened) returns NULL and sets *error to a
 * message naming the path; nothing leaks. Other failures: "invalid WASI
 * configuration" (a NULL string or array, argc < 0, a stdio fd < -1) and
 * "out of memory". A relative host path is resolved against the process's
 * working directory now. The message, e.g. "cannot open granted directory
 * data: No such file or directory", stays valid for the life of the process
 * (it is the one thing a failure allocates for good: a few bytes from
 * rt_alloc). Host stdio descriptors are used, not owned: the caller keeps
 * them open while the context lives; the context never closes them, even
 * when the program closes its 0-2. Thread-safe. */
struct kiln_wasi *kiln_wasi_new(const struct kiln_wasi_config *c, const char **error);
/* Closes every host descriptor the context opened (never the stdio fds it was given) and frees it. */
void kiln_wasi_free(struct kiln_wasi *w);
/* The linear memory WASI functions of this context read and write. */
void kiln_wasi_set_memory(struct kiln_wasi *w, struct kiln_memory *m);
/* The WASI context of the instance whose VMContext is vmctx (instance.c).
 * WASI host functions call it with their caller's VMContext; it must not
 * return NULL for an instance whose module imports WASI functions. */
struct kiln_wasi *kiln_wasi_of(void *vmctx);
/* proc_exit: ends the instance's run with `status` (instance.c): in an executable, exits the process. */
KILN_NORETURN void kiln_exit(void *vmctx, int status);

#endif
