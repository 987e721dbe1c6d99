#!/usr/bin/env bash
# Command 1 of the README: build Kiln, compile a C program to wasm with
# clang-19 and wasi-libc (scripts/wasm-cc, the project's one C-to-wasm
# recipe), fire it into a static x86-64 executable, and run it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "building kiln (cargo build --release; the first build takes a few minutes)" >&2
cargo build --release -q -p kiln
out=target/example
mkdir -p "$out"
scripts/wasm-cc -O2 -o "$out/example.wasm" scripts/example.c -lm
./target/release/kiln compile "$out/example.wasm" -o "$out/example"
echo "\$ file $out/example"
file "$out/example" 2>/dev/null || true
echo "\$ $out/example Kiln"
"$out/example" Kiln
