#!/usr/bin/env bash
# CI's correctness check of the benchmark programs (no timing is asserted):
# builds every workload with every available contender, runs each once on a
# small input, and exits non-zero if any contender's stdout or exit status
# differs from the native build's; then the exception workloads
# (bench/exceptions.py --check: Kiln and wasmtime print the same). Writes
# nothing to bench/results.
# Extra options go to bench.py, e.g. --contenders kiln,wasmtime-jit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 bench/bench.py --check "$@"
python3 bench/exceptions.py --check
