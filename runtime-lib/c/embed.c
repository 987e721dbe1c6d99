/* embed.c: instances of an embedded module (`kiln compile --emit lib`).
 *
 * Built only into the embedding flavour of the runtime (KILN_EMBED); the
 * executable flavour has start.c and driver.c instead. The library holds
 * one module. The host creates any number of instances of it; each is one
 * mapping:
 *
 *     [guard page | wasm stack | struct kiln_instance | VMContext block]
 *
 * The VMContext block is a copy of the one the compiler emitted, with the
 * pointers that point into the block itself (the module's `fixups`)
 * rebased, so every instance has its own memories, tables, globals,
 * funcrefs and segments (kiln-abi's VmOffsets). Memories and table
 * elements are mapped separately, by memory.c and table.c.
 *
 * Every entry into wasm (instantiation, `_initialize`, an export call)
 * goes through `run`: it sets the instance's recovery point, switches to
 * the instance's wasm stack (unless a host import is re-entering the
 * instance, which is on that stack already) and calls. A trap, an
 * uncaught exception, proc_exit or a runtime error comes back to the
 * recovery point as an outcome (kiln-abi's `embed` module) with the
 * message kept in the instance; the host's stack, signal handlers and
 * other instances are untouched. One thread may use an instance at a
 * time; different instances may run on different threads at once.
 *
 * The host-facing functions are named kiln_api_*; the archive writer
 * renames them to the library's prefix and hides every other symbol.
 */
#include "kiln_rt.h"

void kiln_arch_call_on_stack(void (*fn)(void *), void *arg, void *stack_top);


/* ---- Which instances exist, for the signal handler ----
 *
 * SANDBOX-CRITICAL. A fault is claimed only for an instance that is
 * running on the faulting thread, found by the interrupted stack pointer
 * (trap.c). Slots live in chunks that are never freed and hold the stack
 * bounds themselves, so a handler on one thread never reads an instance
 * another thread is freeing: it dereferences an instance only when the
 * faulting stack pointer lies on that instance's own stack, and an
 * instance cannot be freed while it runs. */
#define SLOTS_PER_CHUNK 64
struct slot {
    struct kiln_instance *inst; /* NULL: free; CLAIMED: being filled */
    uintptr_t lo, hi;
};
struct chunk {
    struct slot slots[SLOTS_PER_CHUNK];
    struct chunk *next;
};
#define CLAIMED ((struct kiln_instance *)1)
static struct chunk first_chunk;

static void registry_add(struct kiln_instance *inst) {
    for (struct chunk *c = &first_chunk;;) {
        for (int i = 0; i < SLOTS_PER_CHUNK; i++) {
            struct slot *s = &c->slots[i];
            struct kiln_instance *expected = 0;
            if (__atomic_compare_exchange_n(&s->inst, &expected, CLAIMED, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
                __atomic_store_n(&s->lo, inst->stack_lo, __ATOMIC_RELAXED);
                __atomic_store_n(&s->hi, inst->stack_hi, __ATOMIC_RELAXED);
                __atomic_store_n(&s->inst, inst, __ATOMIC_RELEASE);
                return;
            }
        }
        struct chunk *next = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE);
        if (!next) {
            struct chunk *fresh = os_mmap(0, sizeof *fresh, K_PROT_READ | K_PROT_WRITE, K_MAP_PRIVATE | K_MAP_ANONYMOUS);
            if (fresh == K_MAP_FAILED) kiln_fatal("out of memory", "instance registry");
            if (__atomic_compare_exchange_n(&c->next, &next, fresh, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) next = fresh;
            else os_munmap(fresh, sizeof *fresh);
        }
        c = next;
    }
}

static void registry_remove(struct kiln_instance *inst) {
    for (struct chunk *c = &first_chunk; c; c = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE))
        for (int i = 0; i < SLOTS_PER_CHUNK; i++) {
            struct slot *s = &c->slots[i];
            if (__atomic_load_n(&s->inst, __ATOMIC_ACQUIRE) == inst) {
                __atomic_store_n(&s->lo, 0, __ATOMIC_RELAXED);
                __atomic_store_n(&s->hi, 0, __ATOMIC_RELAXED);
                __atomic_store_n(&s->inst, 0, __ATOMIC_RELEASE);
                return;
            }
        }
}

/* The registered instance whose wasm stack holds address a, or NULL. */
static struct kiln_instance *instance_with_stack(uintptr_t a) {
    for (struct chunk *c = &first_chunk; c; c = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE))
        for (int i = 0; i < SLOTS_PER_CHUNK; i++) {
            struct slot *s = &c->slots[i];
            struct kiln_instance *inst = __atomic_load_n(&s->inst, __ATOMIC_ACQUIRE);
            if (!inst || inst == CLAIMED) continue;
            if (a >= __atomic_load_n(&s->lo, __ATOMIC_RELAXED) && a < __atomic_load_n(&s->hi, __ATOMIC_RELAXED)) return inst;
        }
    return 0;
}

struct kiln_instance *kiln_instance_on_stack(uintptr_t sp) {
    struct kiln_instance *inst = instance_with_stack(sp);
    return inst && inst->depth ? inst : 0;
}

bool kiln_wasm_stack_contains(uintptr_t fp) {
    struct kiln_instance *inst = instance_with_stack(fp);
    return inst && fp + 16 <= inst->stack_hi;
}

struct kiln_instance *kiln_running_instance(void) {
    return kiln_instance_on_stack((uintptr_t)__builtin_frame_address(0));
}

struct kiln_text *kiln_report_text(void) {
    struct kiln_instance *inst = kiln_running_instance();
    if (!inst) return 0;
    inst->message.len = 0;
    inst->message.data[0] = 0;
    return &inst->message;
}

void kiln_embed_unwind(struct kiln_instance *inst, uint32_t outcome) {
    kiln_arch_longjmp((kiln_jmpbuf *)inst->catcher, (int)outcome);
}

void kiln_exit(void *vmctx, int status) {
    struct kiln_instance *inst = ((struct kiln_vmctx_header *)vmctx)->instance;
    inst->exit_code = status;
    kiln_embed_unwind(inst, KILN_OUTCOME_EXIT);
}

/* ---- Entering wasm ---- */

struct call {
    void (*body)(struct kiln_instance *, void *);
    struct kiln_instance *inst;
    void *arg;
    kiln_jmpbuf back;
};

static KILN_NORETURN void on_wasm_stack(void *p) {
    struct call *c = p;
    c->body(c->inst, c->arg);
    kiln_arch_longjmp(&c->back, 1);
}

/* Runs body(inst, arg) on inst's wasm stack with a recovery point; returns
 * KILN_OUTCOME_OK, or how it ended. Re-entrant: a host import the wasm
 * called may call into the same instance again. */
static uint32_t run(struct kiln_instance *inst, void (*body)(struct kiln_instance *, void *), void *arg) {
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    bool on_own_stack = here >= inst->stack_lo && here < inst->stack_hi;
    if (inst->depth && !on_own_stack) {
        /* The instance is running further up this thread's stack (its
         * import called another instance, which called back into it): its
         * wasm stack is in use below a point we do not know, so there is
         * no free stack to switch to. Refused rather than risked. */
        struct kiln_buf buf = {.len = 0, .text = &inst->message};
        inst->message.len = 0;
        buf_str(&buf, "the instance is already running further up this thread's stack (re-entered through another instance)");
        buf_flush(&buf, 2);
        return KILN_OUTCOME_ERROR;
    }
    kiln_jmpbuf jb;
    kiln_jmpbuf *volatile outer = inst->catcher;
    uint32_t depth = inst->depth;
    int outcome = kiln_arch_setjmp(&jb);
    if (outcome == 0) {
        inst->catcher = &jb;
        inst->depth = depth + 1;
        if (depth) {
            /* A host import re-entering: already on the wasm stack. */
            body(inst, arg);
        } else {
            struct call c = {.body = body, .inst = inst, .arg = arg};
            if (kiln_arch_setjmp(&c.back) == 0) kiln_arch_call_on_stack(on_wasm_stack, &c, (void *)inst->stack_hi);
        }
    }
    inst->catcher = outer;
    inst->depth = depth;
    return (uint32_t)outcome;
}

static void instantiate_body(struct kiln_instance *inst, void *unused) {
    (void)unused;
    /* The template's imports were bound at compile time: nothing to link. */
    kiln_instantiate(inst->vmctx);
}

struct export_call {
    void *trampoline;
    uint64_t *values;
};

static void export_body(struct kiln_instance *inst, void *arg) {
    struct export_call *e = arg;
    ((kiln_array_call)e->trampoline)(inst->vmctx, inst->vmctx, e->values);
}

/* ---- The host-facing API (renamed to the library's prefix) ---- */

/* Must match the kiln_config of the generated header (docs/embedding.md). */
struct kiln_api_config {
    int argc;
    const char *const *argv;
    size_t envc;
    const char *const *env;
    size_t n_dirs;
    const struct kiln_wasi_dir *dirs;
    int stdin_fd, stdout_fd, stderr_fd;
    size_t stack_size;
    void *user_data;
};

static const struct kiln_module *module(void) { return kiln_modules[0]; }

static uint32_t signals_state; /* 0: not installed, 1: installing, 2: installed */

static void install_signals_once(void) {
    uint32_t expected = 0;
    if (__atomic_compare_exchange_n(&signals_state, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        kiln_signals_install();
        __atomic_store_n(&signals_state, 2, __ATOMIC_RELEASE);
        return;
    }
    while (__atomic_load_n(&signals_state, __ATOMIC_ACQUIRE) != 2) os_sched_yield();
}

static void set_message(struct kiln_instance *inst, const char *a, const char *b) {
    struct kiln_buf buf = {.len = 0, .text = &inst->message};
    inst->message.len = 0;
    buf_str(&buf, a);
    if (b) {
        buf_str(&buf, ": ");
        buf_str(&buf, b);
    }
    buf_flush(&buf, 2);
}

uint32_t kiln_api_new(const struct kiln_api_config *cfg, struct kiln_instance **out) {
    *out = 0;
    install_signals_once();
    const struct kiln_module *m = module();
    if (m->abi_version != KILN_ABI_VERSION) return KILN_OUTCOME_ERROR;
    size_t guard = KILN_MAP_UNIT;
    size_t stack = kiln_round_map_unit(cfg && cfg->stack_size ? cfg->stack_size : KILN_EMBED_DEFAULT_STACK_SIZE);
    size_t head = (sizeof(struct kiln_instance) + 15) & ~(size_t)15;
    size_t total = guard + stack + kiln_round_map_unit(head + m->vmctx_size);
    uint8_t *map = os_mmap(0, total, K_PROT_READ | K_PROT_WRITE, K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_NORESERVE);
    if (map == K_MAP_FAILED) return KILN_OUTCOME_ERROR;
    if (os_mprotect(map, guard, K_PROT_NONE) != 0) {
        os_munmap(map, total);
        return KILN_OUTCOME_ERROR;
    }
    struct kiln_instance *inst = (struct kiln_instance *)(map + guard + stack);
    inst->mapping = map;
    inst->mapping_size = total;
    inst->message.data = inst->message_data;
    inst->message.cap = sizeof inst->message_data;
    inst->user_data = cfg ? cfg->user_data : 0;
    inst->stack_lo = (uintptr_t)map + guard;
    inst->stack_hi = inst->stack_lo + stack;
    uint64_t reserve = KILN_EMBED_HOST_STACK_RESERVE < stack / 2 ? KILN_EMBED_HOST_STACK_RESERVE : stack / 2;
    inst->stack_limit = inst->stack_lo + reserve;

    uint8_t *vmctx = (uint8_t *)inst + head;
    kiln_vmctx_copy(vmctx, m->vmctx, m);
    ((struct kiln_vmctx_header *)vmctx)->instance = inst;
    inst->vmctx = vmctx;
    *out = inst;

    /* WASI: deny by default; only what the config grants. */
    struct kiln_wasi_config w = {0};
    w.stdin_fd = w.stdout_fd = w.stderr_fd = -1;
    if (cfg) {
        w.argc = cfg->argc;
        w.argv = cfg->argv;
        w.envc = cfg->envc;
        w.env = cfg->env;
        w.n_dirs = cfg->n_dirs;
        w.dirs = cfg->dirs;
        w.stdin_fd = cfg->stdin_fd;
        w.stdout_fd = cfg->stdout_fd;
        w.stderr_fd = cfg->stderr_fd;
    }
    const char *error = 0;
    inst->wasi = kiln_wasi_new(&w, &error);
    if (!inst->wasi) {
        set_message(inst, "cannot create the WASI context", error);
        inst->broken = true;
        return KILN_OUTCOME_ERROR;
    }
    if (m->n_memories) kiln_wasi_set_memory(inst->wasi, kiln_vmctx_memory(vmctx, 0));

    registry_add(inst);
    uint32_t outcome = run(inst, instantiate_body, 0);
    /* A reactor (`-mexec-model=reactor`) initialises itself once. */
    const struct kiln_export *init = kiln_find_export(m, "_initialize", 11);
    if (outcome == KILN_OUTCOME_OK && init && init->kind == KILN_EXTERN_FUNC && init->trampoline) {
        uint64_t values[2] __attribute__((aligned(16))) = {0, 0};
        struct export_call e = {.trampoline = init->trampoline, .values = values};
        outcome = run(inst, export_body, &e);
    }
    /* As in wasmtime, an instance whose instantiation did not complete
     * cannot be used: its state is whatever the failure left. */
    if (outcome != KILN_OUTCOME_OK) inst->broken = true;
    return outcome;
}

void kiln_api_free(struct kiln_instance *inst) {
    if (!inst) return;
    registry_remove(inst);
    const struct kiln_module *m = module();
    for (uint32_t i = 0; i < m->n_memories; i++) kiln_memory_release(kiln_vmctx_memory(inst->vmctx, i));
    for (uint32_t i = 0; i < m->n_tables; i++) kiln_table_release(kiln_vmctx_table(inst->vmctx, i));
    if (inst->wasi) kiln_wasi_free(inst->wasi);
    os_munmap(inst->mapping, inst->mapping_size);
}

/* Calls export number `index` (the module's export order) with the
 * arguments in `values` (16-byte slots), leaving its results there. */
uint32_t kiln_api_call(struct kiln_instance *inst, uint32_t index, uint64_t *values) {
    const struct kiln_module *m = module();
    if (inst->broken) {
        set_message(inst, "the instance cannot be used: its instantiation failed", 0);
        return KILN_OUTCOME_ERROR;
    }
    if (index >= m->n_exports || m->exports[index].kind != KILN_EXTERN_FUNC || !m->exports[index].trampoline) {
        set_message(inst, "no such function export", 0);
        return KILN_OUTCOME_ERROR;
    }
    struct export_call e = {.trampoline = m->exports[index].trampoline, .values = values};
    return run(inst, export_body, &e);
}

/* The entity of export number `index`: a struct kiln_memory (base and
 * length first), a kiln_table, or a global's 16-byte cell. */
void *kiln_api_export(struct kiln_instance *inst, uint32_t index) {
    const struct kiln_module *m = module();
    if (index >= m->n_exports) return 0;
    return kiln_export_entity(inst->vmctx, &m->exports[index]);
}

const char *kiln_api_message(const struct kiln_instance *inst) { return inst->message.data; }
uint32_t kiln_api_trap_kind(const struct kiln_instance *inst) { return inst->trap_kind; }
int kiln_api_exit_code(const struct kiln_instance *inst) { return inst->exit_code; }
void *kiln_api_user_data(const struct kiln_instance *inst) { return inst->user_data; }

/* The auxiliary vector belongs to the host's process start-up, which an
 * embedding does not see; only the executable's start-up CPU check reads
 * it (arch.c), and an embedding makes no such check (docs/embedding.md). */
uint64_t kiln_getauxval(uint64_t type) {
    (void)type;
    return 0;
}
