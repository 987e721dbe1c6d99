/* A C host embedding two Kiln libraries: libcalc.a (calc.wat, with host
 * imports) and libfiles.a (files.c, a WASI reactor). It runs three
 * instances of calc and two of files, on the main thread and on two more,
 * and prints what every call returned; testsuite/tests/embed.rs compares
 * that with host.stdout on every target. */
#include "calc.h"
#include "files.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* The host's own SIGSEGV handler, installed before any instance: the
 * libraries must hand it every fault that is not a trap of theirs. */
static sigjmp_buf host_recovery;
static void host_segv(int sig) {
    (void)sig;
    siglongjmp(host_recovery, 1);
}

static const char *who(calc_instance *i) { return (const char *)calc_user_data(i); }

/* ---- calc's imports ---- */

void calc_import_host_log(calc_instance *inst, int32_t ptr, int32_t len) {
    uint64_t size;
    uint8_t *mem = calc_memory(inst, &size);
    if ((uint64_t)ptr + (uint64_t)len > size) return;
    printf("  [%s] log: %.*s\n", who(inst), (int)len, (const char *)mem + ptr);
    /* Re-enter the instance from inside its own call. */
    int32_t r = 0;
    kiln_status s = calc_add(inst, 40, 2, &r);
    printf("  [%s] re-entered add: status %d, %d\n", who(inst), (int)s, r);
}

int64_t calc_import_host_twice(calc_instance *inst, int64_t x) {
    (void)inst;
    return 2 * x;
}

double calc_import_host_scale(calc_instance *inst, float f, double d) {
    (void)inst;
    return (double)f * d;
}

/* ---- helpers ---- */

static void show_failure(const char *what, kiln_status s, calc_instance *i) {
    printf("%s: status %d, trap kind %u\n%s", what, (int)s, calc_trap_kind(i), calc_message(i));
}

/* Copies a NUL-terminated string into a files instance's memory. */
static int32_t put_string(files_instance *f, const char *s) {
    int32_t at = 0;
    if (files_alloc(f, (int32_t)strlen(s) + 1, &at) != KILN_OK || !at) return 0;
    uint64_t size;
    uint8_t *mem = files_memory(f, &size);
    memcpy(mem + at, s, strlen(s) + 1);
    return at;
}

/* ---- threads: each its own instance, at the same time ---- */

struct job {
    calc_instance *inst;
    int32_t sum, traps, ok;
};

static void *worker(void *p) {
    struct job *j = p;
    for (int round = 0; round < 200; round++) {
        int32_t r;
        if (calc_sum(j->inst, 1000, &r) == KILN_OK && r == 499500) j->ok++;
        if (calc_div(j->inst, 1, 0, &r) == KILN_TRAP) j->traps++;
    }
    calc_sum(j->inst, 100, &j->sum);
    return 0;
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0); /* interleave with the plugins' own writes */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = host_segv;
    sigaction(SIGSEGV, &sa, 0);
    kiln_config cfg = kiln_config_default();
    calc_instance *a, *b, *c;
    cfg.user_data = "A";
    if (calc_new(&cfg, &a) != KILN_OK) return 1;
    cfg.user_data = "B";
    if (calc_new(&cfg, &b) != KILN_OK) return 1;
    cfg.user_data = "C";
    cfg.stack_size = 256 << 10;
    if (calc_new(&cfg, &c) != KILN_OK) return 1;

    printf("== values\n");
    int32_t r32;
    kiln_status s = calc_add(a, 2147483647, 1, &r32);
    printf("add(INT32_MAX, 1): status %d, %d\n", (int)s, r32);
    double d;
    int64_t r64;
    s = calc_mix(a, -4611686018427387904LL, 1.5f, -2.25, &d, &r64);
    printf("mix: status %d, %g, %lld\n", (int)s, d, (long long)r64);
    float f;
    s = calc_negate_f32(a, 0.0f, &f);
    printf("negate_f32(0): status %d, %g\n", (int)s, f);
    printf("version: %llx\n", (unsigned long long)calc_global_version(a));
    printf("table size: %u\n", calc_table_size(a));

    printf("== strings through memory\n");
    uint64_t size;
    uint8_t *mem = calc_memory(b, &size);
    const char *msg = "hello from the host";
    memcpy(mem + 1024, msg, strlen(msg));
    s = calc_shout(b, 1024, (int32_t)strlen(msg));
    printf("shout: status %d, memory now %.*s (memory size %llu)\n", (int)s, (int)strlen(msg), (const char *)mem + 1024,
           (unsigned long long)size);

    printf("== separate state\n");
    calc_add(a, 1, 1, 0);
    calc_set_global_count(c, 100);
    printf("count: A %d, B %d, C %d\n", calc_global_count(a), calc_global_count(b), calc_global_count(c));

    printf("== traps\n");
    show_failure("div(1, 0) in A", calc_div(a, 1, 0, &r32), a);
    s = calc_add(b, 20, 22, &r32);
    printf("B meanwhile: add status %d, %d\n", (int)s, r32);
    show_failure("peek(65536) in A", calc_peek(a, 65536, &r32), a);
    s = calc_deep(c, 0, &r32);
    printf("deep() in C: status %d, trap kind %u\n", (int)s, calc_trap_kind(c));
    show_failure("throw(7) in A", calc_throw(a, 7), a);
    s = calc_catch(a, 9, &r32);
    printf("catch(9) in A: status %d, %d\n", (int)s, r32);
    s = calc_add(a, 3, 4, &r32);
    printf("A after its traps: add status %d, %d\n", (int)s, r32);
    s = calc_add(c, 3, 4, &r32);
    printf("C after its stack overflow: add status %d, %d\n", (int)s, r32);

    printf("== threads\n");
    struct job j1 = {.inst = a}, j2 = {.inst = b};
    pthread_t t1, t2;
    pthread_create(&t1, 0, worker, &j1);
    pthread_create(&t2, 0, worker, &j2);
    pthread_join(t1, 0);
    pthread_join(t2, 0);
    printf("thread on A: %d ok, %d traps, sum %d\n", j1.ok, j1.traps, j1.sum);
    printf("thread on B: %d ok, %d traps, sum %d\n", j2.ok, j2.traps, j2.sum);

    printf("== WASI, per instance\n");
    kiln_dir data = {.host = "data", .guest = "/data", .read_only = 1};
    const char *env[] = {"GREETING=hello"};
    const char *argv[] = {"files"};
    kiln_config granted = kiln_config_default();
    granted.argc = 1;
    granted.argv = argv;
    granted.envc = 1;
    granted.env = env;
    granted.n_dirs = 1;
    granted.dirs = &data;
    granted.stdout_fd = 1;
    files_instance *f1, *f2;
    if (files_new(&granted, &f1) != KILN_OK) {
        printf("files_new: %s\n", f1 ? files_message(f1) : "out of memory");
        return 1;
    }
    if (files_new(0, &f2) != KILN_OK) return 1;
    int32_t n;
    files_count_lines(f1, put_string(f1, "/data/poem.txt"), &n);
    printf("granted: count_lines(/data/poem.txt) = %d\n", n);
    files_count_lines(f2, put_string(f2, "/data/poem.txt"), &n);
    printf("denied: count_lines(/data/poem.txt) = %d\n", n);
    files_env_len(f1, put_string(f1, "GREETING"), &n);
    printf("granted: env_len(GREETING) = %d\n", n);
    files_env_len(f2, put_string(f2, "GREETING"), &n);
    printf("denied: env_len(GREETING) = %d\n", n);
    files_say(f1, put_string(f1, "granted stdout"));
    files_say(f2, put_string(f2, "no stdout: this is never seen"));
    s = files_quit(f1, 7);
    printf("quit(7): status %d, exit code %d\n", (int)s, files_exit_code(f1));

    printf("== the host's own faults\n");
    if (sigsetjmp(host_recovery, 1) == 0) {
        *(volatile int *)(uintptr_t)8 = 1; /* a bug in the host, not in wasm */
        printf("not reached\n");
    } else {
        printf("the host's SIGSEGV handler got the host's fault\n");
    }
    s = calc_div(a, 1, 0, &r32);
    printf("and a trap is still a trap: status %d\n", (int)s);

    calc_free(a);
    calc_free(b);
    calc_free(c);
    files_free(f1);
    files_free(f2);
    printf("== done\n");
    return 0;
}
