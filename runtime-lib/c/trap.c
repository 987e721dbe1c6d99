/* trap.c: turning faults in generated code into wasm traps.
 *
 * SANDBOX-CRITICAL. The handler claims a signal only if the faulting PC is
 * an entry of a trap table the compiler emitted: those are exactly the
 * instructions that may fault by design (loads and stores into the guard
 * reservation, explicit trap instructions for unreachable, division,
 * conversions, table and signature checks, and the stack-limit check in
 * prologues). Any other fault (a bug in the runtime, or in Kiln's code
 * generation) is not swallowed: the handler restores the default action and
 * returns, the instruction faults again, and the process dies with the
 * signal it really got.
 *
 * The handler runs on an alternate signal stack so that it works even if
 * the fault came from running out of native stack.
 */
#include "kiln_rt.h"

/* The kernel's struct sigaction is {handler, flags, restorer, mask} on
 * x86-64 and aarch64, and {handler, flags, mask} on riscv64 (no restorer).
 * The mask must be empty (SIGSEGV and friends must stay deliverable after a
 * trap unwinds out of the handler with longjmp) and the restorer is unused
 * except on x86-64, so four words with zeros in the last two read correctly
 * under both layouts; qemu-user's riscv64 emulation reads four words too. */
struct k_sigaction {
    void (*handler)(int, void *, void *);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

struct k_stack {
    void *sp;
    int flags;
    size_t size;
};

static const int trap_signals[] = {K_SIGSEGV, K_SIGBUS, K_SIGILL, K_SIGFPE, K_SIGTRAP};

/* A decoded trap-table entry. func_index is the function whose wasm code
 * trapped: the group's, or for inlined code the innermost level's;
 * `inlined` points at the entry's encoded levels (kiln_abi's
 * encode_trap_group), or is NULL. */
struct trap_site {
    const struct kiln_module *module;
    uint32_t func_index, wasm_offset, kind;
    const char *file;
    uint32_t line;
    const uint8_t *inlined;
    uint32_t outer; /* the group's function, whose code holds the entry */
};

static uint64_t uleb(const uint8_t **p) {
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        uint8_t b = *(*p)++;
        if (shift < 64) v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
}

static int64_t sleb(const uint8_t **p) {
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b;
    do {
        b = *(*p)++;
        if (shift < 64) v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40)) v |= ~0ull << shift;
    return (int64_t)v;
}

/* Skips one encoded list of inlining levels (see struct trap_site). */
static void skip_levels(const uint8_t **p) {
    uint64_t n = uleb(p);
    for (uint64_t i = 0; i < n * 3; i++) uleb(p);
}

/* The group of module m holding pc: the last one starting at or below pc
 * (groups are sorted by start, one per function), or NULL. */
static const struct kiln_trap_group *group_of(const struct kiln_module *m, uintptr_t pc) {
    uint32_t lo = 0, hi = m->n_trap_groups;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)m->trap_groups[mid].start <= pc) lo = mid + 1; else hi = mid;
    }
    return lo == 0 ? 0 : &m->trap_groups[lo - 1];
}

/* Looks pc up in module m's trap table (format: kiln_abi's
 * encode_trap_group). SANDBOX-CRITICAL: a fault is a wasm trap only if its
 * pc is exactly a recorded trapping instruction. The group searched is the
 * one of the function holding pc; its entries are decoded in code order
 * until one is at pc or past it. The inlined calls after the entries are
 * never read here. The table is the compiler's static data, so its
 * encoding is trusted, and decoding reads nothing else: safe in the signal
 * handler. */
static bool lookup_in(const struct kiln_module *m, uintptr_t pc, struct trap_site *out) {
    const struct kiln_trap_group *g = group_of(m, pc);
    if (!g) return false;
    const uint8_t *p = m->trap_data + g->data;
    uint64_t n = uleb(&p);
    uintptr_t at = (uintptr_t)g->start;
    uint32_t wasm = 0;
    for (uint64_t i = 0; i < n; i++) {
        at += uleb(&p);
        wasm += (uint32_t)sleb(&p);
        uint32_t kind = *p++;
        uint64_t source = uleb(&p);
        const uint8_t *inlined = 0;
        if (kind & KILN_TRAP_KIND_INLINED) {
            inlined = p;
            skip_levels(&p);
        }
        if (at > pc) return false;
        if (at == pc) {
            out->module = m;
            out->func_index = g->func_index;
            out->wasm_offset = wasm;
            out->kind = kind & ~KILN_TRAP_KIND_INLINED;
            out->file = source ? m->source_lines[source - 1].file : 0;
            out->line = source ? m->source_lines[source - 1].line : 0;
            out->inlined = inlined;
            out->outer = g->func_index;
            if (inlined) {
                /* The innermost level's function is the one that trapped. */
                const uint8_t *q = inlined;
                uleb(&q);
                out->func_index = (uint32_t)uleb(&q);
            }
            return true;
        }
    }
    return false;
}

/* The inlining levels of the call whose return address is pc, in module
 * m's code, or NULL if that call is not in inlined code: the list after
 * the trap entries of the function's group. Read only to print. */
static const uint8_t *inlined_call(const struct kiln_module *m, uintptr_t pc) {
    const struct kiln_trap_group *g = group_of(m, pc);
    if (!g) return 0;
    const uint8_t *p = m->trap_data + g->data;
    uint64_t n = uleb(&p);
    for (uint64_t i = 0; i < n; i++) {
        uleb(&p);
        sleb(&p);
        uint8_t kind = *p++;
        uleb(&p);
        if (kind & KILN_TRAP_KIND_INLINED) skip_levels(&p);
    }
    n = uleb(&p);
    uintptr_t at = (uintptr_t)g->start;
    for (uint64_t i = 0; i < n; i++) {
        at += uleb(&p);
        if (at == pc) return p;
        if (at > pc) return 0;
        skip_levels(&p);
    }
    return 0;
}

static bool trap_lookup(uintptr_t pc, struct trap_site *out) {
    for (uint32_t i = 0; i < kiln_module_count; i++)
        if (lookup_in(kiln_modules[i], pc, out)) return true;
    return false;
}

/* The source position and handlers of module m's call `call`, or NULL
 * when it has neither (the records are sorted by call index). */
static const struct kiln_call_extra *call_extra(const struct kiln_module *m, uint32_t call) {
    uint32_t a = 0, b = m->n_call_extras;
    while (a < b) {
        uint32_t mid = a + (b - a) / 2;
        if (m->call_extras[mid].call == call) return &m->call_extras[mid];
        if (m->call_extras[mid].call < call) a = mid + 1; else b = mid;
    }
    return 0;
}

/* The call site whose return address is pc, in any module: the function
 * containing pc (funcs are sorted by start, as laid out), then the call in
 * that function's run of call sites (sorted by offset). A return address
 * may equal the function's end (a call that never returns, as the last
 * instruction), so the end is included. */
bool kiln_call_lookup(uintptr_t pc, struct kiln_call_info *out) {
    for (uint32_t i = 0; i < kiln_module_count; i++) {
        const struct kiln_module *m = kiln_modules[i];
        uint32_t lo = 0, hi = m->n_funcs;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if ((uintptr_t)m->funcs[mid].start <= pc) lo = mid + 1; else hi = mid;
        }
        if (lo == 0) continue;
        const struct kiln_func_info *f = &m->funcs[lo - 1];
        if (pc - (uintptr_t)f->start > f->size) continue;
        uint32_t off = (uint32_t)(pc - (uintptr_t)f->start);
        const struct kiln_call_site *calls = m->calls + f->calls;
        uint32_t a = 0, b = f->n_calls;
        while (a < b) {
            uint32_t mid = a + (b - a) / 2;
            if (calls[mid].pc_offset == off) {
                out->module = m;
                out->func_index = f->index;
                out->wasm_offset = calls[mid].wasm_offset;
                /* SANDBOX-CRITICAL (the unwinder resumes at these
                 * handlers with SP = FP - frame_offset): a call has them
                 * only if its own record, found by its index among the
                 * module's calls, says so; a call without a record has
                 * no handler, so an exception unwinds past its frame. */
                const struct kiln_call_extra *e = call_extra(m, f->calls + mid);
                uint32_t source = e ? e->source : 0;
                out->file = source ? m->source_lines[source - 1].file : 0;
                out->line = source ? m->source_lines[source - 1].line : 0;
                out->frame_offset = e ? e->frame_offset : 0;
                out->handlers = m->handlers + (e ? e->handlers : 0);
                out->n_handlers = e ? e->n_handlers : 0;
                return true;
            }
            if (calls[mid].pc_offset < off) a = mid + 1; else b = mid;
        }
    }
    return false;
}

static const char *func_name(const struct kiln_module *m, uint32_t index) {
    for (uint32_t i = 0; i < m->n_funcs; i++)
        if (m->funcs[i].index == index) return m->funcs[i].name;
    return 0;
}

static void frame_line(struct kiln_buf *b, unsigned n, const struct kiln_module *m, uint32_t func, uint32_t offset,
                       const char *file, uint32_t line) {
    buf_str(b, "    ");
    buf_u64(b, n);
    buf_str(b, ": ");
    const char *name = func == UINT32_MAX ? "<instantiation>" : func_name(m, func);
    if (name) {
        buf_str(b, name);
        buf_str(b, " ");
    }
    if (func != UINT32_MAX) {
        buf_str(b, "(#");
        buf_u64(b, func);
        buf_str(b, ") ");
    }
    buf_str(b, "at wasm offset ");
    buf_hex(b, offset);
    if (file) {
        buf_str(b, ", ");
        buf_str(b, file);
        buf_str(b, ":");
        buf_u64(b, line);
    }
    buf_str(b, "\n");
    buf_flush(b, 2);
}

/* Prints frame n, function func at wasm offset `offset` (file:line), then,
 * if `inlined` (encoded levels, see struct trap_site) is not NULL, one frame
 * per level it was inlined through: each level's call, in the function of
 * the next level out, the last one in `outer`, the function whose native
 * frame this is. Returns the number of the next frame. */
static unsigned frame_lines(struct kiln_buf *b, unsigned n, const struct kiln_module *m, uint32_t func,
                            uint32_t offset, const char *file, uint32_t line, const uint8_t *inlined, uint32_t outer) {
    frame_line(b, n++, m, func, offset, file, line);
    if (!inlined) return n;
    const uint8_t *p = inlined;
    uint64_t levels = uleb(&p);
    for (uint64_t i = 0; i < levels; i++) {
        uleb(&p); /* this level's function: printed already */
        uint32_t call = (uint32_t)uleb(&p);
        uint64_t source = uleb(&p);
        uint32_t holder = outer;
        if (i + 1 < levels) {
            const uint8_t *q = p;
            holder = (uint32_t)uleb(&q);
        }
        frame_line(b, n++, m, holder, call, source ? m->source_lines[source - 1].file : 0,
                   source ? m->source_lines[source - 1].line : 0);
    }
    return n;
}

/* The first level's function of encoded inlining levels: the function
 * whose wasm code is at the innermost position. */
static uint32_t innermost(const uint8_t *inlined) {
    uleb(&inlined);
    return (uint32_t)uleb(&inlined);
}

/* Prints the wasm frames below the trapping one by following the frame
 * pointer chain, which every Cranelift frame keeps. Only addresses inside
 * the wasm stack are read, so a corrupt chain ends the walk rather than
 * faulting in the handler; it also ends at the first return address that is
 * not a call site in generated code (the runtime's frames). A native frame
 * whose code was inlined from other functions prints one line per wasm
 * function (see frame_lines), so the backtrace is the wasm call stack. */
#define MAX_FRAMES 32

/* Frame 0 is given (the trapping instruction, or the call into the
 * runtime, with its inlining levels and the function `outer` holding its
 * code); fp is the frame pointer of the wasm frame that holds it. */
static void backtrace(struct kiln_text *text, const struct kiln_module *m, uint32_t func, uint32_t offset, const char *file,
                      uint32_t line, const uint8_t *inlined, uint32_t outer, uintptr_t fp) {
    struct kiln_buf b = {.len = 0, .text = text};
    buf_str(&b, "wasm backtrace:\n");
    unsigned n = frame_lines(&b, 0, m, func, offset, file, line, inlined, outer);
    while (kiln_wasm_stack_contains(fp) && (fp & 7) == 0) {
        uintptr_t next = ((uintptr_t *)fp)[0], ret = ((uintptr_t *)fp)[1];
        struct kiln_call_info c;
        if (!kiln_call_lookup(ret, &c)) break;
        if (n >= MAX_FRAMES) {
            /* Deep recursion (stack exhaustion): the count depends on frame
             * sizes, which differ between targets, so it is not printed. */
            buf_str(&b, "    ... more frames\n");
            buf_flush(&b, 2);
            break;
        }
        const uint8_t *inl = inlined_call(c.module, ret);
        n = frame_lines(&b, n, c.module, inl ? innermost(inl) : c.func_index, c.wasm_offset, c.file, c.line, inl,
                        c.func_index);
        if (next <= fp) break; /* frames grow towards higher addresses */
        fp = next;
    }
}

/* ", in function NAME (#i) at wasm offset 0x..[ of MODULE]" */
static void location(struct kiln_buf *b, const struct kiln_module *m, uint32_t func, uint32_t offset) {
    const char *name = func_name(m, func);
    if (func == UINT32_MAX) {
        /* Generated instantiation code: the offset is the segment's. */
        buf_str(b, ", during instantiation");
    } else if (name) {
        buf_str(b, ", in function ");
        buf_str(b, name);
        buf_str(b, " (#");
        buf_u64(b, func);
        buf_str(b, ")");
    } else {
        buf_str(b, ", in function #");
        buf_u64(b, func);
    }
    buf_str(b, " at wasm offset ");
    buf_hex(b, offset);
    if (kiln_module_count > 1) {
        buf_str(b, " of ");
        buf_str(b, m->name);
    }
}

/* Writes a trap's line and wasm backtrace to `text`, or stderr if NULL. */
static void format_trap(struct kiln_text *text, uint32_t kind, const struct trap_site *e, uintptr_t fp) {
    struct kiln_buf b = {.len = 0, .text = text};
    buf_str(&b, "kiln: wasm trap: ");
    buf_str(&b, kind < KILN_TRAP_KIND_COUNT ? kiln_trap_messages[kind] : "unknown trap");
    if (e) location(&b, e->module, e->func_index, e->wasm_offset);
    buf_str(&b, "\n");
    buf_flush(&b, 2);
    if (e && fp) backtrace(text, e->module, e->func_index, e->wasm_offset, e->file, e->line, e->inlined, e->outer, fp);
}

/* Ends a report. An executable exits with `status`. In an embedding the
 * report went into the running instance's message (`inst`), and the
 * instance's export call returns `outcome` to the host instead: nothing
 * of the host is touched, and the instance stays usable. */
static KILN_NORETURN void finish(struct kiln_instance *inst, int status, uint32_t outcome) {
#ifdef KILN_EMBED
    if (inst) kiln_embed_unwind(inst, outcome);
#else
    (void)inst;
    (void)outcome;
#endif
    os_exit(status);
}

static KILN_NORETURN void report(uint32_t kind, const struct trap_site *e, uintptr_t fp) {
    format_trap(0, kind, e, fp);
    os_exit(KILN_TRAP_EXIT_STATUS);
}

void kiln_wasm_caller(uintptr_t *ret, uintptr_t *fp) {
    struct kiln_call_info c;
    /* A WASI function is entered through its host adapter, a generated
     * frame (with a frame pointer, like every Cranelift frame) that makes
     * no recorded call: one step up reaches the wasm caller. The frame
     * pointer is followed only inside the wasm stack. */
    for (int i = 0; i < 2 && !kiln_call_lookup(*ret, &c); i++) {
        uintptr_t f = *fp;
        if (!(kiln_wasm_stack_contains(f) && (f & 7) == 0)) return;
        *ret = ((uintptr_t *)f)[1];
        *fp = ((uintptr_t *)f)[0];
    }
}

void kiln_report_at_call(struct kiln_buf *b, uintptr_t ret, uintptr_t fp, int status) {
    kiln_wasm_caller(&ret, &fp);
    struct kiln_call_info c;
    bool found = kiln_call_lookup(ret, &c);
    const uint8_t *inl = found ? inlined_call(c.module, ret) : 0;
    uint32_t func = inl ? innermost(inl) : c.func_index;
    if (found) location(b, c.module, func, c.wasm_offset);
    buf_str(b, "\n");
    buf_flush(b, 2);
    if (found) backtrace(b->text, c.module, func, c.wasm_offset, c.file, c.line, inl, c.func_index, fp);
    finish(kiln_running_instance(), status, status == KILN_TRAP_EXIT_STATUS ? KILN_OUTCOME_TRAP : KILN_OUTCOME_ERROR);
}

void kiln_wasm_call_error(const char *msg, uint64_t value, uintptr_t ret, uintptr_t caller_fp) {
    struct kiln_buf b = {.len = 0, .text = kiln_report_text()};
    buf_str(&b, "kiln: error: ");
    buf_str(&b, msg);
    buf_str(&b, ": ");
    buf_u64(&b, value);
    kiln_report_at_call(&b, ret, caller_fp, 1);
}

void kiln_trap_report(uint32_t kind, uintptr_t pc) {
    struct trap_site site;
    report(kind, trap_lookup(pc, &site) ? &site : 0, 0);
}

void kiln_fatal(const char *msg, const char *detail) {
    struct kiln_buf b = {.len = 0, .text = kiln_report_text()};
    buf_str(&b, "kiln: ");
    buf_str(&b, msg);
    if (detail) {
        buf_str(&b, ": ");
        buf_str(&b, detail);
    }
    buf_str(&b, "\n");
    buf_flush(&b, 2);
    finish(kiln_running_instance(), 1, KILN_OUTCOME_ERROR);
}

#ifndef KILN_EMBED
static void restore_default(int sig) {
    struct k_sigaction sa = {0};
    os_sigaction(sig, &sa, 0); /* SIG_DFL */
}
#endif

/* Set only while kiln_probe_instruction runs a probe. */
static kiln_jmpbuf *probe_catcher;

bool kiln_probe_instruction(void (*fn)(void)) {
    kiln_jmpbuf jb;
    if (kiln_arch_setjmp(&jb) == 0) {
        probe_catcher = &jb;
        fn();
        probe_catcher = 0;
        return true;
    }
    probe_catcher = 0;
    return false;
}

/* Whether addr lies in the reservation of some guarded linear memory.
 * Explicit memories are left out on purpose: generated code checks every
 * access to them before making it, so a fault there means the check is
 * wrong, and that must crash rather than pass for a wasm trap. */
#ifndef KILN_EMBED
bool kiln_in_reservation(const struct kiln_memory *mem, uintptr_t addr) {
    if (mem->flags & KILN_MEMORY_FLAG_EXPLICIT) return false;
    uintptr_t base = (uintptr_t)mem->base;
    return base && addr >= base && addr - base < KILN_MEMORY_RESERVATION;
}

/* The memories: each module's defined ones, those it imports from the
 * runtime (host_memories: a wasi-threads program's shared memory), and
 * the defined memories of spawned threads' instances. */
static bool in_memory_reservation(uintptr_t addr) {
    for (uint32_t i = 0; i < kiln_module_count; i++) {
        const struct kiln_module *m = kiln_modules[i];
        for (uint32_t j = 0; j < m->n_memories; j++)
            if (kiln_in_reservation(kiln_vmctx_memory(m->vmctx, j), addr)) return true;
        for (uint32_t j = 0; j < m->n_host_memories; j++)
            if (kiln_in_reservation(&m->host_memories[j], addr)) return true;
    }
    return kiln_threads_active && kiln_threads_in_reservation(addr);
}
#endif

/* Installs h for every trap signal: SA_SIGINFO for the ucontext,
 * SA_ONSTACK for an alternate stack where the thread has one, SA_NODEFER
 * so that a trap unwound out of the handler leaves the signal deliverable.
 * The actions replaced go to previous[sig] when previous is given.
 * Returns 0, or the first error. */
static long install_handler(void (*h)(int, void *, void *), struct k_sigaction *previous) {
    for (size_t i = 0; i < sizeof trap_signals / sizeof trap_signals[0]; i++) {
        struct k_sigaction sa = {0};
        sa.handler = h;
        sa.flags = K_SA_SIGINFO | K_SA_ONSTACK | K_SA_NODEFER;
#if KILN_ARCH_NEEDS_RESTORER
        sa.flags |= K_SA_RESTORER;
        sa.restorer = kiln_arch_restorer;
#endif
        int sig = trap_signals[i];
        long r = os_sigaction(sig, &sa, previous ? &previous[sig] : 0);
        if (r != 0) return r;
    }
    return 0;
}

#ifdef KILN_EMBED
/* The actions that were installed before ours, to chain to. */
static struct k_sigaction previous[32];

/* Hands a fault that is not ours to whoever handled it before: the host
 * program, another Kiln library, or the default action (by reinstalling
 * it and returning, so the instruction faults again and kills the process
 * as it would have without us). */
static void chain(int sig, void *info, void *uc) {
    struct k_sigaction *old = &previous[sig];
    if ((uintptr_t)old->handler <= 1 /* SIG_DFL, SIG_IGN */) {
        os_sigaction(sig, old, 0);
        return;
    }
    if (old->flags & K_SA_SIGINFO) old->handler(sig, info, uc);
    else ((void (*)(int))(uintptr_t)old->handler)(sig);
}

/* Whether addr lies in the reservation of one of inst's guarded memories
 * (see in_memory_reservation for why explicit memories are left out). */
static bool in_instance_memory(struct kiln_instance *inst, uintptr_t addr) {
    const struct kiln_module *m = kiln_vmctx_module(inst->vmctx);
    for (uint32_t j = 0; j < m->n_memories; j++) {
        const struct kiln_memory *mem = kiln_vmctx_memory(inst->vmctx, j);
        if (mem->flags & KILN_MEMORY_FLAG_EXPLICIT) continue;
        uintptr_t base = (uintptr_t)mem->base;
        if (base && addr >= base && addr - base < KILN_MEMORY_RESERVATION) return true;
    }
    return false;
}

/* SANDBOX-CRITICAL (embedding). The process is the host's: a fault is
 * claimed only if (1) its PC is in this library's trap table, (2) the
 * interrupted stack pointer is on the wasm stack of one of this library's
 * instances that is running an export call, so the fault happened in that
 * call, and (3) for SIGSEGV/SIGBUS, the address is inside that instance's
 * guarded memory. Then the trap and its backtrace go into the instance's
 * message and the export call returns KILN_EMBED_TRAP: everything between
 * its recovery point and here is wasm frames (and host imports the wasm
 * called, which the host wrote to be unwound through, as documented).
 * Every other fault belongs to someone else and is chained. */
static void handler(int sig, void *info, void *uc) {
    uintptr_t pc = *kiln_uc_pc(uc);
    struct trap_site site;
    const struct trap_site *e = trap_lookup(pc, &site) ? &site : 0;
    struct kiln_instance *inst = e ? kiln_instance_on_stack(*kiln_uc_sp(uc)) : 0;
    if (inst && (sig == K_SIGSEGV || sig == K_SIGBUS)) {
        uintptr_t addr = *(uintptr_t *)((char *)info + 16); /* si_addr */
        if (!in_instance_memory(inst, addr)) inst = 0;
    }
    if (!inst) {
        chain(sig, info, uc);
        return;
    }
    inst->trap_kind = e->kind;
    inst->message.len = 0;
    format_trap(&inst->message, e->kind, e, *kiln_uc_fp(uc));
    kiln_embed_unwind(inst, KILN_OUTCOME_TRAP);
}

/* Installed once per library, by the first instance created. No
 * alternate stack: sigaltstack is per thread and the threads are the
 * host's. A trap's handler runs on the instance's wasm stack, whose
 * stack limit keeps KILN_EMBED_HOST_STACK_RESERVE bytes free for it. */
void kiln_signals_install(void) {
    install_handler(handler, previous);
}
#else
static void handler(int sig, void *info, void *uc) {
    if (sig == K_SIGILL && probe_catcher) kiln_arch_longjmp(probe_catcher, 1);
    uintptr_t pc = *kiln_uc_pc(uc);
    struct trap_site site;
    const struct trap_site *e = trap_lookup(pc, &site) ? &site : 0;
    /* A memory fault is a wasm trap only if it hit a linear memory's guard
     * region: a load or store of generated code that faults anywhere else
     * means Kiln's code generation is wrong, and must crash, not trap. */
    if (e && (sig == K_SIGSEGV || sig == K_SIGBUS)) {
        uintptr_t addr = *(uintptr_t *)((char *)info + 16); /* si_addr */
        if (!in_memory_reservation(addr)) e = 0;
    }
    if (!e) {
        /* Not generated code faulting by design: let the real crash happen. */
        restore_default(sig);
        return;
    }
    if (kiln_trap_catcher) {
        /* Test-driver mode: unwind to the recovery point. Everything between
         * it and here is wasm frames (and this handler), which hold no
         * runtime state that needs cleaning up. */
        kiln_jmpbuf *c = kiln_trap_catcher;
        kiln_trap_catcher = 0;
        kiln_arch_longjmp(c, (int)e->kind);
    }
    report(e->kind, e, *kiln_uc_fp(uc));
}

void kiln_signals_install(void) {
    /* From rt_alloc's fresh mmap, not .bss: its pages are touched only
     * when a signal arrives, and in .bss it would push the runtime's hot
     * variables onto more pages (a fault each at start-up). */
    kiln_signal_stack_install(rt_alloc(KILN_SIGNAL_STACK_SIZE));
    if (install_handler(handler, 0) != 0) kiln_fatal("cannot install signal handler", 0);
}

void kiln_signal_stack_install(void *base) {
    struct k_stack ss = {.sp = base, .flags = 0, .size = KILN_SIGNAL_STACK_SIZE};
    os_sigaltstack(&ss, 0);
}
#endif
