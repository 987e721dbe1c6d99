/* setjmp.h for wasm32-wasi builds of the benchmark programs.
 *
 * Debian's wasi-libc has no setjmp/longjmp (they need the wasm exception
 * handling proposal, which Kiln does not implement). Lua's ldo.c includes
 * <setjmp.h> for its error handling; with this header a raised Lua error
 * aborts the program (a wasm trap) instead of unwinding. The benchmark
 * scripts raise no errors, so they behave exactly as with real setjmp. */
#ifndef BENCH_WASI_SETJMP_H
#define BENCH_WASI_SETJMP_H
#include <stdlib.h>
typedef int jmp_buf[1];
#define setjmp(b) ((void)(b), 0)
#define _setjmp(b) ((void)(b), 0)
#define longjmp(b, v) ((void)(b), (void)(v), abort())
#define _longjmp(b, v) ((void)(b), (void)(v), abort())
#endif
