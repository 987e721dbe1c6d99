// Compiled with --bounds-checks=explicit (explicit_bounds.flags): linear
// memory is mapped only as far as it is used and moves when it grows
// (runtime-lib/c/memory.c), so this program grows it many times, with
// pointers into it live across the grows, checks every byte it wrote, and
// ends by reading one byte past the end of memory, which must trap.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    enum { BLOCKS = 48, SIZE = 1 << 20 };
    unsigned char *blocks[BLOCKS];
    size_t pages_before = __builtin_wasm_memory_size(0);
    for (int i = 0; i < BLOCKS; i++) {
        blocks[i] = malloc(SIZE);
        if (!blocks[i]) {
            printf("malloc failed at block %d\n", i);
            return 1;
        }
        memset(blocks[i], i * 7 + 1, SIZE);
        blocks[i][SIZE - 1] = (unsigned char)i;
    }
    unsigned long sum = 0;
    int bad = 0;
    for (int i = 0; i < BLOCKS; i++) {
        for (size_t j = 0; j < SIZE - 1; j += 4093)
            if (blocks[i][j] != (unsigned char)(i * 7 + 1)) bad++;
        sum += blocks[i][0] + blocks[i][SIZE - 1];
    }
    size_t pages = __builtin_wasm_memory_size(0);
    printf("grew by %zu pages (at least %d: %s)\n", pages - pages_before, BLOCKS * 16, pages - pages_before >= BLOCKS * 16 ? "yes" : "no");
    printf("checksum %lu, %d bad bytes\n", sum, bad);
    for (int i = 0; i < BLOCKS; i++) free(blocks[i]);
    fflush(stdout);
    volatile unsigned char *end = (volatile unsigned char *)(uintptr_t)(pages * 65536);
    printf("past the end: %d\n", end[0]);
    return 0;
}
