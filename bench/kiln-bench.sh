#!/usr/bin/env bash
# `kiln bench`, as a script: runs one module through every contender (Kiln,
# wasmtime JIT, wasmtime AOT, wasm2c) and prints the comparison table.
#   bash bench/kiln-bench.sh app.wasm [ARGS...]
#   bash bench/kiln-bench.sh app.wasm ARGS... < input     (stdin is given to every run)
# Options go before the module: --runs N, --no-wasm2c, --native EXE (a native
# build of the same program to compare with), --stdin FILE.
set -euo pipefail
bench_dir="$(cd "$(dirname "$0")" && pwd)"
opts=()
while (($#)) && [[ "$1" == --* ]]; do
    case "$1" in
        --runs|--native|--stdin|--kiln|--contenders) opts+=("$1" "$2"); shift 2 ;;
        *) opts+=("$1"); shift ;;
    esac
done
if (($# < 1)); then
    echo "usage: bash bench/kiln-bench.sh [--runs N] [--no-wasm2c] [--native EXE] [--stdin FILE] app.wasm [ARGS...]" >&2
    exit 2
fi
module="$1"; shift
exec python3 "$bench_dir/bench.py" "${opts[@]}" --module "$module" -- "$@"
