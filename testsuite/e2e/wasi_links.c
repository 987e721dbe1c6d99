// Symbolic and hard links inside a grant: readlink, symlink, link, stat
// versus lstat, O_NOFOLLOW, dangling links and loops. Fixture: target.txt,
// link_rel -> target.txt, subdir/link_up -> ../target.txt, link_dir ->
// subdir, dangling -> missing, loop1 <-> loop2.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

#define SHOW_WIDTH 56
#include "wasi_test.h"

static const char *kind(mode_t m) {
    return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "symlink" : "other";
}

/* Sizes of directories depend on the file system: not shown. */
static long long size(const struct stat *s) { return S_ISDIR(s->st_mode) ? 0 : (long long)s->st_size; }

static void stats(const char *p) {
    struct stat s;
    printf("%-24s stat: ", p);
    if (stat(p, &s) == 0) printf("%-7s size %-4lld", kind(s.st_mode), size(&s));
    else printf("%-17s", en(errno));
    printf("  lstat: ");
    if (lstat(p, &s) == 0) printf("%s size %lld\n", kind(s.st_mode), size(&s));
    else printf("%s\n", en(errno));
}

static void readl(const char *p, size_t size) {
    char buf[64];
    memset(buf, 0, sizeof buf);
    errno = 0;
    ssize_t n = readlink(p, buf, size);
    printf("readlink %s (%zu): %zd %s '%s'\n", p, size, n, n < 0 ? en(errno) : "", buf);
}

static void cat(const char *p, int flags) {
    char buf[64];
    int fd = open(p, flags);
    if (fd < 0) {
        printf("open %s: %s\n", p, en(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("open %s: %s", p, buf);
    close(fd);
}

int main(void) {
    stats("/sandbox/target.txt");
    stats("/sandbox/link_rel");
    stats("/sandbox/subdir/link_up");
    stats("/sandbox/link_dir");
    stats("/sandbox/dangling");
    stats("/sandbox/loop1");

    readl("/sandbox/link_rel", 64);
    readl("/sandbox/link_rel", 3);
    readl("/sandbox/subdir/link_up", 64);
    readl("/sandbox/target.txt", 64);
    readl("/sandbox/nothing", 64);
    readl("/sandbox/link_dir/", 64);
    readl("/sandbox/link_dir/link_up", 64);

    cat("/sandbox/link_rel", O_RDONLY);
    cat("/sandbox/subdir/link_up", O_RDONLY);
    cat("/sandbox/link_dir/inner.txt", O_RDONLY);
    cat("/sandbox/link_dir/link_up", O_RDONLY);
    cat("/sandbox/link_rel", O_RDONLY | O_NOFOLLOW);
    cat("/sandbox/link_dir/inner.txt", O_RDONLY | O_NOFOLLOW); // only the last component
    cat("/sandbox/dangling", O_RDONLY);
    cat("/sandbox/loop1", O_RDONLY);
    SHOW(open("/sandbox/link_dir", O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    int fd = open("/sandbox/link_dir/", O_RDONLY | O_NOFOLLOW);
    SHOW(fd >= 0);
    close(fd);

    // creating through a dangling link creates its target; O_EXCL refuses
    SHOW(open("/sandbox/dangling", O_CREAT | O_EXCL | O_WRONLY, 0644));
    fd = open("/sandbox/dangling", O_CREAT | O_WRONLY, 0644);
    SHOW(write(fd, "now here\n", 9));
    close(fd);
    cat("/sandbox/missing", O_RDONLY);
    stats("/sandbox/dangling");

    // making links
    SHOW(symlink("target.txt", "/sandbox/new_link"));
    SHOW(symlink("target.txt", "/sandbox/new_link"));
    SHOW(symlink("../target.txt", "/sandbox/subdir/new_up"));
    SHOW(symlink("", "/sandbox/empty_link"));
    SHOW(symlink("x", "/sandbox/nodir/new_link"));
    cat("/sandbox/new_link", O_RDONLY);
    cat("/sandbox/subdir/new_up", O_RDONLY);
    readl("/sandbox/new_link", 64);

    SHOW(link("/sandbox/target.txt", "/sandbox/hard"));
    SHOW(link("/sandbox/target.txt", "/sandbox/hard"));
    SHOW(link("/sandbox/subdir", "/sandbox/hard_dir"));
    SHOW(link("/sandbox/nothing", "/sandbox/hard2"));
    SHOW(linkat(AT_FDCWD, "/sandbox/link_rel", AT_FDCWD, "/sandbox/hard_link", 0)); // the link itself
    SHOW(linkat(AT_FDCWD, "/sandbox/link_rel", AT_FDCWD, "/sandbox/hard3", AT_SYMLINK_FOLLOW));
    struct stat s;
    stat("/sandbox/target.txt", &s);
    printf("target.txt nlink %llu\n", (unsigned long long)s.st_nlink);
    lstat("/sandbox/hard_link", &s);
    printf("hard_link is a %s, nlink %llu\n", kind(s.st_mode), (unsigned long long)s.st_nlink);
    struct stat a, b;
    stat("/sandbox/hard", &a);
    stat("/sandbox/target.txt", &b);
    printf("hard and target.txt are the same file: %s\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev ? "yes" : "no");

    // removing links leaves their targets
    SHOW(unlink("/sandbox/link_rel"));
    SHOW(unlink("/sandbox/link_dir"));
    stats("/sandbox/target.txt");
    stats("/sandbox/subdir");
    SHOW(unlink("/sandbox/target.txt"));
    cat("/sandbox/hard", O_RDONLY);
    cat("/sandbox/new_link", O_RDONLY);
    return 0;
}
