// Wasm SIMD through clang's wasm_simd128.h intrinsics (built with -msimd128):
// integer lanes of every width, saturating arithmetic, averages, dot
// products, extended multiplies and pairwise adds, narrowing and widening,
// shifts (counts at and past the lane width, which wasm takes modulo the
// width), comparisons, bitmasks and all_true/any_true, bitwise ops and
// bitselect, splats, extract_lane (signed and unsigned) and replace_lane.
//
// The inputs live in non-const globals and every operation is in a
// non-inlined function with external linkage, so clang cannot fold them:
// `wasm-objdump -d` of the module shows the v128 instructions themselves
// (i8x16.add_sat_s, i32x4.dot_i16x8_s, i8x16.bitmask, ...).
#include "simd_print.h"

int8_t A8[16] = {0, 1, -1, 127, -128, 100, -100, 55, 3, -3, 64, -64, 17, -17, 126, -127};
int8_t B8[16] = {5, 127, -128, 1, -1, 100, -100, -56, 3, 4, 64, 65, -18, 17, 2, -2};
int16_t A16[8] = {0, 1, -1, 32767, -32768, 1000, -30000, 12345};
int16_t B16[8] = {7, 32767, -32768, 1, -1, 1000, -5000, -12346};
int32_t A32[4] = {0, -1, 2147483647, -2147483647 - 1};
int32_t B32[4] = {123456789, 1, 1, -1};
int64_t A64[2] = {-9223372036854775807LL - 1, 1234567890123LL};
int64_t B64[2] = {-1, -9876543210LL};
uint32_t SHIFT[5] = {1, 7, 8, 9, 65};

v128_t ld(const void *p) { return wasm_v128_load(p); }

__attribute__((noinline)) void i8_ops(v128_t a, v128_t b) {
    pr_i8("i8x16.add", wasm_i8x16_add(a, b));
    pr_i8("i8x16.sub", wasm_i8x16_sub(a, b));
    pr_i8("i8x16.add_sat_s", wasm_i8x16_add_sat(a, b));
    pr_u8("i8x16.add_sat_u", wasm_u8x16_add_sat(a, b));
    pr_i8("i8x16.sub_sat_s", wasm_i8x16_sub_sat(a, b));
    pr_u8("i8x16.sub_sat_u", wasm_u8x16_sub_sat(a, b));
    pr_i8("i8x16.min_s", wasm_i8x16_min(a, b));
    pr_u8("i8x16.min_u", wasm_u8x16_min(a, b));
    pr_i8("i8x16.max_s", wasm_i8x16_max(a, b));
    pr_u8("i8x16.max_u", wasm_u8x16_max(a, b));
    pr_u8("i8x16.avgr_u", wasm_u8x16_avgr(a, b));
    pr_i8("i8x16.abs", wasm_i8x16_abs(a));
    pr_i8("i8x16.neg", wasm_i8x16_neg(a));
    pr_u8("i8x16.popcnt", wasm_i8x16_popcnt(a));
    pr_i8("i8x16.eq", wasm_i8x16_eq(a, b));
    pr_i8("i8x16.ne", wasm_i8x16_ne(a, b));
    pr_i8("i8x16.lt_s", wasm_i8x16_lt(a, b));
    pr_i8("i8x16.lt_u", wasm_u8x16_lt(a, b));
    pr_i8("i8x16.gt_s", wasm_i8x16_gt(a, b));
    pr_i8("i8x16.gt_u", wasm_u8x16_gt(a, b));
    pr_i8("i8x16.le_s", wasm_i8x16_le(a, b));
    pr_i8("i8x16.le_u", wasm_u8x16_le(a, b));
    pr_i8("i8x16.ge_s", wasm_i8x16_ge(a, b));
    pr_i8("i8x16.ge_u", wasm_u8x16_ge(a, b));
    printf("i8x16.bitmask: %#x %#x\n", (unsigned)wasm_i8x16_bitmask(a), (unsigned)wasm_i8x16_bitmask(b));
    printf("i8x16.all_true: %d %d\n", wasm_i8x16_all_true(a), wasm_i8x16_all_true(b));
    for (int i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "i8x16.shl %u", SHIFT[i]);
        pr_i8(name, wasm_i8x16_shl(a, SHIFT[i]));
        snprintf(name, sizeof name, "i8x16.shr_s %u", SHIFT[i]);
        pr_i8(name, wasm_i8x16_shr(a, SHIFT[i]));
        snprintf(name, sizeof name, "i8x16.shr_u %u", SHIFT[i]);
        pr_u8(name, wasm_u8x16_shr(a, SHIFT[i]));
    }
}

__attribute__((noinline)) void i16_ops(v128_t a, v128_t b) {
    pr_i16("i16x8.add", wasm_i16x8_add(a, b));
    pr_i16("i16x8.sub", wasm_i16x8_sub(a, b));
    pr_i16("i16x8.mul", wasm_i16x8_mul(a, b));
    pr_i16("i16x8.add_sat_s", wasm_i16x8_add_sat(a, b));
    pr_u16("i16x8.add_sat_u", wasm_u16x8_add_sat(a, b));
    pr_i16("i16x8.sub_sat_s", wasm_i16x8_sub_sat(a, b));
    pr_u16("i16x8.sub_sat_u", wasm_u16x8_sub_sat(a, b));
    pr_i16("i16x8.q15mulr_sat_s", wasm_i16x8_q15mulr_sat(a, b));
    pr_i16("i16x8.min_s", wasm_i16x8_min(a, b));
    pr_u16("i16x8.min_u", wasm_u16x8_min(a, b));
    pr_i16("i16x8.max_s", wasm_i16x8_max(a, b));
    pr_u16("i16x8.max_u", wasm_u16x8_max(a, b));
    pr_u16("i16x8.avgr_u", wasm_u16x8_avgr(a, b));
    pr_i16("i16x8.abs", wasm_i16x8_abs(a));
    pr_i16("i16x8.neg", wasm_i16x8_neg(a));
    pr_i16("i16x8.eq", wasm_i16x8_eq(a, b));
    pr_i16("i16x8.ne", wasm_i16x8_ne(a, b));
    pr_i16("i16x8.lt_s", wasm_i16x8_lt(a, b));
    pr_i16("i16x8.lt_u", wasm_u16x8_lt(a, b));
    pr_i16("i16x8.gt_s", wasm_i16x8_gt(a, b));
    pr_i16("i16x8.gt_u", wasm_u16x8_gt(a, b));
    pr_i16("i16x8.le_s", wasm_i16x8_le(a, b));
    pr_i16("i16x8.le_u", wasm_u16x8_le(a, b));
    pr_i16("i16x8.ge_s", wasm_i16x8_ge(a, b));
    pr_i16("i16x8.ge_u", wasm_u16x8_ge(a, b));
    printf("i16x8.bitmask: %#x %#x\n", (unsigned)wasm_i16x8_bitmask(a), (unsigned)wasm_i16x8_bitmask(b));
    printf("i16x8.all_true: %d %d\n", wasm_i16x8_all_true(a), wasm_i16x8_all_true(b));
    for (int i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "i16x8.shl %u", SHIFT[i] * 2);
        pr_i16(name, wasm_i16x8_shl(a, SHIFT[i] * 2));
        snprintf(name, sizeof name, "i16x8.shr_s %u", SHIFT[i] * 2);
        pr_i16(name, wasm_i16x8_shr(a, SHIFT[i] * 2));
        snprintf(name, sizeof name, "i16x8.shr_u %u", SHIFT[i] * 2);
        pr_u16(name, wasm_u16x8_shr(a, SHIFT[i] * 2));
    }
}

__attribute__((noinline)) void i32_ops(v128_t a, v128_t b) {
    pr_i32("i32x4.add", wasm_i32x4_add(a, b));
    pr_i32("i32x4.sub", wasm_i32x4_sub(a, b));
    pr_i32("i32x4.mul", wasm_i32x4_mul(a, b));
    pr_i32("i32x4.min_s", wasm_i32x4_min(a, b));
    pr_u32("i32x4.min_u", wasm_u32x4_min(a, b));
    pr_i32("i32x4.max_s", wasm_i32x4_max(a, b));
    pr_u32("i32x4.max_u", wasm_u32x4_max(a, b));
    pr_i32("i32x4.abs", wasm_i32x4_abs(a));
    pr_i32("i32x4.neg", wasm_i32x4_neg(a));
    pr_i32("i32x4.eq", wasm_i32x4_eq(a, b));
    pr_i32("i32x4.ne", wasm_i32x4_ne(a, b));
    pr_i32("i32x4.lt_s", wasm_i32x4_lt(a, b));
    pr_i32("i32x4.lt_u", wasm_u32x4_lt(a, b));
    pr_i32("i32x4.gt_s", wasm_i32x4_gt(a, b));
    pr_i32("i32x4.gt_u", wasm_u32x4_gt(a, b));
    pr_i32("i32x4.le_s", wasm_i32x4_le(a, b));
    pr_i32("i32x4.le_u", wasm_u32x4_le(a, b));
    pr_i32("i32x4.ge_s", wasm_i32x4_ge(a, b));
    pr_i32("i32x4.ge_u", wasm_u32x4_ge(a, b));
    printf("i32x4.bitmask: %#x %#x\n", (unsigned)wasm_i32x4_bitmask(a), (unsigned)wasm_i32x4_bitmask(b));
    printf("i32x4.all_true: %d %d\n", wasm_i32x4_all_true(a), wasm_i32x4_all_true(b));
    for (int i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "i32x4.shl %u", SHIFT[i] * 4);
        pr_i32(name, wasm_i32x4_shl(a, SHIFT[i] * 4));
        snprintf(name, sizeof name, "i32x4.shr_s %u", SHIFT[i] * 4);
        pr_i32(name, wasm_i32x4_shr(a, SHIFT[i] * 4));
        snprintf(name, sizeof name, "i32x4.shr_u %u", SHIFT[i] * 4);
        pr_u32(name, wasm_u32x4_shr(a, SHIFT[i] * 4));
    }
}

__attribute__((noinline)) void i64_ops(v128_t a, v128_t b) {
    pr_i64("i64x2.add", wasm_i64x2_add(a, b));
    pr_i64("i64x2.sub", wasm_i64x2_sub(a, b));
    pr_i64("i64x2.mul", wasm_i64x2_mul(a, b));
    pr_i64("i64x2.abs", wasm_i64x2_abs(a));
    pr_i64("i64x2.neg", wasm_i64x2_neg(b));
    pr_i64("i64x2.eq", wasm_i64x2_eq(a, b));
    pr_i64("i64x2.ne", wasm_i64x2_ne(a, b));
    pr_i64("i64x2.lt_s", wasm_i64x2_lt(a, b));
    pr_i64("i64x2.gt_s", wasm_i64x2_gt(a, b));
    pr_i64("i64x2.le_s", wasm_i64x2_le(a, b));
    pr_i64("i64x2.ge_s", wasm_i64x2_ge(a, b));
    printf("i64x2.bitmask: %#x %#x\n", (unsigned)wasm_i64x2_bitmask(a), (unsigned)wasm_i64x2_bitmask(b));
    printf("i64x2.all_true: %d %d\n", wasm_i64x2_all_true(a), wasm_i64x2_all_true(b));
    for (int i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "i64x2.shl %u", SHIFT[i] * 8);
        pr_i64(name, wasm_i64x2_shl(b, SHIFT[i] * 8));
        snprintf(name, sizeof name, "i64x2.shr_s %u", SHIFT[i] * 8);
        pr_i64(name, wasm_i64x2_shr(b, SHIFT[i] * 8));
        snprintf(name, sizeof name, "i64x2.shr_u %u", SHIFT[i] * 8);
        pr_u64(name, wasm_u64x2_shr(b, SHIFT[i] * 8));
    }
}

// Widening, narrowing, extended multiplies, pairwise adds and dot products.
__attribute__((noinline)) void widths(v128_t a8, v128_t b8, v128_t a16, v128_t b16, v128_t a32, v128_t b32) {
    pr_i16("i16x8.extend_low_i8x16_s", wasm_i16x8_extend_low_i8x16(a8));
    pr_i16("i16x8.extend_high_i8x16_s", wasm_i16x8_extend_high_i8x16(a8));
    pr_u16("i16x8.extend_low_i8x16_u", wasm_u16x8_extend_low_u8x16(a8));
    pr_u16("i16x8.extend_high_i8x16_u", wasm_u16x8_extend_high_u8x16(a8));
    pr_i32("i32x4.extend_low_i16x8_s", wasm_i32x4_extend_low_i16x8(a16));
    pr_i32("i32x4.extend_high_i16x8_s", wasm_i32x4_extend_high_i16x8(a16));
    pr_u32("i32x4.extend_low_i16x8_u", wasm_u32x4_extend_low_u16x8(a16));
    pr_u32("i32x4.extend_high_i16x8_u", wasm_u32x4_extend_high_u16x8(a16));
    pr_i64("i64x2.extend_low_i32x4_s", wasm_i64x2_extend_low_i32x4(a32));
    pr_i64("i64x2.extend_high_i32x4_s", wasm_i64x2_extend_high_i32x4(a32));
    pr_u64("i64x2.extend_low_i32x4_u", wasm_u64x2_extend_low_u32x4(a32));
    pr_u64("i64x2.extend_high_i32x4_u", wasm_u64x2_extend_high_u32x4(a32));
    pr_i8("i8x16.narrow_i16x8_s", wasm_i8x16_narrow_i16x8(a16, b16));
    pr_u8("i8x16.narrow_i16x8_u", wasm_u8x16_narrow_i16x8(a16, b16));
    pr_i16("i16x8.narrow_i32x4_s", wasm_i16x8_narrow_i32x4(a32, b32));
    pr_u16("i16x8.narrow_i32x4_u", wasm_u16x8_narrow_i32x4(a32, b32));
    pr_i16("i16x8.extmul_low_i8x16_s", wasm_i16x8_extmul_low_i8x16(a8, b8));
    pr_i16("i16x8.extmul_high_i8x16_s", wasm_i16x8_extmul_high_i8x16(a8, b8));
    pr_u16("i16x8.extmul_low_i8x16_u", wasm_u16x8_extmul_low_u8x16(a8, b8));
    pr_u16("i16x8.extmul_high_i8x16_u", wasm_u16x8_extmul_high_u8x16(a8, b8));
    pr_i32("i32x4.extmul_low_i16x8_s", wasm_i32x4_extmul_low_i16x8(a16, b16));
    pr_i32("i32x4.extmul_high_i16x8_s", wasm_i32x4_extmul_high_i16x8(a16, b16));
    pr_u32("i32x4.extmul_low_i16x8_u", wasm_u32x4_extmul_low_u16x8(a16, b16));
    pr_u32("i32x4.extmul_high_i16x8_u", wasm_u32x4_extmul_high_u16x8(a16, b16));
    pr_i64("i64x2.extmul_low_i32x4_s", wasm_i64x2_extmul_low_i32x4(a32, b32));
    pr_i64("i64x2.extmul_high_i32x4_s", wasm_i64x2_extmul_high_i32x4(a32, b32));
    pr_u64("i64x2.extmul_low_i32x4_u", wasm_u64x2_extmul_low_u32x4(a32, b32));
    pr_u64("i64x2.extmul_high_i32x4_u", wasm_u64x2_extmul_high_u32x4(a32, b32));
    pr_i16("i16x8.extadd_pairwise_i8x16_s", wasm_i16x8_extadd_pairwise_i8x16(a8));
    pr_u16("i16x8.extadd_pairwise_i8x16_u", wasm_u16x8_extadd_pairwise_u8x16(a8));
    pr_i32("i32x4.extadd_pairwise_i16x8_s", wasm_i32x4_extadd_pairwise_i16x8(a16));
    pr_u32("i32x4.extadd_pairwise_i16x8_u", wasm_u32x4_extadd_pairwise_u16x8(a16));
    // -32768 * -32768 twice is 2^31: the dot product wraps to INT32_MIN.
    pr_i32("i32x4.dot_i16x8_s", wasm_i32x4_dot_i16x8(a16, b16));
    pr_i32("i32x4.dot_i16x8_s min*min", wasm_i32x4_dot_i16x8(wasm_i16x8_splat(-32768), wasm_i16x8_splat(-32768)));
}

// Bitwise operations, bitselect and any_true.
__attribute__((noinline)) void bitwise(v128_t a, v128_t b, v128_t mask) {
    pr_hex("v128.and", wasm_v128_and(a, b));
    pr_hex("v128.or", wasm_v128_or(a, b));
    pr_hex("v128.xor", wasm_v128_xor(a, b));
    pr_hex("v128.andnot", wasm_v128_andnot(a, b));
    pr_hex("v128.not", wasm_v128_not(a));
    pr_hex("v128.bitselect", wasm_v128_bitselect(a, b, mask));
    // A comparison's all-ones lanes select whole lanes: a per-lane max.
    pr_i32("bitselect(gt) = max_s", wasm_v128_bitselect(a, b, wasm_i32x4_gt(a, b)));
    printf("v128.any_true: %d %d %d\n", wasm_v128_any_true(a), wasm_v128_any_true(wasm_v128_xor(a, a)),
           wasm_v128_any_true(wasm_i64x2_make(0, 1LL << 63)));
}

// Splats from runtime scalars, every extract_lane and replace_lane.
__attribute__((noinline)) void lanes(int8_t x8, int16_t x16, int32_t x32, int64_t x64, v128_t v) {
    pr_i8("i8x16.splat", wasm_i8x16_splat(x8));
    pr_i16("i16x8.splat", wasm_i16x8_splat(x16));
    pr_i32("i32x4.splat", wasm_i32x4_splat(x32));
    pr_i64("i64x2.splat", wasm_i64x2_splat(x64));
    printf("i8x16.extract_lane_s:");
#define X8(i) printf(" %d/%u", wasm_i8x16_extract_lane(v, i), wasm_u8x16_extract_lane(v, i))
    X8(0); X8(1); X8(2); X8(3); X8(4); X8(5); X8(6); X8(7);
    X8(8); X8(9); X8(10); X8(11); X8(12); X8(13); X8(14); X8(15);
    printf("\ni16x8.extract_lane_s/u:");
#define X16(i) printf(" %d/%u", wasm_i16x8_extract_lane(v, i), wasm_u16x8_extract_lane(v, i))
    X16(0); X16(1); X16(2); X16(3); X16(4); X16(5); X16(6); X16(7);
    printf("\ni32x4.extract_lane: %d %d %d %d\n", wasm_i32x4_extract_lane(v, 0), wasm_i32x4_extract_lane(v, 1),
           wasm_i32x4_extract_lane(v, 2), wasm_i32x4_extract_lane(v, 3));
    printf("i64x2.extract_lane: %lld %lld\n", (long long)wasm_i64x2_extract_lane(v, 0),
           (long long)wasm_i64x2_extract_lane(v, 1));
    v128_t r = v;
    r = wasm_i8x16_replace_lane(r, 0, x8);
    r = wasm_i8x16_replace_lane(r, 15, x8);
    pr_hex("i8x16.replace_lane 0,15", r);
    r = wasm_i16x8_replace_lane(v, 3, x16);
    pr_hex("i16x8.replace_lane 3", r);
    r = wasm_i32x4_replace_lane(v, 2, x32);
    pr_hex("i32x4.replace_lane 2", r);
    r = wasm_i64x2_replace_lane(v, 1, x64);
    pr_hex("i64x2.replace_lane 1", r);
}

int8_t X8V = -77;
int16_t X16V = -12345;
int32_t X32V = 0x7f00ff01;
int64_t X64V = -0x0123456789abcdefLL;

int main(void) {
    v128_t a8 = ld(A8), b8 = ld(B8), a16 = ld(A16), b16 = ld(B16);
    v128_t a32 = ld(A32), b32 = ld(B32), a64 = ld(A64), b64 = ld(B64);
    i8_ops(a8, b8);
    i16_ops(a16, b16);
    i32_ops(a32, b32);
    i64_ops(a64, b64);
    widths(a8, b8, a16, b16, a32, b32);
    bitwise(a32, b32, a8);
    lanes(X8V, X16V, X32V, X64V, a8);
    return 0;
}
