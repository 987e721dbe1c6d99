/* setjmp.h for the wasm32-wasi builds of the test programs.
 *
 * Debian's wasi-libc has no setjmp/longjmp (they need wasm exception
 * handling, which Kiln does not implement). Lua's ldo.c includes it for
 * its error handling; with this header a Lua error aborts the program (a
 * wasm trap) instead of unwinding. The test scripts raise no errors. */
#ifndef KILN_TEST_WASI_SETJMP_H
#define KILN_TEST_WASI_SETJMP_H
#include <stdlib.h>
typedef int jmp_buf[1];
#define setjmp(b) ((void)(b), 0)
#define _setjmp(b) ((void)(b), 0)
#define longjmp(b, v) ((void)(b), (void)(v), abort())
#define _longjmp(b, v) ((void)(b), (void)(v), abort())
#endif
