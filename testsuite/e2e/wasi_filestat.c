// File metadata: stat, fstat, lstat and the raw filestat fields; setting
// times (explicit, now, omitted; on a file, a directory, a symlink itself,
// through a descriptor); sizes. Fixture: f.txt (5 bytes), d/keep.txt,
// link -> f.txt. Nothing printed depends on when or where it runs.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

#define SHOW_WIDTH 56
#include "wasi_test.h"

static void times_of(const char *p, int follow) {
    struct stat s;
    int r = follow ? stat(p, &s) : lstat(p, &s);
    if (r) {
        printf("%s: %s\n", p, en(errno));
        return;
    }
    printf("%s%s: atime %lld.%09ld mtime %lld.%09ld\n", follow ? "" : "(lstat) ", p, (long long)s.st_atim.tv_sec,
           s.st_atim.tv_nsec, (long long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
}

static int recent(struct timespec t) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long d = (long long)now.tv_sec - (long long)t.tv_sec;
    return d >= -5 && d <= 60;
}

int main(void) {
    struct stat s, t;
    SHOW(stat("/sandbox/f.txt", &s));
    printf("f.txt: regular %d, size %lld, nlink %llu\n", S_ISREG(s.st_mode), (long long)s.st_size,
           (unsigned long long)s.st_nlink);
    int fd = open("/sandbox/f.txt", O_RDWR);
    SHOW(fstat(fd, &t));
    printf("fstat names the same file: %s\n", s.st_ino == t.st_ino && s.st_dev == t.st_dev ? "yes" : "no");
    SHOW(stat("/sandbox/d", &s));
    printf("d: directory %d, nlink >= 2: %d\n", S_ISDIR(s.st_mode), s.st_nlink >= 2);
    SHOW(lstat("/sandbox/link", &s));
    printf("link: symlink %d, size %lld\n", S_ISLNK(s.st_mode), (long long)s.st_size);
    SHOW(stat("/sandbox/nothing", &s));

    // what a stream reports
    __wasi_filestat_t fs;
    RAW(__wasi_fd_filestat_get(1, &fs));
    printf("stdout: dev %llu ino %llu type %u nlink %llu size %llu times %llu %llu %llu\n", (unsigned long long)fs.dev,
           (unsigned long long)fs.ino, fs.filetype, (unsigned long long)fs.nlink, (unsigned long long)fs.size,
           (unsigned long long)fs.atim, (unsigned long long)fs.mtim, (unsigned long long)fs.ctim);
    RAW(__wasi_fd_filestat_get(99, &fs));
    RAW(__wasi_fd_filestat_get(fd, &fs));
    printf("f.txt raw: type %u size %llu nlink %llu\n", fs.filetype, (unsigned long long)fs.size,
           (unsigned long long)fs.nlink);
    RAW(__wasi_fd_filestat_get(3, &fs));
    printf("grant raw: type %u\n", fs.filetype);

    // explicit times, down to the nanosecond
    struct timespec ts[2] = {{1000000000, 123456789}, {1500000000, 500000000}};
    SHOW(utimensat(AT_FDCWD, "/sandbox/f.txt", ts, 0));
    times_of("/sandbox/f.txt", 1);
    struct timespec omit_now[2] = {{0, UTIME_OMIT}, {1600000000, 1}};
    SHOW(utimensat(AT_FDCWD, "/sandbox/f.txt", omit_now, 0));
    times_of("/sandbox/f.txt", 1);
    struct timespec fd_ts[2] = {{1700000000, 7}, {1700000001, 8}};
    SHOW(futimens(fd, fd_ts));
    times_of("/sandbox/f.txt", 1);
    RAW(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM_NOW | __WASI_FSTFLAGS_MTIM_NOW));
    stat("/sandbox/f.txt", &s);
    printf("both now: atime recent %d, mtime recent %d\n", recent(s.st_atim), recent(s.st_mtim));
    SHOW(utimensat(AT_FDCWD, "/sandbox/f.txt", ts, 0));
    RAW(__wasi_path_filestat_set_times(3, 0, "f.txt", 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    stat("/sandbox/f.txt", &s);
    printf("mtime now: atime recent %d, mtime recent %d\n", recent(s.st_atim), recent(s.st_mtim));

    // a directory; a symlink itself versus what it points to
    SHOW(utimensat(AT_FDCWD, "/sandbox/d", ts, 0));
    times_of("/sandbox/d", 1);
    SHOW(utimensat(AT_FDCWD, "/sandbox/f.txt", fd_ts, 0));
    SHOW(utimensat(AT_FDCWD, "/sandbox/link", ts, AT_SYMLINK_NOFOLLOW));
    times_of("/sandbox/link", 0);
    times_of("/sandbox/f.txt", 1);
    SHOW(utimensat(AT_FDCWD, "/sandbox/link", ts, 0));
    times_of("/sandbox/f.txt", 1);
    SHOW(utimensat(AT_FDCWD, "/sandbox/nothing", ts, 0));

    // contradictory flags
    RAW(__wasi_path_filestat_set_times(3, 0, "f.txt", 1, 2, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
    RAW(__wasi_path_filestat_set_times(3, 0, "f.txt", 1, 2, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW));
    RAW(__wasi_fd_filestat_set_times(fd, 1, 2, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
    RAW(__wasi_fd_filestat_set_times(1, 1, 2, __WASI_FSTFLAGS_ATIM));
    RAW(__wasi_fd_filestat_set_times(fd, 1, 2, 0));
    RAW(__wasi_path_filestat_set_times(3, 0, "f.txt", 5, 6, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    times_of("/sandbox/f.txt", 1);

    // sizes
    RAW(__wasi_fd_filestat_set_size(fd, 2));
    fstat(fd, &s);
    printf("size now %lld\n", (long long)s.st_size);
    RAW(__wasi_fd_filestat_set_size(fd, 10));
    fstat(fd, &s);
    printf("size now %lld\n", (long long)s.st_size);
    RAW(__wasi_fd_filestat_set_size(3, 0));
    RAW(__wasi_fd_filestat_set_size(1, 0));
    SHOW(truncate("/sandbox/f.txt", 3));
    stat("/sandbox/f.txt", &s);
    printf("size now %lld\n", (long long)s.st_size);
    close(fd);
    return 0;
}
