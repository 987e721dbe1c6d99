/* JSON: generate a document of nested objects, arrays, strings with escapes,
 * integers, decimals, booleans and null; parse it with a recursive-descent
 * parser into a tree; walk the tree; repeat. Numbers are kept exact (integer
 * and fraction digits), so no libc float parsing is involved. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { char *p; size_t n, cap; } buf_t;
static void put(buf_t *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) { while (b->n + n + 1 > b->cap) b->cap = b->cap ? b->cap * 2 : 4096; b->p = realloc(b->p, b->cap); }
  memcpy(b->p + b->n, s, n); b->n += n; b->p[b->n] = 0;
}
static void puts_(buf_t *b, const char *s) { put(b, s, strlen(s)); }

static uint32_t rng = 2463534242u;
static uint32_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

static const char *WORDS[] = {"alpha", "beta", "gamma", "delta", "kiln", "wasm", "fire", "clay", "glaze", "ember", "quote\\\"d", "tab\\tbed", "uni\\u00e9"};

static void gen(buf_t *b, int depth) {
  char tmp[64];
  uint32_t r = rnd() % (depth > 5 ? 6 : 9);
  switch (r) {
    case 0: snprintf(tmp, sizeof tmp, "%d", (int)(rnd() % 2000000) - 1000000); puts_(b, tmp); break;
    case 1: snprintf(tmp, sizeof tmp, "%u.%03u", rnd() % 10000, rnd() % 1000); puts_(b, tmp); break;
    case 2: puts_(b, "\""); puts_(b, WORDS[rnd() % 13]); puts_(b, "\""); break;
    case 3: puts_(b, rnd() & 1 ? "true" : "false"); break;
    case 4: puts_(b, "null"); break;
    case 5: snprintf(tmp, sizeof tmp, "\"%s-%u\"", WORDS[rnd() % 10], rnd() % 100000); puts_(b, tmp); break;
    case 6: case 7: {
      int n = rnd() % 8;
      puts_(b, "{");
      for (int i = 0; i < n; i++) {
        if (i) puts_(b, ",");
        snprintf(tmp, sizeof tmp, "\"%s%d\": ", WORDS[rnd() % 10], i); puts_(b, tmp);
        gen(b, depth + 1);
      }
      puts_(b, "}");
      break;
    }
    default: {
      int n = rnd() % 10;
      puts_(b, "[ ");
      for (int i = 0; i < n; i++) { if (i) puts_(b, ", "); gen(b, depth + 1); }
      puts_(b, "]");
    }
  }
}

enum { J_NULL, J_BOOL, J_INT, J_DEC, J_STR, J_ARR, J_OBJ };
typedef struct node {
  int type; int64_t ival; int64_t frac; char *str; size_t len;
  struct node **kids; char **keys; int nkids;
} node;

static const char *P;
static int fail;
static void ws(void) { while (*P == ' ' || *P == '\n' || *P == '\t' || *P == '\r') P++; }

static char *parse_string(size_t *len) {
  P++;
  size_t cap = 16, n = 0; char *s = malloc(cap);
  while (*P != '"') {
    if (!*P) { fail = 1; break; }
    char c = *P++;
    if (c == '\\') {
      char e = *P++;
      switch (e) {
        case 'n': c = '\n'; break; case 't': c = '\t'; break; case 'r': c = '\r'; break;
        case 'b': c = '\b'; break; case 'f': c = '\f'; break;
        case 'u': { unsigned v = 0; for (int i = 0; i < 4; i++) { char h = *P++; v = v * 16 + (h <= '9' ? h - '0' : (h | 32) - 'a' + 10); } c = (char)(v & 0x7f ? v : '?'); break; }
        default: c = e;
      }
    }
    if (n + 1 >= cap) s = realloc(s, cap *= 2);
    s[n++] = c;
  }
  P++;
  s[n] = 0; *len = n;
  return s;
}

static node *parse_value(void) {
  ws();
  node *v = calloc(1, sizeof *v);
  if (*P == '{' || *P == '[') {
    char close = *P == '{' ? '}' : ']';
    v->type = *P == '{' ? J_OBJ : J_ARR;
    P++; ws();
    int cap = 0;
    while (*P != close && !fail) {
      if (v->nkids == cap) { cap = cap ? cap * 2 : 4; v->kids = realloc(v->kids, cap * sizeof *v->kids); if (v->type == J_OBJ) v->keys = realloc(v->keys, cap * sizeof *v->keys); }
      if (v->type == J_OBJ) { ws(); size_t kl; v->keys[v->nkids] = parse_string(&kl); ws(); if (*P++ != ':') fail = 1; }
      v->kids[v->nkids++] = parse_value();
      ws();
      if (*P == ',') { P++; ws(); } else if (*P != close) { fail = 1; }
    }
    P++;
  } else if (*P == '"') { v->type = J_STR; v->str = parse_string(&v->len); }
  else if (*P == 't') { v->type = J_BOOL; v->ival = 1; P += 4; }
  else if (*P == 'f') { v->type = J_BOOL; P += 5; }
  else if (*P == 'n') { v->type = J_NULL; P += 4; }
  else {
    int neg = *P == '-'; if (neg) P++;
    int64_t x = 0; while (*P >= '0' && *P <= '9') x = x * 10 + (*P++ - '0');
    v->type = J_INT;
    if (*P == '.') { P++; v->type = J_DEC; int64_t f = 0; while (*P >= '0' && *P <= '9') f = f * 10 + (*P++ - '0'); v->frac = f; }
    v->ival = neg ? -x : x;
  }
  return v;
}

typedef struct { long counts[7]; int64_t isum, fsum; uint64_t strhash; int maxdepth; } stats;
static void walk(node *v, stats *st, int depth) {
  st->counts[v->type]++;
  if (depth > st->maxdepth) st->maxdepth = depth;
  if (v->type == J_INT || v->type == J_DEC) { st->isum += v->ival; st->fsum += v->frac; }
  if (v->type == J_STR) for (size_t i = 0; i < v->len; i++) st->strhash = st->strhash * 131 + (unsigned char)v->str[i];
  for (int i = 0; i < v->nkids; i++) {
    if (v->keys) for (const char *k = v->keys[i]; *k; k++) st->strhash = st->strhash * 131 + (unsigned char)*k;
    walk(v->kids[i], st, depth + 1);
  }
}
static void release(node *v) {
  for (int i = 0; i < v->nkids; i++) { release(v->kids[i]); if (v->keys) free(v->keys[i]); }
  free(v->kids); free(v->keys); free(v->str); free(v);
}

int main(int argc, char **argv) {
  int kb = argc > 1 ? atoi(argv[1]) : 2048;
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  buf_t b = {0};
  puts_(&b, "[\n");
  for (int i = 0; b.n < (size_t)kb * 1024; i++) { if (i) puts_(&b, ",\n"); gen(&b, 0); }
  puts_(&b, "\n]\n");
  stats st;
  for (int r = 0; r < reps; r++) {
    memset(&st, 0, sizeof st);
    P = b.p; fail = 0;
    node *root = parse_value();
    if (fail) { printf("parse error at %ld\n", (long)(P - b.p)); return 1; }
    walk(root, &st, 0);
    release(root);
  }
  printf("json %zu bytes: null=%ld bool=%ld int=%ld dec=%ld str=%ld arr=%ld obj=%ld\n", b.n,
         st.counts[0], st.counts[1], st.counts[2], st.counts[3], st.counts[4], st.counts[5], st.counts[6]);
  printf("isum=%lld fsum=%lld strhash=%llu maxdepth=%d\n", (long long)st.isum, (long long)st.fsum,
         (unsigned long long)st.strhash, st.maxdepth);
  return 0;
}
