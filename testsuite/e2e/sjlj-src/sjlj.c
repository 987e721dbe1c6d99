/* setjmp/longjmp workload for wasm exception-based SjLj.
 * Deterministic; prints results; exit status 0 on success, 1 on a failed check. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(c) do { if (!(c)) { printf("CHECK FAILED line %d: %s\n", __LINE__, #c); failures++; } } while (0)

/* ---- 1. basic: setjmp returns 0, then the value passed to longjmp ---- */
static jmp_buf basic_env;
static void basic_thrower(int v) { longjmp(basic_env, v); }
static void test_basic(void) {
    volatile int rounds = 0;
    int r = setjmp(basic_env);
    rounds++;
    if (r == 0) basic_thrower(42);
    printf("basic: r=%d rounds=%d\n", r, rounds);
    CHECK(r == 42 && rounds == 2);
}

/* ---- 2. longjmp(env, 0) makes setjmp return 1 ---- */
static jmp_buf zero_env;
static void test_zero(void) {
    int r = setjmp(zero_env);
    if (r == 0) longjmp(zero_env, 0);
    printf("zero: r=%d\n", r);
    CHECK(r == 1);
}

/* ---- 3. nested setjmp across several frames ---- */
static jmp_buf outer_env, inner_env;
static int trace[16];
static int ntrace = 0;
static void level3(int mode) {
    trace[ntrace++] = 3;
    if (mode == 1) longjmp(inner_env, 7);  /* to the inner handler */
    if (mode == 2) longjmp(outer_env, 9);  /* skip the inner handler */
    trace[ntrace++] = 30;
}
static void level2(int mode) { trace[ntrace++] = 2; level3(mode); trace[ntrace++] = 20; }
static int level1(int mode) {
    int r = setjmp(inner_env);
    if (r == 0) {
        trace[ntrace++] = 1;
        level2(mode);
        trace[ntrace++] = 10;
        return 0;
    }
    trace[ntrace++] = 100 + r;
    return r;
}
static void test_nested(void) {
    for (int mode = 0; mode <= 2; mode++) {
        ntrace = 0;
        volatile int got_inner = -1;
        int r = setjmp(outer_env);
        if (r == 0) {
            got_inner = level1(mode);
            trace[ntrace++] = 50;
        } else {
            trace[ntrace++] = 200 + r;
        }
        printf("nested mode=%d outer_r=%d inner=%d trace:", mode, r, got_inner);
        for (int i = 0; i < ntrace; i++) printf(" %d", trace[i]);
        printf("\n");
        if (mode == 0) CHECK(r == 0 && got_inner == 0 && ntrace == 7);
        if (mode == 1) CHECK(r == 0 && got_inner == 7 && trace[ntrace - 2] == 107);
        if (mode == 2) CHECK(r == 9 && got_inner == -1 && trace[ntrace - 1] == 209);
    }
}

/* ---- 4. longjmp out of a loop, many times; locals must survive (volatile) ---- */
static jmp_buf loop_env;
static int find_first_multiple(int start, int k) {
    for (int i = start;; i++) {
        if (i % k == 0) longjmp(loop_env, i);   /* break out of the loop via longjmp */
    }
}
static void test_loop(void) {
    volatile long sum = 0;
    volatile int iter = 0;
    for (iter = 0; iter < 1000; iter++) {
        int r = setjmp(loop_env);
        if (r == 0) {
            find_first_multiple(iter * 3 + 1, 7);
            CHECK(0); /* not reached */
        }
        sum += r;
    }
    printf("loop: iterations=%d sum=%ld\n", iter, sum);
    CHECK(sum == 1502501);
}

/* ---- 5. recursion: unwind a deep stack in one jump ---- */
static jmp_buf deep_env;
static int deep(int n, int limit) {
    volatile char buf[64];
    memset((char *)buf, n & 0xff, sizeof buf);
    if (n == limit) longjmp(deep_env, n);
    return deep(n + 1, limit) + buf[3];
}
static void test_deep(void) {
    int r = setjmp(deep_env);
    if (r == 0) { deep(0, 500); CHECK(0); }
    printf("deep: unwound from depth %d\n", r);
    CHECK(r == 500);
}

/* ---- 6. Lua-style protected calls: error handler chain (luaD_throw / luaD_rawrunprotected) ---- */
struct lua_longjmp { struct lua_longjmp *previous; jmp_buf b; volatile int status; };
typedef struct State { struct lua_longjmp *errorJmp; int depth; char msg[64]; } State;
typedef void (*Pfunc)(State *L, void *ud);
enum { LUA_OK = 0, LUA_ERRRUN = 2, LUA_ERRMEM = 4 };

static void lua_throw(State *L, int status, const char *msg) {
    snprintf(L->msg, sizeof L->msg, "%s", msg);
    if (L->errorJmp) {
        L->errorJmp->status = status;
        longjmp(L->errorJmp->b, 1);
    }
    printf("PANIC: unprotected error: %s\n", msg);
    exit(3);
}
static int rawrunprotected(State *L, Pfunc f, void *ud) {
    int olddepth = L->depth;
    struct lua_longjmp lj;
    lj.status = LUA_OK;
    lj.previous = L->errorJmp;
    L->errorJmp = &lj;
    if (setjmp(lj.b) == 0) f(L, ud);
    L->errorJmp = lj.previous;
    L->depth = olddepth;
    return lj.status;
}
static void f_div(State *L, void *ud) {
    int *a = ud;
    L->depth++;
    if (a[1] == 0) lua_throw(L, LUA_ERRRUN, "attempt to divide by zero");
    a[2] = a[0] / a[1];
}
static void f_inner_pcall(State *L, void *ud) {
    /* a protected call inside a protected call; the inner error is caught and converted */
    int args[3] = { 10, 0, 0 };
    L->depth++;
    int st = rawrunprotected(L, f_div, args);
    snprintf((char *)ud, 64, "inner status=%d msg=%s", st, L->msg);
    lua_throw(L, LUA_ERRMEM, "rethrown as memory error"); /* propagate to outer handler */
}
static void test_lua(void) {
    State L = { 0 };
    int ok[3] = { 84, 2, 0 };
    int st = rawrunprotected(&L, f_div, ok);
    printf("lua: pcall ok status=%d result=%d\n", st, ok[2]);
    CHECK(st == LUA_OK && ok[2] == 42);

    int bad[3] = { 1, 0, 0 };
    st = rawrunprotected(&L, f_div, bad);
    printf("lua: pcall error status=%d msg=\"%s\"\n", st, L.msg);
    CHECK(st == LUA_ERRRUN && strcmp(L.msg, "attempt to divide by zero") == 0);

    char info[64] = "";
    st = rawrunprotected(&L, f_inner_pcall, info);
    printf("lua: nested pcall status=%d msg=\"%s\" (%s) depth=%d handler_cleared=%d\n",
           st, L.msg, info, L.depth, L.errorJmp == NULL);
    CHECK(st == LUA_ERRMEM && L.errorJmp == NULL && L.depth == 0);

    int errors = 0;
    for (int i = 0; i < 200; i++) {
        int a[3] = { i, i % 5, 0 };
        if (rawrunprotected(&L, f_div, a) != LUA_OK) errors++;
    }
    printf("lua: 200 pcalls, %d errors\n", errors);
    CHECK(errors == 40);
}

int main(void) {
    test_basic();
    test_zero();
    test_nested();
    test_loop();
    test_deep();
    test_lua();
    printf("%s (%d failures)\n", failures ? "FAIL" : "ALL OK", failures);
    return failures ? 1 : 0;
}
