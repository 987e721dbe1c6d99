/* exit_status.h: the exit_*.c end-to-end tests. Each defines STATUS, prints
 * a line and calls exit(STATUS); wasi-libc passes it to proc_exit
 * unchanged. wasmtime accepts statuses in [0..126) and fails any other with
 * an error and status 1; the line printed before must appear either way.
 * Not a test itself (the e2e harness runs .c and .wat files only). */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    printf("exiting with %d\n", STATUS);
    exit(STATUS);
}
