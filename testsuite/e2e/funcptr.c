// Indirect calls through tables of function pointers, recursion, switch.
#include <stdio.h>
#include <stdint.h>

typedef int64_t (*op_fn)(int64_t, int64_t);
static int64_t add(int64_t a, int64_t b) { return a + b; }
static int64_t sub(int64_t a, int64_t b) { return a - b; }
static int64_t mul(int64_t a, int64_t b) { return a * b; }
static int64_t mod(int64_t a, int64_t b) { return b ? a % b : 0; }

static uint64_t fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static int64_t run(const char *prog) {
    int64_t stack[32]; int sp = 0;
    op_fn ops[4] = {add, sub, mul, mod};
    for (const char *p = prog; *p; p++) {
        switch (*p) {
        case '+': case '-': case '*': case '%': {
            int64_t b = stack[--sp], a = stack[--sp];
            stack[sp++] = ops[*p == '+' ? 0 : *p == '-' ? 1 : *p == '*' ? 2 : 3](a, b);
            break;
        }
        case ' ': break;
        default: stack[sp++] = *p - '0';
        }
    }
    return stack[0];
}

int main(void) {
    printf("fib(27)=%llu\n", (unsigned long long)fib(27));
    printf("rpn=%lld\n", (long long)run("9 8 * 7 - 6 5 * + 4 %"));
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 100000; i++) { h ^= (uint64_t)i; h *= 1099511628211ull; }
    printf("fnv=%016llx\n", (unsigned long long)h);
    return 0;
}
