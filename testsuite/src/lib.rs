//! Shared plumbing for Kiln's data-driven test harnesses (`tests/`).
//!
//! Every harness builds real executables with the Kiln library and runs
//! them: natively for the host's target, under qemu-user for the others.
//! Nothing here is used by Kiln itself.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub use kiln_targets::{Target, TARGETS};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A scratch directory under Cargo's target directory, kept between runs
/// so built wasm modules can be reused.
pub fn scratch(sub: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"));
    let d = target.join("kiln-tests").join(sub);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The `kiln` binary of this build (beside the test binaries' `deps/`
/// directory; `cargo test --workspace` builds it), for the harnesses that
/// run `kiln run`.
pub fn kiln_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let bin = exe.parent().and_then(Path::parent).map(|d| d.join("kiln")).ok_or("no directory for the kiln binary")?;
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!("{} is missing: build it with `cargo build -p kiln`", bin.display()))
    }
}

/// The arguments of `kiln run` or `kiln compile` that give `opts`'s code
/// generation and WASI grants (what `kiln::Options` the test built).
pub fn option_args(opts: &kiln::Options) -> Vec<String> {
    let mut a = Vec::new();
    for kv in &opts.env {
        a.extend(["--env".to_string(), kv.clone()]);
    }
    if opts.inherit_env {
        a.push("--inherit-env".into());
    }
    for d in &opts.dirs {
        a.extend([if d.read_only { "--dir-ro" } else { "--dir" }.to_string(), format!("{}::{}", d.host, d.guest)]);
    }
    if let Some(cpu) = &opts.cpu {
        a.extend(["--cpu".to_string(), cpu.clone()]);
    }
    if opts.bounds_checks == kiln::BoundsChecks::Explicit {
        a.extend(["--bounds-checks".to_string(), "explicit".to_string()]);
    }
    if !opts.inline {
        a.push("--no-inline".into());
    }
    a
}

/// Whether `re-bless` mode is on: expected files are rewritten from the
/// actual output instead of compared.
pub fn blessing() -> bool {
    std::env::var_os("KILN_BLESS").is_some_and(|v| v != "0")
}

/// The targets to test: `KILN_TEST_TARGETS=x86_64,aarch64` restricts them;
/// by default, every target this machine can run (natively or with qemu).
pub fn test_targets() -> Vec<&'static Target> {
    let chosen: Option<Vec<String>> =
        std::env::var("KILN_TEST_TARGETS").ok().map(|s| s.split(',').map(|t| t.trim().to_string()).collect());
    TARGETS
        .iter()
        .copied()
        .filter(|t| match &chosen {
            Some(list) => list.iter().any(|n| n == t.name),
            None => runner(t).is_some(),
        })
        .collect()
}

/// How to run an executable for `target` here: directly on a matching
/// host, else through qemu-user if installed.
pub fn runner(target: &Target) -> Option<Vec<String>> {
    if target.name == std::env::consts::ARCH {
        return Some(vec![]);
    }
    let ok = tool(target.qemu).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    ok.ok().filter(|s| s.success()).map(|_| vec![target.qemu.to_string()])
}

/// The qemu-user CPU model (`-cpu`) that has every feature of `--cpu cpu`
/// for `target`, for running such executables under qemu: the one place
/// where the harnesses map Kiln's CPU levels and feature lists to qemu's
/// models. `None` is qemu's default model, which has the baseline. x86-64
/// and aarch64 use qemu's `max`; riscv64 names each extension, and gives V
/// (v1.0) a vector length of `vlen` bits (128, the least V allows, if
/// `None`). An unknown `cpu` is an error, as it is for `kiln compile`.
pub fn qemu_cpu(target: &Target, cpu: Option<&str>, vlen: Option<u32>) -> Result<Option<String>, String> {
    let features = target.cpu_features(cpu)?;
    if features.is_empty() {
        return Ok(None);
    }
    if target.name != "riscv64" {
        return Ok(Some("max".to_string()));
    }
    let mut model = String::from("rv64");
    for f in features {
        model.push_str(&format!(",{}=true", f.name));
        if f.name == "v" {
            model.push_str(&format!(",vext_spec=v1.0,vlen={}", vlen.unwrap_or(128)));
        }
    }
    Ok(Some(model))
}

/// One line of `scripts/tools.txt`: something a test uses, and the package
/// that provides it (`pip:NAME==VERSION` for a pinned PyPI package).
pub struct ToolNeed {
    /// A program looked up on PATH, an absolute path, or
    /// `python3:MODULE` for a Python package.
    pub need: String,
    pub package: String,
}

/// Every tool listed in `scripts/tools.txt`, which `scripts/setup.sh`
/// installs from.
pub fn tool_needs() -> Vec<ToolNeed> {
    let text = std::fs::read_to_string(root().join("scripts/tools.txt")).expect("scripts/tools.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some(ToolNeed { need: w.next()?.to_string(), package: w.next()?.to_string() })
        })
        .collect()
}

/// A command running the external program `name`, which must be listed in
/// `scripts/tools.txt` (so that `scripts/setup.sh` installs it on a fresh
/// machine): asking for an unlisted program is a harness bug and panics.
/// The repository's own scripts (`scripts/...`) are always allowed.
pub fn tool(name: &str) -> Command {
    if let Some(script) = name.strip_prefix("scripts/") {
        return Command::new(root().join("scripts").join(script));
    }
    assert!(
        tool_needs().iter().any(|t| t.need == name),
        "the test harness runs `{name}`, which scripts/tools.txt does not list: add it with its package"
    );
    Command::new(name)
}

/// What a wasm build depends on besides its sources and flags:
/// `scripts/wasm-cc --toolchain-id` (compiler and wasm package versions,
/// the recipe itself), computed once per test process.
fn toolchain_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        tool("scripts/wasm-cc")
            .arg("--toolchain-id")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    })
}

/// FNV-1a, for cache keys (not security).
fn fnv(h: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *h ^= *b as u64;
        *h = h.wrapping_mul(0x100000001b3);
    }
}

/// Builds a C file into a WASI module with `scripts/wasm-cc` (the one
/// recipe: clang-19, wasi-libc, never an automatic wasm-opt), at -O2 plus
/// `extra` flags. A previous build is reused only if its key matches: the
/// source path (debug info names it), the flags, the contents of the
/// source and of the headers beside it, and the toolchain.
pub fn build_c(src: &Path, out: &Path, extra: &[&str]) -> Result<(), String> {
    let key_path = out.with_extension("key");
    let mut h = 0xcbf29ce484222325u64;
    let abs = std::fs::canonicalize(src).unwrap_or(src.to_path_buf());
    fnv(&mut h, abs.display().to_string().as_bytes());
    fnv(&mut h, extra.join("\0").as_bytes());
    fnv(&mut h, toolchain_id().as_bytes());
    fnv(&mut h, &std::fs::read(src).map_err(|e| format!("{}: {e}", src.display()))?);
    let dir = abs.parent().unwrap_or(Path::new("."));
    let mut headers: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "h"))
        .collect();
    headers.sort();
    for hdr in headers {
        fnv(&mut h, hdr.file_name().unwrap().as_encoded_bytes());
        fnv(&mut h, &std::fs::read(&hdr).unwrap_or_default());
    }
    let key = format!("{h:016x}\n");
    if out.exists() && std::fs::read_to_string(&key_path).is_ok_and(|k| k == key) {
        return Ok(());
    }
    let tmp = out.with_extension("wasm.tmp");
    let r = tool("scripts/wasm-cc")
        .arg("-O2")
        .args(extra)
        .arg("-o")
        .arg(&tmp)
        .arg(src)
        .arg("-lm")
        .output()
        .map_err(|e| format!("cannot run scripts/wasm-cc (run scripts/setup.sh): {e}"))?;
    if !r.status.success() {
        return Err(format!("scripts/wasm-cc failed on {}:\n{}", src.display(), String::from_utf8_lossy(&r.stderr)));
    }
    std::fs::rename(&tmp, out).map_err(|e| e.to_string())?;
    std::fs::write(&key_path, key).map_err(|e| e.to_string())
}

/// What a Rust wasm build depends on besides its source and flags: Debian's
/// rustc (`rustc -vV`) and its wasm32-wasi standard library (libstd-rust-dev-wasm32).
fn rust_toolchain_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let mut id = tool("/usr/bin/rustc")
            .arg("-vV")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        // The standard library's file names carry its build hashes.
        let mut libs: Vec<String> = std::fs::read_dir("/usr/lib/rustlib/wasm32-wasi/lib")
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        libs.sort();
        id.push_str(&libs.join("\n"));
        id
    })
}

/// The flags every Rust test module is built with, before a test's own:
/// Debian's rustc for wasm32-wasi, optimised, without the standard
/// library's DWARF (which would make the module 5 MB).
pub const RUSTC_FLAGS: &[&str] = &["--target", "wasm32-wasi", "-C", "opt-level=2", "-C", "strip=debuginfo"];

/// Builds a Rust file into a WASI module with Debian's `/usr/bin/rustc`
/// ([`RUSTC_FLAGS`] plus `extra`). A previous build is reused only if its
/// key matches: the source path and contents, the flags and the toolchain.
pub fn build_rust(src: &Path, out: &Path, extra: &[&str]) -> Result<(), String> {
    let key_path = out.with_extension("key");
    let mut h = 0xcbf29ce484222325u64;
    let abs = std::fs::canonicalize(src).unwrap_or(src.to_path_buf());
    fnv(&mut h, abs.display().to_string().as_bytes());
    fnv(&mut h, extra.join("\0").as_bytes());
    fnv(&mut h, RUSTC_FLAGS.join("\0").as_bytes());
    fnv(&mut h, rust_toolchain_id().as_bytes());
    fnv(&mut h, &std::fs::read(src).map_err(|e| format!("{}: {e}", src.display()))?);
    let key = format!("{h:016x}\n");
    if out.exists() && std::fs::read_to_string(&key_path).is_ok_and(|k| k == key) {
        return Ok(());
    }
    let tmp = out.with_extension("wasm.tmp");
    let r = tool("/usr/bin/rustc")
        .args(RUSTC_FLAGS)
        .args(extra)
        .arg("-o")
        .arg(&tmp)
        .arg(src)
        .output()
        .map_err(|e| format!("cannot run /usr/bin/rustc (run scripts/setup.sh): {e}"))?;
    if !r.status.success() {
        return Err(format!("rustc failed on {}:\n{}", src.display(), String::from_utf8_lossy(&r.stderr)));
    }
    std::fs::rename(&tmp, out).map_err(|e| e.to_string())?;
    std::fs::write(&key_path, key).map_err(|e| e.to_string())
}

/// The result of running an executable.
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: i32,
}

/// Runs `exe` for `target` with arguments and optional stdin.
pub fn run(target: &Target, exe: &Path, args: &[String], stdin: Option<&Path>) -> Result<Outcome, String> {
    run_in(target, None, exe, args, stdin, Path::new("."), &[])
}

/// Like [`run`], but under qemu-user with CPU model `qemu_cpu` (`-cpu`)
/// when the target runs under qemu here; natively the host's CPU is used.
pub fn run_on_cpu(
    target: &Target,
    qemu_cpu: Option<&str>,
    exe: &Path,
    args: &[String],
    stdin: Option<&Path>,
) -> Result<Outcome, String> {
    run_with(target, qemu_cpu, exe, args, stdin, Path::new("."), &[])
}

/// Runs `exe` in working directory `cwd`, with `env` added to a minimal
/// environment, on CPU model `qemu_cpu` as for [`run_on_cpu`].
pub fn run_in(
    target: &Target,
    qemu_cpu: Option<&str>,
    exe: &Path,
    args: &[String],
    stdin: Option<&Path>,
    cwd: &Path,
    env: &[(String, String)],
) -> Result<Outcome, String> {
    run_with(target, qemu_cpu, exe, args, stdin, cwd, env)
}

fn run_with(
    target: &Target,
    qemu_cpu: Option<&str>,
    exe: &Path,
    args: &[String],
    stdin: Option<&Path>,
    cwd: &Path,
    env: &[(String, String)],
) -> Result<Outcome, String> {
    let exe = &std::fs::canonicalize(exe).map_err(|e| format!("{}: {e}", exe.display()))?;
    let prefix = runner(target).ok_or_else(|| format!("cannot run {} executables here", target.name))?;
    let mut cmd = match prefix.split_first() {
        Some((q, rest)) => {
            let mut c = tool(q);
            if let Some(cpu) = qemu_cpu {
                c.args(["-cpu", cpu]);
            }
            c.args(rest).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.args(args).env_clear().env("HOME", "/nonexistent").env("PATH", "/usr/bin:/bin").current_dir(cwd);
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd.stdin(match stdin {
        Some(p) => Stdio::from(std::fs::File::open(p).map_err(|e| e.to_string())?),
        None => Stdio::null(),
    });
    let out = cmd.output().map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    use std::os::unix::process::ExitStatusExt;
    let status = out.status.code().unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0));
    Ok(Outcome { stdout: out.stdout, stderr: out.stderr, status })
}

/// Compares `actual` with the file `expected` (missing = empty), or
/// rewrites the file in bless mode. Returns a readable diff on mismatch.
pub fn check_file(expected: &Path, actual: &[u8], what: &str) -> Result<(), String> {
    let want = std::fs::read(expected).unwrap_or_default();
    if want == actual {
        return Ok(());
    }
    if blessing() {
        if actual.is_empty() {
            let _ = std::fs::remove_file(expected);
        } else {
            std::fs::write(expected, actual).map_err(|e| e.to_string())?;
        }
        return Ok(());
    }
    Err(format!(
        "{what} differs from {}\n--- expected\n{}\n--- actual\n{}\n(re-bless with KILN_BLESS=1 only if the new output is right)",
        expected.display(),
        String::from_utf8_lossy(&want),
        String::from_utf8_lossy(actual)
    ))
}
