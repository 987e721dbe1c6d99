#!/usr/bin/env bash
# The benchmark in one command: builds every workload for every contender,
# runs them, and writes bench/results/results.{md,json,png}, then measures
# exceptions (bench/results/exceptions.md).
#   bash bench/run.sh            full run (about 10-15 minutes on 2 cores the first time)
#   bash bench/run.sh --quick    small inputs, one run each (results-quick.*)
#   bash bench/run.sh --help     every option
set -euo pipefail
cd "$(dirname "$0")/.."
# clang-19, lld-19, wasi-libc, wabt: the project's own setup script installs what is missing.
bash scripts/setup.sh
python3 bench/bench.py "$@"
# Throw cost and no-throw overhead against wasmtime (bench/results/exceptions.md).
case " $* " in *" --quick "*) python3 bench/exceptions.py --runs 1 --rounds 20000 ;; *) python3 bench/exceptions.py ;; esac
