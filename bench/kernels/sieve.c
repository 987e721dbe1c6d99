/* Sieve of Eratosthenes over a byte array, repeated; counts and sums primes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10000000;
  int reps = argc > 2 ? atoi(argv[2]) : 3;
  unsigned char *composite = malloc(n + 1);
  long long count = 0; unsigned long long sum = 0;
  for (int r = 0; r < reps; r++) {
    memset(composite, 0, n + 1);
    count = 0; sum = 0;
    for (long long i = 2; i <= n; i++) {
      if (composite[i]) continue;
      count++; sum += i;
      for (long long j = i * i; j <= n; j += i) composite[j] = 1;
    }
  }
  printf("primes<=%d: %lld sum=%llu\n", n, count, sum);
  return 0;
}
