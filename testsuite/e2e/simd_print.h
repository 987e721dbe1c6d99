// Shared by the simd_*.c tests: print a v128 in one lane type, one line per
// result, so that a wrong lane shows which operation and lane it was.
//
// Floats print with %.9g (f32) and %.17g (f64), which round-trip, and a NaN
// prints as just "nan": wasm leaves a NaN result's sign and payload open
// (they differ between x86-64, aarch64 and riscv64 hardware), so its bits
// are never printed. The sign of zero is printed ("-0"): wasm fixes it.
#ifndef SIMD_PRINT_H
#define SIMD_PRINT_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasm_simd128.h>

__attribute__((unused, noinline)) static void pr_i8(const char *what, v128_t v) {
    int8_t l[16];
    memcpy(l, &v, 16);
    printf("%s:", what);
    for (int i = 0; i < 16; i++) printf(" %d", l[i]);
    printf("\n");
}

__attribute__((unused, noinline)) static void pr_u8(const char *what, v128_t v) {
    uint8_t l[16];
    memcpy(l, &v, 16);
    printf("%s:", what);
    for (int i = 0; i < 16; i++) printf(" %u", l[i]);
    printf("\n");
}

__attribute__((unused, noinline)) static void pr_i16(const char *what, v128_t v) {
    int16_t l[8];
    memcpy(l, &v, 16);
    printf("%s:", what);
    for (int i = 0; i < 8; i++) printf(" %d", l[i]);
    printf("\n");
}

__attribute__((unused, noinline)) static void pr_u16(const char *what, v128_t v) {
    uint16_t l[8];
    memcpy(l, &v, 16);
    printf("%s:", what);
    for (int i = 0; i < 8; i++) printf(" %u", l[i]);
    printf("\n");
}

__attribute__((unused, noinline)) static void pr_i32(const char *what, v128_t v) {
    int32_t l[4];
    memcpy(l, &v, 16);
    printf("%s:", what);
    for (int i = 0; i < 4; i++) printf(" %d", l[i]);
    printf("\n");
}

__attribute__((unused, noinline)) static void pr_u32(const char *what, v128_t v) {
    uint32_t l[4];
    memcpy(l, &v, 16);
    printf("%s:", what);
    for (int i = 0; i < 4; i++) printf(" %u", l[i]);
    printf("\n");
}

__attribute__((unused, noinline)) static void pr_i64(const char *what, v128_t v) {
    int64_t l[2];
    memcpy(l, &v, 16);
    printf("%s: %lld %lld\n", what, (long long)l[0], (long long)l[1]);
}

__attribute__((unused, noinline)) static void pr_u64(const char *what, v128_t v) {
    uint64_t l[2];
    memcpy(l, &v, 16);
    printf("%s: %llu %llu\n", what, (unsigned long long)l[0], (unsigned long long)l[1]);
}

__attribute__((unused, noinline)) static void pr_hex(const char *what, v128_t v) {
    uint8_t l[16];
    memcpy(l, &v, 16);
    printf("%s:", what);
    for (int i = 0; i < 16; i++) printf(" %02x", l[i]);
    printf("\n");
}

__attribute__((unused, noinline)) static void pr_f32(const char *what, v128_t v) {
    float l[4];
    memcpy(l, &v, 16);
    printf("%s:", what);
    for (int i = 0; i < 4; i++) {
        if (isnan(l[i]))
            printf(" nan");
        else
            printf(" %.9g", l[i]);
    }
    printf("\n");
}

__attribute__((unused, noinline)) static void pr_f64(const char *what, v128_t v) {
    double l[2];
    memcpy(l, &v, 16);
    printf("%s:", what);
    for (int i = 0; i < 2; i++) {
        if (isnan(l[i]))
            printf(" nan");
        else
            printf(" %.17g", l[i]);
    }
    printf("\n");
}

#endif
