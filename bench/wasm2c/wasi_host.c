/*
 * Minimal WASI preview1 host for the wasm2c contender of the benchmark.
 *
 * wabt 1.0.32 (Debian) ships the wasm2c runtime (libwasm-rt-impl.a, wasm-rt.h)
 * but no WASI implementation, so this file provides one: arguments, an empty
 * environment (as Kiln and wasmtime give by default), stdio through read(2)
 * and write(2), clocks, random, poll_oneoff on clocks, sched_yield and
 * proc_exit. Everything else, including the file system, answers ENOSYS,
 * like Kiln's runtime today. Every guest pointer is bounds-checked.
 *
 * Build (bench.py does this):
 *   wasm2c -n app app.wasm -o app.c
 *   clang-19 -O2 -I<dir of app.h> app.c wasi_host.c -lwasm-rt-impl -lm
 * A trap prints one line on stderr and exits with 134, like wasmtime.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "app.h"

struct Z_wasi_snapshot_preview1_instance_t {
  wasm_rt_memory_t *mem;
  int argc;
  char **argv;
};

/* The runtime's trap buffer (declared in wasm-rt-impl.h, not shipped by Debian). */
extern sigjmp_buf wasm_rt_jmp_buf;

typedef struct Z_wasi_snapshot_preview1_instance_t wasi_t;

enum {
  E_SUCCESS = 0, E_BADF = 8, E_FAULT = 21, E_INVAL = 28, E_IO = 29,
  E_NOSYS = 52, E_NOTSUP = 58, E_SPIPE = 70,
};

static int range_ok(wasi_t *w, u64 ptr, u64 len) {
  return ptr + len <= (u64)w->mem->size;
}
#define MEM(w, p) ((w)->mem->data + (p))
#define CHECK(w, p, n) do { if (!range_ok((w), (p), (n))) return E_FAULT; } while (0)

static void put32(wasi_t *w, u32 p, u32 v) { memcpy(MEM(w, p), &v, 4); }
static void put64(wasi_t *w, u32 p, u64 v) { memcpy(MEM(w, p), &v, 8); }
static u32 get32(wasi_t *w, u32 p) { u32 v; memcpy(&v, MEM(w, p), 4); return v; }

static u32 errno_to_wasi(int e) {
  switch (e) {
    case EBADF: return E_BADF;
    case EFAULT: return E_FAULT;
    case EINVAL: return E_INVAL;
    case ESPIPE: return E_SPIPE;
    case EPIPE: return 64;
    case EAGAIN: return 6;
    case EINTR: return 27;
    default: return E_IO;
  }
}

/* ---- arguments and environment ---- */

u32 Z_wasi_snapshot_preview1Z_args_sizes_get(wasi_t *w, u32 argc_p, u32 size_p) {
  CHECK(w, argc_p, 4); CHECK(w, size_p, 4);
  u32 size = 0;
  for (int i = 0; i < w->argc; i++) size += strlen(w->argv[i]) + 1;
  put32(w, argc_p, (u32)w->argc);
  put32(w, size_p, size);
  return E_SUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_args_get(wasi_t *w, u32 argv_p, u32 buf_p) {
  CHECK(w, argv_p, 4ull * (u64)w->argc);
  for (int i = 0; i < w->argc; i++) {
    u32 n = strlen(w->argv[i]) + 1;
    CHECK(w, buf_p, n);
    memcpy(MEM(w, buf_p), w->argv[i], n);
    put32(w, argv_p + 4 * i, buf_p);
    buf_p += n;
  }
  return E_SUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_environ_sizes_get(wasi_t *w, u32 count_p, u32 size_p) {
  CHECK(w, count_p, 4); CHECK(w, size_p, 4);
  put32(w, count_p, 0);
  put32(w, size_p, 0);
  return E_SUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_environ_get(wasi_t *w, u32 env_p, u32 buf_p) {
  (void)w; (void)env_p; (void)buf_p;
  return E_SUCCESS;
}

/* ---- clocks, random, scheduling ---- */

static int clock_of(u32 id, clockid_t *out) {
  switch (id) {
    case 0: *out = CLOCK_REALTIME; return 1;
    case 1: *out = CLOCK_MONOTONIC; return 1;
    case 2: *out = CLOCK_PROCESS_CPUTIME_ID; return 1;
    case 3: *out = CLOCK_THREAD_CPUTIME_ID; return 1;
    default: return 0;
  }
}

u32 Z_wasi_snapshot_preview1Z_clock_res_get(wasi_t *w, u32 id, u32 res_p) {
  clockid_t c; struct timespec ts;
  if (!clock_of(id, &c)) return E_INVAL;
  CHECK(w, res_p, 8);
  if (clock_getres(c, &ts)) return errno_to_wasi(errno);
  put64(w, res_p, (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec);
  return E_SUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_clock_time_get(wasi_t *w, u32 id, u64 precision, u32 time_p) {
  (void)precision;
  clockid_t c; struct timespec ts;
  if (!clock_of(id, &c)) return E_INVAL;
  CHECK(w, time_p, 8);
  if (clock_gettime(c, &ts)) return errno_to_wasi(errno);
  put64(w, time_p, (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec);
  return E_SUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_random_get(wasi_t *w, u32 buf, u32 len) {
  CHECK(w, buf, len);
  u32 done = 0;
  while (done < len) {
    ssize_t r = getrandom(MEM(w, buf + done), len - done, 0);
    if (r < 0) { if (errno == EINTR) continue; return errno_to_wasi(errno); }
    done += (u32)r;
  }
  return E_SUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_sched_yield(wasi_t *w) { (void)w; return E_SUCCESS; }

/* Clock subscriptions only: sleeps until the earliest one is due. */
u32 Z_wasi_snapshot_preview1Z_poll_oneoff(wasi_t *w, u32 in, u32 out, u32 nsubs, u32 nevents_p) {
  if (nsubs == 0) return E_INVAL;
  CHECK(w, in, 48ull * nsubs); CHECK(w, out, 32ull * nsubs); CHECK(w, nevents_p, 4);
  u64 best = ~0ull; u32 best_i = 0;
  for (u32 i = 0; i < nsubs; i++) {
    u8 *s = MEM(w, in + 48 * i);
    if (s[8] != 0) return E_NOTSUP;  /* not a clock subscription */
    u32 id; u64 timeout; u16 flags;
    memcpy(&id, s + 16, 4); memcpy(&timeout, s + 24, 8); memcpy(&flags, s + 40, 2);
    clockid_t c; struct timespec now;
    if (!clock_of(id, &c)) return E_INVAL;
    if (flags & 1) { /* absolute */
      clock_gettime(c, &now);
      u64 t = (u64)now.tv_sec * 1000000000ull + (u64)now.tv_nsec;
      timeout = timeout > t ? timeout - t : 0;
    }
    if (timeout < best) { best = timeout; best_i = i; }
  }
  struct timespec ts = { (time_t)(best / 1000000000ull), (long)(best % 1000000000ull) };
  while (nanosleep(&ts, &ts) && errno == EINTR) {}
  u8 *e = MEM(w, out);
  memset(e, 0, 32);
  memcpy(e, MEM(w, in + 48 * best_i), 8); /* userdata */
  e[10] = 0;                              /* type: clock */
  put32(w, nevents_p, 1);
  return E_SUCCESS;
}

void Z_wasi_snapshot_preview1Z_proc_exit(wasi_t *w, u32 code) {
  (void)w;
  _exit((int)code);
}

u32 Z_wasi_snapshot_preview1Z_proc_raise(wasi_t *w, u32 sig) { (void)w; (void)sig; return E_NOSYS; }

/* ---- stdio ---- */

static int is_stdio(u32 fd) { return fd <= 2; }

static u32 do_rw(wasi_t *w, u32 fd, u32 iovs, u32 n, u32 out_p, int writing) {
  if (!is_stdio(fd)) return E_BADF;
  CHECK(w, iovs, 8ull * n); CHECK(w, out_p, 4);
  struct iovec v[64];
  if (n > 64) n = 64;
  for (u32 i = 0; i < n; i++) {
    u32 p = get32(w, iovs + 8 * i), l = get32(w, iovs + 8 * i + 4);
    CHECK(w, p, l);
    v[i].iov_base = MEM(w, p);
    v[i].iov_len = l;
  }
  ssize_t r;
  do { r = writing ? writev((int)fd, v, (int)n) : readv((int)fd, v, (int)n); } while (r < 0 && errno == EINTR);
  if (r < 0) return errno_to_wasi(errno);
  put32(w, out_p, (u32)r);
  return E_SUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_fd_write(wasi_t *w, u32 fd, u32 iovs, u32 n, u32 out_p) {
  return do_rw(w, fd, iovs, n, out_p, 1);
}

u32 Z_wasi_snapshot_preview1Z_fd_read(wasi_t *w, u32 fd, u32 iovs, u32 n, u32 out_p) {
  return do_rw(w, fd, iovs, n, out_p, 0);
}

u32 Z_wasi_snapshot_preview1Z_fd_fdstat_get(wasi_t *w, u32 fd, u32 p) {
  if (!is_stdio(fd)) return E_BADF;
  CHECK(w, p, 24);
  struct stat st;
  u8 type = 0; /* unknown */
  if (fstat((int)fd, &st) == 0) {
    if (S_ISCHR(st.st_mode)) type = 2;
    else if (S_ISREG(st.st_mode)) type = 4;
    else if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) type = 6;
  }
  memset(MEM(w, p), 0, 24);
  MEM(w, p)[0] = type;
  u64 rights = (1ull << 1) | (1ull << 6) | (1ull << 3); /* read, write, fdstat_set_flags */
  put64(w, p + 8, rights);
  put64(w, p + 16, 0);
  return E_SUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_fd_fdstat_set_flags(wasi_t *w, u32 fd, u32 flags) {
  (void)w; (void)flags; return is_stdio(fd) ? E_SUCCESS : E_BADF;
}
u32 Z_wasi_snapshot_preview1Z_fd_close(wasi_t *w, u32 fd) {
  (void)w; return is_stdio(fd) ? E_SUCCESS : E_BADF;
}
u32 Z_wasi_snapshot_preview1Z_fd_seek(wasi_t *w, u32 fd, u64 off, u32 whence, u32 p) {
  (void)w; (void)off; (void)whence; (void)p; return is_stdio(fd) ? E_SPIPE : E_BADF;
}
u32 Z_wasi_snapshot_preview1Z_fd_tell(wasi_t *w, u32 fd, u32 p) {
  (void)w; (void)p; return is_stdio(fd) ? E_SPIPE : E_BADF;
}
u32 Z_wasi_snapshot_preview1Z_fd_sync(wasi_t *w, u32 fd) { (void)w; return is_stdio(fd) ? E_SUCCESS : E_BADF; }
u32 Z_wasi_snapshot_preview1Z_fd_datasync(wasi_t *w, u32 fd) { (void)w; return is_stdio(fd) ? E_SUCCESS : E_BADF; }
/* No preopened directories: fd 3 and up are closed. */
u32 Z_wasi_snapshot_preview1Z_fd_prestat_get(wasi_t *w, u32 fd, u32 p) { (void)w; (void)fd; (void)p; return E_BADF; }
u32 Z_wasi_snapshot_preview1Z_fd_prestat_dir_name(wasi_t *w, u32 fd, u32 p, u32 l) { (void)w; (void)fd; (void)p; (void)l; return E_BADF; }

/* ---- everything else: ENOSYS ---- */
#define NOSYS(name, ...) u32 Z_wasi_snapshot_preview1Z_##name(wasi_t *w, __VA_ARGS__) { (void)w; return E_NOSYS; }
NOSYS(fd_advise, u32 a, u64 b, u64 c, u32 d)
NOSYS(fd_allocate, u32 a, u64 b, u64 c)
NOSYS(fd_fdstat_set_rights, u32 a, u64 b, u64 c)
NOSYS(fd_filestat_get, u32 a, u32 b)
NOSYS(fd_filestat_set_size, u32 a, u64 b)
NOSYS(fd_filestat_set_times, u32 a, u64 b, u64 c, u32 d)
NOSYS(fd_pread, u32 a, u32 b, u32 c, u64 d, u32 e)
NOSYS(fd_pwrite, u32 a, u32 b, u32 c, u64 d, u32 e)
NOSYS(fd_readdir, u32 a, u32 b, u32 c, u64 d, u32 e)
NOSYS(fd_renumber, u32 a, u32 b)
NOSYS(path_create_directory, u32 a, u32 b, u32 c)
NOSYS(path_filestat_get, u32 a, u32 b, u32 c, u32 d, u32 e)
NOSYS(path_filestat_set_times, u32 a, u32 b, u32 c, u32 d, u64 e, u64 f, u32 g)
NOSYS(path_link, u32 a, u32 b, u32 c, u32 d, u32 e, u32 f, u32 g)
NOSYS(path_open, u32 a, u32 b, u32 c, u32 d, u32 e, u64 f, u64 g, u32 h, u32 i)
NOSYS(path_readlink, u32 a, u32 b, u32 c, u32 d, u32 e, u32 f)
NOSYS(path_remove_directory, u32 a, u32 b, u32 c)
NOSYS(path_rename, u32 a, u32 b, u32 c, u32 d, u32 e, u32 f)
NOSYS(path_symlink, u32 a, u32 b, u32 c, u32 d, u32 e)
NOSYS(path_unlink_file, u32 a, u32 b, u32 c)
NOSYS(sock_accept, u32 a, u32 b, u32 c)
NOSYS(sock_recv, u32 a, u32 b, u32 c, u32 d, u32 e, u32 f)
NOSYS(sock_send, u32 a, u32 b, u32 c, u32 d, u32 e)
NOSYS(sock_shutdown, u32 a, u32 b)

/* ---- entry ---- */

static wasi_t g_wasi;

int main(int argc, char **argv) {
  g_wasi.argc = argc;
  g_wasi.argv = argv;
  wasm_rt_init();
  Z_app_init_module();
  static Z_app_instance_t inst;
  Z_app_instantiate(&inst, &g_wasi);
  g_wasi.mem = Z_appZ_memory(&inst);
  int trap = sigsetjmp(wasm_rt_jmp_buf, 1);
  if (trap == 0) {
    Z_appZ__start(&inst);
    return 0;
  }
  fprintf(stderr, "wasm2c: wasm trap: %s\n", wasm_rt_strerror((wasm_rt_trap_t)trap));
  return 134;
}
