// Directory streams see entries created after they were read to the end:
// rewinddir (and fd_readdir at cookie 0) starts again from the directory's
// beginning, for an empty directory and for one that already had entries;
// a listing read in small pieces is whole. Names are printed sorted, since
// the host's order of entries is not fixed.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

#include "wasi_test.h"

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void print_sorted(const char *what, char **names, int n) {
    qsort(names, (size_t)n, sizeof *names, cmp);
    printf("%s:", what);
    for (int i = 0; i < n; i++) printf(" %s", names[i]), free(names[i]);
    printf("\n");
}

/* Reads the stream to its end and prints what it listed. */
static void drain(DIR *d, const char *what) {
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) names[n++] = strdup(e->d_name);
    print_sorted(what, names, n);
}

static void touch(const char *path) {
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    printf("create %s -> %s\n", path, fd < 0 ? en(errno) : "ok");
    if (fd >= 0) close(fd);
}

/* fd_readdir from `cookie` with a buffer of `size` bytes; prints the names
 * of the whole entries it returned. */
static void raw(int fd, uint64_t cookie, size_t size, const char *what) {
    static uint8_t buf[4096];
    __wasi_size_t used = 0;
    __wasi_errno_t r = __wasi_fd_readdir(fd, buf, size, cookie, &used);
    char *names[64];
    int n = 0;
    for (size_t at = 0; r == 0 && at + sizeof(__wasi_dirent_t) <= used && n < 64;) {
        __wasi_dirent_t h;
        memcpy(&h, buf + at, sizeof h);
        at += sizeof h;
        if (at + h.d_namlen > used) break;
        names[n] = strndup((const char *)buf + at, h.d_namlen);
        n++;
        at += h.d_namlen;
    }
    printf("fd_readdir(cookie %llu) -> %s, ", (unsigned long long)cookie, en(r));
    print_sorted(what, names, n);
}

/* Reads the whole directory with fd_readdir and `size`-byte buffers,
 * following d_next cookies, and prints every name seen. */
static void pieces(int fd, size_t size) {
    static uint8_t buf[256];
    char *names[64];
    int n = 0, calls = 0;
    uint64_t cookie = 0;
    for (;;) {
        __wasi_size_t used = 0;
        if (__wasi_fd_readdir(fd, buf, size, cookie, &used) != 0 || ++calls > 200) break;
        size_t at = 0;
        int got = 0;
        while (at + sizeof(__wasi_dirent_t) <= used) {
            __wasi_dirent_t h;
            memcpy(&h, buf + at, sizeof h);
            if (at + sizeof h + h.d_namlen > used) break;
            if (n < 64) names[n++] = strndup((const char *)buf + at + sizeof h, h.d_namlen);
            cookie = h.d_next;
            at += sizeof h + h.d_namlen;
            got++;
        }
        if (used < size) break; /* the end of the directory */
        if (!got) break;        /* an entry larger than the buffer */
    }
    print_sorted("in pieces", names, n);
}

int main(void) {
    SHOW(mkdir("/t/empty", 0755));
    DIR *d = opendir("/t/empty");
    drain(d, "empty");
    touch("/t/empty/new1");
    rewinddir(d);
    drain(d, "after create + rewinddir");
    touch("/t/empty/new2");
    rewinddir(d);
    drain(d, "after a second create + rewinddir");
    SHOW(unlink("/t/empty/new1"));
    rewinddir(d);
    drain(d, "after unlink + rewinddir");
    closedir(d);

    /* The raw form: cookie 0, create, cookie 0 again. */
    SHOW(mkdir("/t/raw", 0755));
    int fd = open("/t/raw", O_RDONLY | O_DIRECTORY);
    raw(fd, 0, 4096, "raw empty");
    touch("/t/raw/a");
    raw(fd, 0, 4096, "raw after create");
    touch("/t/raw/b");
    raw(fd, 0, 4096, "raw after a second create");

    /* A listing in pieces (cookies resumed between calls) is whole, and
     * stays whole after a change and a fresh start. */
    for (int i = 0; i < 12; i++) {
        char p[32];
        snprintf(p, sizeof p, "/t/raw/file%02d", i);
        int f = open(p, O_CREAT | O_WRONLY, 0644);
        close(f);
    }
    pieces(fd, 64);
    touch("/t/raw/late");
    pieces(fd, 64);
    pieces(fd, 200);
    close(fd);
    return 0;
}
