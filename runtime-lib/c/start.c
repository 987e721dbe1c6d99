/* start.c: process start-up. Reads argv/envp from the initial stack, applies
 * the build-time configuration (environment grants), installs the trap
 * handler, moves onto a dedicated wasm stack whose lowest usable address is
 * the `stack_limit` every generated prologue checks, opens the granted
 * directories (kiln_wasi_init, wasi/fdtable.c), instantiates each module in
 * order and runs the command's `_start`.
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
struct kiln_memory *kiln_wasi_memory;

#define WASM_STACK_SIZE (8ull << 20)
#define GUARD_SIZE 4096ull /* at least; see kiln_main */

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

static void run(void *unused) {
    (void)unused;
    kiln_wasi_init();
    if (has_config(KILN_CONFIG_DRIVER)) kiln_driver_run();
    /* A command: its imports were bound at compile time. A trap anywhere
     * is reported by the signal handler, which exits. */
    const struct kiln_module *cmd = kiln_modules[kiln_module_count - 1];
    if (cmd->n_memories) kiln_wasi_memory = kiln_vmctx_memory(cmd->vmctx, 0);
    if (cmd->n_memories && has_config(KILN_CONFIG_DEBUG_MIRROR)) kiln_mirror_request = kiln_wasi_memory;
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
    kiln_signals_install();
    check_cpu();
    setup_environment();

    /* The guard is one page of the running kernel (4 KiB, or 16/64 KiB on
     * some aarch64 kernels), so the red zone above it stays whole. */
    uint64_t guard = kiln_getauxval(6 /* AT_PAGESZ */);
    if (guard < GUARD_SIZE) guard = GUARD_SIZE;
    uint8_t *stack = os_mmap(0, WASM_STACK_SIZE + guard, K_PROT_READ | K_PROT_WRITE, K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_NORESERVE);
    if (stack == K_MAP_FAILED) kiln_fatal("cannot allocate the wasm stack", 0);
    if (os_mprotect(stack, guard, K_PROT_NONE) != 0) kiln_fatal("cannot protect the wasm stack guard", 0);
    kiln_proc.stack_limit = (uintptr_t)stack + guard + KILN_STACK_RED_ZONE;
    kiln_proc.stack_lo = (uintptr_t)stack + guard;
    kiln_proc.stack_hi = (uintptr_t)stack + guard + WASM_STACK_SIZE;
    kiln_arch_call_on_stack(run, 0, stack + guard + WASM_STACK_SIZE);
    os_exit(1);
}
