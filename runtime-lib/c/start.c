/* start.c: process start-up. Reads argv/envp from the initial stack, applies
 * the build-time configuration (environment grants), installs the trap
 * handler, moves onto a dedicated wasm stack whose lowest usable address is
 * the `stack_limit` every generated prologue checks, creates the WASI
 * context from the build's grants (opening the granted directories; see
 * wasi_start), instantiates each module in order and runs the command's
 * `_start`.
 *
 * Stack layout (grows down):
 *   [ guard page, PROT_NONE ][ red zone: runtime & WASI calls ][ wasm frames ... top ]
 *                            ^ mapping + page    ^ stack_limit
 * A wasm call that would go below stack_limit traps with "call stack
 * exhausted" in its prologue, leaving the red zone for the trap handler and
 * host calls; the guard page catches a runtime bug, not wasm.
 */
#include "kiln_rt.h"

struct kiln_process kiln_proc;

#define WASM_STACK_SIZE (8ull << 20)
#define GUARD_SIZE 4096ull /* at least; see kiln_main */
#define ARENA_SEED_SIZE ((size_t)1 << 20) /* a multiple of KILN_MAP_UNIT */

void kiln_arch_call_on_stack(void (*fn)(void *), void *arg, void *stack_top);
void kiln_main(uintptr_t *sp) KILN_NORETURN;

static int env_granted(const char *kv) {
    /* An inherited variable is shadowed by a granted one of the same name. */
    for (const char *c = kiln_config; *c; c += strlen(c) + 1) {
        if (c[0] == '\001') continue;
        size_t n = 0;
        while (c[n] && c[n] != '=') n++;
        if (strncmp(c, kv, n) == 0 && kv[n] == '=') return 1;
    }
    return 0;
}

static void setup_environment(void) {
    int inherit = 0;
    size_t n = 0;
    for (const char *c = kiln_config; *c; c += strlen(c) + 1) {
        if (strcmp(c, KILN_CONFIG_INHERIT_ENV) == 0) inherit = 1;
        else n++;
    }
    size_t host = 0;
    if (inherit)
        for (char **e = kiln_proc.envp; *e; e++) host++;
    char **env = rt_alloc((n + host + 1) * sizeof(char *));
    size_t k = 0;
    if (inherit)
        for (char **e = kiln_proc.envp; *e; e++)
            if (!env_granted(*e)) env[k++] = *e;
    for (const char *c = kiln_config; *c; c += strlen(c) + 1)
        if (c[0] != '\001') env[k++] = (char *)c;
    env[k] = 0;
    kiln_proc.wasi_env = env;
    kiln_proc.wasi_envc = k;
}

uint64_t kiln_getauxval(uint64_t type) {
    for (uint64_t *a = kiln_proc.auxv; a[0]; a += 2)
        if (a[0] == type) return a[1];
    return 0;
}

/* The executable was compiled for optional CPU features (--cpu): refuse to
 * run, naming what is missing, rather than die on an illegal instruction. */
static void check_cpu(void) {
    size_t plen = strlen(KILN_CONFIG_CPU_PREFIX);
    for (const char *c = kiln_config; *c; c += strlen(c) + 1) {
        if (strncmp(c, KILN_CONFIG_CPU_PREFIX, plen) != 0) continue;
        struct kiln_buf b = {.len = 0};
        for (const char *f = c + plen; *f;) {
            size_t n = 0;
            while (f[n] && f[n] != ',') n++;
            if (!kiln_arch_cpu_has(f, n)) {
                buf_str(&b, b.len ? ", " : "kiln: this CPU lacks features the program was compiled for: ");
                for (size_t i = 0; i < n; i++) {
                    char one[2] = {f[i], 0};
                    buf_str(&b, one);
                }
            }
            f += n;
            if (*f == ',') f++;
        }
        if (b.len) {
            buf_str(&b, " (recompile with a lower --cpu)\n");
            buf_flush(&b, 2);
            os_exit(1);
        }
    }
}

static int has_config(const char *flag) {
    for (const char *c = kiln_config; *c; c += strlen(c) + 1)
        if (strcmp(c, flag) == 0) return 1;
    return 0;
}

/* The executable's one WASI context, shared by its instances
 * (kiln_instance_static): the command's grants. */
struct kiln_wasi *kiln_process_wasi;

/* ---- the executable's WASI context ----
 *
 * SANDBOX-CRITICAL: what the program may reach is exactly what the build
 * granted: the compile-time directory grants (`\001dir=ro:HOST::GUEST` /
 * `\001dir=rw:HOST::GUEST` config entries), then, only if the build
 * allowed it (`\001runtime-dirs`), those whoever runs the executable names
 * in KILN_DIRS; the environment setup_environment computed; the process's
 * arguments and stdio. */

/* Position of the first "::" in s[0..len), or len. */
static size_t find_sep(const char *s, size_t len) {
    for (size_t i = 0; i + 1 < len; i++)
        if (s[i] == ':' && s[i + 1] == ':') return i;
    return len;
}

/* A NUL-terminated copy of s[0..len), for the life of the process. */
static const char *copy_str(const char *s, size_t len) {
    char *c = rt_alloc(len + 1);
    memcpy(c, s, len);
    c[len] = 0;
    return c;
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

struct grants {
    struct kiln_wasi_dir *dirs;
    size_t n;
    const char *bad;   /* the first malformed KILN_DIRS entry, or NULL */
    size_t bad_len;
};

/* KILN_DIRS=HOST::GUEST[::ro];HOST::GUEST[::ro];... (empty entries are
 * skipped). The host part ends at the first "::", as in the compile-time
 * grants; a trailing "::ro" makes the grant read-only. Stops at the first
 * malformed entry: the grants before it are still opened first, so that
 * errors come out in the order the entries are written. */
static void add_runtime_grants(struct grants *g, const char *v) {
    while (*v) {
        size_t len = 0;
        while (v[len] && v[len] != ';') len++;
        if (len) {
            size_t sep = find_sep(v, len);
            const char *guest = v + sep + 2;
            size_t glen = sep + 2 < len ? len - sep - 2 : 0;
            int ro = 0;
            if (glen > 4 && memcmp(guest + glen - 4, "::ro", 4) == 0) {
                ro = 1;
                glen -= 4;
            }
            /* Any other "::" left in the guest part is a mistyped mode
             * (`::RO`, `::r`): refuse it rather than grant read-write. */
            if (sep == 0 || sep + 2 >= len || find_sep(guest, glen) != glen) {
                g->bad = v;
                g->bad_len = len;
                return;
            }
            g->dirs[g->n++] = (struct kiln_wasi_dir){copy_str(v, sep), copy_str(guest, glen), ro};
        }
        v += len;
        if (*v == ';') v++;
    }
}

static void wasi_start(void) {
    /* Writing to a pipe or socket that nobody reads any more is EPIPE for
     * the program, which has no way to handle a signal: SIGPIPE is ignored,
     * as it is under wasmtime (like every Rust program). Only the handler
     * word is set, so the per-arch sigaction layouts do not matter. */
    uint64_t ignore[4] = {1 /* SIG_IGN */, 0, 0, 0};
    os_sigaction(13 /* SIGPIPE */, ignore, 0);

    /* If the process was started with 0, 1 or 2 closed, fill the hole with
     * /dev/null so that a file the program opens cannot become its stdio.
     * (F_GETFD, EBADF, AT_FDCWD and O_RDWR: the same on all three targets.) */
    for (int i = 0; i < 3; i++)
        if (os_fcntl(i, 1 /* F_GETFD */, 0) == -9 /* EBADF */) os_openat(-100 /* AT_FDCWD */, "/dev/null", 2 /* O_RDWR */, 0);

    /* Room for every grant: at most one per config entry, and one per
     * KILN_DIRS entry (at most one more than its ';'s). */
    size_t plen = strlen(KILN_CONFIG_DIR_PREFIX), dlen = strlen(KILN_RUNTIME_DIRS_ENV);
    size_t cap = 0;
    int runtime = 0;
    for (const char *c = kiln_config; *c; c += strlen(c) + 1) {
        cap++;
        if (strcmp(c, KILN_CONFIG_RUNTIME_DIRS) == 0) runtime = 1;
    }
    if (runtime)
        for (char **e = kiln_proc.envp; *e; e++)
            if (strncmp(*e, KILN_RUNTIME_DIRS_ENV, dlen) == 0 && (*e)[dlen] == '=') {
                cap++;
                for (const char *p = *e; *p; p++) cap += *p == ';';
            }
    struct grants g = {.dirs = rt_alloc((cap + 1) * sizeof *g.dirs)};

    for (const char *c = kiln_config; *c; c += strlen(c) + 1) {
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
        g.dirs[g.n++] = (struct kiln_wasi_dir){copy_str(spec, sep), spec + sep + 2, ro};
    }
    if (runtime)
        for (char **e = kiln_proc.envp; *e && !g.bad; e++)
            if (strncmp(*e, KILN_RUNTIME_DIRS_ENV, dlen) == 0 && (*e)[dlen] == '=') add_runtime_grants(&g, *e + dlen + 1);

    struct kiln_wasi_config config = {
        .argc = kiln_proc.argc,
        .argv = (const char *const *)kiln_proc.argv,
        .envc = kiln_proc.wasi_envc,
        .env = (const char *const *)kiln_proc.wasi_env,
        .n_dirs = g.n,
        .dirs = g.dirs,
        .stdin_fd = 0,
        .stdout_fd = 1,
        .stderr_fd = 2,
    };
    const char *error = 0;
    kiln_process_wasi = kiln_wasi_new(&config, &error);
    if (!kiln_process_wasi) {
        struct kiln_buf b = {.len = 0};
        buf_str(&b, "kiln: ");
        buf_str(&b, error);
        buf_str(&b, "\n");
        buf_flush(&b, 2);
        os_exit(1);
    }
    if (g.bad) bad_runtime_entry(g.bad, g.bad_len);
}

static void run(void *unused) {
    (void)unused;
    wasi_start();
    if (has_config(KILN_CONFIG_DRIVER)) kiln_driver_run();
    /* A command: its imports were bound at compile time. A trap anywhere
     * is reported by the signal handler, which exits. */
    const struct kiln_module *cmd = kiln_modules[kiln_module_count - 1];
    /* Memory 0 is the first imported memory if there is one (threads'
     * `env.memory`), else the first defined one. */
    struct kiln_memory *mem0 = cmd->n_host_memories ? &cmd->host_memories[0] : cmd->n_memories ? kiln_vmctx_memory(cmd->vmctx, 0) : 0;
    if (mem0) kiln_wasi_set_memory(kiln_process_wasi, mem0);
    if (mem0 && has_config(KILN_CONFIG_DEBUG_MIRROR)) kiln_mirror_request = mem0;
    kiln_threads_prepare(cmd);
    for (uint32_t i = 0; i < kiln_module_count; i++) {
        kiln_instance_static(kiln_modules[i]);
        kiln_instantiate(kiln_modules[i]->vmctx);
    }
    if (cmd->entry) kiln_call_catching(cmd->entry, cmd->vmctx, 0);
    os_exit(0);
}

void kiln_main(uintptr_t *sp) {
    kiln_proc.argc = (int)sp[0];
    kiln_proc.argv = (char **)(sp + 1);
    kiln_proc.envp = kiln_proc.argv + kiln_proc.argc + 1;
    char **e = kiln_proc.envp;
    while (*e) e++;
    kiln_proc.auxv = (uint64_t *)(e + 1);

    /* One mapping, [runtime arena | guard | wasm stack], so start-up costs
     * one mmap and one mprotect for all three (each system call and each
     * first touch of a page is measurable against the process floor, see
     * bench/README.md). The guard is one page of the running kernel (4
     * KiB, or 16/64 KiB on some aarch64 kernels), so the red zone above it
     * stays whole; the arena's size is a multiple of every page size, so
     * the guard starts on a page boundary. The arena lies below the guard:
     * a stack overflow reaches the guard before any of it (and generated
     * code compares its new stack pointer with stack_limit in every
     * prologue, before it allocates its frame, so wasm never gets there),
     * and the bump allocator never writes past ARENA_SEED_SIZE. The
     * signal stack is the arena's first allocation, its top far from the
     * guard. */
    uint64_t guard = kiln_getauxval(6 /* AT_PAGESZ */);
    if (guard < GUARD_SIZE) guard = GUARD_SIZE;
    uint8_t *map = os_mmap(0, ARENA_SEED_SIZE + guard + WASM_STACK_SIZE, K_PROT_READ | K_PROT_WRITE,
                           K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_NORESERVE);
    if (map == K_MAP_FAILED) kiln_fatal("cannot allocate the wasm stack", 0);
    uint8_t *stack = map + ARENA_SEED_SIZE;
    if (os_mprotect(stack, guard, K_PROT_NONE) != 0) kiln_fatal("cannot protect the wasm stack guard", 0);
    rt_arena_seed(map, ARENA_SEED_SIZE);
    kiln_signals_install();
    check_cpu();
    setup_environment();

    kiln_proc.stack_limit = (uintptr_t)stack + guard + KILN_STACK_RED_ZONE;
    kiln_proc.stack_lo = (uintptr_t)stack + guard;
    kiln_proc.stack_hi = (uintptr_t)stack + guard + WASM_STACK_SIZE;
    kiln_arch_call_on_stack(run, 0, stack + guard + WASM_STACK_SIZE);
    os_exit(1);
}

#ifdef KILN_JIT
const struct kiln_module *const *kiln_jit_modules;
uint32_t kiln_jit_module_count;
const char *kiln_jit_config;

void kiln_jit_start(uintptr_t *sp, const struct kiln_module *const *modules, uint32_t count, const char *config) {
    kiln_jit_modules = modules;
    kiln_jit_module_count = count;
    kiln_jit_config = config;
    kiln_main(sp);
}
#endif
