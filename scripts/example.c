// The README's example: a small C program, compiled to WASI by clang-19,
// then into a static native executable by Kiln.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    const char *who = argc > 1 ? argv[1] : "world";
    printf("Hello, %s, from a Kiln executable!\n", who);
    size_t n = 8;
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = sin((double)i * 1.7) * 100.0;
    qsort(v, n, sizeof *v, by_value);
    printf("sorted sines:");
    for (size_t i = 0; i < n; i++) printf(" %.2f", v[i]);
    printf("\n");
    free(v);
    return 0;
}
