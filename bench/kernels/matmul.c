/* Dense double-precision matrix multiply, C = A * B, N x N (i-k-j order). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 400;
  double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n);
  double *c = calloc((size_t)n * n, sizeof(double));
  unsigned s = 12345;
  for (int i = 0; i < n * n; i++) {
    s = s * 1103515245u + 12345u; a[i] = (double)((s >> 8) % 1000) / 500.0 - 1.0;
    s = s * 1103515245u + 12345u; b[i] = (double)((s >> 8) % 1000) / 500.0 - 1.0;
  }
  for (int i = 0; i < n; i++)
    for (int k = 0; k < n; k++) {
      double aik = a[i * n + k];
      for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  double trace = 0, sum = 0;
  for (int i = 0; i < n; i++) trace += c[i * n + i];
  for (int i = 0; i < n * n; i++) sum += c[i];
  printf("matmul n=%d trace=%.6f sum=%.6f c[n-1][0]=%.6f\n", n, trace, sum, c[(n - 1) * n]);
  return 0;
}
