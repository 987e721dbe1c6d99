// qsort with function pointers over malloc'd structs, bsearch, realloc.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rec { int key; char name[12]; double weight; };

static int by_key(const void *a, const void *b) {
    const struct rec *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}
static int by_name(const void *a, const void *b) {
    return strcmp(((const struct rec *)a)->name, ((const struct rec *)b)->name);
}
static int by_weight_desc(const void *a, const void *b) {
    double x = ((const struct rec *)a)->weight, y = ((const struct rec *)b)->weight;
    return (x < y) - (x > y);
}

int main(void) {
    int (*orders[3])(const void *, const void *) = {by_key, by_name, by_weight_desc};
    const char *labels[3] = {"key", "name", "weight desc"};
    size_t n = 0, cap = 2;
    struct rec *v = malloc(cap * sizeof *v);
    unsigned seed = 12345;
    for (int i = 0; i < 40; i++) {
        if (n == cap) { cap *= 2; v = realloc(v, cap * sizeof *v); }
        seed = seed * 1103515245u + 12345u;
        v[n].key = (int)(seed >> 16) % 1000;
        snprintf(v[n].name, sizeof v[n].name, "r%03u", (seed >> 8) % 997);
        v[n].weight = (double)((seed >> 4) % 10000) / 37.0;
        n++;
    }
    for (int o = 0; o < 3; o++) {
        qsort(v, n, sizeof *v, orders[o]);
        printf("by %s:", labels[o]);
        for (size_t i = 0; i < n; i += 5) printf(" %d/%s/%.3f", v[i].key, v[i].name, v[i].weight);
        printf("\n");
    }
    qsort(v, n, sizeof *v, by_key);
    struct rec probe = {.key = v[17].key};
    struct rec *hit = bsearch(&probe, v, n, sizeof *v, by_key);
    printf("bsearch %d -> %s\n", probe.key, hit ? hit->name : "missing");
    // Many small allocations, freed in a scrambled order.
    void *ptrs[500];
    size_t total = 0;
    for (int i = 0; i < 500; i++) { ptrs[i] = malloc(1 + (i * 37) % 300); memset(ptrs[i], i & 0xff, 1 + (i * 37) % 300); total += 1 + (i * 37) % 300; }
    for (int i = 0; i < 500; i++) free(ptrs[(i * 7) % 500]);
    printf("allocated and freed %zu bytes\n", total);
    free(v);
    return 0;
}
