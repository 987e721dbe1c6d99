#!/usr/bin/env python3
"""The fuzzer's second oracle: wasmtime (through its Python API, the pinned
`wasmtime` package of scripts/tools.txt) answering the Kiln test driver's
requests, for the modules wasmi 1.1 cannot run: exceptions (try_table,
throw, throw_ref, exnref) and typed function references (call_ref, ...).
See fuzz/README.md for why wasmi stays the primary oracle: wasmtime shares
Cranelift, Kiln's code generator, though not its translator.

Started once per batch by fuzz/src/wasmtime.rs, it reads a script on stdin
and answers every line with exactly one line on stdout. The script holds
the driver's requests (runtime-lib/c/driver.c), answered with the driver's
own answer lines, so that the runner compares them as it compares wasmi's,
plus two lines of its own before each module's requests:

  load K HEXPATH            -> ok | error MESSAGE  (the module file for K)
  funcaddr K HEXNAME ADDR   -> ok                  (Kiln's `addr` answer)
  instantiate K             -> ok | trap KIND
  addr K HEXNAME            -> ok ADDR             (Kiln's, as given)
  set K HEXNAME VALUE       -> ok
  invoke K HEXNAME ARG...   -> ok RESULT... | trap KIND
  get K HEXNAME             -> ok VALUE
  dump K HEXNAME            -> ok SIZE HASH

Values are hex bit patterns, a v128 as `LO:HI`. Function references are
named by Kiln's pointers for the function exports (`funcaddr`), in both
directions, as the wasmi oracle does; externref N travels as N + 1. An
exnref has no identity the two sides share: it is answered as 0 (null) or
1, and the runner compares Kiln's answer by null-ness only.

Values go through wasmtime's C API (wasmtime_val_t) directly, not through
the Python wrappers, which convert floats through Python floats (losing
signalling NaN payloads) and know no v128 or exnref.

Traps are Kiln's kinds (kiln_abi::TrapKind); an uncaught exception is
KILN_UNCAUGHT_EXCEPTION, as the driver answers it. wasmtime has one trap
code for every null reference (throw_ref of null, call_ref of null,
ref.as_non_null, ...) where Kiln has three kinds: it is answered as
NULL_ANY, which the runner matches with any of the three.
"""
import ctypes
import os
import sys

import wasmtime
from wasmtime import _ffi as ffi

# kiln_abi::TrapKind and UNCAUGHT_EXCEPTION; NULL_ANY is this oracle's own
# (fuzz/src/wasmtime.rs: NULL_ANY).
UNCAUGHT_EXCEPTION = 0x100
NULL_ANY = 0x200
TRAP_KINDS = {
    "UNREACHABLE": 1,
    "MEMORY_OUT_OF_BOUNDS": 2,
    "TABLE_OUT_OF_BOUNDS": 3,
    "INDIRECT_CALL_TO_NULL": 4,
    "BAD_SIGNATURE": 5,
    "INTEGER_DIVISION_BY_ZERO": 6,
    "INTEGER_OVERFLOW": 7,
    "BAD_CONVERSION_TO_INTEGER": 8,
    "STACK_OVERFLOW": 9,
    "HEAP_MISALIGNED": 11,
    "ATOMIC_WAIT_NON_SHARED_MEMORY": 12,
    "NULL_REFERENCE": NULL_ANY,
}

# wasmtime_valkind_t (wasmtime/val.h).
I32, I64, F32, F64, V128, FUNCREF, EXTERNREF, ANYREF, EXNREF = range(9)
KINDS = {"i32": I32, "i64": I64, "f32": F32, "f64": F64, "v128": V128}


def kind_of(vt):
    """The wasmtime_valkind_t of a wasmtime.ValType. The Python API names
    types by wasm.h's kinds, where externref is `anyref` (generated modules
    have no GC types, so it is always externref) and a typed function
    reference is `funcref`. The runner never asks for exnref or v128 values
    (fuzz/src/wasmtime.rs: the C API aborts the process on them)."""
    s = str(vt)
    if s in KINDS:
        return KINDS[s]
    if s in ("anyref", "externref"):
        return EXTERNREF
    if s == "funcref":
        return FUNCREF
    raise ValueError(f"value type {s} is not supported by this oracle")


def config():
    """wasmtime with exactly the proposals the generated modules may use
    (gen::wasmtime_features): off by default are exceptions and function
    references; the rest are on in wasmtime 50 already."""
    c = wasmtime.Config()
    c.wasm_exceptions = True
    c.wasm_function_references = True
    c.wasm_tail_call = True
    c.wasm_multi_memory = True
    c.wasm_memory64 = True
    c.wasm_wide_arithmetic = True
    c.wasm_custom_page_sizes = True
    c.wasm_simd = True
    c.wasm_threads = True
    c.shared_memory = True
    c.wasm_relaxed_simd = False
    # wasmtime's default stack (512 KiB) is kept: recursion is bounded by
    # the modules' fuel (gen::FUEL) well below it.
    return c


@ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _no_finalizer(_data):
    pass


def fnv1a(h, data):
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


class Module:
    """One module of the script: its instance and the identities of its
    function exports."""

    def __init__(self, engine, store, path):
        with open(path, "rb") as f:
            self.module = wasmtime.Module(engine, f.read())
        self.store = store
        self.instance = None
        self.exports = None
        self.kiln_addrs = {}  # export name -> Kiln's pointer
        self.by_key = {}  # func identity -> Kiln's pointer
        self.by_addr = {}  # Kiln's pointer -> raw wasmtime_func_t


def func_key(f):
    """A function's identity in one store: its raw wasmtime_func_t."""
    return bytes(f)


class Oracle:
    def __init__(self):
        self.engine = wasmtime.Engine(config())
        self.modules = {}

    def ctx(self, m):
        return m.store._context()

    def to_raw(self, m, kind, text):
        v = ffi.wasmtime_val_t()
        v.kind = kind
        if kind == V128:
            lo, hi = (int(x, 16) for x in text.split(":"))
            for i in range(8):
                v.of.v128[i] = (lo >> (8 * i)) & 0xFF
                v.of.v128[8 + i] = (hi >> (8 * i)) & 0xFF
            return v
        bits = int(text, 16)
        if kind in (I32, F32):
            # f32 by its bits, through the union's i32 (never a C float).
            v.of.i32 = ctypes.c_int32(bits & 0xFFFFFFFF).value
        elif kind in (I64, F64):
            v.of.i64 = ctypes.c_int64(bits).value
        elif kind == FUNCREF:
            if bits == 0 or bits not in m.by_addr:
                v.of.funcref.store_id = 0
            else:
                v.of.funcref = m.by_addr[bits]
        elif kind == EXTERNREF:
            if bits == 0:
                v.of.externref.store_id = 0
            elif not ffi.wasmtime_externref_new(self.ctx(m), bits, _no_finalizer, ctypes.byref(v.of.externref)):
                raise RuntimeError("cannot make an externref")
        else:
            # exnref arguments are always null (the fuzzer has no others).
            v.of.exnref.store_id = 0
        return v

    def from_raw(self, m, v):
        """A value in the driver's text."""
        k = v.kind
        if k == I32 or k == F32:
            return "%x" % (v.of.i32 & 0xFFFFFFFF)
        if k == I64 or k == F64:
            return "%x" % (v.of.i64 & 0xFFFFFFFFFFFFFFFF)
        if k == V128:
            b = bytes(v.of.v128)
            return "%x:%x" % (int.from_bytes(b[:8], "little"), int.from_bytes(b[8:], "little"))
        if k == FUNCREF:
            if v.of.funcref.store_id == 0:
                return "0"
            return "%x" % m.by_key.get(func_key(v.of.funcref), 0xFFFFFFFFFFFFFFFF)
        if k == EXTERNREF:
            if v.of.externref.store_id == 0:
                return "0"
            data = ffi.wasmtime_externref_data(self.ctx(m), ctypes.byref(v.of.externref))
            return "%x" % (data or 0xFFFFFFFFFFFFFFFF)
        if k == EXNREF:
            return "0" if v.of.exnref.store_id == 0 else "1"
        return "0" if v.of.anyref.store_id == 0 else "1"

    def failure(self, m, trap, error):
        """The answer for a failed call or instantiation."""
        if ffi.wasmtime_context_has_exception(self.ctx(m)):
            exn = ffi.wasmtime_exnref_t()
            ffi.wasmtime_context_take_exception(self.ctx(m), ctypes.byref(exn))
            ffi.wasmtime_exnref_unroot(ctypes.byref(exn))
            return "trap %d" % UNCAUGHT_EXCEPTION
        if trap:
            t = wasmtime.Trap._from_ptr(trap)
            code = t.trap_code
            if code is not None and code.name in TRAP_KINDS:
                return "trap %d" % TRAP_KINDS[code.name]
            if code is not None:
                return "trap %d" % (0x1000 + code.value)
            return "error wasmtime: " + " ".join(t.message.split())
        return "error wasmtime: " + " ".join(str(wasmtime.WasmtimeError._from_ptr(error)).split())

    def command(self, line):
        words = line.split()
        op, k = words[0], int(words[1], 16)
        if op == "load":
            store = wasmtime.Store(self.engine)
            try:
                self.modules[k] = Module(self.engine, store, bytes.fromhex(words[2]).decode())
            except Exception as e:  # wasmtime rejects it: the runner skips the module
                self.modules.pop(k, None)
                return "error wasmtime rejects the module: " + " ".join(str(e).split())
            return "ok"
        m = self.modules.get(k)
        if m is None:
            return "error module not loaded"
        if op == "funcaddr":
            m.kiln_addrs[bytes.fromhex(words[2]).decode()] = int(words[3], 16)
            return "ok"
        if op == "instantiate":
            inst = ffi.wasmtime_instance_t()
            trap = ctypes.POINTER(ffi.wasm_trap_t)()
            error = ffi.wasmtime_instance_new(self.ctx(m), m.module.ptr(), None, 0, ctypes.byref(inst), ctypes.byref(trap))
            if error or trap:
                return self.failure(m, trap, error)
            m.instance = wasmtime.Instance._from_raw(inst)
            m.exports = m.instance.exports(m.store)
            for name, addr in m.kiln_addrs.items():
                f = m.exports[name]
                m.by_key[func_key(f._func)] = addr
                m.by_addr[addr] = f._func
            return "ok"
        if m.exports is None:
            return "error module is not instantiated"
        name = bytes.fromhex(words[2]).decode()
        try:
            e = m.exports[name]
        except KeyError:
            return "error no such export"
        if op == "addr":
            return "ok %x" % m.kiln_addrs.get(name, 0)
        if op == "set":
            v = self.to_raw(m, kind_of(e.type(m.store).content), words[3])
            error = ffi.wasmtime_global_set(self.ctx(m), ctypes.byref(e._global), ctypes.byref(v))
            return "error cannot set" if error else "ok"
        if op == "get":
            v = ffi.wasmtime_val_t()
            ffi.wasmtime_global_get(self.ctx(m), ctypes.byref(e._global), ctypes.byref(v))
            out = "ok " + self.from_raw(m, v)
            ffi.wasmtime_val_unroot(ctypes.byref(v))
            return out
        if op == "dump":
            h = 0xCBF29CE484222325
            if isinstance(e, wasmtime.Memory):
                size = ffi.wasmtime_memory_data_size(self.ctx(m), ctypes.byref(e._memory))
                data = ffi.wasmtime_memory_data(self.ctx(m), ctypes.byref(e._memory))
                return "ok %x %x" % (size, fnv1a(h, ctypes.string_at(data, size)))
            if isinstance(e, wasmtime.SharedMemory):
                size = e.data_len()
                return "ok %x %x" % (size, fnv1a(h, ctypes.string_at(e.data_ptr(), size)))
            if isinstance(e, wasmtime.Table):
                size = ffi.wasmtime_table_size(self.ctx(m), ctypes.byref(e._table))
                for i in range(size):
                    v = ffi.wasmtime_val_t()
                    ffi.wasmtime_table_get(self.ctx(m), ctypes.byref(e._table), i, ctypes.byref(v))
                    h = fnv1a(h, int(self.from_raw(m, v), 16).to_bytes(8, "little"))
                    ffi.wasmtime_val_unroot(ctypes.byref(v))
                return "ok %x %x" % (size, h)
            return "error not a memory or table export"
        if op == "invoke":
            if not isinstance(e, wasmtime.Func):
                return "error no such function export"
            ty = e.type(m.store)
            params = [kind_of(t) for t in ty.params]
            results = [kind_of(t) for t in ty.results]
            if len(words) - 3 != len(params):
                return "error missing argument"
            args = (ffi.wasmtime_val_t * max(1, len(params)))()
            for i, (kind, text) in enumerate(zip(params, words[3:])):
                args[i] = self.to_raw(m, kind, text)
            res = (ffi.wasmtime_val_t * max(1, len(results)))()
            trap = ctypes.POINTER(ffi.wasm_trap_t)()
            error = ffi.wasmtime_func_call(self.ctx(m), ctypes.byref(e._func), args, len(params), res, len(results), ctypes.byref(trap))
            for i in range(len(params)):
                ffi.wasmtime_val_unroot(ctypes.byref(args[i]))
            if error or trap:
                return self.failure(m, trap, error)
            out = ["ok"]
            for i in range(len(results)):
                out.append(self.from_raw(m, res[i]))
                ffi.wasmtime_val_unroot(ctypes.byref(res[i]))
            return " ".join(out)
        return "error unknown command"


def main():
    oracle = Oracle()
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            answer = oracle.command(line)
        except Exception as e:  # never the runner's line count out of step
            answer = "error oracle: " + " ".join(f"{type(e).__name__}: {e}".split())
        out.write(answer + "\n")
    out.flush()


if __name__ == "__main__":
    main()
