#!/usr/bin/env python3
"""Exception handling: what a throw costs, and what code that never throws
pays for having handlers, in Kiln and in wasmtime, on the same .wasm files.

Workloads (bench/exceptions/*.wat, each `APP N DEPTH`: N rounds of a call
chain DEPTH frames deep, printing a checksum):
  plain     the call chain, no try_table anywhere       (the baseline)
  handlers  every call inside a try_table, never throws (no-throw overhead)
  throw     the deepest frame throws, the top catches   (throw cost)

Derived, per contender: the no-throw overhead, (handlers - plain) / plain,
and the cost of one throw unwinding DEPTH frames, (throw - plain) / N.
Every contender must print the same checksum (--check does only that, on
small inputs, and exits 1 on a difference).

Kiln is timed as a whole process (its start-up is ~1 ms); wasmtime, when
only its Python API is installed, by the time spent inside wasmtime (run
phase), as bench.py does, and says so. Results: bench/results/exceptions.md.
Nothing here is asserted on timing.

  python3 bench/exceptions.py [--check] [--runs K] [--rounds N] [--depth D]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
MODES = ("plain", "handlers", "throw")


def kiln_binary():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    for cand in (os.environ.get("KILN"), os.path.join(target, "release", "kiln"), os.path.join(target, "debug", "kiln")):
        if cand and os.path.exists(cand):
            return cand
    raise SystemExit("exceptions: no kiln binary (cargo build -p kiln)")


def wasmtime_runner():
    cli = shutil.which("wasmtime")
    if cli:
        return "wasmtime CLI", lambda wasm, args: [cli, "run", "-W", "exceptions=y", wasm] + args, False
    return ("wasmtime (py API, run phase)",
            lambda wasm, args: [sys.executable, os.path.join(BENCH, "wasmtime_py.py"), "jit", wasm] + args, True)


def run(cmd, inner):
    """(stdout, seconds): the process's wall time, or wasmtime's own run
    phase when the runner reports it."""
    with tempfile.NamedTemporaryFile(suffix=".json") as tf:
        env = dict(os.environ, BENCH_TIMING_FILE=tf.name) if inner else None
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        dt = time.perf_counter() - t0
        if r.returncode != 0:
            raise SystemExit(f"exceptions: {' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()[:500]}")
        if inner:
            with open(tf.name) as f:
                dt = json.load(f)["run_s"]
    return r.stdout, dt


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="outputs only, small inputs; exit 1 on a difference")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=1000000)
    ap.add_argument("--depth", type=int, default=20)
    a = ap.parse_args()
    if a.check:
        a.runs, a.rounds = 1, 1000
    import wasmtime  # scripts/setup.sh installs it (scripts/tools.txt)

    kiln = kiln_binary()
    label, wt_cmd, wt_inner = wasmtime_runner()
    work = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "bench-exceptions")
    os.makedirs(work, exist_ok=True)
    args = [str(a.rounds), str(a.depth)]
    times = {}
    outputs = {}
    for m in MODES:
        wasm = os.path.join(work, m + ".wasm")
        with open(os.path.join(BENCH, "exceptions", m + ".wat")) as f:
            data = wasmtime.wat2wasm(f.read())
        with open(wasm, "wb") as f:
            f.write(data)
        exe = os.path.join(work, m)
        subprocess.run([kiln, "compile", wasm, "-o", exe], check=True)
        for who, cmd, inner in (("Kiln", [exe] + args, False), (label, wt_cmd(wasm, args), wt_inner)):
            samples = []
            for _ in range(a.runs):
                out, dt = run(cmd, inner)
                outputs.setdefault(m, {})[who] = out
                samples.append(dt)
            times.setdefault(who, {})[m] = statistics.median(samples)
    bad = [(m, o) for m, o in outputs.items() if len(set(o.values())) != 1]
    for m, o in bad:
        print(f"exceptions: {m}: outputs differ: {o}")
    if a.check:
        print("exceptions check: " + ("FAILED" if bad else "OK, Kiln and wasmtime print the same for every workload"))
        sys.exit(1 if bad else 0)
    lines = [
        f"# Exception handling: {a.rounds} rounds, call chains {a.depth} frames deep (median of {a.runs})",
        "",
        "| contender | plain | handlers (no throw) | throw | no-throw overhead | one throw across "
        f"{a.depth} frames |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for who, t in times.items():
        overhead = (t["handlers"] - t["plain"]) / t["plain"] * 100
        per_throw = (t["throw"] - t["plain"]) / a.rounds * 1e9
        lines.append(f"| {who} | {t['plain'] * 1e3:.1f} ms | {t['handlers'] * 1e3:.1f} ms | {t['throw'] * 1e3:.1f} ms "
                     f"| {overhead:+.1f}% | {per_throw:.0f} ns |")
    lines += ["", "Every contender printed the same checksums." if not bad else "OUTPUTS DIFFER (see above).",
              "Kiln is timed as a whole process; " + label + "."]
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.join(BENCH, "results"), exist_ok=True)
    with open(os.path.join(BENCH, "results", "exceptions.md"), "w") as f:
        f.write(text)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
