#!/usr/bin/env python3
"""Records lodepng.stdout: the same calls lodepng_host.c makes, through
wasmtime (the reference runtime, scripts/tools.txt pins its version).

    python3 testsuite/embed/lodepng_reference.py > testsuite/embed/lodepng.stdout
"""
import os, struct, subprocess, sys, tempfile, zlib
import wasmtime

here = os.path.dirname(os.path.abspath(__file__))
cache = os.path.join(tempfile.gettempdir(), "kiln-embed-fetch")
wasm = subprocess.run([sys.executable, os.path.join(here, "fetch.py"), cache], check=True, capture_output=True, text=True).stdout.strip()

eng = wasmtime.Engine()
store = wasmtime.Store(eng)
inst = wasmtime.Linker(eng).instantiate(store, wasmtime.Module.from_file(eng, wasm))
ex = inst.exports(store)
mem = ex["memory"]
ex["_initialize"](store)


def u32(p):
    return struct.unpack("<I", mem.read(store, p, p + 4))[0]


for size in (16, 256):
    img = bytearray(size * size * 4)
    for y in range(size):
        for x in range(size):
            o = (y * size + x) * 4
            img[o:o + 4] = bytes(((x ^ y) & 0xFF, (x * 3 + y) & 0xFF, ((x * y) >> 8) & 0xFF, 255))
    img = bytes(img)
    src = ex["malloc"](store, len(img))
    mem.write(store, img, src)
    meta = ex["malloc"](store, 12)
    err = ex["lodepng_encode32"](store, meta, meta + 4, src, size, size)
    png = mem.read(store, u32(meta), u32(meta) + u32(meta + 4))
    print(f"encode {size}x{size}: error {err}, {len(png)} bytes, crc32 {zlib.crc32(png):08x}")
    ex["free"](store, src)
    ex["free"](store, u32(meta))
    src = ex["malloc"](store, len(png))
    mem.write(store, png, src)
    err = ex["lodepng_decode32"](store, meta, meta + 4, meta + 8, src, len(png))
    w, h = u32(meta + 4), u32(meta + 8)
    raw = mem.read(store, u32(meta), u32(meta) + w * h * 4)
    print(f"decode: error {err}, {w}x{h}, crc32 {zlib.crc32(raw):08x}, same as input: {'yes' if raw == img else 'no'}")
    ex["free"](store, src)
    ex["free"](store, u32(meta))
    ex["free"](store, meta)
# Not a PNG: lodepng's own error code.
src = ex["malloc"](store, 16)
mem.write(store, b"definitely no png", src)
meta = ex["malloc"](store, 12)
print(f"decode garbage: error {ex['lodepng_decode32'](store, meta, meta + 4, meta + 8, src, 16)}")
