#!/usr/bin/env python3
"""Instructions executed by Kiln's executables and by wasmtime's precompiled
(.cwasm) code for the same .wasm, both compiled for the same CPU features,
counted with valgrind (callgrind). Where bench.py's times swing by +-20-40% on
a shared 2-core machine, these counts repeat to within a few instructions, and
they separate what the compilers do (inlining, the fixed memory, Cranelift's
code) from what the CPU does with it (caches, branch prediction, code
placement), which they are blind to.

  python3 bench/instructions.py                 every bench/ workload, full inputs
  python3 bench/instructions.py --quick         small inputs: a smoke run (a few percent of a
                                                small count is wasmtime's fixed cost of a run)
  python3 bench/instructions.py --simd --cpu x86-64-v3 --only matmul,sha256

About 4 minutes for the full inputs on 2 cores once bench.py has built the
.wasm files (the first build of the real programs adds a few minutes).
Prints the table; without --only and --quick also writes it to
bench/results/instructions[-simd]-CPU.md. x86-64 hosts only
(valgrind runs both sides on this machine).

What is counted:
- Kiln: the whole process (`valgrind --tool=callgrind APP.kiln ARGS`): start-up
  (about 1,700 instructions), data segments, the program and its WASI calls.
- wasmtime (Python API, bench/wasmtime_py.py aot): the whole process, minus the
  count of `wasmtime_py.py load` on the same .cwasm and arguments, which stops
  right before running the module: Python, importing wasmtime, deserializing
  and instantiating are subtracted, so what is left is the program and its
  WASI calls (through wasmtime-wasi). With Python's hash seed fixed, both
  counts repeat to within about a thousand instructions.
- Both compile with their defaults (Kiln -O2, wasmtime's `speed`), for exactly
  the CPU features of `--cpu`: Kiln with `--cpu LEVEL`, wasmtime with the
  Cranelift ISA flags of the features `kiln inspect` lists for that executable
  and every other flag off (wasmtime_py.py compile --isa). AVX-512 is never on:
  valgrind cannot run it.
"""
import argparse
import concurrent.futures
import datetime
import os
import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

WT_PY = os.path.join(bench.BENCH, "wasmtime_py.py")


def callgrind(cmd, stdin, cwd):
    """Instructions executed by cmd (all its threads), its exit status, stdout and stderr (text)."""
    with open(stdin or os.devnull, "rb") as inp:
        # A fixed hash seed: Python's randomised string hashes move its
        # instruction count by about a million from run to run.
        r = subprocess.run([bench.tool("valgrind"), "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
                           stdin=inp, capture_output=True, cwd=cwd, env=dict(os.environ, PYTHONHASHSEED="0"))
    m = re.search(rb"Collected : (\d+)", r.stderr)
    if not m:
        raise bench.BuildError(" ".join(cmd[:4]) + " ...: valgrind: " + r.stderr.decode(errors="replace")[-1500:])
    err = "\n".join(l for l in r.stderr.decode(errors="replace").splitlines() if not l.startswith("=="))
    return int(m.group(1)), r.returncode, r.stdout, err


def isa_flags(kiln, exe):
    """The Cranelift x86 ISA flags of the features a Kiln executable requires (`kiln inspect`)."""
    out = bench.run_cmd([kiln, "inspect", exe]).stdout
    m = re.search(r"^cpu features:\s*(.*)$", out, re.M)
    if not m:
        raise bench.BuildError(f"`kiln inspect {exe}` lists no CPU features line:\n{out}")
    feats = [f.strip() for f in m.group(1).split(",") if f.strip() and f.strip() != "baseline"]
    # Kiln's feature names are Cranelift's flag names without `has_` and dots
    # (sse4.1 -> has_sse41; targets/src/x86_64.rs lists both side by side);
    # wasmtime_py.py refuses a flag name Cranelift does not have.
    return ",".join("has_" + f.replace(".", "") for f in feats) or "baseline"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the small inputs of bench.py --quick")
    ap.add_argument("--only", help="comma-separated workload names")
    ap.add_argument("--cpu", default="baseline", choices=["baseline", "x86-64-v2", "x86-64-v3"], help="x86-64 CPU level of both compiles: baseline (x86-64-v1, "
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
    if not shutil.which(bench.tool("valgrind")):
        raise SystemExit("instructions.py: valgrind is not installed (bash scripts/setup.sh installs it)")
    if not importlib.util.find_spec("wasmtime"):
        raise SystemExit("instructions.py: the wasmtime Python package is not installed "
                         "(bash scripts/setup.sh installs it)")

    wls = bench.workloads(bench.fetch_sources(), args.quick)
    if args.only:
        names = args.only.split(",")
        unknown = set(names) - {w["name"] for w in wls}
        if unknown:
            raise SystemExit("instructions.py: no workload " + ", ".join(sorted(unknown)))
        wls = [w for w in wls if w["name"] in names]
    cflags = bench.SIMD_CFLAGS if args.simd else []
    suffix = "-simd" if args.simd else ""

    with tempfile.TemporaryDirectory(prefix="kiln-instructions-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(bench.NPROC) as pool, \
            concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as jobs:
        # 1. The .wasm files (bench.py's content-addressed builds), then both
        # compiles of each, one at a time (each uses every core).
        wasm = {}
        for w in wls:
            d = os.path.join(bench.BUILD, w["name"])
            os.makedirs(d, exist_ok=True)
            wasm[w["name"]] = os.path.join(d, f"app{suffix}.wasm")
            print(f"building {w['name']}", file=sys.stderr, flush=True)
            bench.build_c(w["recipe"], "wasm", wasm[w["name"]], pool, cflags)
        exe, cwasm, isa = {}, {}, None
        flags = [] if args.cpu == "baseline" else ["--cpu", args.cpu]
        for w in wls:
            n = w["name"]
            exe[n] = os.path.join(tmp, n + ".kiln")
            cwasm[n] = os.path.join(tmp, n + ".cwasm")
            bench.run_cmd([kiln, "compile", "-q", *flags, wasm[n], "-o", exe[n]])
            isa = isa or isa_flags(kiln, exe[n])
            if args.cpu != "baseline" and isa == "baseline":
                raise bench.BuildError(f"kiln compile --cpu {args.cpu} made an executable that needs no CPU feature")
            bench.run_cmd([sys.executable, WT_PY, "compile", wasm[n], cwasm[n], "--isa", isa])

        # 2. The counts, --jobs valgrinds at a time (counts do not depend on load).
        def count(w):
            n = w["name"]
            k, ks, kout, kerr = callgrind([exe[n]] + w["args"], w["stdin"], tmp)
            t, ts, tout, terr = callgrind([sys.executable, WT_PY, "aot", cwasm[n]] + w["args"], w["stdin"], tmp)
            if (ks, kout) != (ts, tout):
                raise bench.BuildError(f"{n}: Kiln and wasmtime disagree (exit {ks} and {ts}, or stdout);\n"
                                       f"Kiln's stderr: {kerr[-600:]}\nwasmtime's stderr: {terr[-600:]}")
            load, ls, _, lerr = callgrind([sys.executable, WT_PY, "load", cwasm[n]] + w["args"], w["stdin"], tmp)
            if ls:
                raise bench.BuildError(f"{n}: wasmtime_py.py load failed: {lerr[-600:]}")
            return n, k, t - load, load

        rows = []
        for n, k, t, load in jobs.map(count, wls):
            rows.append((n, k, t, load))
            print(f"{n:<14} Kiln {k / 1e6:10.1f} M   wasmtime {t / 1e6:10.1f} M   {k / t:.3f}   "
                  f"(wasmtime's load: {load / 1e6:.1f} M)", file=sys.stderr, flush=True)

    # 3. The report.
    gm = bench.geomean([k / t for _, k, t, _ in rows])
    kv = bench.run_cmd([kiln, "--version"]).stdout.strip()
    lines = [f"# Instructions executed: Kiln and wasmtime AOT, {'-msimd128 builds' if args.simd else 'scalar builds'}, "
             f"CPU features `{args.cpu}`", "",
             f"Generated by `python3 bench/instructions.py{' --quick' if args.quick else ''}"
             f"{' --simd' if args.simd else ''}{' --cpu ' + args.cpu if args.cpu != 'baseline' else ''}` on "
             f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M')} UTC; {kv} @ {bench.git_rev()}, "
             f"wasmtime-py {bench.py_version('wasmtime')}. Both compiled for "
             f"{'no CPU feature beyond x86-64 (SSE2)' if isa == 'baseline' else 'the Cranelift ISA flags `' + isa + '`'}; "
             f"counts from valgrind's callgrind; wasmtime's is its process less the same process stopped "
             f"before running the module (Python, deserializing, instantiating: the last column; see the "
             f"script's docstring).", "",
             "| workload | Kiln | wasmtime AOT | Kiln ÷ wasmtime | wasmtime's load (subtracted) |",
             "|---|---:|---:|---:|---:|"]
    for n, k, t, load in rows:
        lines.append(f"| {n} | {k / 1e6:,.1f} M | {t / 1e6:,.1f} M | {k / t:.3f} | {load / 1e6:,.1f} M |")
    lines.append(f"| **geometric mean** | | | **{gm:.3f}** | |")
    if args.quick:
        lines += ["", "`--quick`: a smoke run. On the small inputs wasmtime's fixed cost of a run (its WASI layer, "
                  "the way into wasm) is a visible share of each count, so these ratios flatter Kiln; "
                  "compare the full inputs."]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.only and not args.quick:
        name = f"instructions{suffix}-{args.cpu}.md"
        with open(os.path.join(bench.RESULTS, name), "w") as f:
            f.write(text)
        print(f"written: bench/results/{name}", file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except bench.BuildError as e:
        raise SystemExit(f"instructions.py: {e}")
