# A wasi-threads host on wasmtime's Python API (pip install wasmtime==50.0.1),
# which records threads_pthreads's expected output: one store and instance per
# thread, all sharing one SharedMemory; wasi::thread-spawn starts a Python thread
# that instantiates the module again and calls wasi_thread_start(tid, arg).
import sys, threading, itertools
from wasmtime import (Engine, Config, Store, Module, Linker, WasiConfig, FuncType,
                      ValType, SharedMemory, MemoryType, Limits, ExitTrap)
cfg = Config(); cfg.wasm_threads = True; cfg.shared_memory = True
engine = Engine(cfg)
# wasmtime-py 50.0.1 bug: SharedMemory._as_extern wraps the pointer twice (TypeError); patch it here.
from wasmtime import _ffi as ffi
SharedMemory._as_extern = lambda self: ffi.wasmtime_extern_t(
    ffi.WASMTIME_EXTERN_SHAREDMEMORY, ffi.wasmtime_extern_union(sharedmemory=self.ptr()))
module = Module.from_file(engine, sys.argv[1])
mem_imp = next(i for i in module.imports if i.module == "env" and i.name == "memory")
mt = mem_imp.type
shared = SharedMemory(engine, MemoryType(Limits(mt.limits.min, mt.limits.max), shared=True))
tids = itertools.count(1); threads = []
def instantiate():
    store = Store(engine)
    w = WasiConfig(); w.inherit_stdout(); w.inherit_stderr(); w.argv = sys.argv[1:]
    store.set_wasi(w)
    linker = Linker(engine); linker.define_wasi()
    linker.define(store, "env", "memory", shared)
    def spawn(start_arg):
        tid = next(tids)
        def body():
            s, inst = instantiate()
            inst.exports(s)["wasi_thread_start"](s, tid, start_arg)
        t = threading.Thread(target=body); threads.append(t); t.start()
        return tid
    linker.define_func("wasi", "thread-spawn", FuncType([ValType.i32()], [ValType.i32()]), spawn)
    return store, linker.instantiate(store, module)
store, inst = instantiate()
code = 0
try:
    inst.exports(store)["_start"](store)
except ExitTrap as e:
    code = e.code
for t in list(threads): t.join()
sys.exit(code)
