// Directories: create, list (readdir, including "." and ".."; raw
// fd_readdir with cookies and small buffers), remove, rename, within one
// grant and between two. Host order of entries is not fixed, so names are
// printed sorted.
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

static void list(const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        printf("ls %s: %s\n", path, en(errno));
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        char t = e->d_type == DT_DIR ? '/' : e->d_type == DT_REG ? ' ' : e->d_type == DT_LNK ? '@' : '?';
        names[n] = malloc(strlen(e->d_name) + 2);
        sprintf(names[n++], "%s%c", e->d_name, t);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp);
    printf("ls %s:", path);
    for (int i = 0; i < n; i++) printf(" %s", names[i]), free(names[i]);
    printf("\n");
}

/* Reads a directory with fd_readdir and a buffer of `size` bytes, the way
 * wasi-libc does: resume from the cookie of the last whole entry. */
static void raw_list(int fd, size_t asked) {
    size_t size = asked;
    static char buf[1024];
    char *names[64];
    int n = 0, calls = 0, in_order = 1;
    __wasi_dircookie_t cookie = 0;
    for (;;) {
        __wasi_size_t used;
        __wasi_errno_t e = __wasi_fd_readdir(fd, (uint8_t *)buf, size, cookie, &used);
        calls++;
        if (e) {
            printf("fd_readdir: %s\n", en(e));
            return;
        }
        size_t at = 0;
        int got = 0;
        while (at + sizeof(__wasi_dirent_t) <= used) {
            __wasi_dirent_t d;
            memcpy(&d, buf + at, sizeof d);
            if (at + sizeof d + d.d_namlen > used) break; // cut short: fetch again
            if (d.d_next != cookie + 1) in_order = 0;
            names[n] = malloc(d.d_namlen + 1);
            memcpy(names[n], buf + at + sizeof d, d.d_namlen);
            names[n++][d.d_namlen] = 0;
            cookie = d.d_next;
            at += sizeof d + d.d_namlen;
            got++;
        }
        if (used < size) break;
        if (!got) size *= 2; // not even one entry fits: a bigger buffer, as wasi-libc does
    }
    qsort(names, (size_t)n, sizeof *names, cmp);
    printf("fd_readdir with %zu-byte buffer: %d entries, cookies %s, %s:", asked, n, in_order ? "1..n" : "out of order",
           calls > 1 ? "several calls" : "one call");
    for (int i = 0; i < n; i++) printf(" %s", names[i]), free(names[i]);
    printf("\n");
}

int main(void) {
    mkdir("/tree/empty", 0755); // (git keeps no empty directories in the fixture)
    list("/tree");
    list("/tree/a");
    list("/tree/empty");

    SHOW(mkdir("/tree/new", 0755));
    SHOW(mkdir("/tree/new", 0755));
    SHOW(mkdir("/tree/missing/new", 0755));
    SHOW(mkdir("/tree/b.txt", 0755));
    SHOW(mkdir("/tree/slash/", 0755));
    SHOW(mkdir("/tree/new/deeper", 0755));
    int f = open("/tree/new/deeper/file.txt", O_CREAT | O_WRONLY, 0644);
    close(f);
    list("/tree");
    list("/tree/new/deeper");

    int fd = open("/tree", O_RDONLY | O_DIRECTORY);
    raw_list(fd, 512);
    raw_list(fd, 40);
    raw_list(fd, 25);
    __wasi_size_t used;
    char buf[64];
    RAW(__wasi_fd_readdir(fd, (uint8_t *)buf, sizeof buf, 1000, &used));
    printf("past the end: %u bytes\n", (unsigned)used);
    RAW(__wasi_fd_readdir(fd, (uint8_t *)buf, 10, 0, &used));
    printf("tiny buffer: %u bytes\n", (unsigned)used);
    int file = open("/tree/b.txt", O_RDONLY);
    RAW(__wasi_fd_readdir(file, (uint8_t *)buf, sizeof buf, 0, &used));
    RAW(__wasi_fd_readdir(1, (uint8_t *)buf, sizeof buf, 0, &used));
    close(file);
    close(fd);

    // removing
    SHOW(rmdir("/tree/a"));
    SHOW(rmdir("/tree/b.txt"));
    SHOW(rmdir("/tree/nothing"));
    SHOW(unlink("/tree/a"));
    SHOW(unlink("/tree/nothing"));
    SHOW(unlink("/tree/b.txt/"));
    RAW(__wasi_path_remove_directory(3, "."));
    RAW(__wasi_path_remove_directory(3, "slash/")); // as in wasmtime
    RAW(__wasi_path_unlink_file(3, "a/"));
    RAW(__wasi_path_remove_directory(3, ""));
    SHOW(rmdir("/tree/slash"));
    SHOW(rmdir("/tree/empty"));

    // renaming
    SHOW(rename("/tree/b.txt", "/tree/c.txt"));
    SHOW(rename("/tree/c.txt", "/tree/a/x.txt")); // replaces
    SHOW(rename("/tree/a/x.txt", "/tree/new"));
    SHOW(rename("/tree/new", "/tree/a/x.txt"));
    SHOW(rename("/tree/new", "/tree/new/deeper/inside"));
    SHOW(mkdir("/tree/e1", 0755));
    SHOW(rename("/tree/e1", "/tree/new"));
    SHOW(mkdir("/tree/e2", 0755));
    SHOW(rename("/tree/e1", "/tree/e2"));
    SHOW(rename("/tree/missing", "/tree/x"));
    RAW(__wasi_path_rename(3, "e2/", 3, "e3/"));
    RAW(__wasi_path_rename(3, "a/x.txt/", 3, "y"));
    RAW(__wasi_path_rename(3, ".", 3, "y"));
    SHOW(rename("/tree/a/x.txt", "/other/moved.txt")); // between two grants
    list("/tree");
    list("/tree/a");
    list("/other");
    FILE *m = fopen("/other/moved.txt", "r");
    printf("moved.txt: %s", fgets(buf, sizeof buf, m) ? buf : "?\n");
    fclose(m);
    return 0;
}
