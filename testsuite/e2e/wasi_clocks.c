// Clock ids: realtime and monotonic work; the CPU-time clocks answer EBADF,
// as under wasmtime (which has none). Unbuffered so every line shows.
#include <stdio.h>
#include <wasi/api.h>
int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    __wasi_timestamp_t t, r;
    for (int id = 0; id < 4; id++) {
        __wasi_errno_t e1 = __wasi_clock_time_get(id, 1, &t);
        __wasi_errno_t e2 = __wasi_clock_res_get(id, &r);
        printf("clock %d: time_get errno %d, res_get errno %d\n", id, e1, e2);
    }
    return 0;
}
