#!/usr/bin/env bash
# Installs what building and testing Kiln needs on Debian, only if missing:
# clang-19 and llvm-19 (the runtime is built for all targets with them),
# lld-19 (linking), wasi-libc and the wasm32 compiler-rt (C to wasm for tests
# and examples), qemu-user (running aarch64/riscv64 executables), wabt, and
# gdb / gdb-multiarch (the source-level debugging tests), and Debian's rustc
# with its wasm32-wasi std (a Rust program in those tests).
# Safe to run repeatedly; runs apt-get only when something is missing.
set -euo pipefail

packages=(clang-19 lld-19 llvm-19 libclang-rt-19-dev-wasm32 wasi-libc qemu-user wabt gdb gdb-multiarch binutils rustc libstd-rust-dev-wasm32)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
    echo "setup: cargo not found; install Rust (https://rustup.rs) first" >&2
    exit 1
fi
