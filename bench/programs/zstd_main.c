/* zstd workload of the benchmark: compresses standard input at a level given
 * as argv[1] (default 3) with libzstd's one-shot API, decompresses the result,
 * checks the round trip, and prints the sizes and XXH64 checksums. The zstd
 * library is not in this repo: it comes from the pinned `zstd-sys` crate (see
 * bench/sources/Cargo.toml). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY
#include "common/xxhash.h"
#include "zstd.h"

int main(int argc, char **argv) {
  int level = argc > 1 ? atoi(argv[1]) : 3;
  size_t cap = 1 << 20, len = 0, r;
  char *src = malloc(cap);
  while ((r = fread(src + len, 1, cap - len, stdin)) > 0) {
    len += r;
    if (len == cap) src = realloc(src, cap *= 2);
  }
  size_t bound = ZSTD_compressBound(len);
  char *dst = malloc(bound), *back = malloc(len + 1);
  size_t csize = ZSTD_compress(dst, bound, src, len, level);
  if (ZSTD_isError(csize)) { printf("compress: %s\n", ZSTD_getErrorName(csize)); return 1; }
  size_t dsize = ZSTD_decompress(back, len + 1, dst, csize);
  if (ZSTD_isError(dsize)) { printf("decompress: %s\n", ZSTD_getErrorName(dsize)); return 1; }
  if (dsize != len || memcmp(src, back, len)) { printf("round trip mismatch\n"); return 1; }
  printf("zstd level %d: %zu -> %zu bytes, input xxh64=%016llx, compressed xxh64=%016llx\n", level, len, csize,
         (unsigned long long)XXH64(src, len, 0), (unsigned long long)XXH64(dst, csize, 0));
  return 0;
}
