// KILN_DIRS is set when this runs, but the executable was not compiled with
// --allow-runtime-dirs, so it grants nothing: the program sees only what
// was granted at compile time (/sandbox, the working directory). Recorded
// from wasmtime, which never looks at KILN_DIRS.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <wasi/api.h>

int main(void) {
    int fd;
    for (fd = 3;; fd++) {
        __wasi_prestat_t p;
        if (__wasi_fd_prestat_get(fd, &p)) break;
        char name[64] = {0};
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)name, p.u.dir.pr_name_len)) break;
        printf("fd %d: %s\n", fd, name);
    }
    printf("%d grant(s)\n", fd - 3);
    int f = open("/extra/e.txt", O_RDONLY);
    printf("open /extra/e.txt: %s\n", f < 0 ? "refused" : "opened");
    f = open("/sandbox/extra/e.txt", O_RDONLY);
    printf("open /sandbox/extra/e.txt: %s\n", f < 0 ? "refused" : "opened");
    return 0;
}
