#!/usr/bin/env python3
"""Kiln benchmark harness: one command measures Kiln against native code,
wasmtime's JIT and AOT, and wasm2c, on the same .wasm files.

  python3 bench/bench.py              full run: table, chart and JSON in bench/results/
  python3 bench/bench.py --quick      small inputs, one run each (what CI's bench/check.sh uses)
  python3 bench/bench.py --check      build everything, run once, exit 1 if any output differs

One module of your own through every contender: `kiln bench APP.wasm ARGS...`.

See bench/README.md for what is measured and how.
"""
import argparse
import concurrent.futures
import datetime
import hashlib
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
CACHE = os.environ.get("KILN_BENCH_CACHE", os.path.join(BENCH, ".cache"))
BUILD = os.path.join(CACHE, "build")
RESULTS = os.path.join(BENCH, "results")
NPROC = os.cpu_count() or 1

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from kiln_tools import WASM_CC, tool, toolchain_id  # noqa: E402

CLANG = tool("clang-19")  # native builds; wasm builds use WASM_CC, the one recipe
WASM_CFLAGS = ["-O2"]  # scripts/wasm-cc adds the target and sysroot
# 1 MiB of wasm stack (wasm-ld's default is 64 KiB); keep the name section, drop DWARF.
WASM_LDFLAGS = ["-Wl,-z,stack-size=1048576", "-Wl,--strip-debug"]
NATIVE_CFLAGS = ["-O2"]

# ---------------------------------------------------------------------------
# Contenders
# ---------------------------------------------------------------------------

NATIVE, KILN, WT_JIT, WT_AOT, WASM2C = "native", "kiln", "wasmtime-jit", "wasmtime-aot", "wasm2c"
# Every workload is also built a second time with -msimd128 (wasm SIMD: clang
# vectorises loops with v128 code) and run by Kiln and wasmtime beside the
# scalar build. Native stays `clang -O2`, which uses SSE2 by itself.
KILN_SIMD, WT_JIT_SIMD, WT_AOT_SIMD = "kiln-simd", "wasmtime-jit-simd", "wasmtime-aot-simd"
# Kiln again with --bounds-checks=explicit (a compare before every memory
# access instead of guard pages), on the scalar build: the mode's cost.
KILN_EXPLICIT = "kiln-explicit"
# Kiln again with --cpu native (this machine's CPU features, as wasmtime's JIT
# and AOT compile for the host), on the scalar build: the like-for-like
# comparison with wasmtime, beside Kiln's portable default baseline. Its
# -msimd128 twin matters more: on the x86-64-v1 baseline (SSE2) Cranelift
# spells lane inserts, shuffles and widenings without SSSE3/SSE4.1.
KILN_HOST = "kiln-host"
KILN_HOST_SIMD = "kiln-host-simd"
SIMD = {KILN_SIMD: KILN, KILN_HOST_SIMD: KILN_HOST, WT_JIT_SIMD: WT_JIT, WT_AOT_SIMD: WT_AOT}  # SIMD contender -> its scalar twin
SIMD_CFLAGS = ["-msimd128"]
# Kiln's JIT: `kiln run APP.wasm`, compiling in memory at every run (its time
# includes that compile; `kiln bench` reports the two apart).
KILN_JIT = "kiln-jit"
# Start-up only: a static executable with no libc that only calls exit.
FLOOR = "floor"
ORDER = [NATIVE, KILN, KILN_EXPLICIT, KILN_HOST, KILN_SIMD, KILN_HOST_SIMD, KILN_JIT, WT_JIT, WT_JIT_SIMD, WT_AOT, WT_AOT_SIMD, WASM2C]


class Tools:
    """Finds (or installs) every tool; records what is missing and why."""

    def __init__(self, args):
        self.notes = []
        self.only = None
        self.no_simd = getattr(args, "no_simd", False)
        if args.contenders:
            self.only = set(args.contenders.split(",")) | {NATIVE}
            unknown = self.only - set(ORDER)
            if unknown:
                raise SystemExit(f"bench: unknown contender(s) {', '.join(sorted(unknown))}; known: {', '.join(ORDER)}")
        self.kiln = self.find_kiln(args)
        self.wasmtime_cli = self.find_wasmtime_cli()
        self.wasmtime_py = None
        if not self.wasmtime_cli:
            self.wasmtime_py = self.find_wasmtime_py()
        self.wasm2c = self.find_wasm2c()
        self.labels = {
            NATIVE: "native clang -O2",
            KILN: "Kiln",
            KILN_EXPLICIT: "Kiln --bounds-checks=explicit",
            KILN_HOST: "Kiln --cpu native",
            KILN_JIT: "Kiln JIT (kiln run)",
            WT_JIT: "wasmtime JIT" + ("" if self.wasmtime_cli else " (py API)"),
            WT_AOT: "wasmtime AOT .cwasm" + ("" if self.wasmtime_cli else " (py API)"),
            WASM2C: "wasm2c + clang -O2",
        }
        for c, base in SIMD.items():
            self.labels[c] = self.labels[base].replace(" (py API)", "") + " +simd128" + \
                ("" if c in (KILN_SIMD, KILN_HOST_SIMD) or self.wasmtime_cli else " (py API)")
        self.short = {
            NATIVE: "native", KILN: "Kiln", KILN_EXPLICIT: "Kiln explicit", KILN_HOST: "Kiln host", KILN_JIT: "Kiln JIT",
            WT_JIT: "wt JIT" + ("" if self.wasmtime_cli else " (py)"),
            WT_AOT: "wt AOT" + ("" if self.wasmtime_cli else " (py)"),
            WASM2C: "wasm2c",
        }
        for c, base in SIMD.items():
            self.short[c] = self.short[base] + " simd"

    def available(self, c):
        if self.only is not None and c not in self.only:
            return False
        if c in SIMD:
            return not self.no_simd and self.installed(SIMD[c])
        return self.installed(c)

    def installed(self, c):
        return {
            NATIVE: True,
            KILN: bool(self.kiln),
            KILN_EXPLICIT: bool(self.kiln),
            KILN_HOST: bool(self.kiln),
            KILN_JIT: bool(self.kiln),
            WT_JIT: bool(self.wasmtime_cli or self.wasmtime_py),
            WT_AOT: bool(self.wasmtime_cli or self.wasmtime_py),
            WASM2C: bool(self.wasm2c),
        }[c]

    def version(self, cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
        except Exception:
            return "?"

    def find_kiln(self, args):
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
        cand = args.kiln or os.environ.get("KILN") or os.path.join(target, "release", "kiln")
        if os.path.exists(cand):
            return os.path.abspath(cand)
        debug = os.path.join(target, "debug", "kiln")
        if getattr(args, "check", False) and not args.kiln and os.path.exists(debug):
            # CI runs `cargo test`, which builds the debug binary: good enough to check outputs.
            self.notes.append("Kiln: no release build, so the check uses target/debug/kiln (slower to compile)")
            return debug
        if shutil.which("cargo") and os.path.exists(os.path.join(ROOT, "Cargo.toml")):
            note(f"kiln not found at {cand}: building it (cargo build --release -p kiln)")
            r = subprocess.run(["cargo", "build", "--release", "-q", "-p", "kiln"], cwd=ROOT)
            if r.returncode == 0 and os.path.exists(cand):
                return cand
        if getattr(args, "check", False):
            # The correctness check exists to check Kiln: never skip it.
            raise SystemExit("check: no kiln binary (run `cargo build -p kiln` first)")
        self.notes.append("Kiln: no kiln binary (build it with `cargo build --release -p kiln`); skipped")
        return None

    def find_wasmtime_cli(self):
        for cand in (os.environ.get("WASMTIME"), os.path.join(CACHE, "wasmtime", "bin", "wasmtime"), shutil.which("wasmtime")):
            if cand and os.path.exists(cand):
                return os.path.abspath(cand)
        return None

    def find_wasmtime_py(self):
        try:
            import wasmtime  # noqa: F401  (pinned in scripts/tools.txt; scripts/setup.sh installs it)
        except ImportError:
            self.notes.append("wasmtime: neither the CLI nor the Python package is available (scripts/setup.sh "
                              "installs the package; bash bench/install-wasmtime.sh the CLI); skipped")
            return None
        self.notes.append(
            f"wasmtime: no `wasmtime` CLI on PATH or in bench/.cache/wasmtime/bin, so the wasmtime contenders use "
            f"wasmtime's Python API (wasmtime-py {py_version('wasmtime')}), "
            f"labelled '(py API)'. Their times are measured inside the process (load + instantiate + run), "
            f"excluding the Python interpreter's start; their peak RSS includes the interpreter. "
            f"`bash bench/install-wasmtime.sh` installs the CLI (slow: builds it from crates.io).")
        return [sys.executable, os.path.join(BENCH, "wasmtime_py.py")]

    def find_wasm2c(self):
        if not (shutil.which(tool("wasm2c")) and os.path.exists(tool("/usr/include/wasm-rt.h"))):
            self.notes.append("wasm2c: wabt is not installed (scripts/setup.sh installs it); skipped")
            return None
        return shutil.which("wasm2c")

    def describe(self):
        d = {
            "clang": self.version([CLANG, "--version"]),
            "kiln": self.kiln and (self.version([self.kiln, "--version"]) + " @ " + git_rev()),
            "wasm2c": self.wasm2c and "wabt " + self.version([self.wasm2c, "--version"]),
        }
        if self.wasmtime_cli:
            d["wasmtime"] = self.version([self.wasmtime_cli, "--version"])
        elif self.wasmtime_py:
            d["wasmtime"] = "wasmtime-py " + py_version("wasmtime") + " (Python API)"
        return d


def py_version(pkg):
    try:
        import importlib.metadata
        return importlib.metadata.version(pkg)
    except Exception:
        return "?"


def git_rev():
    """The commit measured, `+changes` when tracked files other than bench/results/ differ from it."""
    r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    rev = r.stdout.strip() or "?"
    d = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", ".", ":(exclude)bench/results"], cwd=ROOT)
    return rev + ("+changes" if d.returncode == 1 else "")


# ---------------------------------------------------------------------------
# Output: notes and a progress line
# ---------------------------------------------------------------------------

def note(msg):
    Progress.clear()
    print("bench: " + msg, file=sys.stderr, flush=True)


class Progress:
    """One status line on stderr: rewritten in place on a terminal, one line per step otherwise."""
    tty = sys.stderr.isatty()
    total = 0
    done = 0
    start = time.time()
    last = ""

    @classmethod
    def begin(cls, total):
        cls.total, cls.done, cls.start = total, 0, time.time()

    @classmethod
    def step(cls, what, detail=""):
        pct = 100 * cls.done // max(cls.total, 1)
        el = time.time() - cls.start
        line = f"[{cls.done:3}/{cls.total}] {pct:3}% {el:6.0f}s  {what} {detail}"
        if cls.tty:
            sys.stderr.write("\r" + line[:110].ljust(110))
            sys.stderr.flush()
        elif what != cls.last:
            print(line, file=sys.stderr, flush=True)
        cls.last = what

    @classmethod
    def advance(cls):
        cls.done += 1

    @classmethod
    def clear(cls):
        if cls.tty and cls.total:
            sys.stderr.write("\r" + " " * 110 + "\r")
            sys.stderr.flush()


# ---------------------------------------------------------------------------
# Sources of the real programs (pinned crates, fetched by cargo)
# ---------------------------------------------------------------------------

def fetch_sources():
    """`cargo fetch` the pinned crates of bench/sources and return {crate: source dir}."""
    manifest = os.path.join(BENCH, "sources", "Cargo.toml")
    cargo = shutil.which("cargo")
    if not cargo:
        raise SystemExit("bench: cargo is needed to fetch the pinned C sources of the real programs")
    r = subprocess.run([cargo, "fetch", "--locked", "--manifest-path", manifest], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit("bench: cargo fetch failed:\n" + r.stderr)
    r = subprocess.run([cargo, "metadata", "--locked", "--offline", "--format-version", "1", "--manifest-path",
                        manifest], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit("bench: cargo metadata failed:\n" + r.stderr)
    meta = json.loads(r.stdout)
    return {p["name"]: os.path.dirname(p["manifest_path"]) for p in meta["packages"]}


# ---------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------

def lcg_text(nbytes):
    """Deterministic pseudo-English text (word-level LCG), the same on every machine."""
    state = 20240601
    def rnd(m):
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return (state >> 33) % m
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    words = []
    for _ in range(4000):
        n = 2 + rnd(8)
        words.append("".join(letters[min(rnd(26), rnd(26))] for _ in range(n)))
    out, size = [], 0
    while size < nbytes:
        k = 4 + rnd(12)
        line = " ".join(words[min(rnd(4000), rnd(4000))] for _ in range(k))
        line = line[0].upper() + line[1:] + ".\n"
        out.append(line)
        size += len(line)
    return "".join(out)[:nbytes].encode()


def text_input(nbytes):
    path = os.path.join(CACHE, "inputs", f"text-{nbytes}.txt")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "wb") as f:
            f.write(lcg_text(nbytes))
        os.replace(path + ".tmp", path)
    return path


KERNEL_ARGS = {  # name: (full-size args, --quick args); full sizes take about 0.25-0.5 s natively here
    "matmul": (["1000"], ["60"]),
    "nbody": (["5000000"], ["1000"]),
    "fannkuch": (["10"], ["7"]),
    "spectralnorm": (["2500"], ["100"]),
    "sieve": (["30000000", "2"], ["100000", "1"]),
    "sha256": (["16", "4"], ["1", "1"]),
    "base64": (["16384", "10"], ["64", "2"]),
    "quicksort": (["4000000"], ["10000"]),
    "json": (["4096", "5"], ["64", "1"]),
    "interp": (["2"], ["0"]),
}


def program_recipes(src):
    """Build recipes of the real programs: groups of (sources, wasm flags, native flags), link flags."""
    lua = os.path.join(src["lua-src"], "lua-5.4.9")
    sqlite = os.path.join(src["libsqlite3-sys"], "sqlite3")
    zstd = os.path.join(src["zstd-sys"], "zstd", "lib")
    bz = os.path.join(src["bzip2-sys"], "bzip2-1.0.8")
    prog = os.path.join(BENCH, "programs")
    compat = os.path.join(prog, "wasi-compat")
    lua_srcs = sorted(os.path.join(lua, f) for f in os.listdir(lua) if f.endswith(".c"))
    zstd_srcs = sorted(os.path.join(zstd, d, f) for d in ("common", "compress", "decompress")
                       for f in os.listdir(os.path.join(zstd, d)) if f.endswith(".c"))
    sql_defs = ["-DSQLITE_THREADSAFE=0", "-DSQLITE_OMIT_LOAD_EXTENSION", "-DSQLITE_TEMP_STORE=3",
                "-DSQLITE_DEFAULT_MEMSTATUS=0", "-DSQLITE_ENABLE_MATH_FUNCTIONS", "-DSQLITE_ENABLE_FTS5",
                "-DSQLITE_ENABLE_RTREE"]
    wasi_emu = ["-D_WASI_EMULATED_SIGNAL", "-D_WASI_EMULATED_PROCESS_CLOCKS", "-D_WASI_EMULATED_MMAN",
                "-D_WASI_EMULATED_GETPID"]
    wasi_emu_libs = ["-lwasi-emulated-signal", "-lwasi-emulated-process-clocks", "-lwasi-emulated-mman",
                     "-lwasi-emulated-getpid"]
    return {
        "lua": {
            "groups": [(lua_srcs + [os.path.join(prog, "lua_main.c")],
                        ["-I" + compat, "-I" + lua, "-D_WASI_EMULATED_PROCESS_CLOCKS", "-D_WASI_EMULATED_SIGNAL",
                         "-Dl_system(cmd)=((cmd)==NULL?0:-1)", "-Dlua_tmpnam(b,e)={e=1;}"],
                        ["-I" + lua, "-DLUA_USE_POSIX"])],
            "wasm_libs": wasi_emu_libs, "native_libs": ["-lm"],
            "desc": "Lua 5.4.9 interpreter (lua-src crate) running bench/programs/bench.lua",
        },
        "sqlite": {
            "groups": [([os.path.join(sqlite, "sqlite3.c"), os.path.join(prog, "sqlite_main.c")],
                        ["-I" + sqlite, "-DLONGDOUBLE_TYPE=double"] + sql_defs + wasi_emu,
                        ["-I" + sqlite] + sql_defs)],
            "wasm_libs": wasi_emu_libs, "native_libs": ["-lm"],
            "desc": "SQLite 3 amalgamation (libsqlite3-sys crate) running bench/programs/bench.sql in memory",
        },
        "zstd": {
            "groups": [(zstd_srcs + [os.path.join(prog, "zstd_main.c")], ["-I" + zstd, "-DZSTD_DISABLE_ASM"],
                        ["-I" + zstd, "-DZSTD_DISABLE_ASM"])],
            "wasm_libs": [], "native_libs": [],
            "desc": "zstd 1.5.7 library (zstd-sys crate): compress + decompress generated text",
        },
        "bzip2": {
            "groups": [([os.path.join(bz, f + ".c") for f in
                         ("blocksort", "huffman", "crctable", "randtable", "compress", "decompress", "bzlib", "bzip2")],
                        ["-I" + bz, "-D_FILE_OFFSET_BITS=64", "-Dfchmod(f,m)=0", "-Dfchown(f,u,g)=0"] + wasi_emu,
                        ["-I" + bz, "-D_FILE_OFFSET_BITS=64"])],
            "wasm_libs": wasi_emu_libs, "native_libs": [],
            "desc": "bzip2 1.0.8 command-line program (bzip2-sys crate): `bzip2 -9 -c` of generated text",
        },
    }


def workloads(src, quick):
    """Every workload: name, kind, build recipe, args and stdin for this mode."""
    text_size = (64 << 10) if quick else (4 << 20)
    wl = []
    for name, (full, q) in KERNEL_ARGS.items():
        path = os.path.join(BENCH, "kernels", name + ".c")
        wl.append({"name": name, "kind": "kernel", "desc": first_comment(path),
                   "recipe": {"groups": [([path], [], [])], "wasm_libs": ["-lm"], "native_libs": ["-lm"]},
                   "args": q if quick else full, "stdin": None})
    rec = program_recipes(src)
    prog = os.path.join(BENCH, "programs")
    specs = {
        "lua": (["1"] if quick else ["6"], os.path.join(prog, "bench.lua")),
        "sqlite": (["200"] if quick else ["8000"], os.path.join(prog, "bench.sql")),
        "zstd": (["3"] if quick else ["6"], text_input(2 * text_size)),
        "bzip2": (["-9", "-c"], text_input(text_size)),
    }
    for name, (args, stdin) in specs.items():
        wl.append({"name": name, "kind": "program", "desc": rec[name]["desc"], "recipe": rec[name],
                   "args": args, "stdin": stdin})
    return wl


def first_comment(path):
    with open(path) as f:
        m = re.match(r"/\*\s*(.*?)\*/", f.read(), re.S)
    return re.sub(r"\s*\n\s*\*?\s*", " ", m.group(1)).strip() if m else ""


# ---------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------

def run_cmd(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode:
        raise BuildError(" ".join(cmd[:6]) + " ...: " + (r.stderr or r.stdout).strip()[-2000:])
    return r


class BuildError(Exception):
    pass


def recipe_key(recipe, target):
    h = hashlib.sha256()
    h.update(json.dumps([recipe, target, WASM_CFLAGS, WASM_LDFLAGS, NATIVE_CFLAGS], sort_keys=True).encode())
    for srcs, _, _ in recipe["groups"]:
        for s in srcs:
            with open(s, "rb") as f:
                h.update(f.read())
    for extra in (os.path.join(BENCH, "programs", "wasi-compat", "setjmp.h"),):
        with open(extra, "rb") as f:
            h.update(f.read())
    h.update(subprocess.run([CLANG, "--version"], capture_output=True).stdout)
    h.update(toolchain_id())
    return h.hexdigest()[:16]


def build_c(recipe, target, out, pool, extra_cflags=()):
    """Compiles a recipe for 'wasm' or 'native' (objects in parallel), then links it. Cached by content."""
    key = recipe_key(recipe, target) + ("-" + hashlib.sha256(" ".join(extra_cflags).encode()).hexdigest()[:8]
                                        if extra_cflags else "")
    stamp = out + ".key"
    if os.path.exists(out) and os.path.exists(stamp) and open(stamp).read() == key:
        return
    objdir = out + ".objs"
    shutil.rmtree(objdir, ignore_errors=True)
    os.makedirs(objdir)
    base = [WASM_CC] + WASM_CFLAGS if target == "wasm" else [CLANG] + NATIVE_CFLAGS
    jobs = []
    for gi, (srcs, wflags, nflags) in enumerate(recipe["groups"]):
        flags = (wflags if target == "wasm" else nflags) + list(extra_cflags)
        for s in srcs:
            obj = os.path.join(objdir, f"{gi}-{os.path.basename(s)}.o")
            jobs.append((base + flags + ["-w", "-c", s, "-o", obj], obj))
    objs = [o for _, o in jobs]
    for f in [pool.submit(run_cmd, cmd) for cmd, _ in jobs]:
        f.result()
    libs = recipe["wasm_libs"] if target == "wasm" else recipe["native_libs"]
    link = base + (WASM_LDFLAGS if target == "wasm" else []) + objs + ["-o", out + ".tmp"] + libs
    run_cmd(link)
    os.replace(out + ".tmp", out)
    shutil.rmtree(objdir, ignore_errors=True)
    with open(stamp, "w") as f:
        f.write(key)


def timed(cmd, env=None, cwd=None):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    dt = time.perf_counter() - t0
    if r.returncode:
        raise BuildError(" ".join(cmd[:4]) + " ...: " + (r.stderr or r.stdout).strip()[-2000:])
    return dt


def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Compilers:
    """Turns one .wasm into each contender's artifact, timing the compile."""

    def __init__(self, tools):
        self.t = tools

    def kiln(self, wasm, out, threads=None, flags=()):
        env = dict(os.environ)
        if threads:
            env["RAYON_NUM_THREADS"] = str(threads)
        return timed([self.t.kiln, "compile", *flags, wasm, "-o", out], env=env)

    def kiln_explicit(self, wasm, out):
        return self.kiln(wasm, out, flags=("--bounds-checks=explicit",))

    def kiln_host(self, wasm, out):
        return self.kiln(wasm, out, flags=("--cpu", "native"))

    def cwasm(self, wasm, out, threads=None):
        if self.t.wasmtime_cli:
            cmd = [self.t.wasmtime_cli, "compile"]
            if threads == 1:
                cmd += ["-C", "parallel-compilation=n"]
            return timed(cmd + [wasm, "-o", out])
        tf = out + ".timing.json"
        env = dict(os.environ, BENCH_TIMING_FILE=tf)
        timed(self.t.wasmtime_py + ["compile", wasm, out, "--threads", "1" if threads == 1 else "all"], env=env)
        with open(tf) as f:
            return json.load(f)["inner_s"]

    def wasm2c(self, wasm, out, cache_key=None):
        """wasm2c + clang -O2 (one C file: wabt 1.0.32 cannot split it, so one thread).
        Cached by the wasm's content; returns the compile time of the build that made it."""
        key = cache_key or file_sha(wasm)
        stamp = out + ".key"
        if os.path.exists(out) and os.path.exists(stamp):
            saved = json.load(open(stamp))
            if saved.get("key") == key:
                return saved["seconds"]
        d = out + ".c.d"
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        t0 = time.perf_counter()
        run_cmd([self.t.wasm2c, "-n", "app", wasm, "-o", os.path.join(d, "app.c")])
        run_cmd([CLANG, "-O2", "-w", "-I" + d, os.path.join(d, "app.c"), os.path.join(BENCH, "wasm2c", "wasi_host.c"),
                 "-lwasm-rt-impl", "-lm", "-o", out + ".tmp"])
        secs = time.perf_counter() - t0
        os.replace(out + ".tmp", out)
        shutil.rmtree(d, ignore_errors=True)
        with open(stamp, "w") as f:
            json.dump({"key": key, "seconds": secs}, f)
        return secs


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

def contender_cmd(tools, c, art, args):
    """The command line of one run and whether its time comes from the runner's own timing file."""
    if c in SIMD:  # the -msimd128 build's artifacts, run as its scalar twin runs the scalar ones
        return contender_cmd(tools, SIMD[c], {"wasm": art["wasm-simd"], KILN: art[KILN_SIMD],
                                              KILN_HOST: art[KILN_HOST_SIMD], "cwasm": art["cwasm-simd"]}, args)
    if c in (NATIVE, KILN, KILN_EXPLICIT, KILN_HOST, WASM2C):
        return [art[c]] + args, False
    if c == KILN_JIT:
        return [tools.kiln, "run", art["wasm"]] + args, False
    if tools.wasmtime_cli:
        if c == WT_JIT:
            return [tools.wasmtime_cli, "run", "-C", "cache=n", art["wasm"]] + args, False
        return [tools.wasmtime_cli, "run", "--allow-precompiled", art["cwasm"]] + args, False
    if c == WT_JIT:
        return tools.wasmtime_py + ["jit", art["wasm"]] + args, True
    return tools.wasmtime_py + ["aot", art["cwasm"]] + args, True


SPAWN = None
CPU_TIMES = []  # user+sys CPU seconds of each run_once, in order (the last one is the latest run)


def spawn_helper():
    """Builds bench/tools/spawn.c (static if possible): it times each run and reads its peak RSS."""
    global SPAWN
    if SPAWN:
        return SPAWN
    src = os.path.join(BENCH, "tools", "spawn.c")
    out = os.path.join(CACHE, "tools", "spawn")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
        if subprocess.run([CLANG, "-O2", "-static", src, "-o", out], capture_output=True).returncode:
            run_cmd([CLANG, "-O2", src, "-o", out])
    SPAWN = out
    return out


def run_once(cmd, stdin, out_path, inner, timeout=600):
    """Runs one process through the spawn helper; returns (seconds, peak RSS in KiB, exit status, stderr tail).
    For the wasmtime Python-API runner (inner=True) the time is the runner's own, inside wasmtime."""
    env = dict(os.environ)
    fd, stat = tempfile.mkstemp(prefix="bench-stat-")
    os.close(fd)
    tf = None
    if inner:
        fd, tf = tempfile.mkstemp(prefix="bench-timing-", suffix=".json")
        os.close(fd)
        env["BENCH_TIMING_FILE"] = tf
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    try:
        with open(out_path, "wb") as fout, tempfile.TemporaryFile() as ferr:
            p = subprocess.Popen([spawn_helper(), stat] + cmd, stdin=fin, stdout=fout, stderr=ferr, env=env,
                                 start_new_session=True)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.wait()
            ferr.seek(0)
            err = ferr.read().decode(errors="replace")[-500:]
    finally:
        if stdin:
            fin.close()
    try:
        with open(stat) as f:
            ns, rss, status, cpu_us = (int(x) for x in f.read().split())
        dt = ns / 1e9
        CPU_TIMES.append(cpu_us / 1e6)
    except ValueError:
        dt, rss, status = float(timeout), 0, 124
        CPU_TIMES.append(None)
    os.unlink(stat)
    if tf:
        try:
            with open(tf) as f:
                dt = json.load(f)["inner_s"]
        except (OSError, ValueError, KeyError):
            pass
        os.unlink(tf)
    return dt, rss, status, err


def summarize(times):
    if not times:
        return None
    med = statistics.median(times)
    return {"median_s": med, "min_s": min(times), "max_s": max(times),
            "spread_pct": 100 * (max(times) - min(times)) / 2 / med if med else 0.0,
            "stdev_s": statistics.stdev(times) if len(times) > 1 else 0.0, "runs": len(times)}


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


# ---------------------------------------------------------------------------
# The full benchmark
# ---------------------------------------------------------------------------

def machine():
    model = "?"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) / (1 << 20)
    osname = "?"
    if os.path.exists("/etc/os-release"):
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                osname = line.split("=", 1)[1].strip().strip('"')
    return {"cpu": model, "cores": NPROC, "memory_gib": round(mem, 1), "os": osname,
            "kernel": platform.release(), "arch": platform.machine()}


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return None


def build_all(tools, wls, args, pool):
    """Builds every workload for every contender; returns {name: {artifact: path}}, compile times, failures."""
    comp = Compilers(tools)
    arts, ctimes, failed = {}, {}, {}
    Progress.begin(len(wls) * 3)
    # 1. C to wasm and to native, everything in parallel (objects too).
    futs = {}
    for w in wls:
        d = os.path.join(BUILD, w["name"])
        os.makedirs(d, exist_ok=True)
        arts[w["name"]] = {"wasm": os.path.join(d, "app.wasm"), NATIVE: os.path.join(d, "native"),
                           KILN: os.path.join(d, "app.kiln"), "cwasm": os.path.join(d, "app.cwasm"),
                           WASM2C: os.path.join(d, "app.wasm2c"), "wasm-simd": os.path.join(d, "app-simd.wasm"),
                           KILN_SIMD: os.path.join(d, "app-simd.kiln"), "cwasm-simd": os.path.join(d, "app-simd.cwasm"),
                           KILN_EXPLICIT: os.path.join(d, "app-explicit.kiln"),
                           KILN_HOST: os.path.join(d, "app-host.kiln"),
                           KILN_HOST_SIMD: os.path.join(d, "app-simd-host.kiln")}
        ctimes[w["name"]] = {}
    inner_pool = concurrent.futures.ThreadPoolExecutor(NPROC)
    for w in wls:
        a = arts[w["name"]]
        futs[(w["name"], "wasm")] = pool.submit(build_c, w["recipe"], "wasm", a["wasm"], inner_pool)
        futs[(w["name"], NATIVE)] = pool.submit(build_c, w["recipe"], "native", a[NATIVE], inner_pool)
        if any(tools.available(c) for c in SIMD):
            futs[(w["name"], "wasm-simd")] = pool.submit(build_c, w["recipe"], "wasm", a["wasm-simd"], inner_pool,
                                                         SIMD_CFLAGS)
    for w in wls:
        Progress.step(w["name"], "· clang-19 to wasm32-wasi (scalar and -msimd128) and native")
        for t in ("wasm", NATIVE, "wasm-simd"):
            if (w["name"], t) not in futs:
                continue
            try:
                futs[(w["name"], t)].result()
            except BuildError as e:
                failed.setdefault(w["name"], {})[t] = str(e)
                note(f"{w['name']}: {t} build failed: {e}")
        Progress.advance()
    # 2. Kiln and wasmtime compiles, one at a time (they use every core themselves).
    for w in wls:
        a, n = arts[w["name"]], w["name"]
        if "wasm" in failed.get(n, {}):
            Progress.advance()
            continue
        Progress.step(n, "· kiln compile, wasmtime compile")
        for c, fn, src, out in ((KILN, comp.kiln, a["wasm"], a[KILN]), (WT_AOT, comp.cwasm, a["wasm"], a["cwasm"]),
                                (KILN_EXPLICIT, comp.kiln_explicit, a["wasm"], a[KILN_EXPLICIT]),
                                (KILN_HOST, comp.kiln_host, a["wasm"], a[KILN_HOST]),
                                (KILN_SIMD, comp.kiln, a["wasm-simd"], a[KILN_SIMD]),
                                (KILN_HOST_SIMD, comp.kiln_host, a["wasm-simd"], a[KILN_HOST_SIMD]),
                                (WT_AOT_SIMD, comp.cwasm, a["wasm-simd"], a["cwasm-simd"])):
            if not tools.available(c) or c in SIMD and "wasm-simd" in failed.get(n, {}):
                continue
            try:
                ctimes[n][c] = fn(src, out)
            except BuildError as e:
                failed.setdefault(n, {})[c] = str(e)
                note(f"{n}: {c} compile failed: {e}")
        Progress.advance()
    # 3. wasm2c + clang -O2: slow, cached; timed one at a time so the times are clean.
    for w in wls:
        n, a = w["name"], arts[w["name"]]
        if tools.available(WASM2C) and "wasm" not in failed.get(n, {}):
            Progress.step(n, "· wasm2c + clang -O2 (cached after the first run)")
            try:
                ctimes[n][WASM2C] = comp.wasm2c(a["wasm"], a[WASM2C])
            except BuildError as e:
                failed.setdefault(n, {})[WASM2C] = str(e)
                note(f"{n}: wasm2c build failed: {e}")
        Progress.advance()
    inner_pool.shutdown()
    Progress.clear()
    return arts, ctimes, failed


def run_all(tools, wls, arts, failed, runs, warmup, contenders=None):
    """Runs every workload on every contender; interleaves contenders run by run."""
    outdir = os.path.join(CACHE, "out")
    os.makedirs(outdir, exist_ok=True)
    results = {}
    contenders = contenders or [c for c in ORDER if tools.available(c)]
    Progress.begin(len(wls) * len(contenders) * (warmup + runs))
    for w in wls:
        n = w["name"]
        cs = [c for c in contenders if c not in failed.get(n, {}) and
              not (c != NATIVE and "wasm" in failed.get(n, {})) and
              not (c == WT_AOT and "cwasm" in failed.get(n, {})) and
              not (c in SIMD and "wasm-simd" in failed.get(n, {})) and
              not (c == WT_JIT_SIMD and WT_AOT_SIMD in failed.get(n, {}))]
        res = {c: {"times": [], "cpu_times": [], "rss_kib": 0} for c in cs}
        for c in cs:  # warm-up run: also the correctness check
            Progress.step(f"{n} · {tools.short[c]}", "· warm-up/check run")
            cmd, inner = contender_cmd(tools, c, arts[n], w["args"])
            out = os.path.join(outdir, f"{n}.{c}.out")
            dt, rss, status, err = run_once(cmd, w["stdin"], out, inner)
            res[c].update(status=status, stdout_sha256=file_sha(out), stdout_bytes=os.path.getsize(out),
                          stderr_tail=err, rss_kib=rss, out_file=out)
            if warmup == 0:
                res[c]["times"].append(dt)
                res[c]["cpu_times"].append(CPU_TIMES[-1])
            Progress.advance()
        for i in range(runs - (1 if warmup == 0 else 0)):
            for c in cs:
                Progress.step(f"{n} · {tools.short[c]}", f"· run {i + 1}/{runs}")
                cmd, inner = contender_cmd(tools, c, arts[n], w["args"])
                dt, rss, status, _ = run_once(cmd, w["stdin"], res[c]["out_file"] + ".run", inner)
                res[c]["times"].append(dt)
                res[c]["cpu_times"].append(CPU_TIMES[-1])
                res[c]["rss_kib"] = max(res[c]["rss_kib"], rss)
                Progress.advance()
        for c in cs:
            res[c]["time"] = summarize(res[c]["times"])
            if None not in res[c]["cpu_times"]:
                res[c]["cpu_time"] = summarize(res[c]["cpu_times"])
            for f in (res[c]["out_file"] + ".run",):
                if os.path.exists(f):
                    os.unlink(f)
        # correctness: the same stdout and exit status as the reference (native if it built)
        ref = NATIVE if NATIVE in res else (cs[0] if cs else None)
        for c in cs:
            same = (res[c]["stdout_sha256"] == res[ref]["stdout_sha256"] and res[c]["status"] == res[ref]["status"])
            res[c]["matches_reference"] = same
            if not same:
                note(f"{n}: {tools.short[c]} output differs from {tools.short[ref]} "
                     f"(status {res[c]['status']} vs {res[ref]['status']}); {first_diff(res[ref]['out_file'], res[c]['out_file'])}"
                     + (f"; stderr: {res[c]['stderr_tail'].strip()[-300:]}" if res[c]["stderr_tail"].strip() else ""))
        results[n] = {"reference": ref, "contenders": res}
    Progress.clear()
    return results


def first_diff(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        la, lb = fa.read().split(b"\n"), fb.read().split(b"\n")
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1}: {x[:80]!r} vs {y[:80]!r}"
    return f"{len(la)} vs {len(lb)} lines"


def startup(tools, pool, runs):
    """exec-to-exit of a trivial module (`int main(void) { return 0; }`) on every contender."""
    src = os.path.join(BENCH, "programs", "empty.c")
    recipe = {"groups": [([src], [], [])], "wasm_libs": [], "native_libs": []}
    d = os.path.join(BUILD, "startup")
    os.makedirs(d, exist_ok=True)
    a = {"wasm": os.path.join(d, "app.wasm"), NATIVE: os.path.join(d, "native"), KILN: os.path.join(d, "app.kiln"),
         "cwasm": os.path.join(d, "app.cwasm"), WASM2C: os.path.join(d, "app.wasm2c")}
    build_c(recipe, "wasm", a["wasm"], pool)
    build_c(recipe, "native", a[NATIVE], pool)
    comp = Compilers(tools)
    if tools.available(KILN):
        comp.kiln(a["wasm"], a[KILN])
    if tools.available(WT_AOT):
        comp.cwasm(a["wasm"], a["cwasm"])
    if tools.available(WASM2C):
        comp.wasm2c(a["wasm"], a[WASM2C])
    # The process floor: a static, libc-free executable that only exits.
    floor = os.path.join(d, "floor")
    try:
        run_cmd([CLANG, "-O2", "-static", "-nostdlib", "-fno-pic", "-fuse-ld=" + (shutil.which(tool("ld.lld-19")) or "lld"), "-o", floor,
                 os.path.join(BENCH, "programs", "floor.c")])
    except BuildError as e:
        note(f"start-up: the process floor did not build: {e}")
        floor = None
    cs = [c for c in ORDER if tools.available(c) and c not in SIMD and c not in (KILN_EXPLICIT, KILN_HOST)]
    cmds = {c: contender_cmd(tools, c, a, []) for c in cs}
    if floor:
        cmds[FLOOR] = ([floor], False)
    # Run by run, every contender and the floor in turn, as the execution
    # times are taken: a start-up is a few hundred microseconds, and the
    # machine's drift over a minute is larger than the differences measured.
    times = {c: [] for c in cmds}
    walls = {c: [] for c in cmds}
    rss = {c: 0 for c in cmds}
    Progress.begin(len(cmds) * (runs + 1))
    for i in range(runs + 1):
        for c, (cmd, inner) in cmds.items():
            Progress.step(f"start-up · {tools.short.get(c, c)}", f"· run {i}/{runs}")
            t0 = time.perf_counter()
            dt, r, status, err = run_once(cmd, None, os.devnull, inner)
            wall = time.perf_counter() - t0
            if status != 0:
                note(f"start-up: {c} exited {status}: {err.strip()}")
            if i:  # the first round is the warm-up
                times[c].append(dt)
                walls[c].append(wall)
            rss[c] = max(rss[c], r)
            Progress.advance()
    res = {}
    for c, (cmd, inner) in cmds.items():
        res[c] = {"time": summarize(times[c]), "wall": summarize(walls[c]), "rss_kib": 0 if c == FLOOR else rss[c],
                  "inner_timing": inner}
        if c == FLOOR:
            res[c]["wall"] = res[c]["time"]
    Progress.clear()
    return res


def big_module(tools, src, pool, quick):
    """The large module for compile speed: every workload linked into one multi-call wasm."""
    d = os.path.join(BUILD, "bigmod")
    os.makedirs(d, exist_ok=True)
    rec = program_recipes(src)
    groups = []
    names = []
    for name in KERNEL_ARGS:
        groups.append(([os.path.join(BENCH, "kernels", name + ".c")], [f"-Dmain=bench_{name}_main"], []))
        names.append(name)
    for name, r in rec.items():
        for srcs, wflags, nflags in r["groups"]:
            mains = [s for s in srcs if s.endswith(("_main.c", "bzip2.c"))]
            rest = [s for s in srcs if s not in mains]
            groups.append((rest, wflags, nflags))
            groups.append((mains, wflags + [f"-Dmain=bench_{name}_main"], nflags))
        names.append(name)
    # The other Lua versions lua-src carries (5.1, 5.2, 5.3, 5.5), each with the same front end; their
    # global symbols are renamed (luaNN_*) so that five Lua implementations link into one module.
    for ver in ("5.1.5", "5.2.4", "5.3.6", "5.5.1"):
        g = renamed_lua(src, ver, d, pool)
        if g:
            groups.append(g)
            names.append("lua" + ver.replace(".", "")[:2])
    # extra SQLite features and zstd's dictionary builder make it larger
    zstd = os.path.join(src["zstd-sys"], "zstd", "lib")
    groups.append((sorted(os.path.join(zstd, "dictBuilder", f) for f in os.listdir(os.path.join(zstd, "dictBuilder"))
                          if f.endswith(".c")), ["-I" + zstd, "-I" + os.path.join(zstd, "common")], []))
    sq = groups[[i for i, g in enumerate(groups) if any(s.endswith("sqlite3.c") for s in g[0])][0]]
    sq[1].extend(["-DSQLITE_ENABLE_FTS3", "-DSQLITE_ENABLE_FTS4", "-DSQLITE_ENABLE_GEOPOLY", "-DSQLITE_ENABLE_SESSION",
                  "-DSQLITE_ENABLE_PREUPDATE_HOOK", "-DSQLITE_ENABLE_DBSTAT_VTAB", "-DSQLITE_ENABLE_STAT4",
                  "-DSQLITE_ENABLE_BYTECODE_VTAB", "-DSQLITE_ENABLE_STMTVTAB", "-DSQLITE_SOUNDEX",
                  "-DSQLITE_ENABLE_COLUMN_METADATA", "-DSQLITE_ENABLE_CARRAY", "-DSQLITE_ENABLE_PERCENTILE"])
    dispatch = os.path.join(d, "dispatch.c")
    body = "".join(f"int bench_{n}_main(int, char **);\n" for n in names)
    body += "#include <stdio.h>\n#include <string.h>\nint main(int argc, char **argv) {\n"
    body += "".join(f"  if (argc > 1 && !strcmp(argv[1], \"{n}\")) return bench_{n}_main(argc - 1, argv + 1);\n"
                    for n in names)
    body += "  fprintf(stderr, \"usage: bigmod " + "|".join(names) + " ARGS...\\n\");\n  return 2;\n}\n"
    if not os.path.exists(dispatch) or open(dispatch).read() != body:
        with open(dispatch, "w") as f:
            f.write(body)
    groups.append(([dispatch], [], []))
    libs = sorted(set(sum((r["wasm_libs"] for r in rec.values()), []))) + ["-lm"]
    recipe = {"groups": groups, "wasm_libs": libs, "native_libs": []}
    wasm = os.path.join(d, "bigmod.wasm")
    build_c(recipe, "wasm", wasm, pool)
    return wasm, names


def renamed_lua(src, ver, d, pool):
    """A build group for Lua VER whose external symbols all get a luaNN_ prefix (found with llvm-nm
    on a first compile), with lua_main.c's main as bench_luaNN_main. None if this version fails to build."""
    tag = "lua" + ver.replace(".", "")[:2]
    ldir = os.path.join(src["lua-src"], "lua-" + ver)
    srcs = sorted(os.path.join(ldir, f) for f in os.listdir(ldir) if f.endswith(".c"))
    srcs.append(os.path.join(BENCH, "programs", "lua_main.c"))
    compat = os.path.join(BENCH, "programs", "wasi-compat")
    flags = ["-I" + compat, "-I" + ldir, "-D_WASI_EMULATED_PROCESS_CLOCKS", "-D_WASI_EMULATED_SIGNAL",
             "-Dl_system(cmd)=((cmd)==NULL?0:-1)", "-Dlua_tmpnam(b,e)={e=1;}", "-DLUA_COMPAT_ALL",
             "-DLUA_COMPAT_5_3", f"-Dmain=bench_{tag}_main"]
    header = os.path.join(d, f"rename-{tag}.h")
    try:
        if not os.path.exists(header):
            tmp = tempfile.mkdtemp(prefix="bench-nm-", dir=d)
            objs = []
            jobs = []
            for s in srcs:
                o = os.path.join(tmp, os.path.basename(s) + ".o")
                objs.append(o)
                jobs.append(pool.submit(run_cmd, [WASM_CC] + WASM_CFLAGS + flags + ["-w", "-c", s, "-o", o]))
            for j in jobs:
                j.result()
            nm = shutil.which(tool("llvm-nm-19"))
            out = run_cmd([nm, "-g", "--defined-only", "-j"] + objs).stdout.split()
            syms = sorted({x for x in out if x and not x.endswith(":") and not x.startswith("bench_")})
            shutil.rmtree(tmp, ignore_errors=True)
            with open(header + ".tmp", "w") as f:
                f.write(f"/* generated by bench.py: Lua {ver}'s global symbols, renamed */\n")
                f.writelines(f"#define {x} {tag}_{x}\n" for x in syms)
            os.replace(header + ".tmp", header)
        return (srcs, flags + ["-include", header], [])
    except BuildError as e:
        note(f"large module: Lua {ver} left out: {str(e)[:300]}")
        return None


def compile_speed(tools, wasm, reps, with_wasm2c):
    """Compile time and throughput (MB of wasm per second) with 1 thread and with all threads."""
    comp = Compilers(tools)
    d = os.path.dirname(wasm)
    mb = os.path.getsize(wasm) / 1e6
    res = {"wasm_bytes": os.path.getsize(wasm), "code_bytes": code_section_size(wasm), "threads_all": NPROC,
           "load_average": loadavg()}
    plan = []
    if tools.available(KILN):
        plan += [(KILN, 1), (KILN, NPROC)]
    if tools.available(WT_AOT):
        plan += [(WT_AOT, 1), (WT_AOT, NPROC)]
    if with_wasm2c and tools.available(WASM2C):
        plan += [(WASM2C, 1)]
    Progress.begin(sum(1 if c == WASM2C else reps for c, _ in plan))
    for c, th in plan:
        times = []
        for i in range(1 if c == WASM2C else reps):
            Progress.step(f"compile {mb:.1f} MB · {tools.short[c]} · {th} thread{'s' if th > 1 else ''}",
                          f"· {i + 1}/{reps}")
            if c == KILN:
                times.append(comp.kiln(wasm, os.path.join(d, "bigmod.kiln"), threads=th))
            elif c == WT_AOT:
                times.append(comp.cwasm(wasm, os.path.join(d, "bigmod.cwasm"), threads=th))
            else:
                times.append(comp.wasm2c(wasm, os.path.join(d, "bigmod.wasm2c"), cache_key="force-" + str(time.time())))
            Progress.advance()
        s = summarize(times)
        s["mb_per_s"] = mb / s["median_s"]
        res.setdefault(c, {})[str(th)] = s
    if tools.available(KILN):
        res["kiln_exe_bytes"] = os.path.getsize(os.path.join(d, "bigmod.kiln"))
    Progress.clear()
    # smoke test: the compiled large module runs, with the same output on every contender
    a = {"wasm": wasm, KILN: os.path.join(d, "bigmod.kiln"), "cwasm": os.path.join(d, "bigmod.cwasm"),
         WASM2C: os.path.join(d, "bigmod.wasm2c")}
    outs = {}
    for c in (KILN, WT_AOT, WASM2C):
        if c in res:
            for sub, args, stdin in (("lua55", ["1"], "bench.lua"), ("sqlite", ["50"], "bench.sql")):
                cmd, inner = contender_cmd(tools, c, a, [sub] + args)
                out = os.path.join(d, f"smoke.{c}.{sub}.out")
                _, _, status, _ = run_once(cmd, os.path.join(BENCH, "programs", stdin), out, inner)
                outs.setdefault(c, []).append((status, file_sha(out)))
    res["smoke_outputs_identical"] = len({tuple(v) for v in outs.values()}) <= 1 and bool(outs)
    if not res["smoke_outputs_identical"]:
        note("large module: the contenders' outputs differ (lua55, sqlite subcommands)")
    return res


def code_section_size(wasm):
    with open(wasm, "rb") as f:
        data = f.read()
    pos = 8
    while pos < len(data):
        sid = data[pos]
        pos += 1
        size, shift = 0, 0
        while True:
            b = data[pos]
            pos += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        if sid == 10:
            return size
        pos += size
    return 0


# ---------------------------------------------------------------------------
# Reports: markdown, JSON, PNG
# ---------------------------------------------------------------------------

def fmt_t(s):
    if s is None:
        return "–"
    if s < 0.001:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms" if s < 0.1 else f"{s * 1e3:.0f} ms"
    return f"{s:.2f} s"


def fmt_b(n):
    if n is None:
        return "–"
    for unit, div in (("MB", 1e6), ("KB", 1e3)):
        if n >= div:
            return f"{n / div:.1f} {unit}" if n < 100 * div else f"{n / div:.0f} {unit}"
    return f"{n} B"


def ratio(a, b):
    return a / b if a and b else None


def fmt_r(r):
    return "–" if r is None else f"{r:.2f}×"


def report(data, tools):
    cs = [c for c in ORDER if c in data["contenders"]]
    L = tools.labels
    m = data["machine"]
    lines = []
    add = lines.append
    add(f"Taken {data['date']} on **{m['cpu']}**, {m['cores']} cores, {m['memory_gib']} GiB RAM, {m['os']} "
        f"(Linux {m['kernel']}), mode `{data['mode']}`: median of {data['runs']} runs after {data['warmup']} warm-up.")
    add("")
    add("Versions: " + "; ".join(f"{k} {v}" for k, v in data["versions"].items() if v) + ".")
    la = data.get("load_average", {})
    if la:
        add("")
        add(f"1-minute load average: {la.get('start')} at the start, {la.get('end')} at the end (with {m['cores']} "
            f"cores, anything else running adds noise; `results.json` also has each run's user+sys CPU time).")
    add("")
    ex = data["execution"]
    names = list(ex.keys())
    add("#### Execution time (median ± half the min–max range)")
    add("")
    add("| workload | " + " | ".join(L[c] for c in cs) + " |")
    add("|---|" + "---:|" * len(cs))
    for n in names:
        row = [n]
        for c in cs:
            r = ex[n]["contenders"].get(c)
            if not r or not r.get("time"):
                row.append("–")
                continue
            mark = "" if r.get("matches_reference", True) else " ✗"
            row.append(f"{fmt_t(r['time']['median_s'])} ±{r['time']['spread_pct']:.0f}%{mark}")
        add("| " + " | ".join(row) + " |")
    add("")
    add("#### Ratios (time ÷ native time; last columns: Kiln ÷ wasmtime; lower is better for the first)")
    add("")
    head = [L[c] + " / native" for c in cs if c != NATIVE] + ["Kiln / wasmtime JIT", "Kiln / wasmtime AOT"]
    simd = KILN_SIMD in cs
    if simd:
        head += ["Kiln +simd128 / Kiln", "Kiln +simd128 / wasmtime AOT +simd128"]
    explicit = KILN_EXPLICIT in cs
    if explicit:
        head += ["Kiln explicit / Kiln"]
    host = KILN_HOST in cs
    if host:
        head += ["Kiln --cpu native / wasmtime AOT"]
    host_simd = KILN_HOST_SIMD in cs
    if host_simd:
        head += ["Kiln --cpu native +simd128 / wasmtime AOT +simd128"]
    add("| workload | " + " | ".join(head) + " |")
    add("|---|" + "---:|" * len(head))
    cols = {h: [] for h in head}
    for n in names:
        r = ex[n]["contenders"]
        med = {c: (r[c]["time"]["median_s"] if c in r and r[c].get("time") else None) for c in cs}
        vals = [ratio(med[c], med.get(NATIVE)) for c in cs if c != NATIVE]
        vals += [ratio(med.get(KILN), med.get(WT_JIT)), ratio(med.get(KILN), med.get(WT_AOT))]
        if simd:
            vals += [ratio(med.get(KILN_SIMD), med.get(KILN)), ratio(med.get(KILN_SIMD), med.get(WT_AOT_SIMD))]
        if explicit:
            vals += [ratio(med.get(KILN_EXPLICIT), med.get(KILN))]
        if host:
            vals += [ratio(med.get(KILN_HOST), med.get(WT_AOT))]
        if host_simd:
            vals += [ratio(med.get(KILN_HOST_SIMD), med.get(WT_AOT_SIMD))]
        for h, v in zip(head, vals):
            cols[h].append(v)
        add(f"| {n} | " + " | ".join(fmt_r(v) for v in vals) + " |")
    data["geomeans"] = {h: geomean(v) for h, v in cols.items()}
    add("| **geometric mean** | " + " | ".join(f"**{fmt_r(data['geomeans'][h])}**" for h in head) + " |")
    add("")
    su = data.get("startup")
    if su:
        add("#### Start-up: exec to exit of `int main(void) { return 0; }`")
        add("")
        add("| contender | median | min | max | peak RSS |")
        add("|---|---:|---:|---:|---:|")
        if FLOOR in su and su[FLOOR]["time"]:
            t = su[FLOOR]["time"]
            add(f"| process floor (static, no libc, only exits) | {fmt_t(t['median_s'])} | {fmt_t(t['min_s'])} | "
                f"{fmt_t(t['max_s'])} | – |")
        for c in cs:
            if c in su and su[c]["time"]:
                t = su[c]["time"]
                extra = (f" (process: {fmt_t(su[c]['wall']['median_s'])})" if su[c]["inner_timing"] else "")
                add(f"| {L[c]} | {fmt_t(t['median_s'])}{extra} | {fmt_t(t['min_s'])} | {fmt_t(t['max_s'])} | "
                    f"{fmt_b(su[c]['rss_kib'] * 1024)} |")
        add("")
    cp = data.get("compile")
    if cp:
        add(f"#### Compile speed: the large module ({fmt_b(cp['wasm_bytes'])} of wasm, "
            f"{fmt_b(cp['code_bytes'])} of code: every workload plus Lua 5.1, 5.2, 5.3 and 5.5 in one "
            f"multi-call module; its compiled outputs " +
            ("agree" if cp.get("smoke_outputs_identical") else "DIFFER") + " on a smoke run)")
        if cp.get("load_average") is not None:
            add("")
            add(f"Load average when this section started: {cp['load_average']} (on {cp['threads_all']} cores, other "
                f"work on the machine shrinks the gain from more threads).")
        add("")
        add(f"| compiler | 1 thread | MB/s | {cp['threads_all']} threads | MB/s |")
        add("|---|---:|---:|---:|---:|")
        for c in (KILN, WT_AOT, WASM2C):
            if c not in cp:
                continue
            one, alln = cp[c].get("1"), cp[c].get(str(cp["threads_all"]))
            name = {KILN: "kiln compile", WT_AOT: "wasmtime compile" + (" (py API)" if not tools.wasmtime_cli else ""),
                    WASM2C: "wasm2c + clang -O2"}[c]
            cells = [name]
            for s in (one, alln):
                cells += ([fmt_t(s["median_s"]), f"{s['mb_per_s']:.2f}"] if s else
                          (["(one C file: 1 thread)", "–"] if c == WASM2C else ["–", "–"]))
            add("| " + " | ".join(cells) + " |")
        add("")
    add("#### Per-workload compile time (all threads) and executable size")
    add("")
    add("| workload | wasm | Kiln compile | Kiln exe | wasmtime compile | .cwasm | wasm2c + clang | wasm2c exe | native exe |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in names:
        s, ct = data["sizes"][n], data["compile_times"][n]
        add(f"| {n} | {fmt_b(s.get('wasm'))} | {fmt_t(ct.get(KILN))} | {fmt_b(s.get(KILN))} | {fmt_t(ct.get(WT_AOT))} | "
            f"{fmt_b(s.get('cwasm'))} | {fmt_t(ct.get(WASM2C))} | {fmt_b(s.get(WASM2C))} | {fmt_b(s.get(NATIVE))} |")
    add("")
    add("#### Peak RSS")
    add("")
    add("| workload | " + " | ".join(L[c] for c in cs) + " |")
    add("|---|" + "---:|" * len(cs))
    for n in names:
        r = ex[n]["contenders"]
        add(f"| {n} | " + " | ".join(fmt_b(r[c]["rss_kib"] * 1024) if c in r else "–" for c in cs) + " |")
    add("")
    ok = all(r.get("matches_reference", False) for n in names for r in ex[n]["contenders"].values())
    total = sum(len(ex[n]["contenders"]) for n in names)
    add("**Correctness:** " + ("every workload's stdout and exit status are identical across all contenders "
                               f"({len(names)} workloads, {total} runs checked)." if ok else
                               "✗ marks outputs that differ from native; see bench/results/results.json."))
    if data["notes"]:
        add("")
        for n in data["notes"]:
            add("- " + n)
    return "\n".join(lines) + "\n", ok


README_BEGIN = "<!-- bench:begin (generated by bench/bench.py --update-readme) -->"
README_END = "<!-- bench:end -->"


def readme_summary(data, tools):
    """The compact table the main README shows: median time and ratio to native per contender."""
    cs = [c for c in ORDER if c in data["contenders"]]
    m = data["machine"]
    ex = data["execution"]
    out = [f"Latest full run ({data['date']}, `bash bench/run.sh`) on **{m['cpu']}**, {m['cores']} cores, "
           f"{m['memory_gib']} GiB RAM, {m['os']}; median of {data['runs']} runs after {data['warmup']} warm-up, "
           f"with the ratio to native in parentheses:", ""]
    out.append("| workload | " + " | ".join(tools.labels[c] for c in cs) + " |")
    out.append("|---|" + "---:|" * len(cs))
    for n, r in ex.items():
        r = r["contenders"]
        nat = r.get(NATIVE, {}).get("time")
        cells = []
        for c in cs:
            t = r.get(c, {}).get("time")
            if not t:
                cells.append("–")
            elif c == NATIVE or not nat:
                cells.append(fmt_t(t["median_s"]))
            else:
                cells.append(f"{fmt_t(t['median_s'])} ({t['median_s'] / nat['median_s']:.2f}×)")
        out.append(f"| {n} | " + " | ".join(cells) + " |")
    g = data.get("geomeans", {})
    cells = ["1.00×"] + [fmt_r(g.get(tools.labels[c] + " / native")) for c in cs if c != NATIVE]
    out.append("| **geometric mean** | " + " | ".join(f"**{x}**" for x in cells) + " |")
    out.append("")
    out.append(f"- Kiln ÷ wasmtime JIT: {fmt_r(g.get('Kiln / wasmtime JIT'))}, Kiln ÷ wasmtime AOT: "
               f"{fmt_r(g.get('Kiln / wasmtime AOT'))} (geometric means). Every workload's output is "
               + ("identical across all contenders." if data.get("all_outputs_identical") else "NOT identical (see results)."))
    def over_kiln(c, n):
        """Workload n's median time under contender c ÷ under Kiln."""
        r = ex[n]["contenders"]
        k, t = r.get(KILN, {}).get("time"), r.get(c, {}).get("time")
        return ratio(t and t["median_s"], k and k["median_s"])

    if KILN_SIMD in cs:
        out.append(f"- SIMD: the `+simd128` columns run each workload built a second time with `-msimd128` "
                   f"(clang vectorises with wasm SIMD); Kiln +simd128 ÷ Kiln: {fmt_r(g.get('Kiln +simd128 / Kiln'))}, "
                   f"Kiln +simd128 ÷ wasmtime AOT +simd128: {fmt_r(g.get('Kiln +simd128 / wasmtime AOT +simd128'))} "
                   f"(geometric means; per workload, Kiln +simd128 ÷ Kiln: "
                   + ", ".join(f"{n} {fmt_r(over_kiln(KILN_SIMD, n))}" for n in ex) + "). Native stays `clang -O2` (SSE2).")
    if KILN_EXPLICIT in cs:
        out.append(f"- Bounds checks: `--bounds-checks=explicit` (a compare before every memory access, no 8 GiB "
                   f"reservation) ÷ the default guard pages: {fmt_r(g.get('Kiln explicit / Kiln'))} (geometric mean; "
                   "per workload: " + ", ".join(f"{n} {fmt_r(over_kiln(KILN_EXPLICIT, n))}" for n in ex) + ").")
    if KILN_HOST in cs:
        out.append(f"- Host CPU: wasmtime compiles for this machine's CPU features, Kiln by default for a portable "
                   f"baseline (x86-64-v1: SSE2). Kiln `--cpu native` ÷ wasmtime AOT: "
                   f"{fmt_r(g.get('Kiln --cpu native / wasmtime AOT'))} (geometric mean), against "
                   f"{fmt_r(g.get('Kiln / wasmtime AOT'))} for the default build"
                   + (f"; on the `-msimd128` builds {fmt_r(g.get('Kiln --cpu native +simd128 / wasmtime AOT +simd128'))} "
                      f"against {fmt_r(g.get('Kiln +simd128 / wasmtime AOT +simd128'))}" if KILN_HOST_SIMD in cs else "") + ".")
    su = data.get("startup")
    if su:
        floor = su.get(FLOOR, {}).get("time")
        out.append("- Start-up (exec to exit, trivial module): " + ", ".join(
            f"{tools.short[c]} {fmt_t(su[c]['time']['median_s'])}" for c in cs if c in su and su[c]["time"])
            + (f"; the process floor (a static executable that only exits) {fmt_t(floor['median_s'])}, "
               f"Kiln ÷ floor {fmt_r(ratio(su.get(KILN, {}).get('time', {}).get('median_s'), floor['median_s']))}"
               if floor else "") + ".")
    cp = data.get("compile")
    if cp:
        parts = []
        for c, name in ((KILN, "Kiln"), (WT_AOT, "wasmtime"), (WASM2C, "wasm2c + clang")):
            if c in cp:
                parts.append(name + " " + " / ".join(f"{cp[c][th]['mb_per_s']:.2f} MB/s ({th} thread{'s' if th != '1' else ''})"
                                                   for th in sorted(cp[c], key=int)))
        out.append(f"- Compile speed on a {cp['wasm_bytes'] / 1e6:.1f} MB module: " + "; ".join(parts) + ".")
    if not tools.wasmtime_cli:
        out.append("- wasmtime ran through its Python API (no CLI installed): its times exclude the Python "
                   "interpreter's start-up.")
    out.append("- Full tables (spread, compile times, sizes, peak RSS): `bench/results/results.md`; chart: "
               "`bench/results/results.png`.")
    return "\n".join(out) + "\n"


def update_readme(data, tools):
    path = os.path.join(ROOT, "README.md")
    text = open(path).read()
    if README_BEGIN not in text or README_END not in text:
        note("README.md has no bench markers: not updated")
        return
    a, b = text.index(README_BEGIN) + len(README_BEGIN), text.index(README_END)
    with open(path, "w") as f:
        f.write(text[:a] + "\n" + readme_summary(data, tools) + text[b:])
    note("updated the Benchmarks section of README.md")


def chart(data, tools, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        note("matplotlib missing: pip install matplotlib")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "matplotlib"])
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return "matplotlib is not available: no chart"
    cs = [c for c in ORDER if c in data["contenders"] and c != NATIVE]
    ex = data["execution"]
    names = list(ex.keys()) + ["geomean"]
    colors = {KILN: "#d9480f", WT_JIT: "#1c7ed6", WT_AOT: "#74c0fc", WASM2C: "#37b24d",
              KILN_SIMD: "#ffa94d", WT_JIT_SIMD: "#4c6ef5", WT_AOT_SIMD: "#a5d8ff", KILN_EXPLICIT: "#862e9c", KILN_HOST: "#c2255c", KILN_HOST_SIMD: "#f783ac", KILN_JIT: "#f08c00"}
    has_cp = bool(data.get("compile"))
    fig, axes = plt.subplots(1, 2 if has_cp else 1, figsize=(15 if has_cp else 11, 5.5),
                             gridspec_kw={"width_ratios": [3, 1]} if has_cp else None)
    ax = axes[0] if has_cp else axes
    width = 0.8 / max(len(cs), 1)
    for i, c in enumerate(cs):
        vals = []
        for n in names[:-1]:
            r = ex[n]["contenders"]
            vals.append(r[c]["time"]["median_s"] / r[NATIVE]["time"]["median_s"]
                        if c in r and NATIVE in r and r[c].get("time") else 0)
        vals.append(geomean(vals) or 0)
        xs = [j + (i - (len(cs) - 1) / 2) * width for j in range(len(names))]
        ax.bar(xs, vals, width, label=tools.labels[c], color=colors[c])
    ax.axhline(1.0, color="black", lw=0.8, ls="--")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylabel("execution time ÷ native clang -O2 (lower is better)")
    ax.set_title(f"Kiln benchmark: execution time relative to native ({data['machine']['cpu']}, "
                 f"{data['machine']['cores']} cores)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    if has_cp:
        cp = data["compile"]
        ax2 = axes[1]
        labels, vals, cols = [], [], []
        for c in (KILN, WT_AOT, WASM2C):
            if c not in cp:
                continue
            for th in sorted(cp[c], key=int):
                labels.append(f"{tools.short[c]}\n{th} thr")
                vals.append(cp[c][th]["mb_per_s"])
                cols.append(colors[c])
        ax2.bar(range(len(vals)), vals, color=cols)
        ax2.set_xticks(range(len(vals)))
        ax2.set_xticklabels(labels, fontsize=7)
        ax2.set_ylabel("MB of wasm per second (higher is better)")
        ax2.set_title(f"compile speed, {cp['wasm_bytes'] / 1e6:.1f} MB module")
        ax2.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def sizes_of(arts, tools):
    s = {}
    for k in ("wasm", NATIVE, KILN, "cwasm", WASM2C):
        if k in (KILN, WASM2C) and not tools.available(k) or k == "cwasm" and not tools.available(WT_AOT):
            continue
        if os.path.exists(arts[k]):
            s[k] = os.path.getsize(arts[k])
    return s


def main_benchmark(args):
    tools = Tools(args)
    wall0 = time.time()
    load0 = loadavg()
    quick = args.quick or args.check
    runs = 1 if quick else args.runs
    warmup = 0 if quick else 1
    note(f"{'quick' if quick else 'full'} run: {runs} timed run(s) per contender after {warmup} warm-up")
    for msg in tools.notes:
        note(msg)
    src = fetch_sources()
    wls = workloads(src, quick)
    if args.only:
        keep = set(args.only.split(","))
        wls = [w for w in wls if w["name"] in keep]
    os.makedirs(BUILD, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(NPROC) as pool:
        arts, ctimes, failed = build_all(tools, wls, args, pool)
        results = run_all(tools, wls, arts, failed, runs, warmup)
        data = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "mode": "check" if args.check else ("quick" if quick else "full"),
            "runs": runs, "warmup": warmup, "machine": machine(), "versions": tools.describe(),
            "contenders": {c: tools.labels[c] for c in ORDER if tools.available(c)},
            "workloads": {w["name"]: {"kind": w["kind"], "description": w["desc"], "args": w["args"],
                                      "stdin": w["stdin"] and os.path.relpath(w["stdin"], ROOT)} for w in wls},
            "execution": results, "compile_times": ctimes, "sizes": {n: sizes_of(arts[n], tools) for n in arts},
            "build_failures": failed, "notes": list(tools.notes),
        }
        if not args.check:
            data["startup"] = startup(tools, pool, 3 if quick else args.startup_runs)
            if not args.no_compile_bench:
                bigwasm, _ = big_module(tools, src, pool, quick)
                data["compile"] = compile_speed(tools, bigwasm, 1 if quick else 3, with_wasm2c=not quick)
    for n, f in failed.items():
        for what, err in f.items():
            data["notes"].append(f"{n}: {what} failed to build: {err[:200]}")
    for r in results.values():
        for c in r["contenders"].values():
            c.pop("out_file", None)
    data["elapsed_s"] = round(time.time() - wall0, 1)
    data["load_average"] = {"start": load0, "end": loadavg()}
    md, ok = report(data, tools)
    data["all_outputs_identical"] = ok
    if args.check:
        print(md)
        print("check: " + ("OK, every contender's output is identical to native" if ok else "FAILED: outputs differ"))
        return 0 if ok else 1
    os.makedirs(RESULTS, exist_ok=True)
    stem = args.output or ("results-quick" if quick else "results")
    with open(os.path.join(RESULTS, stem + ".json"), "w") as f:
        json.dump(data, f, indent=1, default=str)
    title = f"# Kiln benchmark results\n\nGenerated by `bash bench/run.sh{' --quick' if quick else ''}` " \
            f"in {data['elapsed_s']:.0f} s; chart: `{stem}.png`, raw data: `{stem}.json`.\n\n"
    with open(os.path.join(RESULTS, stem + ".md"), "w") as f:
        f.write(title + md)
    why = chart(data, tools, os.path.join(RESULTS, stem + ".png"))
    if args.update_readme:
        update_readme(data, tools)
    if why:
        note(why)
    print(md)
    note(f"wrote bench/results/{stem}.md, {stem}.json" + ("" if why else f", {stem}.png") +
         f" in {data['elapsed_s']:.0f} s")
    return 0 if ok else 1


def main_report(args):
    """Re-renders results.md, the chart and (with --update-readme) the README from a results JSON."""
    tools = Tools(args)
    with open(args.report) as f:
        data = json.load(f)
    tools.labels.update(data["contenders"])
    md, ok = report(data, tools)
    stem = os.path.splitext(os.path.basename(args.report))[0]
    with open(os.path.join(RESULTS, stem + ".md"), "w") as f:
        f.write(f"# Kiln benchmark results\n\nGenerated by `bash bench/run.sh` in {data['elapsed_s']:.0f} s; "
                f"chart: `{stem}.png`, raw data: `{stem}.json`.\n\n" + md)
    chart(data, tools, os.path.join(RESULTS, stem + ".png"))
    if args.update_readme:
        update_readme(data, tools)
    print(md)
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small inputs, one run each")
    ap.add_argument("--check", action="store_true",
                    help="correctness only (quick inputs, no start-up or compile benchmark, no files written); "
                         "exit 1 if any contender's output differs from native")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per contender after one warm-up (default 5)")
    ap.add_argument("--startup-runs", type=int, default=200, help="runs of the start-up measurement (default 200)")
    ap.add_argument("--only", help="comma-separated workload names")
    ap.add_argument("--contenders", help="comma-separated subset of " + ",".join(ORDER) + " (native is always run)")
    ap.add_argument("--no-compile-bench", action="store_true", help="skip the large-module compile benchmark")
    ap.add_argument("--no-simd", action="store_true",
                    help="skip the second, -msimd128 build of each workload (contenders " + ", ".join(SIMD) + ")")
    ap.add_argument("--output", help="stem of the result files in bench/results (default: results)")
    ap.add_argument("--update-readme", action="store_true",
                    help="also rewrite the table between the bench markers in README.md's Benchmarks section")
    ap.add_argument("--kiln", help="the kiln binary (default: target/release/kiln, or $KILN)")
    ap.add_argument("--report", help="re-render the reports from this results JSON, without running anything")
    args = ap.parse_args()
    if args.report:
        return main_report(args)
    return main_benchmark(args)


if __name__ == "__main__":
    sys.exit(main())
