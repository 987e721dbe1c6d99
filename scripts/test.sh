#!/usr/bin/env bash
# Command 2 of the README, and what CI runs: install missing packages, then
# run every test: unit tests, the CLI tests, the CLIF snapshots, the
# end-to-end programs on every target (aarch64 and riscv64 under qemu-user).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --workspace "$@"
