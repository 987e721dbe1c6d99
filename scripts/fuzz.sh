#!/usr/bin/env bash
# Differential fuzzing campaign: random modules through Kiln executables
# against the wasmi interpreter, then malformed inputs against the compiler.
#   bash scripts/fuzz.sh [--minutes N] [--target T] [--seed S]
# N minutes per target for the differential run (default 10), then N
# minutes of malformed inputs. Without --target, every target this machine
# can run (x86_64 natively, aarch64 and riscv64 under qemu-user). Prints
# one summary line per target; failing modules and their seeds are saved
# under fuzz/artifacts/ (see fuzz/README.md to reproduce one).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=10
targets=()
seed=()
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) minutes=$2; shift 2 ;;
        --target) targets=(--targets "$2"); shift 2 ;;
        --seed) seed=(--seed "$2"); shift 2 ;;
        *) echo "usage: bash scripts/fuzz.sh [--minutes N] [--target T] [--seed S]" >&2; exit 2 ;;
    esac
done
bash scripts/setup.sh
cargo build -p kiln -p kiln-fuzz --bins
secs=$((minutes * 60))
status=0
cargo run -q -p kiln-fuzz -- diff --seconds "$secs" "${targets[@]}" "${seed[@]}" || status=1
cargo run -q -p kiln-fuzz -- malformed --seconds "$secs" "${seed[@]}" || status=1
exit "$status"
