/* math.c: float rounding for targets whose baseline lacks the instruction
 * (x86-64-v1 has no roundss/roundsd), called by Cranelift as libcalls under
 * their libm names. Results follow wasm: NaN inputs come back quieted,
 * signed zeros are kept, ties round to even in nearbyint. Integer-valued
 * results are exact because every step stays below 2^52 (2^23). */
#include "kiln_rt.h"

static inline uint64_t b64(double x) { uint64_t u; __builtin_memcpy(&u, &x, 8); return u; }
static inline double f64(uint64_t u) { double x; __builtin_memcpy(&x, &u, 8); return x; }
static inline uint32_t b32(float x) { uint32_t u; __builtin_memcpy(&u, &x, 4); return u; }
static inline float f32(uint32_t u) { float x; __builtin_memcpy(&x, &u, 4); return x; }

double trunc(double x) {
    uint64_t u = b64(x);
    int e = (int)((u >> 52) & 0x7ff) - 1023;
    if (e >= 52) return e == 1024 ? x + x : x; /* integral, inf, or NaN (quieted) */
    if (e < 0) return f64(u & 0x8000000000000000ull);
    uint64_t m = 0x000fffffffffffffull >> e;
    return f64(u & ~m);
}
float truncf(float x) {
    uint32_t u = b32(x);
    int e = (int)((u >> 23) & 0xff) - 127;
    if (e >= 23) return e == 128 ? x + x : x;
    if (e < 0) return f32(u & 0x80000000u);
    uint32_t m = 0x007fffffu >> e;
    return f32(u & ~m);
}
double floor(double x) { double t = trunc(x); return t > x ? t - 1.0 : t; }
float floorf(float x) { float t = truncf(x); return t > x ? t - 1.0f : t; }
/* For x in (-1, 0), trunc gives -0.0, which is not < x: ceil keeps -0.0. */
double ceil(double x) { double t = trunc(x); return t < x ? t + 1.0 : t; }
float ceilf(float x) { float t = truncf(x); return t < x ? t + 1.0f : t; }
double nearbyint(double x) {
    uint64_t u = b64(x);
    int e = (int)((u >> 52) & 0x7ff) - 1023;
    if (e >= 52) return e == 1024 ? x + x : x;
    double a = f64(u & ~0x8000000000000000ull);
    volatile double big = 4503599627370496.0; /* 2^52: adding it rounds to an integer, ties to even */
    double r = (a + big) - big;
    return f64(b64(r) | (u & 0x8000000000000000ull));
}
float nearbyintf(float x) {
    uint32_t u = b32(x);
    int e = (int)((u >> 23) & 0xff) - 127;
    if (e >= 23) return e == 128 ? x + x : x;
    float a = f32(u & ~0x80000000u);
    volatile float big = 8388608.0f; /* 2^23 */
    float r = (a + big) - big;
    return f32(b32(r) | (u & 0x80000000u));
}
