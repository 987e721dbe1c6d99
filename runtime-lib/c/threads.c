/* threads.c: the threads proposal's wait queues, wasi-threads' thread-spawn,
 * and the lock that makes the WASI layer safe to call from many threads.
 *
 * ---- memory.atomic.wait / notify ----
 * A parking lot: waiters queue in one of BUCKETS lists, chosen by the
 * cell's native address (a shared memory never moves, so the address is
 * the cell's identity for every thread). Each waiter parks on a futex word
 * of its own, on its own stack, which lets wait64 work although futexes
 * are 32-bit, and makes notify's count exact. The "compare the cell, then
 * enqueue" step of a wait and the whole of a notify run under the bucket's
 * lock, so a notify that follows a store the waiter has not seen always
 * finds that waiter queued: no wake-up is lost.
 *
 * ---- thread-spawn (executables only) ----
 * wasi-threads gives each thread its own instance of the module, sharing
 * the imported memory: its own globals (the C stack pointer, TLS base),
 * tables and VMContext. A spawned thread's instance is a copy of a
 * pristine image of the command's VMContext block, kept before the main
 * instance was instantiated, rebased as embed.c does (the module's
 * `fixups`). Imported memories are not fixups: they point at the module's
 * host memories (kiln_module.host_memories), so every copy shares them.
 * Each thread is one mapping, reused once the thread is gone:
 *
 *     [ guard | wasm stack (--thread-stack) | signal stack | struct thread | VMContext ]
 *
 * SANDBOX-CRITICAL. The new thread runs only the module's own code, on its
 * own stack with its own stack limit (so "call stack exhausted" works per
 * thread) and its own alternate signal stack (sigaltstack is per thread,
 * and clone with CLONE_VM starts without one): a trap anywhere is reported
 * by the one signal handler, which exits the whole process with status
 * 134, as under wasmtime; proc_exit from any thread ends the process
 * (exit_group). (wasmtime's CLI exits with status 1 for a trap in a
 * spawned thread; Kiln reports every trap alike.) The thread registry below lets the handler walk the
 * faulting thread's wasm frames (kiln_wasm_stack_contains): it is read
 * without locks, so a slot's bounds are written before it is published
 * and a slot is reused only after the kernel says its thread has left its
 * stack (CLONE_CHILD_CLEARTID cleared `ctid`).
 */
#include "kiln_rt.h"

/* ---- the parking lot ---- */
#define BUCKETS 64
struct waiter {
    uintptr_t addr;
    uint32_t woken; /* the futex word: 1 once a notify dequeued it */
    struct waiter *next;
};
static struct bucket {
    uint32_t lock;
    struct waiter *head;
} buckets[BUCKETS];

static struct bucket *bucket_of(uintptr_t addr) { return &buckets[(addr >> 2) % BUCKETS]; }

static int64_t now_ns(void) {
    int64_t s = 0, ns = 0;
    os_clock_gettime(1 /* CLOCK_MONOTONIC */, &s, &ns);
    return s * 1000000000ll + ns;
}

/* 0: woken by a notify; 1: the cell did not hold `expected`; 2: timed out. */
static int32_t park(uintptr_t addr, bool wide, uint64_t expected, int64_t timeout) {
    struct bucket *b = bucket_of(addr);
    struct waiter w = {.addr = addr, .woken = 0, .next = 0};
    kiln_spin_lock(&b->lock);
    uint64_t cur = wide ? __atomic_load_n((uint64_t *)addr, __ATOMIC_SEQ_CST) : __atomic_load_n((uint32_t *)addr, __ATOMIC_SEQ_CST);
    if (cur != expected) {
        kiln_spin_unlock(&b->lock);
        return 1;
    }
    struct waiter **p = &b->head;
    while (*p) p = &(*p)->next;
    *p = &w; /* FIFO: notify wakes the longest waiting first */
    kiln_spin_unlock(&b->lock);

    int64_t deadline = timeout < 0 ? -1 : now_ns() + timeout;
    while (!__atomic_load_n(&w.woken, __ATOMIC_ACQUIRE)) {
        int64_t left = -1;
        if (deadline >= 0) {
            left = deadline - now_ns();
            if (left <= 0) break;
        }
        os_futex_wait(&w.woken, 0, left); /* EINTR, EAGAIN and spurious wakes loop */
    }
    if (__atomic_load_n(&w.woken, __ATOMIC_ACQUIRE)) return 0;
    /* Timed out, unless a notify dequeued us meanwhile. */
    kiln_spin_lock(&b->lock);
    if (__atomic_load_n(&w.woken, __ATOMIC_ACQUIRE)) {
        kiln_spin_unlock(&b->lock);
        return 0;
    }
    for (p = &b->head; *p != &w; p = &(*p)->next) {}
    *p = w.next;
    kiln_spin_unlock(&b->lock);
    return 2;
}

int32_t kiln_rt_atomic_wait32(uint32_t *addr, uint32_t expected, int64_t timeout) {
    return park((uintptr_t)addr, false, expected, timeout);
}

int32_t kiln_rt_atomic_wait64(uint64_t *addr, uint64_t expected, int64_t timeout) {
    return park((uintptr_t)addr, true, expected, timeout);
}

uint32_t kiln_rt_atomic_notify(void *addr, uint32_t count) {
    struct bucket *b = bucket_of((uintptr_t)addr);
    uint32_t n = 0;
    kiln_spin_lock(&b->lock);
    for (struct waiter **p = &b->head; *p && n < count;) {
        struct waiter *w = *p;
        if (w->addr != (uintptr_t)addr) {
            p = &w->next;
            continue;
        }
        *p = w->next;
        /* Once `woken` is set the waiter may return and its frame be
         * reused: the wake below then at worst wakes a futex wait on that
         * stack spuriously, which every futex loop here tolerates. */
        __atomic_store_n(&w->woken, 1, __ATOMIC_RELEASE);
        os_futex_wake(&w->woken, 1);
        n++;
    }
    kiln_spin_unlock(&b->lock);
    return n;
}

/* ---- the WASI lock: a futex mutex (0 free, 1 held, 2 held with waiters) ---- */
volatile uint32_t kiln_threads_active;
static uint32_t wasi_mutex;

void kiln_wasi_lock(void) {
    if (!__atomic_load_n(&kiln_threads_active, __ATOMIC_ACQUIRE)) return;
    uint32_t c = 0;
    if (__atomic_compare_exchange_n(&wasi_mutex, &c, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
    if (c != 2) c = __atomic_exchange_n(&wasi_mutex, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        os_futex_wait(&wasi_mutex, 2, -1);
        c = __atomic_exchange_n(&wasi_mutex, 2, __ATOMIC_ACQUIRE);
    }
}

void kiln_wasi_unlock(void) {
    if (!__atomic_load_n(&kiln_threads_active, __ATOMIC_ACQUIRE)) return;
    if (__atomic_exchange_n(&wasi_mutex, 0, __ATOMIC_RELEASE) == 2) os_futex_wake(&wasi_mutex, 1);
}

/* The locked WASI functions (kiln_abi.h's KILN_WASI_RETURNING list), which
 * modules that spawn threads call (the compiler picks them). The lock is
 * taken only once a second thread exists; poll_oneoff drops it while it
 * only sleeps (wasi/poll.c), fd_read while it waits on stdin or a socket
 * (wasi/fd.c). */
#define LOCKED(name, params, args)                        \
    int32_t kiln_wasi_locked_##name params;               \
    int32_t kiln_wasi_locked_##name params {              \
        kiln_wasi_lock();                                 \
        int32_t r = kiln_wasi_##name args;                \
        kiln_wasi_unlock();                               \
        return r;                                         \
    }
KILN_WASI_RETURNING(LOCKED)

#ifdef KILN_EMBED
/* An embedding's instances belong to the host's threads: no spawning. */
int32_t kiln_wasi_thread_spawn(void *callee_vmctx, void *caller_vmctx, int32_t start_arg) {
    (void)callee_vmctx;
    (void)caller_vmctx;
    (void)start_arg;
    return -1;
}
bool kiln_threads_in_reservation(uintptr_t addr) {
    (void)addr;
    return false;
}
bool kiln_threads_stack_contains(uintptr_t fp) {
    (void)fp;
    return false;
}
#else

#define DEFAULT_THREAD_STACK (1ull << 20)
#define MAX_TID 0x1FFFFFFF  /* wasi-threads: ids are 1..2^29-1 */

struct thread {
    uint8_t *mapping;
    size_t size;
    uint32_t ctid; /* nonzero while the thread may still be on its stack */
    int32_t tid, arg;
    uint8_t *signal_stack;
    struct kiln_instance inst;
};

/* The registry: a fixed array of slots, allocated at the first spawn. */
#define MAX_THREADS 4096
static struct slot {
    struct thread *t; /* NULL: never used */
    uintptr_t lo, hi; /* the wasm stack, for kiln_wasm_stack_contains */
} *slots;
static uint32_t n_slots;
static uint32_t spawn_lock;
static uint32_t next_tid;
static const struct kiln_module *thread_module;
static uint8_t *pristine; /* the VMContext image threads are copied from */
static uint64_t thread_stack = DEFAULT_THREAD_STACK;
static void *thread_start; /* wasi_thread_start's trampoline, or NULL */

void kiln_threads_prepare(const struct kiln_module *m) {
    /* Only a module that imports its memory can share it with threads
     * (the compiler refuses thread-spawn otherwise; crate::imports): others
     * need no image. */
    if (!m->n_host_memories) return;
    thread_module = m;
    /* The compiler requires the export of a module that imports
     * thread-spawn; an object linked by hand may lack it, and then spawn
     * fails (-1), as under wasmtime. */
    const struct kiln_export *e = kiln_find_export(m, KILN_WASI_THREAD_START, strlen(KILN_WASI_THREAD_START));
    thread_start = e && e->kind == KILN_EXTERN_FUNC ? e->trampoline : 0;
    pristine = rt_alloc(m->vmctx_size);
    memcpy(pristine, m->vmctx, m->vmctx_size);
    size_t plen = strlen(KILN_CONFIG_THREAD_STACK_PREFIX);
    for (const char *c = kiln_config; *c; c += strlen(c) + 1) {
        if (strncmp(c, KILN_CONFIG_THREAD_STACK_PREFIX, plen) != 0) continue;
        uint64_t n = 0;
        for (const char *d = c + plen; *d >= '0' && *d <= '9'; d++) n = n * 10 + (uint64_t)(*d - '0');
        if (n) thread_stack = kiln_round_map_unit(n);
    }
}

bool kiln_threads_in_reservation(uintptr_t addr) {
    if (!thread_module || !thread_module->n_memories) return false;
    struct slot *s = __atomic_load_n(&slots, __ATOMIC_ACQUIRE);
    uint32_t n = __atomic_load_n(&n_slots, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n; i++) {
        struct thread *t = s[i].t;
        uint8_t *vmctx = t ? t->inst.vmctx : 0;
        if (!vmctx) continue;
        for (uint32_t k = 0; k < thread_module->n_memories; k++)
            if (kiln_in_reservation(kiln_vmctx_memory(vmctx, k), addr)) return true;
    }
    return false;
}

bool kiln_threads_stack_contains(uintptr_t fp) {
    struct slot *s = __atomic_load_n(&slots, __ATOMIC_ACQUIRE);
    uint32_t n = __atomic_load_n(&n_slots, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n; i++) {
        uintptr_t lo = __atomic_load_n(&s[i].lo, __ATOMIC_RELAXED), hi = __atomic_load_n(&s[i].hi, __ATOMIC_RELAXED);
        if (fp >= lo && fp + 16 <= hi) return true;
    }
    return false;
}

/* The thread's first code, on its own wasm stack. */
static void thread_main(void *p) {
    struct thread *t = p;
    kiln_signal_stack_install(t->signal_stack);
    uint8_t *vmctx = t->inst.vmctx;
    /* Instantiating the copy evaluates its globals and runs its start
     * function; wasm-ld makes a shared memory's data segments passive and
     * initialises them once, so the shared memory is not re-written. A
     * trap here, as anywhere, ends the process. */
    kiln_instantiate(vmctx);
    uint64_t values[4] __attribute__((aligned(16))) = {(uint32_t)t->tid, 0, (uint32_t)t->arg, 0};
    ((kiln_array_call)thread_start)(vmctx, vmctx, values);
    /* Returning exits this thread only (kiln_arch_clone). */
}

/* A finished thread's mapping of the right size, or a new one; its slot. */
static struct slot *take_slot(size_t size, size_t tail) {
    for (uint32_t i = 0; i < n_slots; i++) {
        struct thread *t = slots[i].t;
        if (t && t->size == size && __atomic_load_n(&t->ctid, __ATOMIC_ACQUIRE) == 0) {
            /* The old instance's tables go; its memory was the shared one. */
            for (uint32_t k = 0; k < thread_module->n_tables; k++) kiln_table_release(kiln_vmctx_table(t->inst.vmctx, k));
            for (uint32_t k = 0; k < thread_module->n_memories; k++) kiln_memory_release(kiln_vmctx_memory(t->inst.vmctx, k));
            return &slots[i];
        }
    }
    if (n_slots == MAX_THREADS) return 0;
    uint8_t *map = os_mmap(0, size, K_PROT_READ | K_PROT_WRITE, K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_NORESERVE);
    if (map == K_MAP_FAILED) return 0;
    if (os_mprotect(map, KILN_MAP_UNIT, K_PROT_NONE) != 0) {
        os_munmap(map, size);
        return 0;
    }
    struct thread *t = (struct thread *)(map + size - tail);
    t->mapping = map;
    t->size = size;
    struct slot *s = &slots[n_slots];
    s->t = t;
    __atomic_store_n(&n_slots, n_slots + 1, __ATOMIC_RELEASE);
    return s;
}

int32_t kiln_wasi_thread_spawn(void *callee_vmctx, void *caller_vmctx, int32_t start_arg) {
    (void)callee_vmctx;
    (void)caller_vmctx;
    const struct kiln_module *m = thread_module;
    if (!m || !thread_start) return -1;
    /* [guard | red zone + stack | signal stack | struct thread + VMContext],
     * the last part a whole number of units below the end. The red zone
     * (runtime and WASI calls, below the stack limit) comes on top of the
     * --thread-stack bytes wasm may use. */
    size_t tail = kiln_round_map_unit(sizeof(struct thread) + 15 + m->vmctx_size);
    size_t stack = kiln_round_map_unit(KILN_STACK_RED_ZONE + thread_stack);
    size_t size = KILN_MAP_UNIT + stack + KILN_SIGNAL_STACK_SIZE + tail;
    kiln_spin_lock(&spawn_lock);
    if (!slots) slots = rt_alloc(MAX_THREADS * sizeof *slots);
    uint32_t tid = ++next_tid;
    struct slot *s = tid <= MAX_TID ? take_slot(size, tail) : 0;
    if (!s) {
        kiln_spin_unlock(&spawn_lock);
        return -6; /* EAGAIN, negated as wasi-libc expects */
    }
    struct thread *t = s->t;
    uint8_t *vmctx = (uint8_t *)(((uintptr_t)(t + 1) + 15) & ~(uintptr_t)15);
    /* SANDBOX-CRITICAL: the copy shares nothing mutable with another
     * instance except what the module imports (its memory). */
    kiln_vmctx_copy(vmctx, pristine, m);
    uintptr_t lo = (uintptr_t)t->mapping + KILN_MAP_UNIT, hi = lo + stack;
    t->inst = (struct kiln_instance){
        .vmctx = vmctx,
        .wasi = kiln_process_wasi,
        .stack_limit = lo + KILN_STACK_RED_ZONE,
        .stack_lo = lo,
        .stack_hi = hi,
    };
    ((struct kiln_vmctx_header *)vmctx)->instance = &t->inst;
    t->tid = (int32_t)tid;
    t->arg = start_arg;
    t->signal_stack = (uint8_t *)hi;
    __atomic_store_n(&s->lo, lo, __ATOMIC_RELAXED);
    __atomic_store_n(&s->hi, hi, __ATOMIC_RELEASE);
    __atomic_store_n(&t->ctid, 1, __ATOMIC_RELEASE);
    /* From the moment a second thread exists, WASI calls are serialised.
     * The spawning thread holds no WASI lock here (thread-spawn is not
     * wrapped), so turning it on cannot unbalance a lock/unlock pair. */
    __atomic_store_n(&kiln_threads_active, 1, __ATOMIC_RELEASE);
    unsigned long flags = 0x100 /* CLONE_VM */ | 0x200 /* FS */ | 0x400 /* FILES */ | 0x800 /* SIGHAND */ |
                          0x10000 /* THREAD */ | 0x40000 /* SYSVSEM */ | 0x200000 /* CHILD_CLEARTID */;
    long r = kiln_arch_clone(flags, (void *)hi, &t->ctid, thread_main, t);
    if (r < 0) __atomic_store_n(&t->ctid, 0, __ATOMIC_RELEASE); /* the slot is free again */
    kiln_spin_unlock(&spawn_lock);
    return r < 0 ? -6 : (int32_t)tid;
}
#endif
