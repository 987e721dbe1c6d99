// Files in a granted directory: read, write, seek, tell, pread, pwrite,
// append, truncate, allocate, sync, advise; and the errors for descriptors
// used the wrong way. Working directory holds data.txt ("hello world\n").
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <wasi/api.h>

#include "wasi_test.h"

static void dump(const char *path) {
    char buf[128];
    int fd = open(path, O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    printf("%s: %zd bytes: ", path, n);
    for (ssize_t i = 0; i < n; i++) putchar(buf[i] >= ' ' ? buf[i] : buf[i] == '\n' ? '|' : '.');
    putchar('\n');
}

int main(void) {
    char buf[64];

    // stdio-level reading and writing
    FILE *f = fopen("/sandbox/data.txt", "r");
    printf("fopen data.txt: %s\n", f ? "ok" : en(errno));
    if (f && fgets(buf, sizeof buf, f)) printf("line: %s", buf);
    fclose(f);
    f = fopen("/sandbox/new.txt", "w");
    fprintf(f, "line %d\n", 1);
    fprintf(f, "line %d\n", 2);
    fclose(f);
    dump("/sandbox/new.txt");

    // seek and tell
    int fd = open("/sandbox/new.txt", O_RDWR);
    SHOW(lseek(fd, 0, SEEK_END));
    SHOW(lseek(fd, -3, SEEK_CUR));
    SHOW(read(fd, buf, 2));
    SHOW(lseek(fd, 0, SEEK_CUR));
    SHOW(lseek(fd, -100, SEEK_CUR));
    SHOW(lseek(fd, -1, SEEK_SET));
    SHOW(lseek(fd, 20, SEEK_SET));
    SHOW(write(fd, "X", 1)); // past the end: leaves a hole of zeros
    dump("/sandbox/new.txt");
    __wasi_filesize_t pos;
    RAW(__wasi_fd_tell(fd, &pos));
    printf("tell: %llu\n", (unsigned long long)pos);
    SHOW(read(fd, buf, sizeof buf)); // at the end

    // pread and pwrite leave the position alone
    SHOW(pwrite(fd, "ABC", 3, 5));
    memset(buf, 0, sizeof buf);
    SHOW(pread(fd, buf, 4, 4));
    printf("pread: %s\n", buf);
    SHOW(pread(fd, buf, 4, 1000));
    SHOW(lseek(fd, 0, SEEK_CUR));
    dump("/sandbox/new.txt");

    // truncate and allocate
    SHOW(ftruncate(fd, 4));
    dump("/sandbox/new.txt");
    SHOW(ftruncate(fd, 8));
    dump("/sandbox/new.txt");
    printf("posix_fallocate -> %s\n", en(posix_fallocate(fd, 0, 100)));
    RAW(__wasi_fd_allocate(fd, 0, 100));
    RAW(__wasi_fd_allocate(1, 0, 100));
    SHOW(fsync(fd));
    SHOW(fdatasync(fd));
    printf("posix_fadvise -> %s\n", en(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)));
    printf("posix_fadvise stdout -> %s\n", en(posix_fadvise(1, 0, 0, POSIX_FADV_NORMAL)));
    SHOW(close(fd));
    SHOW(close(fd));

    // append mode: every write goes to the end, even pwrite's
    fd = open("/sandbox/data.txt", O_WRONLY | O_APPEND);
    SHOW(lseek(fd, 0, SEEK_SET));
    SHOW(write(fd, "more\n", 5));
    SHOW(lseek(fd, 0, SEEK_CUR));
    SHOW(pwrite(fd, "tail\n", 5, 0));
    SHOW(fcntl(fd, F_GETFL) & O_APPEND ? 1 : 0);
    SHOW(fcntl(fd, F_SETFL, 0));
    SHOW(fcntl(fd, F_GETFL) & O_APPEND ? 1 : 0);
    SHOW(lseek(fd, 0, SEEK_SET));
    SHOW(write(fd, "J", 1));
    close(fd);
    dump("/sandbox/data.txt");

    // O_TRUNC, O_EXCL, O_DIRECTORY and friends
    SHOW(open("/sandbox/data.txt", O_CREAT | O_EXCL | O_WRONLY, 0644));
    fd = open("/sandbox/data.txt", O_WRONLY | O_TRUNC);
    SHOW(fd >= 0);
    close(fd);
    dump("/sandbox/data.txt");
    SHOW(open("/sandbox/data.txt", O_RDONLY | O_DIRECTORY));
    SHOW(open("/sandbox/missing.txt", O_RDONLY));
    SHOW(open("/sandbox/missing/x.txt", O_CREAT | O_WRONLY, 0644));
    SHOW(open("/sandbox", O_WRONLY));
    SHOW(open("/sandbox/data.txt/", O_RDONLY));

    // descriptors used the wrong way
    int ro = open("/sandbox/new.txt", O_RDONLY);
    int wo = open("/sandbox/new.txt", O_WRONLY);
    SHOW(write(ro, "x", 1));
    SHOW(read(wo, buf, 1));
    SHOW(ftruncate(ro, 0));
    SHOW(lseek(1, 0, SEEK_SET));
    SHOW(lseek(0, 0, SEEK_CUR));
    SHOW(pread(0, buf, 1, 0));
    SHOW(pwrite(1, "x", 1, 0));
    SHOW(pread(1, buf, 1, 0));
    SHOW(read(3, buf, 1));
    SHOW(write(3, "x", 1));
    SHOW(lseek(3, 0, SEEK_SET));
    SHOW(fsync(3));
    SHOW(read(99, buf, 1));

    // fd flags that wasmtime refuses at open
    __wasi_fd_t nfd;
    RAW(__wasi_path_open(3, 1, "new.txt", 0, __WASI_RIGHTS_FD_READ, 0, __WASI_FDFLAGS_SYNC, &nfd));
    RAW(__wasi_path_open(3, 1, "new.txt", 0, __WASI_RIGHTS_FD_READ, 0, __WASI_FDFLAGS_DSYNC, &nfd));
    RAW(__wasi_fd_fdstat_set_flags(ro, __WASI_FDFLAGS_RSYNC));

    // several buffers in one call (a short transfer is fine: go on from there)
    char all[9] = {0};
    size_t got = 0;
    lseek(ro, 0, SEEK_SET);
    while (got < 8) {
        size_t split = got < 3 ? 3 : got;
        struct iovec iov[2] = {{all + got, split - got}, {all + split, 8 - split}};
        ssize_t k = readv(ro, iov, 2);
        if (k <= 0) break;
        got += (size_t)k;
    }
    printf("readv: %zu [%.3s][%.5s]\n", got, all, all + 3);
    close(ro);
    close(wo);
    return 0;
}
