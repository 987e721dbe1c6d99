/* table.c: tables of references and the table operations.
 *
 * Elements are pointer-sized: a `struct kiln_funcref *` (NULL for
 * ref.null) or an externref value. Generated code reads `elements` and
 * `size` directly and bounds-checks every access against `size` itself;
 * these functions do the same for bulk operations before writing anything,
 * returning 0 or a trap kind.
 */
#include "kiln_rt.h"

/* Tables may not grow beyond this many elements (as in wasmtime's defaults,
 * a guard against a single table.grow asking for gigabytes). */
#define TABLE_LIMIT 10000000u

/* Element storage, all null (rt_zalloc), given back when the table grows
 * or its instance goes (an embedding's instance, a spawned thread's, which
 * a later thread's instance replaces). */
static uint64_t *elements_alloc(uint64_t n) {
    void *p = rt_zalloc((size_t)n * 8);
    if (!p) kiln_fatal("out of memory", "table elements");
    return p;
}

static void elements_free(uint64_t *e, uint64_t n) { rt_free(e, (size_t)n * 8); }

void kiln_table_release(struct kiln_table *t) {
    if (t->elements) elements_free(t->elements, t->capacity);
    t->elements = 0;
}

void kiln_table_setup(struct kiln_table *t) {
    if (t->min > TABLE_LIMIT) kiln_fatal("cannot instantiate", "a table's minimum size is over the limit of 10000000 elements");
    uint32_t cap = t->min ? t->min : 1;
    t->elements = elements_alloc(cap);
    t->capacity = cap;
    t->size = t->min;
}

uint32_t kiln_rt_table_grow(struct kiln_table *t, uint64_t init, uint32_t delta) {
    uint32_t old = t->size;
    uint64_t want = (uint64_t)old + delta;
    if (want > t->max || want > TABLE_LIMIT) return (uint32_t)-1;
    if (want > t->capacity) {
        uint64_t cap = t->capacity * 2ull;
        if (cap < want) cap = want;
        if (cap > TABLE_LIMIT) cap = TABLE_LIMIT;
        uint64_t *e = elements_alloc(cap);
        memcpy(e, t->elements, (size_t)old * 8);
        elements_free(t->elements, t->capacity);
        t->elements = e;
        t->capacity = (uint32_t)cap;
    }
    for (uint64_t i = old; i < want; i++) t->elements[i] = init;
    t->size = (uint32_t)want;
    return old;
}

uint32_t kiln_rt_table_fill(struct kiln_table *t, uint32_t dst, uint64_t val, uint32_t len) {
    if ((uint64_t)dst + len > t->size) return KILN_TRAP_TableOutOfBounds;
    for (uint32_t i = 0; i < len; i++) t->elements[dst + i] = val;
    return 0;
}

uint32_t kiln_rt_table_copy(struct kiln_table *dt, struct kiln_table *st, uint32_t dst, uint32_t src, uint32_t len) {
    if ((uint64_t)dst + len > dt->size || (uint64_t)src + len > st->size) return KILN_TRAP_TableOutOfBounds;
    memmove(dt->elements + dst, st->elements + src, (size_t)len * 8);
    return 0;
}

uint32_t kiln_rt_table_init(struct kiln_table *t, const struct kiln_segment *seg, uint32_t dst, uint32_t src, uint32_t len) {
    if ((uint64_t)src + len > seg->length || (uint64_t)dst + len > t->size) return KILN_TRAP_TableOutOfBounds;
    memcpy(t->elements + dst, seg->data + (size_t)src * 8, (size_t)len * 8);
    return 0;
}
