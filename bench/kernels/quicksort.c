/* Quicksort (median of three, insertion sort for small ranges) of
 * pseudo-random 32-bit integers; prints a checksum of the sorted array. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void insertion(uint32_t *a, long lo, long hi) {
  for (long i = lo + 1; i <= hi; i++) {
    uint32_t v = a[i]; long j = i - 1;
    while (j >= lo && a[j] > v) { a[j + 1] = a[j]; j--; }
    a[j + 1] = v;
  }
}

static void quicksort(uint32_t *a, long lo, long hi) {
  while (hi - lo > 16) {
    long mid = lo + (hi - lo) / 2;
    if (a[mid] < a[lo]) { uint32_t t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
    if (a[hi] < a[lo]) { uint32_t t = a[hi]; a[hi] = a[lo]; a[lo] = t; }
    if (a[hi] < a[mid]) { uint32_t t = a[hi]; a[hi] = a[mid]; a[mid] = t; }
    uint32_t p = a[mid];
    long i = lo, j = hi;
    while (i <= j) {
      while (a[i] < p) i++;
      while (a[j] > p) j--;
      if (i <= j) { uint32_t t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
    else { quicksort(a, i, hi); hi = j; }
  }
  insertion(a, lo, hi);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  uint32_t *a = malloc(n * sizeof *a);
  uint64_t s = 88172645463325252ull;
  for (long i = 0; i < n; i++) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; a[i] = (uint32_t)s; }
  quicksort(a, 0, n - 1);
  uint64_t check = 0;
  for (long i = 0; i < n; i++) {
    if (i && a[i - 1] > a[i]) { printf("not sorted at %ld\n", i); return 1; }
    check = check * 1000003u + a[i];
  }
  printf("sorted %ld: min=%u median=%u max=%u check=%llu\n", n, a[0], a[n / 2], a[n - 1], (unsigned long long)check);
  return 0;
}
