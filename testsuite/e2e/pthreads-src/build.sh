#!/usr/bin/env bash
# Rebuilds ../threads_pthreads.wasm from pthreads.c: POSIX threads (mutex,
# condition variable, barrier, join values) for wasm32-wasip1-threads. No
# package registry carries a threads-capable wasi-libc (Debian's has no
# pthread.h; PyPI's Zig bundles only stub pthreads), so this builds one
# from wasi-libc's source at tag wasi-sdk-29 (commit ac020b86fd44, the last
# tag with a plain Makefile; get it from github.com/WebAssembly/wasi-libc)
# with Debian's clang-19, and links against it. CI runs the checked-in
# module, not this.
#
#   WASI_LIBC=/path/to/wasi-libc-at-wasi-sdk-29 bash build.sh
#
# Expected output: wasmtime_threads.py runs the module under wasmtime's
# Python API (pip install wasmtime==50.0.1), which has shared memories but
# no wasi-threads host, so the script is one: a store and instance per
# thread, sharing the memory.
set -euo pipefail
cd "$(dirname "$0")"
: "${WASI_LIBC:?set WASI_LIBC to a wasi-libc checkout at tag wasi-sdk-29}"
make -C "$WASI_LIBC" -j2 THREAD_MODEL=posix CC=clang-19 AR=llvm-ar-19 NM=llvm-nm-19 \
  BUILTINS_LIB=/usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a
# clang-19 looks for compiler-rt under the threads triple's name, which
# Debian does not ship: a resource directory of links points it there.
res=$(mktemp -d)
mkdir -p "$res/lib/wasm32-unknown-wasip1-threads"
ln -s /usr/lib/llvm-19/lib/clang/19/include "$res/include"
ln -s /usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a "$res/lib/wasm32-unknown-wasip1-threads/libclang_rt.builtins.a"
# The memory is imported (wasi-threads' env.memory), exported (WASI reads
# it) and may grow to 64 MiB (thread stacks are malloc'ed).
clang-19 --target=wasm32-wasip1-threads --sysroot="$WASI_LIBC/sysroot" -resource-dir "$res" -pthread -O2 \
  pthreads.c -o ../threads_pthreads.wasm -Wl,--import-memory,--export-memory,--max-memory=67108864
rm -rf "$res"
python3 wasmtime_threads.py ../threads_pthreads.wasm
