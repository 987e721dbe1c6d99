// libm through wasi-libc: transcendental functions, rounding, special values.
#include <math.h>
#include <stdio.h>

int main(void) {
    double xs[] = {0.5, 1.0, 2.25, -3.75, 10.0, 1e-3};
    for (unsigned i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        double x = xs[i];
        printf("x=%g sin=%.12f cos=%.12f exp=%.12g log|x|=%.12f sqrt|x|=%.12f\n", x, sin(x), cos(x), exp(x),
               log(fabs(x)), sqrt(fabs(x)));
        printf("  floor=%g ceil=%g trunc=%g round=%g rint=%g atan2=%.12f pow=%.12g\n", floor(x), ceil(x), trunc(x),
               round(x), rint(x), atan2(x, 1.5), pow(fabs(x), 1.7));
    }
    printf("fmod=%g hypot=%.12f cbrt=%.12f tanh=%.12f\n", fmod(17.5, 4.0), hypot(3.0, 4.0), cbrt(-27.0), tanh(0.75));
    /* The sign of a NaN result is nondeterministic in wasm (it differs
       between x86-64 and aarch64 hardware), so only its magnitude is printed. */
    printf("inf=%f nan=%f -0=%g isnan=%d\n", 1.0 / 0.0, fabs(sqrt(-1.0)), -0.0, isnan(sqrt(-1.0)));
    float f = 1.1f;
    printf("sinf=%.6f expf=%.6f nearbyintf(2.5)=%g nearbyint(3.5)=%g\n", sinf(f), expf(f), nearbyintf(2.5f), nearbyint(3.5));
    return 0;
}
