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
    let ok = Command::new(target.qemu).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    ok.ok().filter(|s| s.success()).map(|_| vec![target.qemu.to_string()])
}

/// Builds a C file into a WASI module with clang-19 and wasi-libc, unless
/// an up-to-date build of the same source with the same flags exists (a
/// `.recipe` file beside the output records them; debug info names the
/// source path, so a build from another checkout is not reused).
pub fn build_c(src: &Path, out: &Path, extra: &[&str]) -> Result<(), String> {
    let recipe_path = out.with_extension("recipe");
    let recipe = format!("{}\n{}\n", std::fs::canonicalize(src).unwrap_or(src.to_path_buf()).display(), extra.join(" "));
    let fresh = match (std::fs::metadata(src), std::fs::metadata(out)) {
        (Ok(s), Ok(o)) => o.modified().unwrap() >= s.modified().unwrap(),
        _ => false,
    } && std::fs::read_to_string(&recipe_path).is_ok_and(|r| r == recipe);
    if fresh {
        return Ok(());
    }
    let tmp = out.with_extension("wasm.tmp");
    let r = Command::new("clang-19")
        .args(["--target=wasm32-wasi", "--sysroot=/usr", "-O2"])
        .args(extra)
        .arg("-o")
        .arg(&tmp)
        .arg(src)
        .arg("-lm")
        .output()
        .map_err(|e| format!("cannot run clang-19 (run scripts/setup.sh): {e}"))?;
    if !r.status.success() {
        return Err(format!("clang-19 failed on {}:\n{}", src.display(), String::from_utf8_lossy(&r.stderr)));
    }
    std::fs::rename(&tmp, out).map_err(|e| e.to_string())?;
    std::fs::write(&recipe_path, recipe).map_err(|e| e.to_string())
}

/// The result of running an executable.
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: i32,
}

/// Runs `exe` for `target` with arguments and optional stdin.
pub fn run(target: &Target, exe: &Path, args: &[String], stdin: Option<&Path>) -> Result<Outcome, String> {
    run_in(target, exe, args, stdin, Path::new("."), &[])
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
/// environment.
pub fn run_in(
    target: &Target,
    exe: &Path,
    args: &[String],
    stdin: Option<&Path>,
    cwd: &Path,
    env: &[(String, String)],
) -> Result<Outcome, String> {
    run_with(target, None, exe, args, stdin, cwd, env)
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
            let mut c = Command::new(q);
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
