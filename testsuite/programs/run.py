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

Sources: `cargo metadata` on sources/Cargo.toml (pinned versions; cargo
fetches the crates the first time) says where lua-src and libsqlite3-sys
are unpacked; their C files are compiled with scripts/wasm-cc (the one
C-to-wasm recipe) into target/kiln-tests/programs/, rebuilt unless a
build's key (sources, our compat headers, flags, toolchain) matches. Kiln is target/debug/kiln, built with cargo first (or $KILN).
KILN_TEST_TARGETS=x86_64,... narrows the targets, as for the e2e tests.

Usage: testsuite/programs/run.py [--bless] [NAME...]
Exit status 0 when every run matches its expected files.
"""
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile

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
        got = {"stdout": p.stdout, "stderr": p.stderr, "status": f"{status}\n".encode()}
        bad = []
        for ext, actual in got.items():
            path = os.path.join(HERE, f"{name}.{ext}")
            want = open(path, "rb").read() if os.path.exists(path) else b""
            if want != actual:
                bad.append(f"--- {ext} expected\n{want.decode(errors='replace')}--- actual\n"
                           f"{actual.decode(errors='replace')}")
        print(f"{t}::{name} ... {'ok' if not bad else 'FAILED'}", flush=True)
        if bad:
            failures.append(f"{t}::{name}:\n" + "\n".join(bad))
    return failures


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
        it = iter(flags)
        for f in it:
            if f not in ("--dir", "--dir-ro"):
                raise SystemExit(f"{name}.flags: only --dir and --dir-ro can be recorded, not {f}")
            spec = next(it)
            host, guest = spec.split("::", 1) if "::" in spec else (spec, spec)
            cfg.preopen_dir(host, guest, f == "--dir")
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
    open(os.path.join(HERE, name + ".stdout"), "wb").write(open(out, "rb").read())
    open(os.path.join(HERE, name + ".status"), "w").write(f"{status}\n")
    stderr = open(err, "rb").read()
    path = os.path.join(HERE, name + ".stderr")
    if stderr:
        open(path, "wb").write(stderr)
    elif os.path.exists(path):
        os.remove(path)
    print(f"{name}: recorded from wasmtime, status {status}")


def main():
    argv = sys.argv[1:]
    blessing = "--bless" in argv
    names = [a for a in argv if a != "--bless"] or sorted(
        f[:-len(".args")] for f in os.listdir(HERE) if f.endswith(".args"))
    chosen = os.environ.get("KILN_TEST_TARGETS")
    targets = [t for t in TARGETS if (t in chosen.split(",") if chosen else runner(t) is not None)]
    progs = recipes(sources())
    kiln_bin = None if blessing else kiln()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            wasm = build(name.split("_")[0], progs[name.split("_")[0]])
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
