// kiln-e2e: expected output written by hand. Directories granted when the
// executable runs, through KILN_DIRS, which it honours only because it was
// compiled with --allow-runtime-dirs: wasmtime has no equivalent, so
// scripts/bless-e2e.py cannot record this test. Run environment:
//   KILN_DIRS=extra::/extra;;ro_extra::/ro_extra::ro;
// (an empty entry and a trailing ';' are ignored). Grants made at compile
// time come first: /fixed (read-only) is fd 3, then /extra and /ro_extra.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

static void show_file(const char *path) {
    char buf[64] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("read %s: errno %d\n", path, errno);
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    printf("read %s: %zd bytes: %s", path, n, buf);
    close(fd);
}

static void try_write(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        printf("write %s: %s\n", path, errno == EPERM ? "EPERM" : "other error");
        return;
    }
    ssize_t n = write(fd, "written\n", 8);
    close(fd);
    printf("write %s: %zd bytes\n", path, n);
}

int main(void) {
    for (int fd = 3;; fd++) {
        __wasi_prestat_t p;
        if (__wasi_fd_prestat_get(fd, &p)) break;
        char name[64] = {0};
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)name, p.u.dir.pr_name_len)) break;
        printf("fd %d: %s\n", fd, name);
    }
    show_file("/fixed/f.txt");
    show_file("/extra/e.txt");
    show_file("/ro_extra/r.txt");
    try_write("/extra/new.txt");
    show_file("/extra/new.txt");
    try_write("/ro_extra/new.txt");
    try_write("/fixed/new.txt");
    return 0;
}
