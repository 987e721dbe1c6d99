/* driver.c: the test-driver mode, used by the spec-test runner.
 *
 * An executable compiled with the driver flag runs no command. It reads
 * requests from stdin, one per line, and answers each with one line on
 * stdout, recovering from traps so one script can go on after a trap:
 *
 *   instantiate K            -> ok | trap KIND | unlinkable MESSAGE
 *   register K HEXNAME       -> ok
 *   invoke K HEXNAME ARG...  -> ok RESULT... | trap KIND
 *   get K HEXNAME            -> ok VALUE
 *   set K HEXNAME VALUE      -> ok
 *   addr K HEXNAME           -> ok POINTER
 *   dump K HEXNAME           -> ok SIZE HASH
 *
 * K is a module index in this executable, names are hex-encoded bytes, and
 * values are hexadecimal bit patterns (i32 and f32 in the low 32 bits;
 * references as the pointer-sized value, 0 for null; a v128 as `LO:HI`, its
 * bytes 0-7 and 8-15 as two little-endian 64-bit numbers). Anything
 * malformed is answered with `error MESSAGE`. Comparing results is the
 * runner's job.
 *
 * `set`, `addr` and `dump` serve the differential fuzzer (fuzz/), which
 * refills a fuel global before each call and must see the state a call
 * leaves behind. `set` stores into an exported mutable global. `addr`
 * answers the entity of any export (for a function, its kiln_funcref
 * pointer: what `ref.func`, tables, globals and results hold, so the
 * runner can map those to functions).
 * `dump` summarises an exported memory (SIZE in bytes, HASH over its
 * bytes) or table (SIZE in elements, HASH over its 8-byte elements, each
 * taken least significant byte first); HASH is 64-bit FNV-1a.
 */
#include "kiln_rt.h"

#define MAX_VALUES 1024
/* The driver's buffers come from rt_alloc when it starts (zero-filled),
 * not from .bss: a command never touches them, and in .bss they would
 * spread its few hot variables over more pages (a fault each at start-up).
 * values: 16-byte slots, aligned for the v128 loads and stores of
 * trampolines (rt_alloc aligns to 16). */
static uint64_t *values;
static uint8_t *instantiated;
#define INSTANTIATED_MAX 4096u
static char *name_buf;
#define NAME_MAX_LEN 4096u

static void reply(struct kiln_buf *b) {
    buf_str(b, "\n");
    buf_flush(b, 1);
}

static void error(const char *msg) {
    struct kiln_buf b = {.len = 0};
    buf_str(&b, "error ");
    buf_str(&b, msg);
    reply(&b);
}

static const char *skip_spaces(const char *p) {
    while (*p == ' ') p++;
    return p;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses a hex number; returns the end, or NULL if there is none. */
static const char *parse_hex(const char *p, uint64_t *out) {
    p = skip_spaces(p);
    uint64_t v = 0;
    const char *s = p;
    while (hexval(*p) >= 0) v = v * 16 + (uint64_t)hexval(*p++);
    if (p == s) return 0;
    *out = v;
    return p;
}

/* Decodes a hex-encoded name into a static buffer; *len gets its length.
 * Returns NULL for a name that is too long or not whole bytes of hex. */
static const char *parse_name(const char **pp, size_t *len) {
    char *name = name_buf;
    const char *p = skip_spaces(*pp);
    size_t n = 0;
    while (hexval(p[0]) >= 0 && hexval(p[1]) >= 0) {
        if (n + 1 >= NAME_MAX_LEN) return 0;
        name[n++] = (char)(hexval(p[0]) * 16 + hexval(p[1]));
        p += 2;
    }
    if (*p != 0 && *p != ' ') return 0;
    name[n] = 0;
    *pp = p;
    *len = n;
    return name;
}

static const struct kiln_module *parse_module(const char **pp) {
    uint64_t k;
    const char *p = parse_hex(*pp, &k);
    if (!p || k >= kiln_module_count) return 0;
    *pp = p;
    return kiln_modules[k];
}

static int is_32bit(char c) { return c == 'i' || c == 'f'; }

/* Parses one value of signature type `t` into a 16-byte slot. */
static const char *parse_value(const char *p, char t, uint64_t *slot) {
    uint64_t lo, hi = 0;
    p = parse_hex(p, &lo);
    if (p && t == 'v') {
        if (*p != ':') return 0;
        p = parse_hex(p + 1, &hi);
    }
    slot[0] = is_32bit(t) ? (uint32_t)lo : lo;
    slot[1] = hi;
    return p;
}

/* Prints the value of type `t` in a 16-byte slot. */
static void print_value(struct kiln_buf *b, char t, const uint64_t *slot) {
    buf_hex(b, is_32bit(t) ? (uint32_t)slot[0] : slot[0]);
    if (t == 'v') {
        buf_str(b, ":");
        buf_hex(b, slot[1]);
    }
}

/* Only instantiated modules may run code or be registered: an instance that
 * was never set up has no memory and no stack limit. */
static bool live(const struct kiln_module *m) { return m->index < INSTANTIATED_MAX && instantiated[m->index] == 1; }

static void do_invoke(const struct kiln_module *m, const char *p) {
    size_t len;
    const char *name = parse_name(&p, &len);
    if (!name) return error("bad name");
    const struct kiln_export *e = kiln_find_export(m, name, len);
    if (!e || e->kind != KILN_EXTERN_FUNC || !e->trampoline) return error("no such function export");
    const char *sig = e->signature;
    const char *colon = sig;
    while (*colon != ':') colon++;
    size_t np = (size_t)(colon - sig), nr = strlen(colon + 1);
    if (np > MAX_VALUES || nr > MAX_VALUES) return error("too many values");
    for (size_t i = 0; i < np; i++) {
        p = parse_value(p, sig[i], &values[2 * i]);
        if (!p) return error("missing argument");
    }
    uint32_t trap = kiln_call_catching(e->trampoline, m->vmctx, values);
    struct kiln_buf b = {.len = 0};
    if (trap) {
        buf_str(&b, "trap ");
        buf_u64(&b, trap);
        return reply(&b);
    }
    buf_str(&b, "ok");
    for (size_t i = 0; i < nr; i++) {
        buf_str(&b, " ");
        print_value(&b, colon[1 + i], &values[2 * i]);
        if (b.len > sizeof b.data - 48) buf_flush(&b, 1);
    }
    reply(&b);
}

static void do_get(const struct kiln_module *m, const char *p) {
    size_t len;
    const char *name = parse_name(&p, &len);
    if (!name) return error("bad name");
    const struct kiln_export *e = kiln_find_export(m, name, len);
    if (!e || e->kind != KILN_EXTERN_GLOBAL) return error("no such global export");
    const uint8_t *cell = kiln_export_entity(m->vmctx, e);
    uint32_t ty = e->type & 0xff;
    /* Global cells are 16 bytes; the value type says how many are used. */
    uint64_t v[2] = {0, 0};
    char t = ty == 0x7f || ty == 0x7d ? 'i' : ty == 0x7b ? 'v' : 'I';
    memcpy(v, cell, t == 'i' ? 4 : t == 'v' ? 16 : 8);
    struct kiln_buf b = {.len = 0};
    buf_str(&b, "ok ");
    print_value(&b, t, v);
    reply(&b);
}

static void do_set(const struct kiln_module *m, const char *p) {
    size_t len;
    const char *name = parse_name(&p, &len);
    if (!name) return error("bad name");
    const struct kiln_export *e = kiln_find_export(m, name, len);
    if (!e || e->kind != KILN_EXTERN_GLOBAL || !(e->type & 0x100)) return error("no such mutable global export");
    uint64_t v;
    if (!parse_hex(p, &v)) return error("missing value");
    uint8_t *cell = kiln_export_entity(m->vmctx, e);
    uint32_t ty = e->type & 0xff;
    if (ty == 0x7f || ty == 0x7d) {
        uint32_t w = (uint32_t)v;
        memcpy(cell, &w, 4);
    } else {
        memcpy(cell, &v, 8);
    }
    struct kiln_buf b = {.len = 0};
    buf_str(&b, "ok");
    reply(&b);
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void do_addr_or_dump(const struct kiln_module *m, const char *p, bool dump) {
    size_t len;
    const char *name = parse_name(&p, &len);
    if (!name) return error("bad name");
    const struct kiln_export *e = kiln_find_export(m, name, len);
    if (!e) return error("no such export");
    const void *entity = kiln_export_entity(m->vmctx, e);
    struct kiln_buf b = {.len = 0};
    buf_str(&b, "ok ");
    if (!dump) {
        buf_hex(&b, (uint64_t)(uintptr_t)entity);
        return reply(&b);
    }
    uint64_t size, h = 0xcbf29ce484222325ull;
    if (e->kind == KILN_EXTERN_MEMORY) {
        const struct kiln_memory *mem = entity;
        size = mem->length;
        h = fnv1a(h, mem->base, size);
    } else if (e->kind == KILN_EXTERN_TABLE) {
        const struct kiln_table *t = entity;
        size = t->size;
        for (uint64_t i = 0; i < size; i++) {
            uint8_t le[8];
            for (int k = 0; k < 8; k++) le[k] = (uint8_t)(t->elements[i] >> (8 * k));
            h = fnv1a(h, le, 8);
        }
    } else {
        return error("not a memory or table export");
    }
    buf_hex(&b, size);
    buf_str(&b, " ");
    buf_hex(&b, h);
    reply(&b);
}

static void command(const char *line) {
    const char *p = line;
    const struct kiln_module *m;
    if (strncmp(p, "instantiate ", 12) == 0) {
        p += 12;
        if (!(m = parse_module(&p))) return error("bad module index");
        if (m->index >= INSTANTIATED_MAX) return error("too many modules");
        /* Once per module. Module 0's memory may be fixed (its address is
         * a constant in its code: compiler/src/translate/heap.rs); a second
         * instance would fail to reserve it and stop the driver. */
        if (instantiated[m->index]) return error("already instantiated");
        const char *why = kiln_link(m->vmctx);
        struct kiln_buf b = {.len = 0};
        if (why) {
            buf_str(&b, "unlinkable ");
            buf_str(&b, why);
            return reply(&b);
        }
        /* Marked before instantiating so it cannot be instantiated twice;
         * live only if instantiation completes (a trapping start function
         * leaves no usable instance, though its effects on shared memories
         * and tables remain, as the spec says). */
        instantiated[m->index] = 2;
        uint32_t trap = (kiln_instance_static(m), kiln_instantiate(m->vmctx));
        if (!trap) instantiated[m->index] = 1;
        if (trap) {
            buf_str(&b, "trap ");
            buf_u64(&b, trap);
        } else {
            buf_str(&b, "ok");
        }
        return reply(&b);
    }
    if (strncmp(p, "register ", 9) == 0) {
        p += 9;
        if (!(m = parse_module(&p))) return error("bad module index");
        if (!live(m)) return error("module is not instantiated");
        size_t len;
        const char *name = parse_name(&p, &len);
        if (!name) return error("bad name");
        char *copy = rt_alloc(len + 1);
        memcpy(copy, name, len + 1);
        kiln_register(copy, len, m->vmctx);
        struct kiln_buf b = {.len = 0};
        buf_str(&b, "ok");
        return reply(&b);
    }
    if (strncmp(p, "invoke ", 7) == 0) {
        p += 7;
        if (!(m = parse_module(&p))) return error("bad module index");
        if (!live(m)) return error("module is not instantiated");
        return do_invoke(m, p);
    }
    if (strncmp(p, "get ", 4) == 0) {
        p += 4;
        if (!(m = parse_module(&p))) return error("bad module index");
        if (!live(m)) return error("module is not instantiated");
        return do_get(m, p);
    }
    if (strncmp(p, "set ", 4) == 0) {
        p += 4;
        if (!(m = parse_module(&p))) return error("bad module index");
        if (!live(m)) return error("module is not instantiated");
        return do_set(m, p);
    }
    if (strncmp(p, "addr ", 5) == 0 || strncmp(p, "dump ", 5) == 0) {
        bool dump = p[0] == 'd';
        p += 5;
        if (!(m = parse_module(&p))) return error("bad module index");
        if (!live(m)) return error("module is not instantiated");
        return do_addr_or_dump(m, p, dump);
    }
    error("unknown command");
}

void kiln_driver_run(void) {
    kiln_trap_recovery = true;
    values = rt_alloc(2 * MAX_VALUES * sizeof *values);
    instantiated = rt_alloc(INSTANTIATED_MAX);
    name_buf = rt_alloc(NAME_MAX_LEN);
    /* Read all of stdin, then answer line by line. */
    size_t cap = 1 << 20, len = 0;
    char *in = rt_alloc(cap);
    for (;;) {
        if (len + 1 == cap) {
            char *bigger = rt_alloc(cap * 2);
            memcpy(bigger, in, len);
            in = bigger;
            cap *= 2;
        }
        long r = os_read(0, in + len, cap - len - 1);
        if (r == -K_EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
    }
    in[len] = 0;
    char *line = in;
    while (*line) {
        char *end = line;
        while (*end && *end != '\n') end++;
        int more = *end == '\n';
        *end = 0;
        if (*line) command(line);
        line = more ? end + 1 : end;
    }
    os_exit(0);
}
