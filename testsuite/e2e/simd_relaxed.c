// Relaxed SIMD through wasm_simd128.h (built with -msimd128 -mrelaxed-simd):
// swizzle, laneselect, madd/nmadd, min/max, trunc, q15mulr and the i8x16
// dot products. Relaxed operators may give different results on different
// hardware where the spec allows a choice; Kiln always makes the
// deterministic choice, but wasmtime (whose output is recorded here) uses
// the host's. So every input here is one where all permitted results
// agree: swizzle indices below 16 or at/above 128, laneselect masks whose
// lanes are all ones or all zeros, fused and unfused multiply-adds that
// round the same way, min/max without NaNs or zeros of both signs,
// in-range truncations, no q15mulr of -32768 by -32768, and a second dot
// operand that fits in 7 bits. testsuite/spec/kiln/ pins the deterministic
// results on the other inputs.
#include "simd_print.h"

uint8_t BYTES[16] = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25};
uint8_t IDX[16] = {3, 0, 15, 128, 255, 7, 7, 200, 1, 2, 14, 13, 144, 9, 10, 0};
int32_t MASK[4] = {-1, 0, 0, -1};
int64_t MASK64[2] = {0, -1};
float FA[4] = {1.5f, -2.0f, 3.25f, 100.0f};
float FB[4] = {4.0f, 0.5f, -8.0f, 0.25f};
float FC[4] = {0.125f, 7.0f, 1.0f, -30.0f};
float FT[4] = {-2147483520.0f, 2147483520.0f, -1.75f, 123456.5f};
double DA[2] = {1.5, -1e9};
double DB[2] = {-0.25, 3.0};
double DC[2] = {10.0, 0.5};
double DT[2] = {0.5, 4294967295.0};
int16_t QA[8] = {-32768, 32767, 16384, -16384, 12345, -1, 0, 32767};
int16_t QB[8] = {32767, 32767, 16384, 16384, -23456, -1, 5, -32768};
int8_t SA[16] = {-128, 127, -1, 1, 100, -100, 50, -50, 0, 7, -7, 64, -64, 127, -128, 3};
int8_t SB[16] = {127, 127, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100, 127, 64};
int32_t ACC[4] = {2147483000, -5, 0, -2147483000};

v128_t ld(const void *p) { return wasm_v128_load(p); }

__attribute__((noinline)) void relaxed(void) {
    v128_t bytes = ld(BYTES), idx = ld(IDX), mask = ld(MASK);
    pr_u8("i8x16.relaxed_swizzle", wasm_i8x16_relaxed_swizzle(bytes, idx));
    pr_u8("i8x16.relaxed_laneselect", wasm_i8x16_relaxed_laneselect(bytes, idx, mask));
    pr_u16("i16x8.relaxed_laneselect", wasm_i16x8_relaxed_laneselect(bytes, idx, mask));
    pr_u32("i32x4.relaxed_laneselect", wasm_i32x4_relaxed_laneselect(bytes, idx, mask));
    pr_u64("i64x2.relaxed_laneselect", wasm_i64x2_relaxed_laneselect(bytes, idx, ld(MASK64)));
    v128_t fa = ld(FA), fb = ld(FB), fc = ld(FC);
    pr_f32("f32x4.relaxed_madd", wasm_f32x4_relaxed_madd(fa, fb, fc));
    pr_f32("f32x4.relaxed_nmadd", wasm_f32x4_relaxed_nmadd(fa, fb, fc));
    pr_f32("f32x4.relaxed_min", wasm_f32x4_relaxed_min(fa, fb));
    pr_f32("f32x4.relaxed_max", wasm_f32x4_relaxed_max(fa, fb));
    v128_t da = ld(DA), db = ld(DB), dc = ld(DC);
    pr_f64("f64x2.relaxed_madd", wasm_f64x2_relaxed_madd(da, db, dc));
    pr_f64("f64x2.relaxed_nmadd", wasm_f64x2_relaxed_nmadd(da, db, dc));
    pr_f64("f64x2.relaxed_min", wasm_f64x2_relaxed_min(da, db));
    pr_f64("f64x2.relaxed_max", wasm_f64x2_relaxed_max(da, db));
    v128_t ft = ld(FT), dt = ld(DT);
    pr_i32("i32x4.relaxed_trunc_f32x4_s", wasm_i32x4_relaxed_trunc_f32x4(ft));
    pr_u32("i32x4.relaxed_trunc_f32x4_u", wasm_u32x4_relaxed_trunc_f32x4(wasm_f32x4_abs(ft)));
    pr_i32("i32x4.relaxed_trunc_f64x2_s_zero", wasm_i32x4_relaxed_trunc_f64x2_zero(ld(DA)));
    pr_u32("i32x4.relaxed_trunc_f64x2_u_zero", wasm_u32x4_relaxed_trunc_f64x2_zero(dt));
    pr_i16("i16x8.relaxed_q15mulr_s", wasm_i16x8_relaxed_q15mulr(ld(QA), ld(QB)));
    v128_t sa = ld(SA), sb = ld(SB);
    pr_i16("i16x8.relaxed_dot_i8x16_i7x16_s", wasm_i16x8_relaxed_dot_i8x16_i7x16(sa, sb));
    pr_i32("i32x4.relaxed_dot_i8x16_i7x16_add_s", wasm_i32x4_relaxed_dot_i8x16_i7x16_add(sa, sb, ld(ACC)));
}

int main(void) {
    relaxed();
    return 0;
}
