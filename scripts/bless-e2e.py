#!/usr/bin/env python3
"""Record the expected behaviour of every end-to-end test from a reference
runtime (wasmtime, through its Python API: `pip install wasmtime`).

For each test in testsuite/e2e (a .c or .wat file, plus optional .args,
.stdin and .flags), this builds the module exactly as the test harness does,
runs it under wasmtime with the same arguments, environment and stdin, and
writes:
  NAME.stdout   what the module printed,
  NAME.status   its exit status (134 for a trap, as the wasmtime CLI),
  NAME.stderr   what it printed on stderr, unless it trapped: a trap's line
                is Kiln's own format and is kept as written by hand.

CI never runs this; the files it writes are checked in.
Usage: scripts/bless-e2e.py [NAME...]
"""
import os
import shlex
import subprocess
import sys
import tempfile

import wasmtime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
E2E = os.path.join(ROOT, "testsuite", "e2e")
CFLAGS = ["--target=wasm32-wasi", "--sysroot=/usr", "-O2"]


def build(name, src, out):
    if src.endswith(".c"):
        subprocess.run(["clang-19", *CFLAGS, "-o", out, src, "-lm"], check=True)
    else:
        with open(out, "wb") as f:
            f.write(wasmtime.wat2wasm(open(src).read()))


def flags_env(path):
    env = []
    if os.path.exists(path):
        words = shlex.split(open(path).read())
        for i, w in enumerate(words):
            if w == "--env":
                env.append(words[i + 1].split("=", 1))
    return env


def run(name):
    src = next(os.path.join(E2E, name + ext) for ext in (".c", ".wat") if os.path.exists(os.path.join(E2E, name + ext)))
    base = os.path.join(E2E, name)
    with tempfile.TemporaryDirectory() as tmp:
        wasm = os.path.join(tmp, name + ".wasm")
        build(name, src, wasm)
        args = shlex.split(open(base + ".args").read()) if os.path.exists(base + ".args") else []
        cfg = wasmtime.WasiConfig()
        cfg.argv = [name] + args
        env = flags_env(base + ".flags")
        cfg.env = env
        out, err = os.path.join(tmp, "out"), os.path.join(tmp, "err")
        cfg.stdout_file = out
        cfg.stderr_file = err
        if os.path.exists(base + ".stdin"):
            cfg.stdin_file = base + ".stdin"
        engine = wasmtime.Engine()
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
            if "wasm trap" not in msg:
                raise
            trapped, status = True, 134
            print(f"{name}: trap: {msg.strip().splitlines()[-1].strip()}")
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
        {f.rsplit(".", 1)[0] for f in os.listdir(E2E) if f.endswith((".c", ".wat"))}
    )
    for n in names:
        if n.startswith("unresolved_"):
            continue  # not runnable by design; the harness checks its compile error
        run(n)


if __name__ == "__main__":
    main()
