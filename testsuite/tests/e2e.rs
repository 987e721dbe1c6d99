//! End-to-end tests: real programs compiled by Kiln into static
//! executables and run, for every target this machine can run.
//!
//! Each test in `testsuite/e2e/` is `NAME.c` (built with clang-19 and
//! wasi-libc, plus any flags in `NAME.cflags`), `NAME.rs` (built with
//! Debian's rustc for wasm32-wasi, plus any flags in `NAME.rustflags`),
//! `NAME.wat`, or a prebuilt `NAME.wasm` (whose `NAME.note` says where it
//! comes from and how to rebuild it), with optional `NAME.args` (shell words),
//! `NAME.stdin`, `NAME.flags` (`--env K=V`, `--inherit-env`, `--dir`,
//! `--dir-ro`, `--allow-runtime-dirs`, `--cpu LEVEL`, `--bounds-checks MODE`,
//! `--no-inline`), `NAME.runenv` (`K=V` lines set in
//! the environment the executable runs in) and `NAME.fixture/` (a directory
//! copied fresh into the executable's working directory for each run). The
//! expected `NAME.stdout` and `NAME.status` were recorded from wasmtime by
//! `scripts/bless-e2e.py`; `NAME.stderr` too, except for traps, whose line is
//! Kiln's own format. `NAME.compile-error` instead expects compilation to
//! fail with exactly that message and to leave no output file behind.
//!
//! On the target `kiln run` runs (this machine's), every program also runs
//! through `kiln run` (`jit::NAME`) against the same expected files: the
//! in-memory mode must give the executable's stdout, stderr and status
//! byte for byte. Programs whose `.flags` let the runner grant directories
//! (`--allow-runtime-dirs`, an executable's option) are left out there.
//!
//! `--cpu LEVEL` applies on the targets that know LEVEL (a CPU level or a
//! feature list of theirs) and is left out on the others, so one file can
//! say `--cpu rva23u64` for a SIMD program, which riscv64 compiles only
//! with V; a LEVEL that no target knows is an error. Under qemu such an
//! executable runs on a CPU model with those features (`qemu_cpu`: V at
//! VLEN 128).

use kiln_testsuite::*;
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};

fn words(path: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else { return vec![] };
    // Shell-like words: whitespace separated, single quotes group.
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in text.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

fn options(target: &'static Target, flags: &[String]) -> Result<kiln::Options, String> {
    let mut o = kiln::Options::new(target);
    let mut it = flags.iter();
    while let Some(f) = it.next() {
        match f.as_str() {
            "--env" => o.env.push(it.next().ok_or("--env needs a value")?.clone()),
            "--inherit-env" => o.inherit_env = true,
            "--dir" | "--dir-ro" => {
                let spec = it.next().ok_or("--dir needs a value")?;
                o.dirs.push(kiln::DirGrant::parse(spec, f == "--dir-ro").map_err(|e| e.to_string())?);
            }
            "--allow-runtime-dirs" => o.runtime_dirs = true,
            "--no-inline" => o.inline = false,
            "--bounds-checks" => {
                o.bounds_checks = match it.next().map(String::as_str) {
                    Some("guard") => kiln::BoundsChecks::Guard,
                    Some("explicit") => kiln::BoundsChecks::Explicit,
                    _ => return Err("--bounds-checks needs guard or explicit".into()),
                }
            }
            "--cpu" => {
                let level = it.next().ok_or("--cpu needs a value")?;
                if !TARGETS.iter().any(|t| t.cpu_features(Some(level)).is_ok()) {
                    return Err(format!("--cpu {level} in .flags: no target knows it"));
                }
                if target.cpu_features(Some(level)).is_ok() {
                    if o.cpu.is_some() {
                        return Err(format!("two --cpu values in .flags apply to {}", target.name));
                    }
                    o.cpu = Some(level.clone());
                }
            }
            other => return Err(format!("unknown flag in .flags: {other}")),
        }
    }
    Ok(o)
}

fn module_bytes(dir: &Path, name: &str, src: &Path) -> Result<Vec<u8>, String> {
    if src.extension().is_some_and(|e| e == "c") {
        let wasm = scratch("e2e-wasm").join(format!("{name}.wasm"));
        let cflags = words(&dir.join(format!("{name}.cflags")));
        build_c(src, &wasm, &cflags.iter().map(String::as_str).collect::<Vec<_>>())?;
        std::fs::read(&wasm).map_err(|e| e.to_string())
    } else if src.extension().is_some_and(|e| e == "rs") {
        let wasm = scratch("e2e-wasm").join(format!("{name}.wasm"));
        let flags = words(&dir.join(format!("{name}.rustflags")));
        build_rust(src, &wasm, &flags.iter().map(String::as_str).collect::<Vec<_>>())?;
        std::fs::read(&wasm).map_err(|e| e.to_string())
    } else {
        // NAME.wat, or a prebuilt NAME.wasm (its NAME.note says where it
        // comes from and how to rebuild it).
        kiln::read_module(src).map_err(|e| e.to_string())
    }
}

fn run_test(dir: &Path, name: &str, src: &Path, target: &'static Target) -> Result<(), Failed> {
    let base = dir.join(name);
    let bytes = module_bytes(dir, name, src)?;
    let opts = options(target, &words(&base.with_extension("flags")))?;
    let exe = scratch(&format!("e2e-{}", target.name)).join(name);
    let _ = std::fs::remove_file(&exe);
    let shown = src.file_name().unwrap().to_string_lossy().to_string();
    let compiled = kiln::compile_bytes(&shown, &bytes, &exe, &opts);
    let expect_error = base.with_extension("compile-error");
    if expect_error.exists() || name.starts_with("unresolved_") {
        let err = match compiled {
            Ok(()) => return Err("compilation succeeded but was expected to fail".into()),
            Err(e) => format!("{e}\n"),
        };
        if exe.exists() {
            return Err("a failed compilation left an output file behind".into());
        }
        check_file(&expect_error, err.as_bytes(), "compile error")?;
        return Ok(());
    }
    compiled.map_err(|e| e.to_string())?;
    let stdin = base.with_extension("stdin");
    let (work, runenv) = prepare_run(dir, name, target.name)?;
    let qemu = qemu_cpu(target, opts.cpu.as_deref(), None)?;
    let out = run_in(
        target,
        qemu.as_deref(),
        &exe,
        &words(&base.with_extension("args")),
        stdin.exists().then_some(stdin.as_path()),
        &work,
        &runenv,
    )?;
    check_outcome(&base, &out)
}

/// The working directory of one run, with the test's fixture copied in,
/// and the environment from `NAME.runenv`.
fn prepare_run(dir: &Path, name: &str, flavour: &str) -> Result<(PathBuf, Vec<(String, String)>), String> {
    let work = scratch(&format!("e2e-{flavour}-work")).join(name);
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let fixture = dir.join(format!("{name}.fixture"));
    if fixture.is_dir() {
        copy_tree(&fixture, &work).map_err(|e| format!("copying {}: {e}", fixture.display()))?;
    }
    let runenv = std::fs::read_to_string(dir.join(name).with_extension("runenv"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    Ok((work, runenv))
}

/// Checks a run's stdout, stderr and status against the test's files.
fn check_outcome(base: &Path, out: &Outcome) -> Result<(), Failed> {
    let mut errors = Vec::new();
    for (ext, actual) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        if let Err(e) = check_file(&base.with_extension(ext), actual, ext) {
            errors.push(e);
        }
    }
    if let Err(e) = check_file(&base.with_extension("status"), format!("{}\n", out.status).as_bytes(), "exit status") {
        errors.push(e);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n").into())
    }
}

/// `jit::NAME`: the program through `kiln run` on this machine.
fn run_jit(dir: &Path, name: &str, src: &Path, target: &'static Target) -> Result<(), Failed> {
    let base = dir.join(name);
    let bytes = module_bytes(dir, name, src)?;
    let opts = options(target, &words(&base.with_extension("flags")))?;
    let wasm = scratch("e2e-jit").join(format!("{name}.wasm"));
    std::fs::write(&wasm, &bytes).map_err(|e| e.to_string())?;
    let (work, runenv) = prepare_run(dir, name, "jit")?;
    let mut args = vec!["run".to_string()];
    args.extend(option_args(&opts));
    args.push(wasm.display().to_string());
    let compile_error = base.with_extension("compile-error");
    if !compile_error.exists() && !name.starts_with("unresolved_") {
        args.extend(words(&base.with_extension("args")));
    }
    let stdin = base.with_extension("stdin");
    let out = run_in(target, None, &kiln_binary()?, &args, stdin.exists().then_some(stdin.as_path()), &work, &runenv)?;
    if compile_error.exists() || name.starts_with("unresolved_") {
        // The compiler's message, as `kiln compile` prints it.
        let want = std::fs::read_to_string(&compile_error).unwrap_or_default();
        let got = String::from_utf8_lossy(&out.stderr);
        let shown = src.file_name().unwrap().to_string_lossy().to_string();
        let got = got.replace(&wasm.display().to_string(), &shown);
        if out.status != 1 || got != format!("kiln: error: {want}") {
            return Err(format!("expected status 1 and `kiln: error: {want}`, got status {}: {got}", out.status).into());
        }
        return Ok(());
    }
    check_outcome(&base, &out)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let dst = to.join(e.file_name());
        let ty = e.file_type()?;
        if ty.is_dir() {
            std::fs::create_dir_all(&dst)?;
            copy_tree(&e.path(), &dst)?;
        } else if ty.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path())?, &dst)?;
        } else {
            std::fs::copy(e.path(), &dst)?;
        }
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let dir: PathBuf = root().join("testsuite/e2e");
    let mut srcs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "c" || e == "rs" || e == "wat" || e == "wasm"))
        .collect();
    srcs.sort();
    let mut trials = Vec::new();
    for target in test_targets() {
        for src in &srcs {
            let name = src.file_stem().unwrap().to_string_lossy().to_string();
            let (d, s) = (dir.clone(), src.clone());
            trials.push(Trial::test(format!("{}::{name}", target.name), move || run_test(&d, &name, &s, target)));
        }
    }
    let host = test_targets().into_iter().find(|t| kiln::jit::target().is_some_and(|j| j.name == t.name));
    if let Some(target) = host {
        for src in &srcs {
            let name = src.file_stem().unwrap().to_string_lossy().to_string();
            let runtime_dirs = words(&dir.join(format!("{name}.flags"))).iter().any(|f| f == "--allow-runtime-dirs");
            let (d, s) = (dir.clone(), src.clone());
            let trial = Trial::test(format!("jit::{name}"), {
                let name = name.clone();
                move || run_jit(&d, &name, &s, target)
            });
            trials.push(trial.with_ignored_flag(runtime_dirs));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
