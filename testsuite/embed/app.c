/* A WASI command with a host import that no runtime provides: the
 * executable gets it from app_host.c, linked in with `kiln compile --link`. */
#include <stdio.h>
#include <string.h>

__attribute__((import_module("host"), import_name("checksum"))) int host_checksum(const char *s, int len);

/* Called back by the host from inside host_checksum. */
__attribute__((export_name("weight"))) int weight(int c) { return c >= 'a' && c <= 'z' ? 2 : 1; }

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) printf("%s: %d\n", argv[i], host_checksum(argv[i], (int)strlen(argv[i])));
    return 0;
}
