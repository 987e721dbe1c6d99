#!/usr/bin/env python3
"""The wasmtime contenders through wasmtime's Python API (`pip install wasmtime`),
used when no `wasmtime` CLI is found. Results from it are labelled
"wasmtime (py API)".

  wasmtime_py.py jit     [GRANTS] APP.wasm  [ARGS...]   compile at start-up, then run
  wasmtime_py.py compile APP.wasm OUT.cwasm [--threads 1|all] [--isa FLAGS]
  wasmtime_py.py aot     [GRANTS] APP.cwasm [ARGS...]   deserialize a precompiled module, then run
  wasmtime_py.py load    [GRANTS] APP.cwasm [ARGS...]   as aot, but stop before running it (what
                                                        bench/instructions.py subtracts)

GRANTS, as `kiln run`'s flags (`kiln bench` passes its own):
  --argv0 NAME             the guest's argv[0] (default: APP's file name)
  --env KEY=VALUE          an environment variable (repeatable)
  --inherit-env            the whole environment of this process
  --dir HOST[::GUEST]      a directory, read-write (repeatable)
  --dir-ro HOST[::GUEST]   a directory, read-only (repeatable)
Without grants the guest sees no environment variable and no directory, like
`wasmtime run`. stdin, stdout and stderr are the process's own. The exit
status is the guest's (134 for a trap, as the wasmtime CLI).

If BENCH_TIMING_FILE is set, the runner writes there, as JSON, the seconds
spent inside wasmtime (load = compile or deserialize, instantiate, run), which
excludes starting the Python interpreter and importing the wasmtime package:
bench.py reports that inner time, and says so.

--isa FLAGS (x86-64 only) compiles for exactly the listed CPU features instead
of this machine's: FLAGS is a comma-separated list of Cranelift's x86 ISA flag
names (`has_avx2,...`, or `baseline` for none); every other flag of
X86_ISA_FLAGS is turned off. bench/instructions.py uses it to compile wasmtime
for the same features as a Kiln executable, and for what valgrind can run
(no AVX-512).
"""
import json
import os
import sys
import time

T0 = time.perf_counter()
import wasmtime  # noqa: E402

T_IMPORT = time.perf_counter()


# Cranelift 0.137's x86-64 ISA flags (cranelift-codegen-meta, isa/x86.rs): the
# CPU features wasmtime detects on the host and compiles for.
# Checked against the installed wasmtime's major version: a newer one may have
# flags this list lacks, which would stay at the host's setting.
X86_ISA_FLAGS_WASMTIME = "50"
X86_ISA_FLAGS = ("has_sse3 has_ssse3 has_cmpxchg16b has_sse41 has_sse42 has_popcnt has_avx has_avx2 has_fma "
                 "has_bmi1 has_bmi2 has_lzcnt has_avx512bitalg has_avx512dq has_avx512f has_avx512vbmi "
                 "has_avx512vl has_avx512vnni has_avx_vnni has_apx").split()


def engine(threads="all", isa=None):
    cfg = wasmtime.Config()
    if isa is not None:
        import importlib.metadata
        import platform
        if platform.machine() not in ("x86_64", "AMD64"):
            sys.exit("wasmtime_py.py: --isa takes x86-64 flags, and this host is %s" % platform.machine())
        have = importlib.metadata.version("wasmtime")
        if have.split(".")[0] != X86_ISA_FLAGS_WASMTIME:
            sys.exit("wasmtime_py.py: --isa knows wasmtime %s's Cranelift flags, and wasmtime %s is installed "
                     "(update X86_ISA_FLAGS)" % (X86_ISA_FLAGS_WASMTIME, have))
        wanted = set() if isa == "baseline" else set(isa.split(","))
        unknown = wanted - set(X86_ISA_FLAGS)
        if unknown:
            sys.exit("wasmtime_py.py: unknown x86 ISA flag(s): %s" % ", ".join(sorted(unknown)))
        for flag in X86_ISA_FLAGS:
            cfg.cranelift_flag_set(flag, "true" if flag in wanted else "false")
    # The compilation cache is off unless enabled: a JIT run really compiles.
    if threads == "1":
        cfg.parallel_compilation = False
    return wasmtime.Engine(cfg)


def parse_grants(argv):
    """Splits [GRANTS] PATH ARGS... into (grants, PATH, ARGS)."""
    g = {"argv0": None, "env": [], "inherit_env": False, "dirs": []}
    i = 0
    while i < len(argv) and argv[i].startswith("--"):
        flag = argv[i]
        if flag == "--inherit-env":
            g["inherit_env"] = True
            i += 1
            continue
        if i + 1 >= len(argv):
            sys.exit("wasmtime_py.py: %s needs a value" % flag)
        value = argv[i + 1]
        if flag == "--argv0":
            g["argv0"] = value
        elif flag == "--env":
            key, _, val = value.partition("=")
            g["env"].append([key, val])
        elif flag in ("--dir", "--dir-ro"):
            host, _, guest = value.partition("::")
            g["dirs"].append((host, guest or host, flag == "--dir"))
        else:
            sys.exit("wasmtime_py.py: unknown flag %s" % flag)
        i += 2
    if i >= len(argv):
        sys.exit(__doc__)
    return g, argv[i], argv[i + 1:]


def run(mode, argv):
    grants, path, args = parse_grants(argv)
    timing = {"python_start_s": T_IMPORT - T0}
    t0 = time.perf_counter()
    eng = engine()
    if mode == "jit":
        with open(path, "rb") as f:
            module = wasmtime.Module(eng, f.read())
    else:
        module = wasmtime.Module.deserialize_file(eng, path)
    t1 = time.perf_counter()
    linker = wasmtime.Linker(eng)
    linker.define_wasi()
    store = wasmtime.Store(eng)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [grants["argv0"] or os.path.basename(path)] + args
    if grants["inherit_env"]:
        wasi.inherit_env()
    else:
        wasi.env = grants["env"]
    for host, guest, mutable in grants["dirs"]:
        wasi.preopen_dir(host, guest, mutable)
    wasi.inherit_stdin()
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    store.set_wasi(wasi)
    instance = linker.instantiate(store, module)
    start = instance.exports(store)["_start"]
    if mode == "load":
        sys.stdout.flush()
        os._exit(0)
    t2 = time.perf_counter()
    status = 0
    try:
        start(store)
    except wasmtime.ExitTrap as e:
        status = e.code
    except wasmtime.Trap as e:
        sys.stderr.write("wasmtime (py API): wasm trap: %s\n" % str(e).splitlines()[0])
        status = 134
    except wasmtime.WasmtimeError as e:
        if "exit" in str(e) and "status" in str(e):
            status = int(str(e).split("status")[1].split()[0])
        else:
            sys.stderr.write("wasmtime (py API): error: %s\n" % str(e).splitlines()[0])
            status = 134
    t3 = time.perf_counter()
    timing.update(load_s=t1 - t0, instantiate_s=t2 - t1, run_s=t3 - t2, inner_s=t3 - t0)
    tf = os.environ.get("BENCH_TIMING_FILE")
    if tf:
        with open(tf, "w") as f:
            json.dump(timing, f)
    sys.stdout.flush()
    os._exit(status)


def compile_(path, out, threads, isa=None):
    eng = engine(threads, isa)
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        module = wasmtime.Module(eng, f.read())
    data = module.serialize()
    t1 = time.perf_counter()
    with open(out, "wb") as f:
        f.write(data)
    tf = os.environ.get("BENCH_TIMING_FILE")
    if tf:
        with open(tf, "w") as f:
            json.dump({"inner_s": t1 - t0, "python_start_s": T_IMPORT - T0}, f)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    mode = argv[0]
    if mode in ("jit", "aot", "load"):
        run(mode, argv[1:])
    elif mode == "compile":
        threads = "all"
        if "--threads" in argv:
            threads = argv[argv.index("--threads") + 1]
        isa = None
        if "--isa" in argv:
            if argv.index("--isa") + 1 >= len(argv):
                sys.exit("wasmtime_py.py: --isa needs a value (flags, comma-separated, or baseline)")
            isa = argv[argv.index("--isa") + 1]
        compile_(argv[1], argv[2], threads, isa)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
