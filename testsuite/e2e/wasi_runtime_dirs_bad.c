// kiln-e2e: expected output written by hand. A malformed KILN_DIRS entry
// (run environment: KILN_DIRS=ok::/ok;just_a_path) stops the executable
// with a message before the program runs; nothing is granted half-way.
// wasmtime has no KILN_DIRS, so this cannot be recorded from it.
#include <stdio.h>

int main(void) {
    printf("the program ran\n");
    return 0;
}
