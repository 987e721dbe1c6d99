/* The host import of app.c, for `kiln compile app.wasm --link app_host.o`.
 * It runs inside a Kiln executable, which has no C library: freestanding C
 * against the header `kiln compile --emit header` wrote. */
#include "app.h"

int32_t app_import_host_checksum(app_instance *inst, int32_t ptr, int32_t len) {
    uint64_t size;
    const uint8_t *mem = app_memory(inst, &size);
    if (ptr < 0 || len < 0 || (uint64_t)ptr + (uint64_t)len > size) return -1;
    int32_t sum = 0;
    for (int32_t i = 0; i < len; i++) {
        int32_t w = 1;
        if (app_weight(inst, mem[ptr + i], &w) != KILN_OK) return -1; /* calls back into the module */
        sum += w * mem[ptr + i];
    }
    return sum;
}
