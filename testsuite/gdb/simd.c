// v128 values under gdb: arguments and locals of a SIMD function built with
// -msimd128, shown as the vector types clang describes.
#include <wasm_simd128.h>
#include <stdio.h>

__attribute__((noinline)) int lanes(v128_t a, v128_t b) {
    v128_t s = wasm_i32x4_add(a, b);
    int t = wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 3);
    return t;
}

int main(void) {
    v128_t a = wasm_i32x4_make(1, 2, 3, 4);
    v128_t b = wasm_i32x4_make(10, 20, 30, 40);
    printf("%d\n", lanes(a, b));
    return 0;
}
