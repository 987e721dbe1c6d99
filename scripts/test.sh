#!/usr/bin/env bash
# Command 2 of the README, and what CI runs: install missing packages, then
# run every test:
#   - cargo test: unit tests, CLI tests, CLIF snapshots, the end-to-end
#     programs and the wasm-v2 spec suite on every target (aarch64 and
#     riscv64 under qemu-user), gdb sessions, real programs (Lua, SQLite);
#   - bench/check.sh: the benchmark programs built with every contender and
#     run once each, checking every output equals native (no timings).
# Ends with one line totalling every test binary's results.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
if [ "$status" = 0 ]; then
    bash bench/check.sh
fi
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "all tests: %d passed, %d failed\n", p, f }' "$log" | sed 's/^all tests:/tests:/'
exit "$status"
