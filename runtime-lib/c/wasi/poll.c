/* poll.c: poll_oneoff, on clocks and on descriptors.
 *
 * Subscriptions are read once, up front: a bad clock or tag is EINVAL and
 * a descriptor that cannot be polled is EBADF for the whole call, as in
 * wasmtime (which reports no per-event errors). Then one ppoll waits for
 * the descriptors with the nearest clock deadline as its timeout, and every
 * subscription that is ready by then is reported, in subscription order.
 *
 * What can be polled is what wasmtime allows: stdin and files for reading,
 * stdout, stderr and files for writing (plus sockets the program accepted,
 * which wasmtime cannot have). Files are always ready. The event for a
 * descriptor says nbytes 1 and, for a file read at its end, HANGUP: that is
 * what wasmtime reports, and programs see the same.
 *
 * SANDBOX-CRITICAL: the subscription and event arrays are checked whole by
 * WPTR before use, and only host descriptors from the context's table are
 * polled.
 */
#include "wasi_internal.h"

#define W_EVENTTYPE_CLOCK 0
#define W_EVENTTYPE_FD_READ 1
#define W_EVENTTYPE_FD_WRITE 2
#define W_SUBSCRIPTION_CLOCK_ABSTIME 1
#define W_EVENT_FD_READWRITE_HANGUP 1
#define W_CLOCK_REALTIME 0
#define W_CLOCK_MONOTONIC 1
#define K_POLLIN 1
#define K_POLLOUT 4
#define K_CLOCK_REALTIME 0
#define K_CLOCK_MONOTONIC 1

/* Grows the context's per-call scratch to n subscriptions (one
 * allocation; the old one is freed). Returns 0 or ENOMEM. */
static int32_t poll_scratch(struct kiln_wasi *w, uint32_t n) {
    if (n <= w->poll_cap) return W_ESUCCESS;
    if (n > (1u << 24)) return W_ENOMEM;
    /* deadline (8 bytes), pollfd (8), slot (4) per subscription: each array
     * stays aligned for its type. */
    size_t size = (size_t)n * (sizeof *w->poll_deadline + sizeof *w->poll_fds + sizeof *w->poll_slot);
    uint8_t *p = rt_zalloc(size);
    if (!p) return W_ENOMEM;
    rt_free(w->poll_block, w->poll_block_size);
    w->poll_block = p;
    w->poll_block_size = size;
    w->poll_cap = n;
    w->poll_deadline = (int64_t *)p;
    w->poll_fds = (struct k_pollfd *)(p + (size_t)n * sizeof *w->poll_deadline);
    w->poll_slot = (int32_t *)(p + (size_t)n * (sizeof *w->poll_deadline + sizeof *w->poll_fds));
    return W_ESUCCESS;
}

static int64_t clock_ns(int clk) {
    int64_t s, ns;
    if (os_clock_gettime(clk, &s, &ns) != 0) return 0;
    return s * 1000000000ll + ns;
}

static int64_t add_sat(int64_t a, uint64_t b) {
    return b > (uint64_t)(INT64_MAX - a) ? INT64_MAX : a + (int64_t)b;
}

int32_t kiln_wasi_poll_oneoff(void *c, void *v, int32_t in_ptr, int32_t out_ptr, int32_t nsubs, int32_t nevents_ptr) {
    struct kiln_wasi *w = kiln_wasi_of(v);
    uint32_t n = (uint32_t)nsubs;
    if (n == 0) return W_EINVAL; /* would sleep forever; wasmtime refuses it */
    WPTR(w, in, uint8_t, in_ptr, (uint64_t)n * 48);
    WPTR(w, out, uint8_t, out_ptr, (uint64_t)n * 32);
    WPTR(w, nev, uint8_t, nevents_ptr, 4);
    int32_t err = poll_scratch(w, n);
    if (err) return err;
    struct k_pollfd *pfds = w->poll_fds;
    int64_t *deadline = w->poll_deadline;
    int32_t *slot = w->poll_slot;

    /* subscription: userdata u64, tag u8 at 8, then at 16 either
     * clock {id u32, timeout u64 at 24, precision u64, flags u16 at 40}
     * or fd_readwrite {fd u32}. */
    int64_t now = clock_ns(K_CLOCK_MONOTONIC);
    uint32_t np = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = in + 48 * (size_t)i;
        deadline[i] = -1;
        slot[i] = -1;
        if (s[8] == W_EVENTTYPE_CLOCK) {
            uint32_t id = get_u32(s + 16);
            uint64_t timeout = get_u64(s + 24);
            uint16_t flags = get_u16(s + 40);
            if (flags > W_SUBSCRIPTION_CLOCK_ABSTIME) return W_EINVAL;
            int abs = flags & W_SUBSCRIPTION_CLOCK_ABSTIME;
            uint64_t delay;
            if (id == W_CLOCK_MONOTONIC) {
                delay = !abs ? timeout : timeout > (uint64_t)now ? timeout - (uint64_t)now : 0;
            } else if (id == W_CLOCK_REALTIME) {
                uint64_t rt = (uint64_t)clock_ns(K_CLOCK_REALTIME);
                delay = !abs ? timeout : timeout > rt ? timeout - rt : 0;
            } else {
                return W_EINVAL; /* CPU-time clocks cannot be waited on (wasmtime) */
            }
            deadline[i] = add_sat(now, delay);
        } else if (s[8] == W_EVENTTYPE_FD_READ || s[8] == W_EVENTTYPE_FD_WRITE) {
            int rd = s[8] == W_EVENTTYPE_FD_READ;
            struct wfd *e = wfd_get(w, (int32_t)get_u32(s + 16));
            if (!e) return W_EBADF;
            int ok = rd ? (e->kind == WK_STDIN || e->kind == WK_FILE || e->kind == WK_SOCKET)
                        : (e->kind == WK_STDOUT || e->kind == WK_STDERR || e->kind == WK_FILE || e->kind == WK_SOCKET);
            if (!ok) return W_EBADF;
            pfds[np].fd = e->host;
            pfds[np].events = rd ? K_POLLIN : K_POLLOUT;
            pfds[np].revents = 0;
            slot[i] = (int32_t)np++;
        } else {
            return W_EINVAL;
        }
    }

    /* A call that only sleeps (clock subscriptions, no descriptor) lets
     * other threads make WASI calls meanwhile: it drops the WASI lock
     * around the sleep, keeping its deadlines on its own stack, as the
     * context's scratch arrays may be reused by another thread's call. */
    int64_t own_deadline[8];
    int32_t own_slot[8];
    bool unlocked_sleep = np == 0 && n <= 8 && kiln_threads_active;
    if (unlocked_sleep) {
        memcpy(own_deadline, deadline, n * sizeof *deadline);
        memcpy(own_slot, slot, n * sizeof *slot);
        deadline = own_deadline;
        slot = own_slot;
    }
    uint32_t ready;
    for (;;) {
        int64_t wait = -1;
        for (uint32_t i = 0; i < n; i++) {
            if (deadline[i] < 0) continue;
            int64_t d = deadline[i] > now ? deadline[i] - now : 0;
            if (wait < 0 || d < wait) wait = d;
        }
        if (unlocked_sleep) kiln_wasi_unlock();
        long r = os_ppoll(np ? pfds : 0, np, wait);
        if (unlocked_sleep) kiln_wasi_lock();
        if (r < 0 && r != -K_EINTR) return werr(r);
        now = clock_ns(K_CLOCK_MONOTONIC);
        ready = 0;
        for (uint32_t i = 0; i < n; i++)
            if (slot[i] >= 0 ? pfds[slot[i]].revents != 0 : deadline[i] <= now) ready++;
        if (ready) break;
    }

    /* event: userdata u64, error u16 at 8, type u8 at 10,
     * fd_readwrite {nbytes u64 at 16, flags u16 at 24}. */
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = in + 48 * (size_t)i;
        if (slot[i] >= 0 ? pfds[slot[i]].revents == 0 : deadline[i] > now) continue;
        uint8_t *ev = out + 32 * (size_t)k++;
        memset(ev, 0, 32);
        put_u64(ev, get_u64(s));
        ev[10] = s[8];
        if (slot[i] < 0) continue;
        put_u64(ev + 16, 1);
        /* Guest memory is read again here, and another thread may have
         * changed it (shared memory) or closed the descriptor (when the
         * WASI lock was dropped): the descriptor is looked up again and
         * may be gone. */
        struct wfd *e = wfd_get(w, (int32_t)get_u32(s + 16));
        if (s[8] == W_EVENTTYPE_FD_READ && e && e->kind == WK_FILE) {
            struct kiln_stat st;
            long pos = os_lseek(e->host, 0, K_SEEK_CUR);
            if (os_fstat(e->host, &st) == 0 && pos >= 0 && st.st_size <= pos) put_u16(ev + 24, W_EVENT_FD_READWRITE_HANGUP);
        }
    }
    put_u32(nev, k);
    return W_ESUCCESS;
}
