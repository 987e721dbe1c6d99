// Wasm SIMD floats through wasm_simd128.h (built with -msimd128): f32x4 and
// f64x2 arithmetic, sqrt, min/max (NaN and signed zeros) and pmin/pmax,
// rounding (ceil, floor, trunc, nearest with ties to even), comparisons,
// and the conversions: i32x4 <-> f32x4 signed and unsigned (saturating,
// NaN to 0), f64x2 <-> i32x4 (convert_low, trunc_sat_zero), demote and
// promote. NaN results print as "nan" (wasm leaves their sign and payload
// open); the comparisons show where NaN lanes went.
//
// Inputs are non-const globals and each group is a non-inlined external
// function, so `wasm-objdump -d` shows the v128 instructions
// (f32x4.nearest, f64x2.pmin, i32x4.trunc_sat_f32x4_u,
// f32x4.demote_f64x2_zero, f64x2.convert_low_i32x4_u, ...).
#include "simd_print.h"

float FA[4] = {1.5f, -0.0f, 2.5f, -3.75f};
float FB[4] = {0.0f, 0.0f, -2.5f, 1e30f};
float FSPECIAL[4] = {0.0f, 1.0f, 0.0f, -1.0f};  // becomes inf, nan, -inf, -1 in main
float FROUND[4] = {2.5f, -0.5f, 3.5f, -2.4999998f};
float FBIG[4] = {3e9f, -3e9f, 4294967040.0f, -1.5f};
double DA[2] = {1.5, -0.0};
double DB[2] = {-2.25, 0.0};
double DROUND[2] = {-2.5, 4503599627370495.5};
double DBIG[2] = {3e9, -2147483648.9};
double DDEMOTE[2] = {1e300, 0.1};
int32_t IVALS[4] = {-1, 2147483647, -2147483647 - 1, 16777217};

v128_t ld(const void *p) { return wasm_v128_load(p); }

__attribute__((noinline)) void f32_ops(v128_t a, v128_t b, v128_t s) {
    pr_f32("f32x4.add", wasm_f32x4_add(a, b));
    pr_f32("f32x4.sub", wasm_f32x4_sub(a, b));
    pr_f32("f32x4.mul", wasm_f32x4_mul(a, b));
    pr_f32("f32x4.div", wasm_f32x4_div(a, b));
    pr_f32("f32x4.sqrt", wasm_f32x4_sqrt(a));
    pr_f32("f32x4.abs", wasm_f32x4_abs(a));
    pr_f32("f32x4.neg", wasm_f32x4_neg(a));
    pr_f32("f32x4.min", wasm_f32x4_min(a, b));
    pr_f32("f32x4.max", wasm_f32x4_max(a, b));
    pr_f32("f32x4.min special", wasm_f32x4_min(s, a));
    pr_f32("f32x4.max special", wasm_f32x4_max(s, a));
    pr_f32("f32x4.pmin", wasm_f32x4_pmin(a, b));
    pr_f32("f32x4.pmax", wasm_f32x4_pmax(a, b));
    pr_f32("f32x4.pmin special", wasm_f32x4_pmin(s, a));
    pr_f32("f32x4.pmax special", wasm_f32x4_pmax(a, s));
    pr_i32("f32x4.eq", wasm_f32x4_eq(a, b));
    pr_i32("f32x4.ne", wasm_f32x4_ne(a, b));
    pr_i32("f32x4.lt", wasm_f32x4_lt(a, b));
    pr_i32("f32x4.gt", wasm_f32x4_gt(a, b));
    pr_i32("f32x4.le", wasm_f32x4_le(a, b));
    pr_i32("f32x4.ge", wasm_f32x4_ge(a, b));
    pr_i32("f32x4.eq self special", wasm_f32x4_eq(s, s));
    pr_i32("f32x4.ne self special", wasm_f32x4_ne(s, s));
    pr_f32("f32x4 special", s);
    pr_f32("f32x4.abs special", wasm_f32x4_abs(s));
}

// Each rounding operation is its own small function. qemu 7.2's riscv64
// translator (Debian 12's qemu-user, which runs the riscv64 tests) aborts
// with "decode_save_opc: Assertion `ctx->insn_start != NULL' failed" on a
// vfcvt.rtz that is the first floating-point instruction of a translation
// block, which happens in a larger function where a spill reload (with its
// vsetivli, which ends a block) lands just before it. The code is right
// (the spec tests run the same lowering); qemu 8.1 fixed its translator.
// Kiln would inline these functions back into their callers, so
// simd_float.flags turns inlining off (--no-inline).
__attribute__((noinline)) v128_t f32_ceil(v128_t x) { return wasm_f32x4_ceil(x); }
__attribute__((noinline)) v128_t f32_floor(v128_t x) { return wasm_f32x4_floor(x); }
__attribute__((noinline)) v128_t f32_trunc(v128_t x) { return wasm_f32x4_trunc(x); }
__attribute__((noinline)) v128_t f32_nearest(v128_t x) { return wasm_f32x4_nearest(x); }
__attribute__((noinline)) v128_t f64_ceil(v128_t x) { return wasm_f64x2_ceil(x); }
__attribute__((noinline)) v128_t f64_floor(v128_t x) { return wasm_f64x2_floor(x); }
__attribute__((noinline)) v128_t f64_trunc(v128_t x) { return wasm_f64x2_trunc(x); }
__attribute__((noinline)) v128_t f64_nearest(v128_t x) { return wasm_f64x2_nearest(x); }

void f32_rounding(v128_t r, v128_t s) {
    pr_f32("f32x4.ceil", f32_ceil(r));
    pr_f32("f32x4.floor", f32_floor(r));
    pr_f32("f32x4.trunc", f32_trunc(r));
    pr_f32("f32x4.nearest", f32_nearest(r));
    pr_f32("f32x4.nearest special", f32_nearest(s));
}

__attribute__((noinline)) void f64_ops(v128_t a, v128_t b, v128_t r) {
    pr_f64("f64x2.add", wasm_f64x2_add(a, b));
    pr_f64("f64x2.sub", wasm_f64x2_sub(a, b));
    pr_f64("f64x2.mul", wasm_f64x2_mul(a, b));
    pr_f64("f64x2.div", wasm_f64x2_div(a, b));
    pr_f64("f64x2.sqrt", wasm_f64x2_sqrt(a));
    pr_f64("f64x2.abs", wasm_f64x2_abs(a));
    pr_f64("f64x2.neg", wasm_f64x2_neg(a));
    pr_f64("f64x2.min", wasm_f64x2_min(a, b));
    pr_f64("f64x2.max", wasm_f64x2_max(a, b));
    pr_f64("f64x2.pmin", wasm_f64x2_pmin(a, b));
    pr_f64("f64x2.pmax", wasm_f64x2_pmax(a, b));
    pr_i64("f64x2.eq", wasm_f64x2_eq(a, b));
    pr_i64("f64x2.ne", wasm_f64x2_ne(a, b));
    pr_i64("f64x2.lt", wasm_f64x2_lt(a, b));
    pr_i64("f64x2.gt", wasm_f64x2_gt(a, b));
    pr_i64("f64x2.le", wasm_f64x2_le(a, b));
    pr_i64("f64x2.ge", wasm_f64x2_ge(a, b));
    pr_f64("f64x2.ceil", f64_ceil(r));
    pr_f64("f64x2.floor", f64_floor(r));
    pr_f64("f64x2.trunc", f64_trunc(r));
    pr_f64("f64x2.nearest", f64_nearest(r));
}

__attribute__((noinline)) void conversions(v128_t fbig, v128_t fs, v128_t ivals, v128_t dbig, v128_t ddemote,
                                           v128_t fa) {
    pr_i32("i32x4.trunc_sat_f32x4_s", wasm_i32x4_trunc_sat_f32x4(fbig));
    pr_u32("i32x4.trunc_sat_f32x4_u", wasm_u32x4_trunc_sat_f32x4(fbig));
    pr_i32("i32x4.trunc_sat_f32x4_s special", wasm_i32x4_trunc_sat_f32x4(fs));
    pr_u32("i32x4.trunc_sat_f32x4_u special", wasm_u32x4_trunc_sat_f32x4(fs));
    pr_f32("f32x4.convert_i32x4_s", wasm_f32x4_convert_i32x4(ivals));
    pr_f32("f32x4.convert_i32x4_u", wasm_f32x4_convert_u32x4(ivals));
    pr_f64("f64x2.convert_low_i32x4_s", wasm_f64x2_convert_low_i32x4(ivals));
    pr_f64("f64x2.convert_low_i32x4_u", wasm_f64x2_convert_low_u32x4(ivals));
    pr_i32("i32x4.trunc_sat_f64x2_s_zero", wasm_i32x4_trunc_sat_f64x2_zero(dbig));
    pr_u32("i32x4.trunc_sat_f64x2_u_zero", wasm_u32x4_trunc_sat_f64x2_zero(dbig));
    pr_f32("f32x4.demote_f64x2_zero", wasm_f32x4_demote_f64x2_zero(ddemote));
    pr_f64("f64x2.promote_low_f32x4", wasm_f64x2_promote_low_f32x4(fa));
    pr_f32("f32x4.splat", wasm_f32x4_splat(wasm_f32x4_extract_lane(fa, 3)));
    pr_f64("f64x2.splat", wasm_f64x2_splat(wasm_f64x2_extract_lane(ddemote, 1)));
    pr_f32("f32x4.replace_lane 1", wasm_f32x4_replace_lane(fa, 1, wasm_f32x4_extract_lane(fbig, 0)));
    pr_f64("f64x2.replace_lane 0", wasm_f64x2_replace_lane(ddemote, 0, wasm_f64x2_extract_lane(dbig, 1)));
    printf("f32x4.extract_lane: %.9g %.9g %.9g %.9g\n", wasm_f32x4_extract_lane(fa, 0), wasm_f32x4_extract_lane(fa, 1),
           wasm_f32x4_extract_lane(fa, 2), wasm_f32x4_extract_lane(fa, 3));
}

int main(void) {
    // inf, nan, -inf, -1 from runtime values (0/0 is a NaN whose sign is open).
    FSPECIAL[0] = FSPECIAL[1] / FSPECIAL[0];
    FSPECIAL[1] = FSPECIAL[2] / FSPECIAL[2];
    FSPECIAL[2] = FSPECIAL[3] / FSPECIAL[2];
    v128_t fa = ld(FA), fb = ld(FB), fs = ld(FSPECIAL);
    f32_ops(fa, fb, fs);
    f32_rounding(ld(FROUND), fs);
    f64_ops(ld(DA), ld(DB), ld(DROUND));
    conversions(ld(FBIG), fs, ld(IVALS), ld(DBIG), ld(DDEMOTE), fa);
    return 0;
}
