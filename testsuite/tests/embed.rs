//! Embedding tests (`kiln compile --emit lib`, `--emit header`, `--link`):
//! C hosts linked with Kiln libraries, for every target this machine can
//! run (qemu-user for the others), against glibc (the host's, or Debian's
//! aarch64 and riscv64 cross sysroots), statically.
//!
//! - `host`: `testsuite/embed/host.c` links two libraries, `calc.wat`
//!   (host imports) and `files.c` (a WASI reactor), runs three instances of
//!   one and two of the other, on three threads, and prints every result;
//!   its stdout must equal `host.stdout` (values, Kiln's trap messages).
//! - `lodepng`: a real reactor published by others (npm `@cwasm/lodepng`,
//!   fetched at a pinned version and sha256 by `embed/fetch.py`), driven by
//!   `lodepng_host.c`; `lodepng.stdout` was recorded by running the same
//!   calls through wasmtime (`embed/lodepng_reference.py`).
//! - `example`: `docs/embedding-example.c`, the document's C example, with
//!   its output `docs/embedding-example.stdout`.
//! - `link`: a command whose host import `app_host.c` (freestanding C
//!   written against the header `--emit header` wrote) provides through
//!   `--link`; `app.stdout` is its expected output.
//! - `rust_host` (the machine's own target only): `testsuite/embed-rust`,
//!   a workspace crate whose build script compiles `calc.wat` with
//!   `kiln::Build` and whose binary uses only the generated safe Rust
//!   bindings; its stdout must equal `rust_host.stdout`, and an import
//!   that panics must abort the process with Kiln's message.
//! - `rust_example` (the machine's own target only): the document's Rust
//!   example, `docs/embedding-example.rs`, a second binary of that crate,
//!   with its output `docs/embedding-example-rust.stdout`.

use kiln_testsuite::*;
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    root().join("testsuite/embed")
}

/// The clang target triple of a C host for `target` (glibc).
fn host_triple(target: &Target) -> String {
    format!("{}-linux-gnu", target.name)
}

fn lib(target: &'static Target, wasm: &Path, out_dir: &Path, prefix: &str) -> Result<(), String> {
    let mut o = kiln::Options::new(target);
    o.emit = kiln::Emit::Lib;
    o.prefix = Some(prefix.to_string());
    o.header = Some(out_dir.join(format!("{prefix}.h")));
    kiln::compile_file(wasm, &out_dir.join(format!("lib{prefix}.a")), &o).map_err(|e| e.to_string())
}

/// Builds a C host program statically with clang-19 for `target`.
fn cc(target: &Target, out: &Path, args: &[&str]) -> Result<(), String> {
    let r = tool("clang-19")
        .arg(format!("--target={}", host_triple(target)))
        .args(["-fuse-ld=lld", "-static", "-O1", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(out)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run clang-19: {e}"))?;
    if !r.status.success() {
        return Err(format!("clang-19 failed:\n{}", String::from_utf8_lossy(&r.stderr)));
    }
    Ok(())
}

fn compare(name: &str, target: &Target, exe: &Path, args: &[String], cwd: &Path) -> Result<(), Failed> {
    let out = run_in(target, None, exe, args, None, cwd, &[])?;
    if out.status != 0 {
        return Err(format!(
            "{name} exited with {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    check_file(&dir().join(format!("{name}.stdout")), &out.stdout, "stdout")?;
    Ok(())
}

fn host_test(target: &'static Target) -> Result<(), Failed> {
    let d = dir();
    let work = scratch(&format!("embed/{}/host", target.name));
    let files_wasm = scratch("embed").join("files.wasm");
    build_c(&d.join("files.c"), &files_wasm, &["-mexec-model=reactor"])?;
    lib(target, &d.join("calc.wat"), &work, "calc")?;
    lib(target, &files_wasm, &work, "files")?;
    let exe = work.join("host");
    let inc = format!("-I{}", work.display());
    let libs = format!("-L{}", work.display());
    cc(target, &exe, &[&inc, d.join("host.c").to_str().unwrap(), &libs, "-lcalc", "-lfiles", "-lpthread"])?;
    // The directory the granted instance sees, fresh for each run.
    let run_dir = work.join("run");
    let _ = std::fs::remove_dir_all(&run_dir);
    std::fs::create_dir_all(run_dir.join("data")).map_err(|e| e.to_string())?;
    std::fs::copy(d.join("fixture/data/poem.txt"), run_dir.join("data/poem.txt")).map_err(|e| e.to_string())?;
    compare("host", target, &exe, &[], &run_dir)
}

/// docs/embedding.md's complete C example, exactly as the document shows it.
fn example_test(target: &'static Target) -> Result<(), Failed> {
    let d = dir();
    let work = scratch(&format!("embed/{}/example", target.name));
    lib(target, &d.join("calc.wat"), &work, "calc")?;
    let exe = work.join("example");
    let inc = format!("-I{}", work.display());
    let libs = format!("-L{}", work.display());
    let src = root().join("docs/embedding-example.c");
    cc(target, &exe, &[&inc, src.to_str().unwrap(), &libs, "-lcalc"])?;
    let out = run_in(target, None, &exe, &[], None, &work, &[])?;
    if out.status != 0 {
        return Err(format!("the example exited with {}", out.status).into());
    }
    check_file(&root().join("docs/embedding-example.stdout"), &out.stdout, "stdout")?;
    Ok(())
}

fn lodepng_test(target: &'static Target) -> Result<(), Failed> {
    let d = dir();
    let work = scratch(&format!("embed/{}/lodepng", target.name));
    let out = tool("python3")
        .arg(d.join("fetch.py"))
        .arg(scratch("embed"))
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !out.status.success() {
        return Err(format!("embed/fetch.py failed:\n{}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let wasm = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    lib(target, &wasm, &work, "lodepng")?;
    let exe = work.join("lodepng_host");
    let inc = format!("-I{}", work.display());
    let libs = format!("-L{}", work.display());
    cc(target, &exe, &[&inc, d.join("lodepng_host.c").to_str().unwrap(), &libs, "-llodepng"])?;
    compare("lodepng", target, &exe, &[], &work)
}

fn link_test(target: &'static Target) -> Result<(), Failed> {
    let d = dir();
    let work = scratch(&format!("embed/{}/link", target.name));
    let wasm = scratch("embed").join("app.wasm");
    build_c(&d.join("app.c"), &wasm, &[])?;
    let mut o = kiln::Options::new(target);
    o.emit = kiln::Emit::Header;
    kiln::compile_file(&wasm, &work.join("app.h"), &o).map_err(|e| e.to_string())?;
    // Freestanding: a Kiln executable has no C library.
    let host_o = work.join("app_host.o");
    let r = tool("clang-19")
        .arg(format!("--target={}", host_triple(target)))
        .args(["-ffreestanding", "-fno-stack-protector", "-fPIE", "-O1", "-Wall", "-Wextra", "-Werror", "-c"])
        .arg(format!("-I{}", work.display()))
        .arg(d.join("app_host.c"))
        .arg("-o")
        .arg(&host_o)
        .output()
        .map_err(|e| e.to_string())?;
    if !r.status.success() {
        return Err(format!("clang-19 failed:\n{}", String::from_utf8_lossy(&r.stderr)).into());
    }
    let mut o = kiln::Options::new(target);
    o.link_inputs = vec![host_o];
    let exe = work.join("app");
    kiln::compile_file(&wasm, &exe, &o).map_err(|e| e.to_string())?;
    compare("app", target, &exe, &["kiln".to_string(), "WASM".to_string()], &work)
}

/// Binary `name` of the Rust host crate (`testsuite/embed-rust`), built by
/// Cargo into the target directory this test runs from (`cargo build -p
/// kiln-embed-rust`: its build script compiles `calc.wat` with
/// `kiln::Build` for the machine's own target; a no-op when it is fresh).
fn rust_bin(name: &str) -> Result<PathBuf, Failed> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    // TARGET_DIR/PROFILE/deps/embed-HASH
    let profile_dir = me.parent().and_then(Path::parent).ok_or("unexpected test executable path")?;
    let target_dir = profile_dir.parent().ok_or("unexpected test executable path")?;
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_string(),
        Some(p) => p.to_string(),
        None => return Err("unexpected test executable path".into()),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["build", "--quiet", "-p", "kiln-embed-rust", "--bin", name, "--profile", &profile])
        .env("CARGO_TARGET_DIR", target_dir)
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo build -p kiln-embed-rust failed:\n{}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(profile_dir.join(name))
}

/// The Rust host: its output, then a panicking import.
fn rust_host_test(target: &'static Target) -> Result<(), Failed> {
    let exe = rust_bin("kiln-embed-rust")?;
    let work = scratch(&format!("embed/{}/rust_host", target.name));
    compare("rust_host", target, &exe, &[], &work)?;
    // A panicking import aborts the process, with a message, instead of
    // unwinding into wasm.
    let out = run_in(target, None, &exe, &["panic".to_string()], None, &work, &[])?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = "kiln: host import \"host\" \"log\" panicked (the log import was told to panic); \
                a panic must not unwind into wasm code: aborting";
    if out.status != 128 + 6 || !stderr.contains(want) {
        return Err(format!("a panicking import: status {} (want 134, SIGABRT), stderr:\n{stderr}", out.status).into());
    }
    Ok(())
}

/// docs/embedding.md's complete Rust example: the document shows the file
/// (all but its first line) and its output.
fn rust_example_test(target: &'static Target) -> Result<(), Failed> {
    let src = std::fs::read_to_string(root().join("docs/embedding-example.rs")).map_err(|e| e.to_string())?;
    let doc = std::fs::read_to_string(root().join("docs/embedding.md")).map_err(|e| e.to_string())?;
    let shown = src.split_once('\n').map_or("", |(_, rest)| rest);
    if !doc.contains(&format!("```rust\n{shown}```")) {
        return Err("docs/embedding.md does not show docs/embedding-example.rs (after its first line) as it is".into());
    }
    let exe = rust_bin("kiln-embed-rust-example")?;
    let work = scratch(&format!("embed/{}/rust_example", target.name));
    let out = run_in(target, None, &exe, &[], None, &work, &[])?;
    if out.status != 0 {
        return Err(format!("the Rust example exited with {}:\n{}", out.status, String::from_utf8_lossy(&out.stderr)).into());
    }
    check_file(&root().join("docs/embedding-example-rust.stdout"), &out.stdout, "stdout")?;
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for target in test_targets() {
        trials.push(Trial::test(format!("{}::host", target.name), move || host_test(target)));
        trials.push(Trial::test(format!("{}::lodepng", target.name), move || lodepng_test(target)));
        trials.push(Trial::test(format!("{}::link", target.name), move || link_test(target)));
        trials.push(Trial::test(format!("{}::example", target.name), move || example_test(target)));
        if target.name == std::env::consts::ARCH {
            trials.push(Trial::test(format!("{}::rust_host", target.name), move || rust_host_test(target)));
            trials.push(Trial::test(format!("{}::rust_example", target.name), move || rust_example_test(target)));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
