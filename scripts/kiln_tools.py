"""What Kiln's Python harnesses (bench/bench.py, testsuite/programs/run.py,
scripts/bless-e2e.py) share about external tools: the one C-to-wasm recipe
(scripts/wasm-cc), the key that a cached wasm build must match, and the
list of programs they may run (scripts/tools.txt, which setup.sh installs
from). The Rust harnesses have the same in kiln_testsuite (tool, build_c).
"""
import functools
import hashlib
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WASM_CC = os.path.join(ROOT, "scripts", "wasm-cc")


@functools.lru_cache(maxsize=None)
def listed():
    """The programs and files scripts/tools.txt lists."""
    names = set()
    with open(os.path.join(ROOT, "scripts", "tools.txt")) as f:
        for line in f:
            words = line.split()
            if words and not words[0].startswith("#"):
                names.add(words[0])
    return names


def tool(name):
    """`name`, for a command line, after checking that tools.txt lists it
    (so that a fresh machine gets it from setup.sh)."""
    if name not in listed():
        raise SystemExit(f"harness bug: runs `{name}`, which scripts/tools.txt does not list")
    return name


@functools.lru_cache(maxsize=None)
def toolchain_id():
    """What a wasm build depends on besides sources and flags."""
    return subprocess.run([WASM_CC, "--toolchain-id"], capture_output=True, check=True).stdout


def build_key(*parts, files=()):
    """A cache key over strings/bytes and the contents of files."""
    h = hashlib.sha256(toolchain_id())
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    for path in files:
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]
