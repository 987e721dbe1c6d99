#!/usr/bin/env bash
# Rebuilds ../sjlj_exnref.wasm and ../sjlj_legacy.wasm from sjlj.c: C
# setjmp/longjmp compiled to wasm exceptions, the way current wasi-libc and
# LLVM do it (-mllvm -wasm-enable-sjlj, a `__c_longjmp` tag), with the Zig
# toolchain from PyPI (pinned; Debian's 2022 wasi-libc has no setjmp). The
# two modules differ only in the exception encoding: Wasm 3.0's
# try_table/throw_ref, and the legacy try/catch/delegate that LLVM emits by
# default. Builds are reproducible (the same bytes every time), so the
# checked-in modules are what this script makes; CI runs them, not this.
#
# c_longjmp_tag.s defines the tag, which LLVM expects compiler-rt to
# provide and Zig 0.17's does not.
set -euo pipefail
cd "$(dirname "$0")"
venv=${ZIG_VENV:-/tmp/kiln-zig-venv}
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q ziglang==0.17.1; }
cc=("$venv/bin/python" -m ziglang cc -target wasm32-wasi -O2 -s -mexception-handling -mllvm -wasm-enable-sjlj -lsetjmp)
"${cc[@]}" -mllvm -wasm-use-legacy-eh=false -o ../sjlj_exnref.wasm sjlj.c c_longjmp_tag.s
"${cc[@]}" -o ../sjlj_legacy.wasm sjlj.c c_longjmp_tag.s
