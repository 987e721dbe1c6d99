/* memory.c: linear memories and the bulk-memory operations.
 *
 * SANDBOX-CRITICAL. Every 32-bit memory is a KILN_MEMORY_RESERVATION-byte
 * (8 GiB + 64 KiB) PROT_NONE reservation whose first `length` bytes are
 * read/write. Generated code computes base + zext32(index) + offset with
 * offset < 4 GiB and performs no bounds check, so the whole reachable range
 * must stay inside the reservation: the last byte an access can touch is
 * base + (2^32 - 1) + (2^32 - 1) + 15 < base + 8 GiB + 64 KiB. Growing only
 * changes protections; the base never moves, which is why the compiler may
 * treat `base` as read-only.
 *
 * The bulk operations check their ranges explicitly (in 64-bit arithmetic,
 * so dst + len cannot wrap) before touching memory, because wasm requires
 * that an out-of-bounds memory.fill/copy/init writes nothing at all. They
 * return 0, or a trap kind for the generated caller to raise.
 */
#include "kiln_rt.h"

#define MAX_PAGES_32 65536ull

void kiln_memory_setup(struct kiln_memory *m) {
    if (m->max_pages > MAX_PAGES_32) m->max_pages = MAX_PAGES_32;
    uint8_t *base = os_mmap(0, KILN_MEMORY_RESERVATION, K_PROT_NONE, K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_NORESERVE);
    if (base == K_MAP_FAILED) kiln_fatal("cannot reserve linear memory", "mmap of 8 GiB failed (check ulimit -v)");
    uint64_t bytes = m->min_pages * KILN_WASM_PAGE_SIZE;
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

uint32_t kiln_rt_memory_grow(struct kiln_memory *m, uint32_t delta) {
    uint64_t old_pages = m->length / KILN_WASM_PAGE_SIZE;
    uint64_t new_pages = old_pages + delta;
    if (new_pages > m->max_pages) return (uint32_t)-1;
    if (delta) {
        if (os_mprotect(m->base + m->length, (uint64_t)delta * KILN_WASM_PAGE_SIZE, K_PROT_READ | K_PROT_WRITE) != 0)
            return (uint32_t)-1;
        if (m == mirrored) {
            uint64_t lo = m->length > mirror_start ? m->length : mirror_start;
            uint64_t hi = new_pages * KILN_WASM_PAGE_SIZE;
            if (hi > lo) os_mprotect((void *)lo, hi - lo, K_PROT_READ);
        }
        m->length = new_pages * KILN_WASM_PAGE_SIZE;
    }
    return (uint32_t)old_pages;
}

uint32_t kiln_rt_memory_fill(struct kiln_memory *m, uint32_t dst, uint32_t val, uint32_t len) {
    if ((uint64_t)dst + len > m->length) return KILN_TRAP_MemoryOutOfBounds;
    memset(m->base + dst, (int)val, len);
    return 0;
}

uint32_t kiln_rt_memory_copy(struct kiln_memory *dm, struct kiln_memory *sm, uint32_t dst, uint32_t src, uint32_t len) {
    if ((uint64_t)dst + len > dm->length || (uint64_t)src + len > sm->length) return KILN_TRAP_MemoryOutOfBounds;
    memmove(dm->base + dst, sm->base + src, len);
    return 0;
}

uint32_t kiln_rt_memory_init(struct kiln_memory *m, const struct kiln_segment *seg, uint32_t dst, uint32_t src, uint32_t len) {
    if ((uint64_t)src + len > seg->length || (uint64_t)dst + len > m->length) return KILN_TRAP_MemoryOutOfBounds;
    memcpy(m->base + dst, seg->data + src, len);
    return 0;
}
