/* memory.c: linear memories and the bulk-memory operations.
 *
 * SANDBOX-CRITICAL. A memory is one of two kinds (KILN_MEMORY_FLAG_EXPLICIT,
 * decided by the compiler: see compiler/src/translate/heap.rs):
 *
 * Guarded (32-bit index, 64 KiB pages, the default): a
 * KILN_MEMORY_RESERVATION-byte (8 GiB + 64 KiB) PROT_NONE reservation whose
 * first `length` bytes are read/write. Generated code computes
 * base + zext32(index) + offset with offset < 4 GiB and performs no bounds
 * check, so the whole reachable range must stay inside the reservation: the
 * last byte an access can touch is base + (2^32 - 1) + (2^32 - 1) + 15 <
 * base + 8 GiB + 64 KiB. Growing only changes protections; the base never
 * moves, which is why the compiler may treat `base` as read-only.
 *
 * Explicit (--bounds-checks=explicit, 64-bit memories, 1-byte pages):
 * generated code checks index + offset + size <= length before every
 * access, so nothing beyond `length` needs to be unmapped and no guard
 * region is reserved. The first `mapped` bytes (length rounded up to
 * EXPLICIT_GRAIN, which is a multiple of every Linux page size) are
 * read/write; bytes in [length, mapped) were never reachable, so they are
 * still zero when a grow exposes them. A grow past `mapped` remaps with
 * MREMAP_MAYMOVE: `base` may change, and generated code reloads it after
 * every call (it is not read-only for explicit memories). Nothing else
 * holds a pointer into linear memory across a grow: WASI functions derive
 * theirs from `base` on each call and never grow memory.
 *
 * Shared (KILN_MEMORY_FLAG_SHARED, threads): every thread's instance uses
 * the one record and mapping, and generated code on other threads keeps
 * using `base` while one grows it, so a shared memory never moves: an
 * explicit one reserves its declared maximum (shared memories must have
 * one) up front, PROT_NONE past `length`, and grows by mprotect like a
 * guarded one. Grows are serialised by a lock, and `length` is published
 * with a release store after the pages are accessible, so a thread that
 * sees the new length can use it.
 *
 * The bulk operations check their ranges explicitly before touching memory
 * (len <= length && dst <= length - len: no sum that could wrap in 64 bits),
 * because wasm requires that an out-of-bounds memory.fill/copy/init writes
 * nothing at all. They return 0, or a trap kind for the generated caller to
 * raise.
 */
#include "kiln_rt.h"

/* The largest number of pages an index type can address: 2^32 bytes for
 * 32-bit memories, 2^64 bytes (2^48 64 KiB pages, 2^64 - 1 one-byte pages)
 * for 64-bit ones. Validation already keeps declared limits within these. */
static uint64_t index_type_max_pages(const struct kiln_memory *m) {
    uint32_t lg = m->page_size_log2;
    if (m->flags & KILN_MEMORY_FLAG_64) return lg ? 1ull << (64 - lg) : UINT64_MAX;
    return 1ull << (32 - lg);
}

#define EXPLICIT_GRAIN 65536ull

static uint64_t round_grain(uint64_t bytes) { return (bytes + EXPLICIT_GRAIN - 1) & ~(EXPLICIT_GRAIN - 1); }

/* Failing to map an explicit memory is memory.grow's -1, not a crash; at
 * start-up it is fatal. Returns false if no mapping of `bytes` could be had. */
static bool explicit_map(struct kiln_memory *m, uint64_t bytes) {
    uint64_t want = round_grain(bytes ? bytes : 1);
    if (want < bytes) return false; /* rounding wrapped: near 2^64 */
    if (m->flags & KILN_MEMORY_FLAG_SHARED) {
        if (!m->base) {
            /* The whole maximum, once; it never moves (see above). */
            uint64_t max = m->max_pages << m->page_size_log2;
            uint64_t all = round_grain(max ? max : 1);
            if (all < max || (m->page_size_log2 && m->max_pages > (UINT64_MAX >> m->page_size_log2))) return false;
            uint8_t *p = os_mmap(0, all, K_PROT_NONE, K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_NORESERVE);
            if (p == K_MAP_FAILED) return false;
            m->base = p;
            m->mapped = all;
        }
        if (want > m->mapped) return false;
        return bytes == 0 || os_mprotect(m->base, want, K_PROT_READ | K_PROT_WRITE) == 0;
    }
    if (!m->base) {
        uint8_t *p = os_mmap(0, want, K_PROT_READ | K_PROT_WRITE, K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_NORESERVE);
        if (p == K_MAP_FAILED) return false;
        m->base = p;
        m->mapped = want;
        return true;
    }
    if (want <= m->mapped) return true;
    uint8_t *p = os_mremap_maymove(m->base, m->mapped, want);
    if (p == K_MAP_FAILED) return false;
    m->base = p;
    m->mapped = want;
    return true;
}

void kiln_memory_release(struct kiln_memory *m) {
    if (!m->base) return;
    if (m->flags & KILN_MEMORY_FLAG_EXPLICIT) os_munmap(m->base, m->mapped);
    else os_munmap(m->base, KILN_MEMORY_RESERVATION);
    m->base = 0;
    m->length = 0;
}

void kiln_memory_setup(struct kiln_memory *m) {
    uint64_t cap = index_type_max_pages(m);
    if (m->max_pages > cap) m->max_pages = cap;
    uint64_t bytes = m->min_pages << m->page_size_log2;
    m->base = 0;
    if (m->flags & KILN_MEMORY_FLAG_EXPLICIT) {
        /* min_pages may exceed what the machine can map (a 64-bit memory
         * declared with a huge minimum): the spec lets instantiation fail. */
        if (m->min_pages > cap || !explicit_map(m, bytes))
            kiln_fatal("cannot map linear memory", "mmap failed: the declared minimum is too large for this machine");
        m->length = bytes;
        return;
    }
    /* SANDBOX-CRITICAL. A fixed memory's code addresses it at the constant
     * KILN_FIXED_MEMORY_BASE without ever loading `base`
     * (compiler/src/translate/heap.rs, "Fixed memories"), so its
     * reservation must be exactly there. MAP_FIXED_NOREPLACE never replaces
     * an existing mapping; a kernel older than 4.17 ignores the flag and
     * takes the address as a hint, and so does qemu-user 7.2 for its
     * guests, so the result is compared too. Any other outcome stops the
     * program here, before wasm code runs: running with the memory
     * elsewhere would let that code read and write whatever is mapped at
     * the constant. */
    bool fixed = m->flags & KILN_MEMORY_FLAG_FIXED;
    void *want = fixed ? (void *)(uintptr_t)KILN_FIXED_MEMORY_BASE : 0;
    uint8_t *base = os_mmap(want, KILN_MEMORY_RESERVATION, K_PROT_NONE,
                            K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_NORESERVE | (fixed ? K_MAP_FIXED_NOREPLACE : 0));
    if (fixed && base != K_MAP_FAILED && (void *)base != want) {
        os_munmap(base, KILN_MEMORY_RESERVATION);
        base = K_MAP_FAILED;
    }
    if (base == K_MAP_FAILED) {
        if (fixed)
            kiln_fatal("cannot reserve linear memory at its fixed address",
                       "mmap of 8 GiB at 1.5 GiB failed: the address range is taken, or address space is limited "
                       "(check ulimit -v)");
        kiln_fatal("cannot reserve linear memory",
                   "mmap of 8 GiB failed (check ulimit -v, or compile with --bounds-checks=explicit)");
    }
    if (bytes && os_mprotect(base, bytes, K_PROT_READ | K_PROT_WRITE) != 0)
        kiln_fatal("cannot commit linear memory", "mprotect failed");
    m->base = base;
    m->length = bytes;
}

/* The debug mirror (see kiln_memory_mirror): which memory has it, and the
 * lowest wasm address it covers (the kernel's vm.mmap_min_addr keeps the
 * first page(s) of the address space unmappable). */
static struct kiln_memory *mirrored;
static uint64_t mirror_start;

void kiln_memory_mirror(struct kiln_memory *m) {
    /* Only a guarded memory has the fixed 4 GiB the mirror maps over. */
    if (m->flags & KILN_MEMORY_FLAG_EXPLICIT) return;
    /* The first 4 GiB of the reservation are replaced by a shared mapping
     * of a memfd, and the same memfd is mapped again, read-only, at native
     * address == wasm address. Generated code never uses the mirror (every
     * access is base-relative inside the reservation); debuggers read it,
     * and ptrace can still write through it. -g images are linked above
     * 4 GiB so that range is free; MAP_FIXED_NOREPLACE refuses to clobber
     * anything that is there anyway. The first page(s) cannot be mapped
     * (vm.mmap_min_addr), so wasm addresses below 4 KiB (or 64 KiB) stay
     * unreadable. If the mirror cannot be made the program runs without
     * it. */
    uint64_t four_gib = 1ull << 32;
    long fd = os_memfd_create("kiln-linear-memory");
    if (fd < 0 || os_ftruncate((int)fd, (int64_t)four_gib) != 0) return;
    void *view = os_mmap_fd(m->base, four_gib, K_PROT_NONE, K_MAP_SHARED | K_MAP_FIXED | K_MAP_NORESERVE, (int)fd, 0);
    if (view != m->base) kiln_fatal("cannot set up the debug mirror of linear memory", "mmap failed");
    if (m->length && os_mprotect(m->base, m->length, K_PROT_READ | K_PROT_WRITE) != 0)
        kiln_fatal("cannot commit linear memory", "mprotect failed");
    static const uint64_t starts[] = {4096, 65536};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        uint64_t s = starts[i];
        void *at = os_mmap_fd((void *)s, four_gib - s, K_PROT_NONE, K_MAP_SHARED | K_MAP_FIXED_NOREPLACE | K_MAP_NORESERVE, (int)fd, s);
        if (at == (void *)s) {
            mirrored = m;
            mirror_start = s;
            if (m->length > s) os_mprotect((void *)s, m->length - s, K_PROT_READ);
            return;
        }
        if (at != K_MAP_FAILED) os_munmap(at, four_gib - s); /* an old kernel placed it elsewhere */
    }
}

static uint64_t grow(struct kiln_memory *m, uint64_t delta);

/* One grow at a time on shared memories (all of them: grows are rare). */
static uint32_t shared_grow_lock;

uint64_t kiln_rt_memory_grow(struct kiln_memory *m, uint64_t delta) {
    if (!(m->flags & KILN_MEMORY_FLAG_SHARED)) return grow(m, delta);
    kiln_spin_lock(&shared_grow_lock);
    uint64_t r = grow(m, delta);
    kiln_spin_unlock(&shared_grow_lock);
    return r;
}

static uint64_t grow(struct kiln_memory *m, uint64_t delta) {
    uint32_t lg = m->page_size_log2;
    uint64_t old_pages = m->length >> lg;
    /* old_pages <= max_pages, so the subtraction cannot wrap, and the sum
     * below cannot either. */
    if (delta > m->max_pages - old_pages) return UINT64_MAX;
    uint64_t new_pages = old_pages + delta;
    if (!delta) return old_pages;
    uint64_t new_length = new_pages << lg; /* <= 2^64 - 1: max_pages is capped by the index type */
    if (m->flags & KILN_MEMORY_FLAG_EXPLICIT) {
        if (!explicit_map(m, new_length)) return UINT64_MAX;
        __atomic_store_n(&m->length, new_length, __ATOMIC_RELEASE);
        return old_pages;
    }
    if (os_mprotect(m->base + m->length, new_length - m->length, K_PROT_READ | K_PROT_WRITE) != 0) return UINT64_MAX;
    if (m == mirrored) {
        uint64_t lo = m->length > mirror_start ? m->length : mirror_start;
        uint64_t hi = new_length;
        if (hi > lo) os_mprotect((void *)lo, hi - lo, K_PROT_READ);
    }
    __atomic_store_n(&m->length, new_length, __ATOMIC_RELEASE);
    return old_pages;
}

/* Whether [at, at + len) lies within the first `length` bytes. */
static bool in_bounds(uint64_t at, uint64_t len, uint64_t length) { return len <= length && at <= length - len; }

uint32_t kiln_rt_memory_fill(struct kiln_memory *m, uint64_t dst, uint32_t val, uint64_t len) {
    if (!in_bounds(dst, len, m->length)) return KILN_TRAP_MemoryOutOfBounds;
    memset(m->base + dst, (int)val, len);
    return 0;
}

uint32_t kiln_rt_memory_copy(struct kiln_memory *dm, struct kiln_memory *sm, uint64_t dst, uint64_t src, uint64_t len) {
    if (!in_bounds(dst, len, dm->length) || !in_bounds(src, len, sm->length)) return KILN_TRAP_MemoryOutOfBounds;
    memmove(dm->base + dst, sm->base + src, len);
    return 0;
}

uint32_t kiln_rt_memory_init(struct kiln_memory *m, const struct kiln_segment *seg, uint64_t dst, uint32_t src, uint32_t len) {
    if (!in_bounds(src, len, seg->length) || !in_bounds(dst, len, m->length)) return KILN_TRAP_MemoryOutOfBounds;
    memcpy(m->base + dst, seg->data + src, len);
    return 0;
}
