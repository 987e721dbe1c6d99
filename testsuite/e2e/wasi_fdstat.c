// Descriptor state and rights: what fd_fdstat_get reports for stdio, the
// grants and opened files; changing flags; and a read-only grant (--dir-ro)
// refusing every write and mutation, also through a subdirectory opened
// from it. Fixture: rw/w.txt, ro/r.txt, ro/sub/s.txt, ro/link -> r.txt.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

#define SHOW_WIDTH 60
#include "wasi_test.h"

static void fdstat(const char *what, int fd) {
    __wasi_fdstat_t st;
    __wasi_errno_t e = __wasi_fd_fdstat_get(fd, &st);
    if (e) {
        printf("%-16s fd_fdstat_get: %s\n", what, en(e));
        return;
    }
    printf("%-16s type %u flags %u base %08llx inheriting %08llx\n", what, st.fs_filetype, st.fs_flags,
           (unsigned long long)st.fs_rights_base, (unsigned long long)st.fs_rights_inheriting);
}

static const char *accmode(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) return en(errno);
    switch (fl & O_ACCMODE) {
    case O_RDONLY: return "O_RDONLY";
    case O_WRONLY: return "O_WRONLY";
    case O_RDWR: return "O_RDWR";
    default: return "other";
    }
}

int main(void) {
    fdstat("stdin", 0);
    fdstat("stdout", 1);
    fdstat("stderr", 2);
    fdstat("/rw", 3);
    fdstat("/ro", 4);
    fdstat("5", 5);

    // files and directories opened under the read-write grant
    int r = open("/rw/w.txt", O_RDONLY);
    int w = open("/rw/w.txt", O_WRONLY);
    int rw = open("/rw/w.txt", O_RDWR | O_APPEND);
    int d = open("/rw", O_RDONLY | O_DIRECTORY);
    fdstat("O_RDONLY", r);
    fdstat("O_WRONLY", w);
    fdstat("O_RDWR|O_APPEND", rw);
    fdstat("directory", d);
    printf("access modes: %s %s %s %s\n", accmode(r), accmode(w), accmode(rw), accmode(d));

    // flags
    SHOW(fcntl(r, F_SETFL, O_NONBLOCK | O_APPEND));
    fdstat("after SETFL", r);
    SHOW(fcntl(r, F_SETFL, 0));
    fdstat("after SETFL 0", r);
    RAW(__wasi_fd_fdstat_set_flags(r, __WASI_FDFLAGS_DSYNC));
    RAW(__wasi_fd_fdstat_set_flags(r, __WASI_FDFLAGS_SYNC));
    RAW(__wasi_fd_fdstat_set_flags(1, __WASI_FDFLAGS_APPEND));
    RAW(__wasi_fd_fdstat_set_flags(d, 0));
    RAW(__wasi_fd_fdstat_set_flags(99, 0));

    // rights cannot be changed (wasmtime answers ENOTSUP)
    RAW(__wasi_fd_fdstat_set_rights(r, __WASI_RIGHTS_FD_READ, 0));
    RAW(__wasi_fd_fdstat_set_rights(d, 0, 0));
    RAW(__wasi_fd_fdstat_set_rights(1, 0, 0));
    RAW(__wasi_fd_fdstat_set_rights(99, 0, 0));
    close(r);
    close(w);
    close(rw);
    close(d);

    // the read-only grant
    char buf[32];
    int ro = open("/ro/r.txt", O_RDONLY);
    fdstat("/ro/r.txt", ro);
    ssize_t n = read(ro, buf, sizeof buf);
    printf("read %zd bytes\n", n);
    SHOW(write(ro, "x", 1));
    SHOW(ftruncate(ro, 0));
    SHOW(futimens(ro, NULL));
    RAW(__wasi_fd_filestat_set_times(4, 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    SHOW(fsync(ro));
    close(ro);
    SHOW(open("/ro/r.txt", O_WRONLY));
    SHOW(open("/ro/r.txt", O_RDWR));
    SHOW(open("/ro/r.txt", O_RDONLY | O_TRUNC));
    SHOW(open("/ro/r.txt", O_RDONLY | O_APPEND) >= 0);
    SHOW(open("/ro/new.txt", O_RDONLY | O_CREAT, 0644));
    SHOW(open("/ro/new.txt", O_WRONLY | O_CREAT | O_EXCL, 0644));
    SHOW(open("/ro/sub", O_RDONLY | O_DIRECTORY | O_CREAT, 0644));
    SHOW(mkdir("/ro/newdir", 0755));
    SHOW(mkdir("/ro/sub", 0755));
    SHOW(rmdir("/ro/sub"));
    SHOW(unlink("/ro/r.txt"));
    SHOW(unlink("/ro/nothing"));
    SHOW(rename("/ro/r.txt", "/ro/r2.txt"));
    SHOW(rename("/ro/r.txt", "/rw/stolen.txt"));
    SHOW(rename("/rw/w.txt", "/ro/planted.txt"));
    SHOW(link("/ro/r.txt", "/rw/hard.txt"));
    SHOW(link("/rw/w.txt", "/ro/hard.txt"));
    SHOW(symlink("r.txt", "/ro/newlink"));
    struct timespec ts[2] = {{1, 0}, {2, 0}};
    SHOW(utimensat(AT_FDCWD, "/ro/r.txt", ts, 0));
    SHOW(utimensat(AT_FDCWD, "/ro/link", ts, AT_SYMLINK_NOFOLLOW));
    // reading is allowed
    struct stat s;
    SHOW(stat("/ro/r.txt", &s));
    SHOW(lstat("/ro/link", &s));
    SHOW(readlink("/ro/link", buf, sizeof buf));
    int sub = open("/ro/sub", O_RDONLY | O_DIRECTORY);
    fdstat("/ro/sub", sub);
    SHOW(openat(sub, "new.txt", O_WRONLY | O_CREAT, 0644));
    SHOW(openat(sub, "s.txt", O_RDWR));
    int s_fd = openat(sub, "s.txt", O_RDONLY);
    n = read(s_fd, buf, sizeof buf);
    printf("read %zd bytes from sub/s.txt\n", n);
    SHOW(mkdirat(sub, "deeper", 0755));
    SHOW(unlinkat(sub, "s.txt", 0));
    close(s_fd);
    close(sub);

    // and nothing changed
    SHOW(stat("/ro/r.txt", &s));
    printf("r.txt size %lld\n", (long long)s.st_size);
    SHOW(stat("/rw/w.txt", &s));
    SHOW(stat("/rw/stolen.txt", &s));
    SHOW(access("/ro/new.txt", F_OK));
    return 0;
}
