// Plain C loops that clang auto-vectorises with -O3 -msimd128 (no
// intrinsics): element-wise float and integer arithmetic, integer
// reductions, a 16-bit dot product, byte clamping, a min/max search,
// a conditional select and a strided gather-like loop. Sizes are not
// multiples of the vector width, so the scalar remainder loops run too.
//
// Checked when this test was written: `wasm-objdump -d` of the module
// built with `scripts/wasm-cc -O3 -msimd128` shows v128 code in these
// functions (v128.load, f32x4.mul, f32x4.add, i32x4.add, i32x4.mul,
// i32x4.extmul_low_i16x8_s, i8x16.add_sat_u, i32x4.max_s, v128.bitselect,
// v128.store, ...), so Kiln compiles what a compiler really emits.
#include <stdint.h>
#include <stdio.h>

#define N 1003

float X[N], Y[N], Z[N];
int32_t IA[N], IB[N], IC[N];
int16_t SA[N], SB[N];
uint8_t UA[N], UB[N], UC[N];

__attribute__((noinline)) void saxpy(float a, const float *x, float *restrict y, int n) {
    for (int i = 0; i < n; i++) y[i] = a * x[i] + y[i];
}

__attribute__((noinline)) void fmix(const float *restrict x, const float *restrict y, float *restrict z, int n) {
    for (int i = 0; i < n; i++) z[i] = (x[i] - y[i]) * (x[i] + 0.5f) / (y[i] * y[i] + 1.0f);
}

__attribute__((noinline)) int32_t isum(const int32_t *a, int n) {
    int32_t s = 0;
    for (int i = 0; i < n; i++) s += a[i];
    return s;
}

__attribute__((noinline)) uint32_t ixor_mul(const int32_t *a, const int32_t *b, int n) {
    uint32_t s = 0;
    for (int i = 0; i < n; i++) s ^= (uint32_t)(a[i] * b[i] + (a[i] >> 3));
    return s;
}

__attribute__((noinline)) int64_t dot16(const int16_t *a, const int16_t *b, int n) {
    int32_t s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

__attribute__((noinline)) void add_sat_u8(const uint8_t *restrict a, const uint8_t *restrict b, uint8_t *restrict c,
                                          int n) {
    for (int i = 0; i < n; i++) {
        unsigned s = a[i] + b[i];
        c[i] = s > 255 ? 255 : s;
    }
}

__attribute__((noinline)) void clamp_select(int32_t *restrict c, const int32_t *restrict a, const int32_t *restrict b,
                                            int n) {
    for (int i = 0; i < n; i++) c[i] = a[i] > b[i] ? a[i] - b[i] : (b[i] & 0xff);
}

__attribute__((noinline)) int32_t imax(const int32_t *a, int n) {
    int32_t m = a[0];
    for (int i = 1; i < n; i++) m = a[i] > m ? a[i] : m;
    return m;
}

__attribute__((noinline)) uint32_t count_below(const uint8_t *a, uint8_t limit, int n) {
    uint32_t k = 0;
    for (int i = 0; i < n; i++) k += a[i] < limit;
    return k;
}

static uint32_t state = 12345;
static uint32_t rnd(void) {
    state = state * 1103515245u + 12345u;
    return state >> 8;
}

int main(void) {
    for (int i = 0; i < N; i++) {
        X[i] = (float)(rnd() % 2000) / 16.0f - 50.0f;
        Y[i] = (float)(rnd() % 3000) / 32.0f - 20.0f;
        IA[i] = (int32_t)(rnd() * 2654435761u);
        IB[i] = (int32_t)(rnd() % 100000) - 50000;
        SA[i] = (int16_t)(rnd() & 0xffff);
        SB[i] = (int16_t)(rnd() % 2001) - 1000;
        UA[i] = (uint8_t)rnd();
        UB[i] = (uint8_t)(rnd() >> 3);
    }
    saxpy(1.25f, X, Y, N);
    fmix(X, Y, Z, N);
    // Float results are exact per element (no reassociation without
    // -ffast-math), so a few elements and an ordered sum are stable.
    double fs = 0;
    for (int i = 0; i < N; i++) fs += Z[i];
    printf("saxpy: %.9g %.9g %.9g\n", Y[0], Y[500], Y[N - 1]);
    printf("fmix: %.9g %.9g %.9g sum %.17g\n", Z[1], Z[777], Z[N - 2], fs);
    printf("isum: %d\n", isum(IA, N));
    printf("ixor_mul: %u\n", ixor_mul(IA, IB, N));
    printf("dot16: %lld\n", (long long)dot16(SA, SB, N));
    add_sat_u8(UA, UB, UC, N);
    uint32_t h = 0;
    for (int i = 0; i < N; i++) h = h * 31 + UC[i];
    printf("add_sat_u8: %u %u %u hash %u\n", UC[0], UC[1], UC[N - 1], h);
    clamp_select(IC, IA, IB, N);
    h = 0;
    for (int i = 0; i < N; i++) h = h * 31 + (uint32_t)IC[i];
    printf("clamp_select: %d %d hash %u\n", IC[2], IC[N - 1], h);
    printf("imax: %d %d\n", imax(IA, N), imax(IB, N));
    printf("count_below: %u %u\n", count_below(UA, 100, N), count_below(UB, 7, N));
    return 0;
}
