#!/usr/bin/env python3
"""Fetches the lodepng reactor for the embedding test: npm's
@cwasm/lodepng 0.1.9 (github.com/LinusU/cwasm-lodepng, MIT), lodepng
compiled to a wasm32-wasi reactor by its packagers. Pinned by version and
sha256, cached in the directory given, and its path printed.

    python3 testsuite/embed/fetch.py CACHE_DIR
"""
import hashlib, io, os, sys, tarfile, urllib.request

URL = "https://registry.npmjs.org/@cwasm/lodepng/-/lodepng-0.1.9.tgz"
TGZ_SHA256 = "5e739f062988d8dc858d46c044e4225fc72fe78df16062f1894805433500dd91"
WASM_SHA256 = "26f7e3780b2bb5203a89be59ddda7bda2145aa27cc8387fe37153ffbae5c4744"


def main():
    cache = sys.argv[1]
    out = os.path.join(cache, "lodepng-0.1.9.wasm")
    if os.path.exists(out) and hashlib.sha256(open(out, "rb").read()).hexdigest() == WASM_SHA256:
        print(out)
        return
    data = urllib.request.urlopen(URL, timeout=60).read()
    got = hashlib.sha256(data).hexdigest()
    if got != TGZ_SHA256:
        sys.exit(f"fetch.py: {URL} has sha256 {got}, expected {TGZ_SHA256}")
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        wasm = t.extractfile("package/lodepng.wasm").read()
    if hashlib.sha256(wasm).hexdigest() != WASM_SHA256:
        sys.exit("fetch.py: package/lodepng.wasm does not have the pinned sha256")
    os.makedirs(cache, exist_ok=True)
    with open(out + ".tmp", "wb") as f:
        f.write(wasm)
    os.rename(out + ".tmp", out)
    print(out)


main()
