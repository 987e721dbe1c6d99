#!/usr/bin/env bash
# Opt-in: installs the wasmtime CLI into bench/.cache/wasmtime/bin, where
# bench.py looks for it (before PATH). Without it the wasmtime contenders use
# wasmtime's Python API, labelled "(py API)" in the results.
# This builds wasmtime from crates.io: 25+ minutes on 2 cores. The version is
# pinned (override with WASMTIME_VERSION=...).
set -euo pipefail
bench_dir="$(cd "$(dirname "$0")" && pwd)"
version="${WASMTIME_VERSION:-48.0.8}"
root="${KILN_BENCH_CACHE:-$bench_dir/.cache}/wasmtime"
if [ -x "$root/bin/wasmtime" ] && "$root/bin/wasmtime" --version | grep -q " $version"; then
    echo "wasmtime $version is already installed in $root/bin"
    exit 0
fi
cargo install --locked --root "$root" --version "$version" wasmtime-cli
"$root/bin/wasmtime" --version
