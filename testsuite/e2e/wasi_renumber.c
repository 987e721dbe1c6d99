// The descriptor table: how grants are listed (fd_prestat_*), how new
// descriptors are numbered, fd_renumber and fd_close (of files, of grants,
// of stdio). Both grants are the working directory: /sandbox read-write,
// /ro read-only. Fixture: a.txt ("AAA"), b.txt ("BBB").
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#define SHOW_WIDTH 56
#include "wasi_test.h"


static void prestat(int fd) {
    __wasi_prestat_t p;
    __wasi_errno_t e = __wasi_fd_prestat_get(fd, &p);
    if (e) {
        printf("fd %d: prestat %s\n", fd, en(e));
        return;
    }
    char name[64] = {0};
    e = __wasi_fd_prestat_dir_name(fd, (uint8_t *)name, p.u.dir.pr_name_len);
    printf("fd %d: grant, tag %u, name length %lu, name '%s' (%s)\n", fd, p.tag, (unsigned long)p.u.dir.pr_name_len,
           name, en(e));
}

static int open_raw(int dir, const char *path, __wasi_oflags_t of) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(dir, 1, path, of, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK, 0, 0, &fd);
    printf("path_open(%d, %s) -> %s", dir, path, en(e));
    if (!e) printf(", fd %d", fd);
    printf("\n");
    return e ? -1 : fd;
}

static void contents(int fd) {
    char buf[16] = {0};
    lseek(fd, 0, SEEK_SET);
    errno = 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0) printf("read fd %d: %s\n", fd, en(errno));
    else printf("read fd %d: %.*s", fd, (int)n, buf);
}

int main(void) {
    for (int fd = 0; fd < 6; fd++) prestat(fd);
    char name[16];
    RAW(__wasi_fd_prestat_dir_name(3, (uint8_t *)name, 4));
    RAW(__wasi_fd_prestat_dir_name(0, (uint8_t *)name, 16));
    RAW(__wasi_fd_prestat_dir_name(99, (uint8_t *)name, 16));

    // numbering: past the highest so far, or the highest number freed
    int a = open_raw(3, "a.txt", 0);
    int b = open_raw(3, "b.txt", 0);
    int c = open_raw(3, "a.txt", 0);
    SHOW(close(a));
    SHOW(close(c));
    int d = open_raw(3, "b.txt", 0);
    int e = open_raw(3, "b.txt", 0);
    int f = open_raw(3, "b.txt", 0);
    SHOW(close(d));
    SHOW(close(e));
    SHOW(close(f));

    // renumbering
    a = open_raw(3, "a.txt", 0);
    RAW(__wasi_fd_renumber(a, b)); // b now is a.txt, a is closed
    contents(b);
    contents(a);
    RAW(__wasi_fd_renumber(b, 20));
    RAW(__wasi_fd_renumber(20, b));
    RAW(__wasi_fd_renumber(b, b));
    c = open_raw(3, "b.txt", 0);

    // a grant can move, and stays what it was (read-only here)
    RAW(__wasi_fd_renumber(4, c));
    prestat(4);
    prestat(c);
    int g = open_raw(c, "a.txt", 0);
    contents(g);
    open_raw(c, "new.txt", __WASI_OFLAGS_CREAT);
    open_raw(4, "a.txt", 0);

    // closing a grant gives it up
    SHOW(close(3));
    prestat(3);
    open_raw(3, "a.txt", 0);
    SHOW(open("/sandbox/a.txt", O_RDONLY));

    // stdio can be replaced and closed like anything else
    int h = open_raw(c, "b.txt", 0);
    RAW(__wasi_fd_renumber(h, 0));
    char buf[8] = {0};
    SHOW(read(0, buf, 3));
    printf("stdin now reads: %s\n", buf);
    SHOW(close(0));
    SHOW(read(0, buf, 3));
    SHOW(close(2));
    SHOW(write(2, "gone\n", 5));
    SHOW(close(99));
    printf("next descriptor: ");
    fflush(stdout);
    open_raw(c, "a.txt", 0);
    return 0;
}
