// Escape attempts from a granted directory. The working directory holds
// secret.txt and jail/, and only jail/ is granted (as /jail). Every way out
// must fail (wasmtime answers EPERM): `..` past the grant, absolute paths,
// symlinks pointing outside directly, through a chain, or through a
// directory link; mutations through any of these; and a deterministic
// "race": a directory swapped for a symlink to outside after it was
// looked up. Links that go out and come back, and `..` that stays inside,
// work. Fixture links: jail/link_out -> ../secret.txt, jail/link_abs ->
// /etc/passwd, jail/chain1 -> chain2 -> sub/chain3 -> ../../secret.txt,
// jail/sub/up -> .., jail/dir_out -> .., jail/loop -> loop,
// jail/deep_ok -> sub/../inside.txt.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

#define SHOW_WIDTH 60
#include "wasi_test.h"

#define READ __WASI_RIGHTS_FD_READ
#define WRITE (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE)

/* path_open relative to dir; prints the result and the first line read. */
static int try_open(int dir, const char *path, __wasi_lookupflags_t lf, __wasi_oflags_t of, __wasi_rights_t rights) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(dir, lf, path, of, rights, 0, 0, &fd);
    printf("open %d:%-28s %s%s", dir, path, lf ? "" : "(nofollow) ", en(e));
    if (!e) {
        char buf[32] = {0};
        __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
        __wasi_size_t n = 0;
        if (__wasi_fd_read(fd, &iov, 1, &n) == 0 && n) printf(" read '%.*s'", (int)strcspn(buf, "\n"), buf);
        if (__wasi_fd_close(fd)) printf(" (close failed)");
    }
    printf("\n");
    return e;
}

int main(void) {
    static const char *reads[] = {
        "inside.txt", "..", "../secret.txt", "/etc/passwd", "/", "sub/../inside.txt", "sub/../../secret.txt",
        "./../secret.txt", "sub/./../../secret.txt", "sub//..//..//secret.txt", "link_out", "link_abs", "chain1",
        "chain2", "sub/chain3", "dir_out/secret.txt", "dir_out/jail/inside.txt", "sub/up/inside.txt",
        "sub/up/../secret.txt", "sub/up/sub/up/inside.txt", "deep_ok", "loop", "sub/..", "sub/../..", 0,
    };
    for (int i = 0; reads[i]; i++) try_open(3, reads[i], 1, 0, READ);
    try_open(3, "link_out", 0, 0, READ);
    try_open(3, "dir_out", 1, __WASI_OFLAGS_DIRECTORY, READ);

    // through libc's view of the grants
    SHOW(open("/jail/../secret.txt", O_RDONLY));
    SHOW(open("/secret.txt", O_RDONLY));
    SHOW(open("/jail/link_out", O_RDONLY));
    SHOW(open("/jail/sub/up/inside.txt", O_RDONLY) >= 0);

    // metadata and link contents
    __wasi_filestat_t st;
    RAW(__wasi_path_filestat_get(3, 1, "link_out", &st));
    RAW(__wasi_path_filestat_get(3, 0, "link_out", &st));
    printf("link_out itself is a symlink: %d\n", st.filetype == __WASI_FILETYPE_SYMBOLIC_LINK);
    RAW(__wasi_path_filestat_get(3, 1, "../secret.txt", &st));
    RAW(__wasi_path_filestat_get(3, 1, "dir_out", &st));
    RAW(__wasi_path_filestat_get(3, 0, "dir_out/secret.txt", &st));
    char buf[64];
    __wasi_size_t n;
    RAW(__wasi_path_readlink(3, "link_out", (uint8_t *)buf, sizeof buf, &n));
    printf("link_out -> %.*s\n", (int)n, buf);
    RAW(__wasi_path_readlink(3, "link_abs", (uint8_t *)buf, sizeof buf, &n));
    RAW(__wasi_path_readlink(3, "dir_out/jail/link_out", (uint8_t *)buf, sizeof buf, &n));

    // mutations through a way out
    RAW(__wasi_path_create_directory(3, "../escaped"));
    RAW(__wasi_path_create_directory(3, "dir_out/escaped"));
    RAW(__wasi_path_create_directory(3, "/tmp/escaped"));
    try_open(3, "link_out", 1, __WASI_OFLAGS_CREAT, WRITE);
    try_open(3, "link_out", 1, __WASI_OFLAGS_TRUNC, WRITE);
    try_open(3, "../new.txt", 1, __WASI_OFLAGS_CREAT, WRITE);
    try_open(3, "dir_out/new.txt", 1, __WASI_OFLAGS_CREAT, WRITE);
    try_open(3, "chain1", 1, 0, WRITE);
    RAW(__wasi_path_unlink_file(3, "../secret.txt"));
    RAW(__wasi_path_unlink_file(3, "dir_out/secret.txt"));
    RAW(__wasi_path_remove_directory(3, "dir_out/jail"));
    RAW(__wasi_path_rename(3, "inside.txt", 3, "../stolen.txt"));
    RAW(__wasi_path_rename(3, "../secret.txt", 3, "here.txt"));
    RAW(__wasi_path_rename(3, "dir_out/secret.txt", 3, "here.txt"));
    RAW(__wasi_path_link(3, 0, "../secret.txt", 3, "hard.txt"));
    RAW(__wasi_path_link(3, 0, "dir_out/secret.txt", 3, "hard.txt"));
    RAW(__wasi_path_link(3, 0, "inside.txt", 3, "../hard.txt"));
    RAW(__wasi_path_symlink("/etc/passwd", 3, "abs_link"));
    RAW(__wasi_path_symlink("../secret.txt", 3, "../out_link"));
    RAW(__wasi_path_filestat_set_times(3, 1, "link_out", 1, 2, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    RAW(__wasi_path_filestat_set_times(3, 0, "../secret.txt", 1, 2, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    RAW(__wasi_path_filestat_set_times(3, 0, "sub/..", 1, 2, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    // ... while links that merely point outside may be made and moved: following them still fails
    RAW(__wasi_path_symlink("../secret.txt", 3, "new_out"));
    try_open(3, "new_out", 1, 0, READ);
    RAW(__wasi_path_link(3, 0, "link_out", 3, "hard_link"));
    try_open(3, "hard_link", 1, 0, READ);
    RAW(__wasi_path_rename(3, "new_out", 3, "sub/new_out"));
    try_open(3, "sub/new_out", 1, 0, READ); // now ../secret.txt from sub: jail/secret.txt, absent
    RAW(__wasi_path_filestat_set_times(3, 0, "link_out", 1, 2, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));

    // a directory swapped for a symlink to outside after it was opened
    __wasi_fd_t sub;
    RAW(__wasi_path_open(3, 1, "sub", __WASI_OFLAGS_DIRECTORY, READ, READ, 0, &sub));
    try_open(sub, "s.txt", 1, 0, READ);
    RAW(__wasi_path_rename(3, "sub", 3, "sub_moved"));
    RAW(__wasi_path_symlink("..", 3, "sub"));
    try_open(3, "sub/secret.txt", 1, 0, READ);
    try_open(3, "sub/jail/inside.txt", 1, 0, READ);
    try_open(sub, "s.txt", 1, 0, READ);    // still the real directory, wherever it is now
    try_open(sub, "../inside.txt", 1, 0, READ); // a descriptor is a boundary of its own
    try_open(sub, "up/inside.txt", 1, 0, READ);
    try_open(sub, "chain3", 1, 0, READ);
    RAW(__wasi_path_create_directory(3, "sub/escaped"));

    // and the same between two calls through libc
    struct stat s;
    SHOW(mkdir("/jail/work", 0755));
    SHOW(stat("/jail/work", &s));
    SHOW(rename("/jail/work", "/jail/work_moved"));
    SHOW(symlink("../", "/jail/work"));
    SHOW(open("/jail/work/secret.txt", O_RDONLY));
    SHOW(open("/jail/work/planted.txt", O_CREAT | O_WRONLY, 0644));
    SHOW(stat("/jail/work/secret.txt", &s));
    return 0;
}
