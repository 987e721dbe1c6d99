// poll_oneoff on clocks and on descriptors. Only one subscription is ever
// ready at a time here: when several are, which of them a runtime reports
// together is not something a program can rely on. stdin is a file holding
// one line; the working directory holds f.txt ("abc").
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

#include "wasi_test.h"

static __wasi_subscription_t subs[4];
static __wasi_event_t events[4];

static void clock_sub(int i, __wasi_clockid_t id, __wasi_timestamp_t timeout, int abs) {
    memset(&subs[i], 0, sizeof subs[i]);
    subs[i].userdata = 100 + i;
    subs[i].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[i].u.u.clock.id = id;
    subs[i].u.u.clock.timeout = timeout;
    subs[i].u.u.clock.flags = abs ? __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0;
}

static void fd_sub(int i, __wasi_eventtype_t type, int fd) {
    memset(&subs[i], 0, sizeof subs[i]);
    subs[i].userdata = 100 + i;
    subs[i].u.tag = type;
    subs[i].u.u.fd_read.file_descriptor = fd;
}

static void poll_and_show(const char *what, int n) {
    __wasi_size_t got = 0;
    memset(events, 0x55, sizeof events);
    __wasi_errno_t e = __wasi_poll_oneoff(subs, events, n, &got);
    printf("%-40s -> %s", what, en(e));
    if (!e) {
        printf(", %u event%s:", (unsigned)got, got == 1 ? "" : "s");
        for (unsigned i = 0; i < got; i++) {
            __wasi_event_t *ev = &events[i];
            printf(" [userdata %llu error %s type %u", (unsigned long long)ev->userdata, en(ev->error), ev->type);
            if (ev->type != __WASI_EVENTTYPE_CLOCK)
                printf(" nbytes %llu flags %u", (unsigned long long)ev->fd_readwrite.nbytes, ev->fd_readwrite.flags);
            printf("]");
        }
    }
    printf("\n");
}

static __wasi_timestamp_t now(__wasi_clockid_t id) {
    __wasi_timestamp_t t;
    if (__wasi_clock_time_get(id, 1, &t)) t = 0;
    return t;
}

int main(void) {
    __wasi_timestamp_t t0 = now(__WASI_CLOCKID_MONOTONIC);
    clock_sub(0, __WASI_CLOCKID_MONOTONIC, 20 * 1000 * 1000, 0);
    poll_and_show("monotonic, 20 ms", 1);
    __wasi_timestamp_t waited = now(__WASI_CLOCKID_MONOTONIC) - t0;
    printf("waited at least 20 ms: %s\n", waited >= 20 * 1000 * 1000 ? "yes" : "no");
    clock_sub(0, __WASI_CLOCKID_REALTIME, 1000, 0);
    poll_and_show("realtime, 1 us", 1);
    clock_sub(0, __WASI_CLOCKID_MONOTONIC, now(__WASI_CLOCKID_MONOTONIC) - 1, 1);
    poll_and_show("monotonic, absolute, in the past", 1);
    clock_sub(0, __WASI_CLOCKID_MONOTONIC, 1000 * 1000 * 1000, 0);
    clock_sub(1, __WASI_CLOCKID_MONOTONIC, 1000, 0);
    poll_and_show("1 s and 1 us: the shorter fires", 2);

    // descriptors, each alongside a long clock that must not fire
    int fd = open("/sandbox/f.txt", O_RDWR);
    clock_sub(1, __WASI_CLOCKID_MONOTONIC, 10ull * 1000 * 1000 * 1000, 0);
    fd_sub(0, __WASI_EVENTTYPE_FD_WRITE, 1);
    poll_and_show("stdout writable", 2);
    fd_sub(0, __WASI_EVENTTYPE_FD_READ, 0);
    poll_and_show("stdin readable", 2);
    fd_sub(0, __WASI_EVENTTYPE_FD_READ, fd);
    poll_and_show("file readable", 2);
    char buf[8];
    if (read(fd, buf, sizeof buf) != 3) printf("short read\n");
    poll_and_show("file readable at its end", 2);
    fd_sub(0, __WASI_EVENTTYPE_FD_WRITE, fd);
    poll_and_show("file writable", 2);

    // errors
    poll_and_show("no subscriptions", 0);
    fd_sub(0, __WASI_EVENTTYPE_FD_READ, 99);
    poll_and_show("closed descriptor", 1);
    fd_sub(0, __WASI_EVENTTYPE_FD_READ, 3);
    poll_and_show("directory", 1);
    fd_sub(0, __WASI_EVENTTYPE_FD_READ, 1);
    poll_and_show("reading stdout", 1);
    fd_sub(0, __WASI_EVENTTYPE_FD_WRITE, 0);
    poll_and_show("writing stdin", 1);
    clock_sub(0, __WASI_CLOCKID_MONOTONIC, 1000, 0);
    fd_sub(1, __WASI_EVENTTYPE_FD_WRITE, 99);
    poll_and_show("a clock and a closed descriptor", 2);
    clock_sub(0, __WASI_CLOCKID_PROCESS_CPUTIME_ID, 1000, 0);
    poll_and_show("process CPU-time clock", 1);
    clock_sub(0, __WASI_CLOCKID_THREAD_CPUTIME_ID, 1000, 0);
    poll_and_show("thread CPU-time clock", 1);

    // through libc: poll() and sleeping
    struct pollfd p = {.fd = 1, .events = POLLOUT};
    int r = poll(&p, 1, 1000);
    printf("poll(stdout, POLLOUT) -> %d, revents POLLOUT %d\n", r, (p.revents & POLLOUT) != 0);
    t0 = now(__WASI_CLOCKID_MONOTONIC);
    struct timespec ts = {0, 5 * 1000 * 1000};
    r = nanosleep(&ts, 0);
    printf("nanosleep 5 ms -> %d, slept long enough: %s\n", r,
           now(__WASI_CLOCKID_MONOTONIC) - t0 >= 5 * 1000 * 1000 ? "yes" : "no");
    close(fd);
    return 0;
}
