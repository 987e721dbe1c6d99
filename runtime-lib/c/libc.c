/* libc.c: the few libc routines the runtime and clang-generated code need,
 * a diagnostic string builder, a bump allocator for process-lifetime state
 * and page allocations that can be freed. Freestanding: these
 * are the only definitions of memcpy & co. in a Kiln executable. */
#include "kiln_rt.h"

/* Keep clang from turning these loops back into calls to themselves. */
#define NO_BUILTIN __attribute__((no_builtin))

NO_BUILTIN void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n >= 8) { uint64_t v; __builtin_memcpy_inline(&v, s, 8); __builtin_memcpy_inline(d, &v, 8); d += 8; s += 8; n -= 8; }
    while (n--) *d++ = *s++;
    return dst;
}

NO_BUILTIN void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d == s || n == 0) return dst;
    if (d < s || d >= s + n) return memcpy(dst, src, n);
    d += n; s += n;
    while (n >= 8) { uint64_t v; d -= 8; s -= 8; n -= 8; __builtin_memcpy_inline(&v, s, 8); __builtin_memcpy_inline(d, &v, 8); }
    while (n--) *--d = *--s;
    return dst;
}

NO_BUILTIN void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    uint64_t v = (uint8_t)c * 0x0101010101010101ull;
    while (n >= 8) { __builtin_memcpy_inline(d, &v, 8); d += 8; n -= 8; }
    while (n--) *d++ = (unsigned char)c;
    return dst;
}

NO_BUILTIN int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++) if (*x != *y) return *x - *y;
    return 0;
}

NO_BUILTIN size_t strlen(const char *s) {
    const char *p = s;
    while (*p) p++;
    return (size_t)(p - s);
}

NO_BUILTIN int strcmp(const char *a, const char *b) {
    while (*a && *a == *b) { a++; b++; }
    return (unsigned char)*a - (unsigned char)*b;
}

NO_BUILTIN int strncmp(const char *a, const char *b, size_t n) {
    for (; n; n--, a++, b++) {
        if (*a != *b) return (unsigned char)*a - (unsigned char)*b;
        if (!*a) return 0;
    }
    return 0;
}

void buf_str(struct kiln_buf *b, const char *s) {
    while (*s && b->len < sizeof b->data) b->data[b->len++] = *s++;
}

void buf_u64(struct kiln_buf *b, uint64_t v) {
    char tmp[24];
    int i = 0;
    do { tmp[i++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (i && b->len < sizeof b->data) b->data[b->len++] = tmp[--i];
}

void buf_hex(struct kiln_buf *b, uint64_t v) {
    char tmp[20];
    int i = 0;
    do { tmp[i++] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    buf_str(b, "0x");
    while (i && b->len < sizeof b->data) b->data[b->len++] = tmp[--i];
}

void buf_flush(struct kiln_buf *b, int fd) {
    if (b->text) {
        struct kiln_text *t = b->text;
        size_t n = b->len;
        if (t->len + 1 >= t->cap) n = 0;
        else if (n > t->cap - 1 - t->len) n = t->cap - 1 - t->len;
        memcpy(t->data + t->len, b->data, n);
        t->len += n;
        if (t->cap) t->data[t->len] = 0;
    } else {
        os_write_all(fd, b->data, b->len);
    }
    b->len = 0;
}

static uint8_t *arena_next, *arena_end;
static bool arena_lock; /* several threads may allocate (an embedding's instances) */
/* The executable's first arena block (rt_arena_seed), shared with the wasm
 * stack's mapping: rt_zalloc serves small requests from it as well, so the
 * start-up allocations (the WASI context, its descriptor table and strings,
 * table elements) cost no mmap and share pages already touched. */
static uint8_t *seed_lo, *seed_hi;

/* A request that fits is never worth its own mapping from the seed. */
#define ZALLOC_FROM_SEED_MAX ((size_t)128 << 10)

static void arena_lock_take(void) {
    while (__atomic_test_and_set(&arena_lock, __ATOMIC_ACQUIRE)) os_sched_yield();
}

void rt_arena_seed(void *base, size_t size) {
    arena_lock_take();
    arena_next = seed_lo = base;
    arena_end = seed_hi = seed_lo + size;
    __atomic_clear(&arena_lock, __ATOMIC_RELEASE);
}

void *rt_alloc(size_t size) {
    size = (size + 15) & ~(size_t)15;
    arena_lock_take();
    if ((size_t)(arena_end - arena_next) < size) {
        size_t chunk = size > (1u << 20) ? size : (1u << 20);
        void *p = os_mmap(0, chunk, K_PROT_READ | K_PROT_WRITE, K_MAP_PRIVATE | K_MAP_ANONYMOUS);
        if (p == K_MAP_FAILED) kiln_fatal("out of memory", "runtime allocation");
        arena_next = p;
        arena_end = arena_next + chunk;
    }
    void *r = arena_next;
    arena_next += size;
    __atomic_clear(&arena_lock, __ATOMIC_RELEASE);
    return r;
}

/* Whole 4 KiB pages; the kernel rounds a length up to its own page size
 * (16 or 64 KiB on some aarch64 kernels) the same way in mmap and munmap. */
static size_t page_round(size_t size) {
    if (size == 0) size = 1;
    if (size > SIZE_MAX - 4095) return 0;
    return (size + 4095) & ~(size_t)4095;
}

static bool in_seed(const void *p) { return seed_lo && (const uint8_t *)p >= seed_lo && (const uint8_t *)p < seed_hi; }

void *rt_zalloc(size_t size) {
    if (size <= ZALLOC_FROM_SEED_MAX) {
        /* From the seed while the bump pointer is still in it: the arena
         * never hands out a byte twice, so this is zero-filled too. */
        size_t n = (size + 15) & ~(size_t)15;
        void *r = 0;
        arena_lock_take();
        if (in_seed(arena_next) && (size_t)(seed_hi - arena_next) >= n) {
            r = arena_next;
            arena_next += n;
        }
        __atomic_clear(&arena_lock, __ATOMIC_RELEASE);
        if (r) return r;
    }
    size_t n = page_round(size);
    if (!n) return 0;
    void *p = os_mmap(0, n, K_PROT_READ | K_PROT_WRITE, K_MAP_PRIVATE | K_MAP_ANONYMOUS);
    return p == K_MAP_FAILED ? 0 : p;
}

void rt_free(void *p, size_t size) {
    /* What came from the seed stays (at most its size, once, per process). */
    if (p && !in_seed(p)) os_munmap(p, page_round(size));
}
