#!/usr/bin/env python3
"""Record the expected behaviour of every end-to-end test from a reference
runtime (wasmtime, through its Python API: `pip install wasmtime`).

For each test in testsuite/e2e (a .c, .rs or .wat file, or a prebuilt .wasm, plus optional .args,
.stdin, .flags, .runenv and .fixture/), this builds the module exactly as the
test harness does, runs it under wasmtime with the same arguments,
environment, stdin and directory grants, in a fresh working directory holding
a copy of NAME.fixture/ (as the harness does), and writes:
  NAME.stdout   what the module printed,
  NAME.status   its exit status (134 for a trap, as the wasmtime CLI),
  NAME.stderr   what it printed on stderr, unless it trapped: a trap's line
                is Kiln's own format and is kept as written by hand.

Flags honoured from NAME.flags: --env K=V, --inherit-env (the program then
sees the harness's run environment: HOME, PATH and NAME.runenv), --dir and
--dir-ro HOST[::GUEST] (wasmtime preopens, read-only ones without
mutation rights). --cpu and --bounds-checks change only Kiln's instructions,
never the output, and are ignored here. --allow-runtime-dirs has no wasmtime equivalent: a test
whose output depends on KILN_DIRS grants cannot be recorded here, and one
whose source contains the marker kiln-e2e: expected output written by hand keeps its expected
files as written by hand (the file says why).

CI never runs this; the files it writes are checked in.
Usage: scripts/bless-e2e.py [NAME...]
"""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

import wasmtime

from kiln_tools import WASM_CC, tool

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
E2E = os.path.join(ROOT, "testsuite", "e2e")
# As kiln_testsuite::build_c: the one recipe, -O2, then NAME.cflags.
CFLAGS = ["-O2"]
# As kiln_testsuite::RUSTC_FLAGS, then NAME.rustflags.
RUSTC_FLAGS = ["--target", "wasm32-wasi", "-C", "opt-level=2", "-C", "strip=debuginfo"]
INVALID_EXIT = "exit with invalid exit status outside of [0..126)"
HAND_WRITTEN = "kiln-e2e: expected output written by hand"


def build(name, src, out):
    if src.endswith(".c"):
        cflags = os.path.join(E2E, name + ".cflags")
        extra = shlex.split(open(cflags).read()) if os.path.exists(cflags) else []
        subprocess.run([WASM_CC, *CFLAGS, *extra, "-o", out, src, "-lm"], check=True)
    elif src.endswith(".wasm"):
        shutil.copyfile(src, out)
    elif src.endswith(".rs"):
        rustflags = os.path.join(E2E, name + ".rustflags")
        extra = shlex.split(open(rustflags).read()) if os.path.exists(rustflags) else []
        subprocess.run([tool("/usr/bin/rustc"), *RUSTC_FLAGS, *extra, "-o", out, src], check=True)
    else:
        with open(out, "wb") as f:
            f.write(wasmtime.wat2wasm(open(src).read()))


def parse_flags(path):
    """(granted env pairs, inherit_env, [(host, guest, read_only)]) from NAME.flags."""
    env, inherit, dirs = [], False, []
    if os.path.exists(path):
        words = shlex.split(open(path).read())
        i = 0
        while i < len(words):
            w = words[i]
            if w == "--env":
                env.append(words[i + 1].split("=", 1))
                i += 1
            elif w == "--inherit-env":
                inherit = True
            elif w in ("--dir", "--dir-ro"):
                spec = words[i + 1]
                host, guest = spec.split("::", 1) if "::" in spec else (spec, spec)
                dirs.append((host, guest, w == "--dir-ro"))
                i += 1
            elif w == "--allow-runtime-dirs":
                pass  # KILN_DIRS has no wasmtime equivalent
            elif w == "--cpu":
                i += 1  # Kiln's CPU level (rva23u64 for SIMD on riscv64); wasmtime uses the host's
            elif w == "--bounds-checks":
                i += 1  # how Kiln keeps memory in bounds; never changes the output
            else:
                raise SystemExit(f"{path}: unknown flag {w}")
            i += 1
    return env, inherit, dirs


def engine_config():
    """wasmtime with the proposals Kiln compiles that it leaves off by default."""
    config = wasmtime.Config()
    config.wasm_custom_page_sizes = True
    config.wasm_function_references = True
    config.wasm_wide_arithmetic = True
    return config


def run_env(base):
    """The environment the harness runs executables in (sorted by name, as
    Rust's Command passes it): HOME, PATH and NAME.runenv."""
    env = {"HOME": "/nonexistent", "PATH": "/usr/bin:/bin"}
    if os.path.exists(base + ".runenv"):
        for line in open(base + ".runenv").read().splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                env[k] = v
    return sorted(env.items())


def copy_fixture(src, dst):
    """Copies NAME.fixture/ into the working directory, keeping symlinks."""
    shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)


def run(name):
    src = next(os.path.join(E2E, name + ext) for ext in (".c", ".rs", ".wat", ".wasm")
               if os.path.exists(os.path.join(E2E, name + ext)))
    base = os.path.join(E2E, name)
    # The marker is in the source, or, for a prebuilt module, in NAME.note.
    text = open(base + ".note").read() if src.endswith(".wasm") and os.path.exists(base + ".note") else \
        ("" if src.endswith(".wasm") else open(src).read())
    if HAND_WRITTEN in text:
        print(f"{name}: expected output written by hand, skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        wasm = os.path.join(tmp, name + ".wasm")
        build(name, src, wasm)
        work = os.path.join(tmp, "work")
        os.mkdir(work)
        if os.path.isdir(base + ".fixture"):
            copy_fixture(base + ".fixture", work)
        args = shlex.split(open(base + ".args").read()) if os.path.exists(base + ".args") else []
        granted, inherit, dirs = parse_flags(base + ".flags")
        cfg = wasmtime.WasiConfig()
        cfg.argv = [name] + args
        env = []
        if inherit:
            names = {k for k, _ in granted}
            env = [[k, v] for k, v in run_env(base) if k not in names]
        cfg.env = env + granted
        out, err = os.path.join(tmp, "out"), os.path.join(tmp, "err")
        cfg.stdout_file = out
        cfg.stderr_file = err
        if os.path.exists(base + ".stdin"):
            cfg.stdin_file = base + ".stdin"
        # Host paths are relative to the working directory, as in Kiln.
        old_cwd = os.getcwd()
        os.chdir(work)
        try:
            for host, guest, read_only in dirs:
                cfg.preopen_dir(host, guest, not read_only)
            engine = wasmtime.Engine(engine_config())
            store = wasmtime.Store(engine)
            store.set_wasi(cfg)
            linker = wasmtime.Linker(engine)
            linker.define_wasi()
            module = wasmtime.Module.from_file(engine, wasm)
            trapped = False
            status = 0
            try:
                inst = linker.instantiate(store, module)
                start = inst.exports(store).get("_start")
                if start is not None:
                    start(store)
            except wasmtime.ExitTrap as e:
                status = e.code
            except (wasmtime.Trap, wasmtime.WasmtimeError) as e:
                msg = str(e)
                if INVALID_EXIT in msg:
                    # wasmtime's CLI reports this host error and exits 1.
                    # The error line is Kiln's own format (kept as written
                    # by hand, like a trap's), but must carry wasmtime's
                    # message.
                    trapped, status = True, 1
                    kept = open(base + ".stderr").read() if os.path.exists(base + ".stderr") else ""
                    if INVALID_EXIT not in kept:
                        print(f"{name}: {base}.stderr must carry wasmtime's message: {INVALID_EXIT}")
                    print(f"{name}: error: {INVALID_EXIT}")
                elif "thrown Wasm exception" in msg:
                    # An uncaught exception: like a trap, Kiln prints its
                    # own line (kept as written by hand) and exits 134.
                    trapped, status = True, 134
                    print(f"{name}: uncaught exception")
                elif "wasm trap" not in msg:
                    raise
                else:
                    trapped, status = True, 134
                    print(f"{name}: trap: {msg.strip().splitlines()[-1].strip()}")
        finally:
            os.chdir(old_cwd)
        open(base + ".stdout", "wb").write(open(out, "rb").read())
        open(base + ".status", "w").write(f"{status}\n")
        if not trapped:
            stderr = open(err, "rb").read()
            if stderr:
                open(base + ".stderr", "wb").write(stderr)
            elif os.path.exists(base + ".stderr"):
                os.remove(base + ".stderr")
        print(f"{name}: status {status}")


def main():
    names = sys.argv[1:] or sorted(
        {f.rsplit(".", 1)[0] for f in os.listdir(E2E) if f.endswith((".c", ".rs", ".wat", ".wasm"))}
    )
    for n in names:
        if n.startswith("unresolved_"):
            continue  # not runnable by design; the harness checks its compile error
        run(n)


if __name__ == "__main__":
    main()
