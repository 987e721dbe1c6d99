/* unwind.c: wasm exceptions: exception objects, throwing and unwinding.
 *
 * SANDBOX-CRITICAL. Throwing transfers control into generated code at an
 * address taken from a table, with a stack pointer computed from a frame
 * pointer. The reasoning that keeps this inside the sandbox:
 *
 *   - Only frames of generated code are unwound. The walk starts at the
 *     return address of the call into kiln_rt_throw (a wasm call site) and
 *     follows the frame-pointer chain, which every Cranelift frame keeps
 *     ({caller's FP, return address} at [FP]). It stops at the first return
 *     address that is not a call site in some module's call-site table:
 *     that is the runtime frame that entered wasm (the entry trampoline, or
 *     the test driver's invoke). Frame pointers are read only while they
 *     lie inside the wasm stack and grow upwards, so a corrupt chain ends
 *     the walk instead of reading arbitrary memory.
 *   - A handler address comes only from the compiler's handler table for
 *     that very call site, and the stack pointer the handler runs with is
 *     FP - frame_offset, the SP Cranelift recorded for that call: exactly
 *     the state the frame was in when it made the call. Cranelift treats
 *     every register as clobbered on an exceptional edge, so nothing else
 *     needs restoring (kiln_arch_resume).
 *   - Handlers are tried in the order the compiler emitted them (wasm's
 *     clause order, innermost try first); a tag matches by identity, read
 *     from the catching module's VMContext, so an imported tag and its
 *     exporter's are the same tag and distinct tags never match.
 *   - An exception no frame catches is reported like a trap (message, wasm
 *     backtrace, status 134), or, in the test driver, returned to its
 *     recovery point as KILN_UNCAUGHT_EXCEPTION. It never escapes into
 *     runtime code as a jump.
 *
 * Exception objects are allocated here and owned by the runtime. An object
 * is freed only when no reference to it can exist any more: a catch or
 * catch_all handler, which delivers no exnref, calls kiln_rt_exn_free after
 * reading the payload, and the object goes back on a free list for its
 * payload size; but a catch_ref/catch_all_ref clause, or a legacy catch
 * (whose rethrow needs it), marks it KILN_EXN_ESCAPED first, and an
 * escaped object is never freed, since wasm may then keep it in any local,
 * global, table or other exception, which the runtime does not trace.
 * Freeing only never-escaped objects means no exnref can ever point at a
 * reused object. The payload cells are written by generated code before the
 * throw and read by handlers after it.
 */
#include "kiln_rt.h"

/* Free objects by payload size; larger ones are not reused. A free object's
 * first payload cell links to the next (every object has at least one cell
 * of room: see kiln_rt_exn_new). */
#define FREE_CLASSES 16
static struct kiln_exn *free_list[FREE_CLASSES];

/* Several threads throw at once (an embedding's instances, a program's
 * wasi-threads): a spin lock (held for a few instructions, never across a
 * fault) guards the lists. SANDBOX-CRITICAL: without it two threads could
 * pop the same object, and one would read the other's payload (a value
 * chosen by wasm) as its own, e.g. as a function reference. */
static uint32_t free_lock;
static void lock(void) { kiln_spin_lock(&free_lock); }
static void unlock(void) { kiln_spin_unlock(&free_lock); }

static struct kiln_exn **next_free(struct kiln_exn *e) {
    return (struct kiln_exn **)((uint8_t *)e + KILN_EXN_VALUES_OFFSET);
}

struct kiln_exn *kiln_rt_exn_new(const struct kiln_tag *tag) {
    uint32_t n = tag->n_values;
    lock();
    struct kiln_exn *e = n < FREE_CLASSES ? free_list[n] : 0;
    if (e) free_list[n] = *next_free(e);
    unlock();
    if (!e) {
        size_t cells = n ? n : 1; /* room for the free-list link */
        e = rt_alloc(KILN_EXN_VALUES_OFFSET + cells * KILN_GLOBAL_CELL_SIZE);
    }
    e->tag = tag;
    e->n_values = n;
    e->mark = 0;
    return e;
}

void kiln_rt_exn_free(struct kiln_exn *e) {
    if (e->mark == KILN_EXN_ESCAPED || e->n_values >= FREE_CLASSES) return;
    lock();
    *next_free(e) = free_list[e->n_values];
    free_list[e->n_values] = e;
    unlock();
}

/* The tag that handler `h` of a call site in module `m` catches, read
 * through the VMContext of the frame's instance. Frames of the thrower's
 * module belong to the thrower's instance: an exception never crosses a
 * host frame (an embedding's export call ends the walk), and an executable
 * has one instance per module, the one the compiler emitted. */
static const struct kiln_tag *handler_tag(const uint8_t *thrower, const struct kiln_module *m, const struct kiln_handler *h) {
    const uint8_t *vmctx = kiln_vmctx_module(thrower) == m ? thrower : m->vmctx;
    return *(const struct kiln_tag *const *)(vmctx + m->tags_offset + (size_t)h->tag * sizeof(void *));
}

static KILN_NORETURN void uncaught(struct kiln_exn *exn, uintptr_t ret, uintptr_t fp) {
    if (kiln_trap_catcher) {
        /* Test-driver mode: as for a trap, everything between the recovery
         * point and here is wasm frames and this function. */
        kiln_jmpbuf *c = kiln_trap_catcher;
        kiln_trap_catcher = 0;
        kiln_arch_longjmp(c, (int)KILN_UNCAUGHT_EXCEPTION);
    }
#ifdef KILN_EMBED
    /* An embedding: the export call that is running returns a trap. */
    struct kiln_instance *inst = kiln_running_instance();
    if (inst) inst->trap_kind = KILN_UNCAUGHT_EXCEPTION;
#endif
    struct kiln_buf b = {.len = 0, .text = kiln_report_text()};
    buf_str(&b, "kiln: wasm trap: uncaught exception");
    if (exn->tag->name) {
        buf_str(&b, " with tag ");
        buf_str(&b, exn->tag->name);
    }
    if (kiln_module_count > 1) {
        buf_str(&b, " of ");
        buf_str(&b, kiln_modules[exn->tag->module]->name);
    }
    kiln_report_at_call(&b, ret, fp, KILN_TRAP_EXIT_STATUS);
}

/* Finds the handler for `exn` starting at the wasm frame with frame
 * pointer `fp` whose call returned to `pc`, and enters it; never returns. */
static KILN_NORETURN void unwind(const uint8_t *vmctx, struct kiln_exn *exn, uintptr_t pc, uintptr_t fp) {
    uintptr_t throw_pc = pc, throw_fp = fp;
    for (;;) {
        struct kiln_call_info c;
        if (!kiln_call_lookup(pc, &c)) break; /* the runtime frame that entered wasm */
        for (uint32_t i = 0; i < c.n_handlers; i++) {
            const struct kiln_handler *h = &c.handlers[i];
            if (h->tag == KILN_CATCH_ALL || handler_tag(vmctx, c.module, h) == exn->tag)
                kiln_arch_resume((uintptr_t)h->pc, fp - c.frame_offset, fp, (uintptr_t)exn);
        }
        if (!(kiln_wasm_stack_contains(fp) && (fp & 7) == 0)) break;
        uintptr_t next = ((uintptr_t *)fp)[0];
        pc = ((uintptr_t *)fp)[1];
        if (next <= fp) break; /* frames grow towards higher addresses */
        fp = next;
    }
    uncaught(exn, throw_pc, throw_fp);
}

/* Called by generated code (throw, throw_ref, rethrow), so its return
 * address is the wasm call site of the throw and its caller's frame
 * pointer is that wasm frame's. */
__attribute__((noinline)) void kiln_rt_throw(void *vmctx, struct kiln_exn *exn) {
    unwind(vmctx, exn, (uintptr_t)__builtin_return_address(0), kiln_arch_caller_fp(__builtin_frame_address(0)));
}
