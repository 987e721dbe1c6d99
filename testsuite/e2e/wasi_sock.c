// Sockets and signals. No socket can be granted yet, so sock_* act only on
// sockets a program inherits as stdio; here stdio are files and pipes, and
// every descriptor answers ENOTSOCK (a closed one EBADF), as in wasmtime.
// proc_raise is refused with ENOTSUP, as wasmtime does.
#include <stdio.h>
#include <wasi/api.h>

#include "wasi_test.h"

__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise"))) int wasi_proc_raise(int sig);


int main(void) {
    char buf[8];
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};
    __wasi_ciovec_t ciov = {(const uint8_t *)"hi", 2};
    __wasi_size_t n;
    __wasi_roflags_t ro;
    __wasi_fd_t fd;
    static const int fds[] = {0, 1, 2, 3, 99};
    for (int i = 0; i < 5; i++) {
        int f = fds[i];
        printf("fd %d:\n", f);
        RAW(__wasi_sock_accept(f, 0, &fd));
        RAW(__wasi_sock_recv(f, &iov, 1, 0, &n, &ro));
        RAW(__wasi_sock_send(f, &ciov, 1, 0, &n));
        RAW(__wasi_sock_shutdown(f, __WASI_SDFLAGS_RD | __WASI_SDFLAGS_WR));
    }
    RAW(wasi_proc_raise(0));
    RAW(wasi_proc_raise(10 /* USR1 */));
    RAW(wasi_proc_raise(9 /* KILL */));
    printf("still running\n");
    return 0;
}
