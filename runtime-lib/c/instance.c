/* instance.c: instantiating modules and linking them by name.
 *
 * An instance is one VMContext block (kiln-abi's VmOffsets): the pointer
 * arrays generated code loads through, then the instance's own memories,
 * tables, tags, funcrefs and segments. Each module of an executable has
 * exactly one instance, the block the compiler emitted. A command's
 * imports are bound at compile time; an executable built from
 * several modules (the spec-test driver) resolves each module's imports
 * here, against the exports of instances registered under a name, with the
 * spec's import-matching rules: function signatures by canonical id, global
 * types exactly, and memory and table limits by subtyping against the
 * exporter's *current* size.
 */
#include "kiln_rt.h"

kiln_jmpbuf *kiln_trap_catcher;
struct kiln_memory *kiln_mirror_request;

struct kiln_wasi *kiln_wasi_of(void *vmctx) {
    return ((struct kiln_vmctx_header *)vmctx)->instance->wasi;
}

#ifndef KILN_EMBED
/* An executable's instances all run on the one wasm stack start.c made,
 * and share its WASI context (made before any instance). */
struct kiln_instance *kiln_instance_static(const struct kiln_module *m) {
    struct kiln_vmctx_header *h = (struct kiln_vmctx_header *)m->vmctx;
    if (!h->instance) {
        struct kiln_instance *inst = rt_alloc(sizeof *inst);
        inst->vmctx = m->vmctx;
        inst->wasi = kiln_process_wasi;
        inst->stack_limit = kiln_proc.stack_limit;
        inst->stack_lo = kiln_proc.stack_lo;
        inst->stack_hi = kiln_proc.stack_hi;
        h->instance = inst;
    }
    return h->instance;
}

bool kiln_wasm_stack_contains(uintptr_t fp) {
    if (fp >= kiln_proc.stack_lo && fp + 16 <= kiln_proc.stack_hi) return true;
    return kiln_threads_active && kiln_threads_stack_contains(fp);
}

/* proc_exit ends an executable. */
void kiln_exit(void *vmctx, int status) {
    (void)vmctx;
    os_exit(status);
}

/* An executable reports on stderr and exits. */
struct kiln_instance *kiln_running_instance(void) { return 0; }
struct kiln_text *kiln_report_text(void) { return 0; }

/* The embedding API, for an executable's `--link` objects (the library
 * flavour is embed.c): host imports may call exports and read memory of
 * the one instance. A trap in such a call ends the process, as any trap
 * of an executable does; an executable has no other instances to make. */
uint32_t kiln_api_call(struct kiln_instance *inst, uint32_t index, uint64_t *values) {
    const struct kiln_module *m = kiln_vmctx_module(inst->vmctx);
    if (index >= m->n_exports || m->exports[index].kind != KILN_EXTERN_FUNC || !m->exports[index].trampoline)
        return KILN_OUTCOME_ERROR;
    ((kiln_array_call)m->exports[index].trampoline)(inst->vmctx, inst->vmctx, values);
    return KILN_OUTCOME_OK;
}
void *kiln_api_export(struct kiln_instance *inst, uint32_t index) {
    const struct kiln_module *m = kiln_vmctx_module(inst->vmctx);
    return index < m->n_exports ? kiln_export_entity(inst->vmctx, &m->exports[index]) : 0;
}
uint32_t kiln_api_new(const void *config, struct kiln_instance **out) {
    (void)config;
    *out = 0;
    return KILN_OUTCOME_ERROR;
}
void kiln_api_free(struct kiln_instance *inst) { (void)inst; }
const char *kiln_api_message(const struct kiln_instance *inst) { (void)inst; return ""; }
uint32_t kiln_api_trap_kind(const struct kiln_instance *inst) { (void)inst; return 0; }
int kiln_api_exit_code(const struct kiln_instance *inst) { (void)inst; return 0; }
void *kiln_api_user_data(const struct kiln_instance *inst) { (void)inst; return 0; }
#endif

#define MAX_REGISTERED 256
/* Allocated at the first `register` (test driver only; see driver.c on
 * keeping .bss small). */
static struct registration {
    const char *name;
    size_t len;
    uint8_t *vmctx;
} *registry;
static uint32_t n_registered;

void kiln_register(const char *name, size_t len, uint8_t *vmctx) {
    if (!registry) registry = rt_alloc(MAX_REGISTERED * sizeof *registry);
    for (uint32_t i = 0; i < n_registered; i++)
        if (registry[i].len == len && memcmp(registry[i].name, name, len) == 0) {
            registry[i].vmctx = vmctx;
            return;
        }
    if (n_registered == MAX_REGISTERED) kiln_fatal("too many registered modules", name);
    registry[n_registered].name = name;
    registry[n_registered].len = len;
    registry[n_registered].vmctx = vmctx;
    n_registered++;
}

const struct kiln_export *kiln_find_export(const struct kiln_module *m, const char *name, size_t len) {
    for (uint32_t i = 0; i < m->n_exports; i++)
        if (m->exports[i].name_len == len && memcmp(m->exports[i].name, name, len) == 0) return &m->exports[i];
    return 0;
}

void *kiln_export_entity(uint8_t *vmctx, const struct kiln_export *e) {
    return e->indirect ? *(void **)(vmctx + e->offset) : vmctx + e->offset;
}

static int limits_match(uint64_t cur, uint64_t declared_max, uint64_t min, uint64_t max) {
    if (cur < min) return 0;
    if (max == KILN_NO_MAX) return 1;
    return declared_max != KILN_NO_MAX && declared_max <= max;
}

/* Import matching of reference types, coded as kiln_abi::HEAP_CONCRETE
 * describes. Kiln compiles no declared supertypes, so a concrete function
 * type's only supertypes are itself and `func`, its only proper subtype
 * `nofunc`; equal canonical ids are equal types. */
static int is_reftype(uint32_t code) {
    uint32_t h = code & 0xff;
    return !(h == 0x7f || h == 0x7e || h == 0x7d || h == 0x7c || h == 0x7b);
}

/* The top of a heap type's hierarchy: func, extern or exn. */
static uint32_t heap_top(uint32_t h) {
    if (h == 0x73 || h == KILN_HEAP_CONCRETE) return 0x70;
    if (h == 0x72) return 0x6f;
    if (h == 0x74) return 0x69;
    return h;
}

/* Whether reference type (a, a_id) is a subtype of (b, b_id). */
static int ref_subtype(uint32_t a, uint64_t a_id, uint32_t b, uint64_t b_id) {
    /* (ref null ht) is never a subtype of a non-nullable type. */
    if ((b & KILN_REF_NON_NULL) && !(a & KILN_REF_NON_NULL)) return 0;
    uint32_t ha = a & 0xff, hb = b & 0xff;
    if (ha == hb) return ha != KILN_HEAP_CONCRETE || a_id == b_id;
    if (heap_top(ha) != heap_top(hb)) return 0;
    /* b is the top of the hierarchy, or a its bottom. */
    return hb == heap_top(hb) || ha == 0x73 || ha == 0x72 || ha == 0x74;
}

void kiln_vmctx_copy(uint8_t *dst, const uint8_t *image, const struct kiln_module *m) {
    /* SANDBOX-CRITICAL: the copy must not share anything mutable with the
     * image or another instance. Every pointer of the block that points
     * into the block is in `fixups` (relative to the emitted block, which
     * the image is a byte copy of) and is moved to the copy; the others
     * point at immutable data (code, names, data segment bytes, the
     * descriptor), at what the instances share on purpose (a command's
     * host memories), or are filled in by the caller and instantiation. */
    memcpy(dst, image, m->vmctx_size);
    uintptr_t delta = (uintptr_t)dst - (uintptr_t)m->vmctx;
    for (uint32_t i = 0; i < m->n_fixups; i++) *(uintptr_t *)(dst + m->fixups[i]) += delta;
}

const char *kiln_link(uint8_t *vmctx) {
    const struct kiln_module *m = kiln_vmctx_module(vmctx);
    for (uint32_t i = 0; i < m->n_imports; i++) {
        const struct kiln_import *imp = &m->imports[i];
        uint8_t *from = 0;
        for (uint32_t r = 0; r < n_registered; r++)
            if (registry[r].len == imp->module_len && memcmp(registry[r].name, imp->module, imp->module_len) == 0)
                from = registry[r].vmctx;
        if (!from) return "unknown import";
        const struct kiln_export *e = kiln_find_export(kiln_vmctx_module(from), imp->name, imp->name_len);
        if (!e) return "unknown import";
        if (e->kind != imp->kind) return "incompatible import type";
        void *entity = kiln_export_entity(from, e);
        /* A re-exported import of a module that was never linked. */
        if (!entity) return "unknown import";
        switch (imp->kind) {
        case KILN_EXTERN_FUNC:
            if (((const struct kiln_funcref *)entity)->type_id != imp->type_id) return "incompatible import type";
            break;
        case KILN_EXTERN_GLOBAL:
            /* A mutable global's type must be equal, an immutable one's a
             * subtype (only reference types have proper subtypes). */
            if (imp->type & 0x100 || !is_reftype(imp->type)) {
                if (e->type != imp->type || e->type_id != imp->type_id) return "incompatible import type";
            } else if ((e->type & 0x100) || !ref_subtype(e->type, e->type_id, imp->type, imp->type_id)) {
                return "incompatible import type";
            }
            break;
        case KILN_EXTERN_TAG:
            /* The slot receives the exporter's kiln_tag itself: tags are
             * compared by identity when exceptions are caught. */
            if (((const struct kiln_tag *)entity)->type_id != imp->type_id) return "incompatible import type";
            break;
        case KILN_EXTERN_MEMORY: {
            const struct kiln_memory *mem = entity;
            /* Index type and page size must be equal (the type word holds
             * both); limits are matched in pages of that size. */
            if (e->type != imp->type || !limits_match(mem->length >> mem->page_size_log2, mem->declared_max, imp->min, imp->max))
                return "incompatible import type";
            break;
        }
        case KILN_EXTERN_TABLE: {
            const struct kiln_table *t = entity;
            /* Table element types must be equal. */
            if (e->type != imp->type || e->type_id != imp->type_id ||
                !limits_match(t->size, t->declared_max, imp->min, imp->max))
                return "incompatible import type";
            break;
        }
        default:
            return "unknown import kind";
        }
        *(void **)(vmctx + imp->slot) = entity;
    }
    return 0;
}

bool kiln_trap_recovery;

uint32_t kiln_call_catching(void *fn, void *vmctx, uint64_t *values) {
    uint64_t scratch[2] __attribute__((aligned(16))) = {0, 0};
    if (!values) values = scratch;
    if (!kiln_trap_recovery) {
        ((kiln_array_call)fn)(vmctx, vmctx, values);
        return 0;
    }
    kiln_jmpbuf jb;
    kiln_jmpbuf *volatile outer = kiln_trap_catcher;
    int kind = kiln_arch_setjmp(&jb);
    if (kind == 0) {
        kiln_trap_catcher = &jb;
        ((kiln_array_call)fn)(vmctx, vmctx, values);
        kiln_trap_catcher = outer;
        return 0;
    }
    kiln_trap_catcher = outer;
    return (uint32_t)kind;
}

uint32_t kiln_instantiate(uint8_t *vmctx) {
    const struct kiln_module *m = kiln_vmctx_module(vmctx);
    if (m->abi_version != KILN_ABI_VERSION) kiln_fatal("module compiled for another runtime ABI", m->name);
    struct kiln_vmctx_header *h = (struct kiln_vmctx_header *)vmctx;
    h->stack_limit = h->instance->stack_limit;
    /* The memories a command imports are the runtime's to provide, once:
     * later instances (spawned threads) share them. */
    for (uint32_t i = 0; i < m->n_host_memories; i++)
        if (!m->host_memories[i].base) {
            kiln_memory_setup(&m->host_memories[i]);
            if (&m->host_memories[i] == kiln_mirror_request) kiln_memory_mirror(&m->host_memories[i]);
        }
    for (uint32_t i = 0; i < m->n_memories; i++) {
        struct kiln_memory *mem = kiln_vmctx_memory(vmctx, i);
        kiln_memory_setup(mem);
        /* Before any data segment is written: mirroring remaps the pages. */
        if (mem == kiln_mirror_request) kiln_memory_mirror(mem);
    }
    for (uint32_t i = 0; i < m->n_tables; i++) kiln_table_setup(kiln_vmctx_table(vmctx, i));
    uint32_t trap = kiln_call_catching(m->init, vmctx, 0);
    if (trap) return trap;
    if (m->start) return kiln_call_catching(m->start, vmctx, 0);
    return 0;
}
