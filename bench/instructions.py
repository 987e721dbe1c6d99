#!/usr/bin/env python3
"""Instructions executed by Kiln's executables and by wasmtime's precompiled
(.cwasm) code for the same .wasm, both compiled for the same CPU features,
counted with valgrind (callgrind). Where bench.py's times swing by +-20-40% on
a shared 2-core machine, these counts repeat to within a few instructions, and
they separate what the compilers do (inlining, the fixed memory, Cranelift's
code) from what the CPU does with it (caches, branch prediction, code
placement), which they are blind to.

  python3 bench/instructions.py                 every bench/ workload, full inputs (about 25 minutes)
  python3 bench/instructions.py --quick         small inputs (a minute)
  python3 bench/instructions.py --simd --cpu x86-64-v3 --only matmul,sha256

Writes bench/results/instructions[-quick][-simd]-CPU.md and prints the table.
x86-64 hosts only (valgrind runs both on this machine).

What is counted:
- Kiln: the whole process (`valgrind --tool=callgrind APP.kiln ARGS`): start-up,
  the program and its WASI calls. Start-up is about 1,700 instructions.
- wasmtime (Python API, bench/wasmtime_py.py aot): the whole process, minus the
  same count for an empty program (bench/'s start-up module) compiled with the
  same flags: Python, importing wasmtime, deserializing and instantiating
  (about 243 million instructions, repeatable to within about a million: the
  error this adds to a count is under 0.1% at the full inputs).
- Both compile with their defaults (Kiln -O2, wasmtime's `speed`), for exactly
  the CPU features of `--cpu`: Kiln with `--cpu LEVEL` (the features `kiln
  inspect` then lists), wasmtime with the same Cranelift ISA flags and every
  other one off (wasmtime_py.py compile --isa). AVX-512 is never on: valgrind
  cannot run it.
"""
import argparse
import concurrent.futures
import datetime
import math
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

WT_PY = os.path.join(bench.BENCH, "wasmtime_py.py")


def python_binary():
    """The real interpreter (valgrind does not follow pyenv's shell shims)."""
    return os.path.realpath(subprocess.run([sys.executable, "-c", "import sys; print(sys.executable)"],
                                           capture_output=True, text=True, check=True).stdout.strip())


def callgrind(cmd, stdin, cwd):
    """Instructions executed by cmd (all its threads), its exit status and stdout."""
    with open(stdin or os.devnull, "rb") as inp:
        try:
            r = subprocess.run([bench.tool("valgrind"), "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
                               stdin=inp, capture_output=True, cwd=cwd)
        except FileNotFoundError:
            raise SystemExit("instructions.py: valgrind is not installed (bash scripts/setup.sh installs it)")
    m = re.search(rb"Collected : (\d+)", r.stderr)
    if not m:
        raise bench.BuildError(" ".join(cmd[:4]) + " ...: valgrind: " + r.stderr.decode(errors="replace")[-1500:])
    return int(m.group(1)), r.returncode, r.stdout


def isa_flags(kiln, exe):
    """The Cranelift x86 ISA flags of the features a Kiln executable requires (`kiln inspect`)."""
    out = bench.run_cmd([kiln, "inspect", exe]).stdout
    m = re.search(r"^cpu features:\s*(.*)$", out, re.M)
    feats = [f.strip() for f in m.group(1).split(",")] if m else []
    feats = [f for f in feats if f and f != "baseline"]
    # Kiln's feature names are Cranelift's flag names without `has_` and dots
    # (sse4.1 -> has_sse41): targets/src/x86_64.rs lists both side by side.
    return ",".join("has_" + f.replace(".", "") for f in feats) or "baseline"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the small inputs of bench.py --quick")
    ap.add_argument("--only", help="comma-separated workload names")
    ap.add_argument("--cpu", default="baseline", help="x86-64 CPU level of both compiles: baseline (x86-64-v1, "
                    "Kiln's default), x86-64-v2 or x86-64-v3 [default: baseline]")
    ap.add_argument("--simd", action="store_true", help="the -msimd128 builds instead of the scalar ones")
    ap.add_argument("--jobs", type=int, default=bench.NPROC, help="valgrind runs at once [default: cores]")
    ap.add_argument("--kiln", help="the kiln binary (default: target/release/kiln)")
    args = ap.parse_args()
    if os.uname().machine != "x86_64":
        raise SystemExit("instructions.py: counts x86-64 code under valgrind, so it needs an x86-64 host")
    kiln = args.kiln or os.path.join(bench.ROOT, "target", "release", "kiln")
    if not os.path.exists(kiln):
        raise SystemExit(f"instructions.py: no {kiln} (cargo build --release -p kiln)")
    py = python_binary()

    wls = bench.workloads(bench.fetch_sources(), args.quick)
    if args.only:
        names = args.only.split(",")
        unknown = set(names) - {w["name"] for w in wls}
        if unknown:
            raise SystemExit("instructions.py: no workload " + ", ".join(sorted(unknown)))
        wls = [w for w in wls if w["name"] in names]
    empty = {"name": "startup", "recipe": {"groups": [([os.path.join(bench.BENCH, "programs", "empty.c")], [], [])],
                                           "wasm_libs": [], "native_libs": []}, "args": [], "stdin": None}
    if not os.path.exists(empty["recipe"]["groups"][0][0][0]):
        raise SystemExit("instructions.py: bench/programs/empty.c is missing")
    cflags = bench.SIMD_CFLAGS if args.simd else []
    suffix = "-simd" if args.simd else ""

    tmp = tempfile.mkdtemp(prefix="kiln-instructions-")
    pool = concurrent.futures.ThreadPoolExecutor(bench.NPROC)
    # 1. The .wasm files (bench.py's content-addressed builds), then both
    # compiles of each, one at a time (each uses every core).
    wasm = {}
    for w in [empty] + wls:
        d = os.path.join(bench.BUILD, w["name"])
        os.makedirs(d, exist_ok=True)
        wasm[w["name"]] = os.path.join(d, f"app{suffix}.wasm")
        print(f"building {w['name']}", file=sys.stderr, flush=True)
        bench.build_c(w["recipe"], "wasm", wasm[w["name"]], pool, cflags)
    exe, cwasm, isa = {}, {}, None
    for w in [empty] + wls:
        n = w["name"]
        exe[n] = os.path.join(tmp, n + ".kiln")
        cwasm[n] = os.path.join(tmp, n + ".cwasm")
        flags = [] if args.cpu == "baseline" else ["--cpu", args.cpu]
        bench.run_cmd([kiln, "compile", "-q", *flags, wasm[n], "-o", exe[n]])
        isa = isa or isa_flags(kiln, exe[n])
        bench.run_cmd([sys.executable, WT_PY, "compile", wasm[n], cwasm[n], "--isa", isa])

    # 2. The counts, --jobs valgrinds at a time (counts do not depend on load).
    def count(w):
        n = w["name"]
        k, ks, kout = callgrind([exe[n]] + w["args"], w["stdin"], tmp)
        t, ts, tout = callgrind([py, WT_PY, "aot", cwasm[n]] + w["args"], w["stdin"], tmp)
        if (ks, kout) != (ts, tout):
            raise bench.BuildError(f"{n}: Kiln and wasmtime disagree (exit {ks} and {ts}, or stdout)")
        return n, k, t

    jobs = concurrent.futures.ThreadPoolExecutor(max(1, args.jobs))
    _, _, base = count(empty)
    rows = []
    for n, k, t in jobs.map(count, wls):
        t -= base
        rows.append((n, k, t))
        print(f"{n:<14} Kiln {k / 1e6:10.1f} M   wasmtime {t / 1e6:10.1f} M   {k / t:.3f}", file=sys.stderr, flush=True)

    # 3. The report.
    gm = math.exp(sum(math.log(k / t) for _, k, t in rows) / len(rows))
    kv = bench.run_cmd([kiln, "--version"]).stdout.strip()
    lines = [f"# Instructions executed: Kiln and wasmtime AOT, {'-msimd128 builds' if args.simd else 'scalar builds'}, "
             f"CPU features `{args.cpu}`", "",
             f"Generated by `python3 bench/instructions.py{' --quick' if args.quick else ''}"
             f"{' --simd' if args.simd else ''}{' --cpu ' + args.cpu if args.cpu != 'baseline' else ''}` on "
             f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M')} UTC; {kv} @ {bench.git_rev()}, "
             f"wasmtime-py {bench.py_version('wasmtime')}. Both compiled for the Cranelift ISA flags `{isa}`; "
             f"counts from valgrind's callgrind, wasmtime's less its {base / 1e6:.1f} M of Python and "
             f"instantiation (see the script's docstring).", "",
             "| workload | Kiln | wasmtime AOT | Kiln ÷ wasmtime |", "|---|---:|---:|---:|"]
    for n, k, t in rows:
        lines.append(f"| {n} | {k / 1e6:,.1f} M | {t / 1e6:,.1f} M | {k / t:.3f} |")
    lines.append(f"| **geometric mean** | | | **{gm:.3f}** |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.only:
        name = f"instructions{'-quick' if args.quick else ''}{suffix}-{args.cpu}.md"
        with open(os.path.join(bench.RESULTS, name), "w") as f:
            f.write(text)
        print(f"written: bench/results/{name}", file=sys.stderr)
    pool.shutdown()
    jobs.shutdown()
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    try:
        main()
    except bench.BuildError as e:
        raise SystemExit(f"instructions.py: {e}")
