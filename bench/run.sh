#!/usr/bin/env bash
# The benchmark in one command: builds every workload for every contender,
# runs them, and writes bench/results/results.{md,json,png}.
#   bash bench/run.sh            full run (about 10-15 minutes on 2 cores the first time)
#   bash bench/run.sh --quick    small inputs, one run each (results-quick.*)
#   bash bench/run.sh --help     every option
set -euo pipefail
cd "$(dirname "$0")/.."
# clang-19, lld-19, wasi-libc, wabt: the project's own setup script installs what is missing.
bash scripts/setup.sh
exec python3 bench/bench.py "$@"
