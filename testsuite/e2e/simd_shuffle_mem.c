// Wasm SIMD through wasm_simd128.h (built with -msimd128): shuffles and
// swizzles, and every kind of vector memory access: v128.load/store at
// unaligned addresses, the splat loads, load32_zero/load64_zero, the
// extending loads (load8x8, load16x4, load32x2, signed and unsigned), and
// load_lane/store_lane of every width. Memory is checked byte by byte
// around each store, so a store that writes too much shows up.
//
// Inputs are non-const globals and each group of operations is a
// non-inlined external function, so clang keeps the v128 instructions
// (`wasm-objdump -d` shows i8x16.shuffle, i8x16.swizzle, v128.load8_lane,
// v128.store64_lane, v128.load32_zero, i16x8.load8x8_u, ...).
#include "simd_print.h"

uint8_t BYTES[96];
uint8_t IDX[16] = {15, 0, 16, 31, 255, 1, 128, 3, 7, 7, 7, 7, 14, 13, 12, 17};

v128_t ld(const void *p) { return wasm_v128_load(p); }

__attribute__((noinline)) void shuffles(v128_t a, v128_t b) {
    pr_u8("shuffle identity", wasm_i8x16_shuffle(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    pr_u8("shuffle b", wasm_i8x16_shuffle(a, b, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31));
    pr_u8("shuffle reverse", wasm_i8x16_shuffle(a, b, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
    pr_u8("shuffle interleave low", wasm_i8x16_shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
    pr_u8("shuffle interleave high",
          wasm_i8x16_shuffle(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
    pr_u8("shuffle broadcast 5", wasm_i8x16_shuffle(a, b, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5));
    pr_u8("shuffle concat shift 3",
          wasm_i8x16_shuffle(a, b, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18));
    pr_u8("shuffle even bytes", wasm_i8x16_shuffle(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30));
    pr_u8("shuffle mixed", wasm_i8x16_shuffle(a, b, 31, 0, 17, 2, 19, 19, 6, 6, 8, 30, 1, 11, 28, 13, 14, 16));
    pr_u16("i16x8_shuffle", wasm_i16x8_shuffle(a, b, 7, 8, 1, 15, 3, 3, 12, 0));
    pr_u32("i32x4_shuffle low halves", wasm_i32x4_shuffle(a, b, 0, 1, 4, 5));
    pr_u32("i32x4_shuffle", wasm_i32x4_shuffle(a, b, 3, 6, 1, 4));
    pr_u64("i64x2_shuffle swap", wasm_i64x2_shuffle(a, b, 1, 0));
    pr_u64("i64x2_shuffle cross", wasm_i64x2_shuffle(a, b, 3, 0));
}

// Indices 16 and above (and 128, 255) select zero.
__attribute__((noinline)) void swizzles(v128_t a, v128_t idx) {
    pr_u8("i8x16.swizzle", wasm_i8x16_swizzle(a, idx));
    pr_u8("i8x16.swizzle idx+1", wasm_i8x16_swizzle(a, wasm_i8x16_add(idx, wasm_i8x16_splat(1))));
    pr_u8("i8x16.swizzle self", wasm_i8x16_swizzle(idx, idx));
}

static void dump(const char *what, const uint8_t *p, int n) {
    printf("%s:", what);
    for (int i = 0; i < n; i++) printf(" %02x", p[i]);
    printf("\n");
}

// Loads at every alignment and the narrow and extending forms.
__attribute__((noinline)) void loads(const uint8_t *base) {
    for (int off = 0; off < 4; off++) {
        char name[48];
        snprintf(name, sizeof name, "v128.load +%d", off * 5);
        pr_hex(name, wasm_v128_load(base + off * 5));
    }
    pr_u8("v128.load8_splat", wasm_v128_load8_splat(base + 7));
    pr_u16("v128.load16_splat", wasm_v128_load16_splat(base + 3));
    pr_u32("v128.load32_splat", wasm_v128_load32_splat(base + 9));
    pr_u64("v128.load64_splat", wasm_v128_load64_splat(base + 1));
    pr_hex("v128.load32_zero", wasm_v128_load32_zero(base + 13));
    pr_hex("v128.load64_zero", wasm_v128_load64_zero(base + 21));
    pr_i16("i16x8.load8x8_s", wasm_i16x8_load8x8(base + 33));
    pr_u16("i16x8.load8x8_u", wasm_u16x8_load8x8(base + 33));
    pr_i32("i32x4.load16x4_s", wasm_i32x4_load16x4(base + 41));
    pr_u32("i32x4.load16x4_u", wasm_u32x4_load16x4(base + 41));
    pr_i64("i64x2.load32x2_s", wasm_i64x2_load32x2(base + 47));
    pr_u64("i64x2.load32x2_u", wasm_u64x2_load32x2(base + 47));
}

__attribute__((noinline)) void lane_loads(const uint8_t *base, v128_t v) {
    pr_hex("v128.load8_lane 0", wasm_v128_load8_lane(base + 1, v, 0));
    pr_hex("v128.load8_lane 15", wasm_v128_load8_lane(base + 2, v, 15));
    pr_hex("v128.load16_lane 3", wasm_v128_load16_lane(base + 5, v, 3));
    pr_hex("v128.load16_lane 7", wasm_v128_load16_lane(base + 6, v, 7));
    pr_hex("v128.load32_lane 1", wasm_v128_load32_lane(base + 11, v, 1));
    pr_hex("v128.load32_lane 3", wasm_v128_load32_lane(base + 12, v, 3));
    pr_hex("v128.load64_lane 0", wasm_v128_load64_lane(base + 17, v, 0));
    pr_hex("v128.load64_lane 1", wasm_v128_load64_lane(base + 19, v, 1));
}

// Stores into a zeroed buffer, checked with a margin on each side.
__attribute__((noinline)) void stores(v128_t v) {
    uint8_t buf[40];
    memset(buf, 0, sizeof buf);
    wasm_v128_store(buf + 3, v);
    dump("v128.store +3", buf, 24);
    memset(buf, 0, sizeof buf);
    wasm_v128_store8_lane(buf + 1, v, 9);
    wasm_v128_store16_lane(buf + 3, v, 5);
    wasm_v128_store32_lane(buf + 7, v, 2);
    wasm_v128_store64_lane(buf + 13, v, 1);
    wasm_v128_store64_lane(buf + 23, v, 0);
    dump("store lanes", buf, 34);
}

int main(void) {
    for (int i = 0; i < 96; i++) BYTES[i] = (uint8_t)(i * 37 + 11) ^ (i & 1 ? 0x80 : 0);
    v128_t a = ld(BYTES), b = ld(BYTES + 16);
    shuffles(a, b);
    swizzles(a, ld(IDX));
    loads(BYTES);
    lane_loads(BYTES + 40, wasm_i8x16_splat((int8_t)0xaa));
    stores(b);
    return 0;
}
