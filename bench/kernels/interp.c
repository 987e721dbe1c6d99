/* A switch-based bytecode interpreter (stack machine with locals, jumps and
 * calls) running small programs: an iterative loop with arithmetic, a
 * recursive Fibonacci, and a Collatz search. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, MOD, DIV2, LT, EQ, JMP, JZ, JNZ, CALL, RET, DUP, POP, XOR, AND, SHL, HALT };

typedef struct { int ret_pc; int base; } frame;

/* Static, not on the stack: wasm32-wasi programs get a 64 KiB stack by default. */
static int64_t stack[1024], locals[1 << 16];
static frame frames[4096];

static int64_t run(const int *code, int pc, int64_t arg, int nlocals) {
  int sp = 0, fp = 0, base = 0;
  locals[0] = arg;
  for (;;) {
    int op = code[pc++];
    switch (op) {
      case PUSH: stack[sp++] = code[pc++]; break;
      case LOAD: stack[sp++] = locals[base + code[pc++]]; break;
      case STORE: locals[base + code[pc++]] = stack[--sp]; break;
      case ADD: sp--; stack[sp - 1] += stack[sp]; break;
      case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
      case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
      case MOD: sp--; stack[sp - 1] %= stack[sp]; break;
      case DIV2: stack[sp - 1] /= 2; break;
      case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
      case EQ: sp--; stack[sp - 1] = stack[sp - 1] == stack[sp]; break;
      case XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
      case AND: sp--; stack[sp - 1] &= stack[sp]; break;
      case SHL: sp--; stack[sp - 1] <<= stack[sp]; break;
      case JMP: pc = code[pc]; break;
      case JZ: pc = stack[--sp] ? pc + 1 : code[pc]; break;
      case JNZ: pc = stack[--sp] ? code[pc] : pc + 1; break;
      case DUP: stack[sp] = stack[sp - 1]; sp++; break;
      case POP: sp--; break;
      case CALL: /* callee's first local = top of stack */
        frames[fp].ret_pc = pc + 1; frames[fp].base = base; fp++;
        base += nlocals; locals[base] = stack[--sp]; pc = code[pc]; break;
      case RET:
        if (fp == 0) return stack[sp - 1];
        fp--; pc = frames[fp].ret_pc; base = frames[fp].base; break;
      case HALT: return stack[sp - 1];
      default: abort();
    }
  }
}

/* loop(n): s = 0; for i in 0..n: s = (s * 31 + (i ^ (i << 3))) % 1000000007; return s */
static const int LOOP[] = {
  PUSH, 0, STORE, 1, PUSH, 0, STORE, 2,
  /* 8 */ LOAD, 2, LOAD, 0, LT, JZ, 43,
  /* 15 */ LOAD, 1, PUSH, 31, MUL, LOAD, 2, LOAD, 2, PUSH, 3, SHL, XOR, ADD, PUSH, 1000000007, MOD, STORE, 1,
  /* 34 */ LOAD, 2, PUSH, 1, ADD, STORE, 2, JMP, 8,
  /* 43 */ LOAD, 1, HALT,
};
/* fib(n) = n < 2 ? n : fib(n-1) + fib(n-2) */
static const int FIB[] = {
  /* 0 */ LOAD, 0, PUSH, 2, LT, JZ, 10, LOAD, 0, RET,
  /* 10 */ LOAD, 0, PUSH, 1, SUB, CALL, 0, LOAD, 0, PUSH, 2, SUB, CALL, 0, ADD, RET,
};
/* collatz(n): total steps of the Collatz sequences of 1..n */
static const int COLLATZ[] = {
  PUSH, 0, STORE, 1, PUSH, 1, STORE, 2,               /* total = 0, i = 1 */
  /* 8 */ LOAD, 2, LOAD, 0, LT, JZ, 68,               /* while i < n */
  /* 15 */ LOAD, 2, STORE, 3,                         /* x = i */
  /* 19 */ LOAD, 3, PUSH, 1, EQ, JNZ, 59,             /* while x != 1 */
  /* 26 */ LOAD, 3, PUSH, 1, AND, JZ, 45,             /* odd? */
  /* 33 */ LOAD, 3, PUSH, 3, MUL, PUSH, 1, ADD, STORE, 3, JMP, 50,
  /* 45 */ LOAD, 3, DIV2, STORE, 3,
  /* 50 */ LOAD, 1, PUSH, 1, ADD, STORE, 1, JMP, 19,
  /* 59 */ LOAD, 2, PUSH, 1, ADD, STORE, 2, JMP, 8,
  /* 68 */ LOAD, 1, HALT,
};

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 10;
  int64_t a = run(LOOP, 0, 2000000LL * scale, 4);
  int fibn = 20 + (scale > 1 ? (scale >= 30 ? 12 : scale / 3 + 1) : 0);
  int64_t b = run(FIB, 0, fibn, 1);
  int64_t c = run(COLLATZ, 0, 20000LL * scale, 4);
  printf("loop=%lld fib(%d)=%lld collatz=%lld\n", (long long)a, fibn, (long long)b, (long long)c);
  return 0;
}
