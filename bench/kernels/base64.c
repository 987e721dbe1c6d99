/* Base64 (RFC 4648) encode and decode of a generated buffer, repeatedly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ALPHA[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t encode(const unsigned char *in, size_t n, char *out) {
  size_t o = 0, i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i+1] << 8 | in[i+2];
    out[o++] = ALPHA[v >> 18]; out[o++] = ALPHA[(v >> 12) & 63]; out[o++] = ALPHA[(v >> 6) & 63]; out[o++] = ALPHA[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)in[i] << 16;
    out[o++] = ALPHA[v >> 18]; out[o++] = ALPHA[(v >> 12) & 63]; out[o++] = '='; out[o++] = '=';
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i+1] << 8;
    out[o++] = ALPHA[v >> 18]; out[o++] = ALPHA[(v >> 12) & 63]; out[o++] = ALPHA[(v >> 6) & 63]; out[o++] = '=';
  }
  return o;
}

static long decode(const char *in, size_t n, unsigned char *out, const signed char *rev) {
  size_t o = 0;
  for (size_t i = 0; i < n; i += 4) {
    int a = rev[(unsigned char)in[i]], b = rev[(unsigned char)in[i+1]];
    int c = in[i+2] == '=' ? 0 : rev[(unsigned char)in[i+2]];
    int d = in[i+3] == '=' ? 0 : rev[(unsigned char)in[i+3]];
    if ((a | b | c | d) < 0) return -1;
    uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
    out[o++] = v >> 16;
    if (in[i+2] != '=') out[o++] = v >> 8;
    if (in[i+3] != '=') out[o++] = v;
  }
  return (long)o;
}

int main(int argc, char **argv) {
  int kb = argc > 1 ? atoi(argv[1]) : 4096;
  int reps = argc > 2 ? atoi(argv[2]) : 10;
  size_t n = (size_t)kb * 1024 + 1;
  unsigned char *buf = malloc(n), *back = malloc(n);
  char *enc = malloc(n / 3 * 4 + 8);
  signed char rev[256];
  memset(rev, -1, sizeof rev);
  for (int i = 0; i < 64; i++) rev[(unsigned char)ALPHA[i]] = (signed char)i;
  uint32_t s = 7;
  for (size_t i = 0; i < n; i++) { s = s * 1664525u + 1013904223u; buf[i] = s >> 24; }
  uint64_t check = 0;
  for (int r = 0; r < reps; r++) {
    size_t e = encode(buf, n, enc);
    long d = decode(enc, e, back, rev);
    if (d != (long)n || memcmp(buf, back, n)) { printf("round trip failed\n"); return 1; }
    for (size_t i = 0; i < e; i += 997) check = check * 31 + (unsigned char)enc[i];
    buf[r % n] ^= 0x5a;
  }
  printf("base64 %zu bytes x %d: ok, check=%llu\n", n, reps, (unsigned long long)check);
  return 0;
}
