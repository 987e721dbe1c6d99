/* docs/embedding.md's complete C example (run by testsuite/tests/embed.rs). */
#include "calc.h"
#include <stdio.h>
#include <string.h>

void calc_import_host_log(calc_instance *inst, int32_t ptr, int32_t len) {
    uint64_t size;
    uint8_t *mem = calc_memory(inst, &size);
    if ((uint64_t)ptr + (uint64_t)len <= size) printf("log: %.*s\n", (int)len, (char *)mem + ptr);
}
int64_t calc_import_host_twice(calc_instance *inst, int64_t x) { (void)inst; return 2 * x; }
double calc_import_host_scale(calc_instance *inst, float f, double d) { (void)inst; return f * d; }

int main(void) {
    calc_instance *inst;
    if (calc_new(NULL, &inst) != KILN_OK) return 1;
    int32_t sum;
    if (calc_add(inst, 2, 3, &sum) == KILN_OK) printf("2 + 3 = %d\n", sum);
    if (calc_div(inst, 1, 0, &sum) == KILN_TRAP) printf("%s", calc_message(inst));
    uint8_t *mem = calc_memory(inst, NULL);
    strcpy((char *)mem + 64, "shout this");
    calc_shout(inst, 64, 10);
    printf("%s\n", (char *)mem + 64);
    calc_free(inst);
    return 0;
}
