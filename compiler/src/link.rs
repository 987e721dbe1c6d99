//! Linking objects and the embedded runtime into a static executable.
//!
//! Kiln drives lld directly: `ld.lld-19` or `ld.lld` from the PATH, or the
//! `rust-lld` shipped inside a Rust toolchain (run as `-flavor gnu`);
//! `--linker` or $KILN_LINKER override the search. The result is a static,
//! non-PIE ELF with no interpreter and no libc.
//!
//! The output is written atomically: lld writes a temporary file next to
//! the destination, which is renamed over it only on success.

use crate::error::CompileError;
use kiln_targets::Target;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A linker Kiln can run, and how.
#[derive(Debug, Clone)]
pub struct Linker {
    pub path: PathBuf,
    /// `rust-lld` needs `-flavor gnu`.
    pub needs_flavor: bool,
}

fn works(path: &Path, flavor: bool) -> bool {
    let mut c = Command::new(path);
    if flavor {
        c.args(["-flavor", "gnu"]);
    }
    c.arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
}

fn rust_lld_candidates() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Ok(out) = Command::new("rustc").args(["--print", "sysroot"]).output() {
        if out.status.success() {
            roots.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    let home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".rustup")));
    if let Some(h) = home {
        if let Ok(rd) = std::fs::read_dir(h.join("toolchains")) {
            roots.extend(rd.flatten().map(|e| e.path()));
        }
    }
    let mut found = Vec::new();
    for root in roots {
        if let Ok(rd) = std::fs::read_dir(root.join("lib/rustlib")) {
            for e in rd.flatten() {
                let p = e.path().join("bin/rust-lld");
                if p.is_file() {
                    found.push(p);
                }
            }
        }
    }
    found
}

impl Linker {
    /// An lld command for `target`'s ELF emulation, to add arguments to.
    pub(crate) fn command(&self, target: &Target) -> Command {
        let mut cmd = Command::new(&self.path);
        if self.needs_flavor {
            cmd.args(["-flavor", "gnu"]);
        }
        cmd.args(["-m", target.lld_emulation]);
        cmd
    }

    /// Runs `cmd` (from [`Linker::command`]); lld's messages become the error.
    pub(crate) fn run(&self, mut cmd: Command) -> Result<(), CompileError> {
        let out = cmd.output().map_err(|e| CompileError::Link(format!("cannot run {}: {e}", self.path.display())))?;
        if !out.status.success() {
            return Err(CompileError::Link(format!(
                "{} failed:\n{}",
                self.path.display(),
                String::from_utf8_lossy(&out.stderr).trim_end()
            )));
        }
        Ok(())
    }
}

/// Objects and a runtime archive written to a temporary directory for lld
/// (removed when dropped).
pub(crate) struct Staged {
    pub dir: tempfile::TempDir,
    pub objects: Vec<PathBuf>,
    pub runtime: PathBuf,
}

impl Staged {
    pub(crate) fn new(objects: &[Vec<u8>], runtime: &[u8]) -> Result<Staged, CompileError> {
        let dir = tempfile::tempdir().map_err(|e| CompileError::Link(format!("cannot create a temporary directory: {e}")))?;
        let write = |name: &str, bytes: &[u8]| -> Result<PathBuf, CompileError> {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).map_err(|e| CompileError::Write { path: p.display().to_string(), source: e })?;
            Ok(p)
        };
        let objects = objects.iter().enumerate().map(|(i, o)| write(&format!("m{i}.o"), o)).collect::<Result<_, _>>()?;
        let runtime = write("runtime.a", runtime)?;
        Ok(Staged { dir, objects, runtime })
    }
}

/// Finds a linker: an explicit choice, else $KILN_LINKER, else lld from the
/// PATH, else rust-lld from a Rust toolchain.
pub fn find_linker(explicit: Option<&Path>) -> Result<Linker, CompileError> {
    let chosen = explicit.map(Path::to_path_buf).or_else(|| std::env::var_os("KILN_LINKER").map(PathBuf::from));
    if let Some(p) = chosen {
        let flavor = p.file_name().is_some_and(|n| n.to_string_lossy().contains("rust-lld"));
        if works(&p, flavor) {
            return Ok(Linker { path: p, needs_flavor: flavor });
        }
        return Err(CompileError::Link(format!("the linker `{}` does not run (`{0} --version` failed)", p.display())));
    }
    for name in ["ld.lld-19", "ld.lld"] {
        if works(Path::new(name), false) {
            return Ok(Linker { path: PathBuf::from(name), needs_flavor: false });
        }
    }
    for p in rust_lld_candidates() {
        if works(&p, true) {
            return Ok(Linker { path: p, needs_flavor: true });
        }
    }
    Err(CompileError::Link(
        "no linker found: Kiln needs lld. Install it with `apt-get install lld-19`, \
         or install a Rust toolchain (which ships rust-lld), or pass --linker PATH"
            .into(),
    ))
}

/// Links `objects` with the runtime for `target` into `output`.
/// `high_image` places the executable above 4 GiB, leaving the low 4 GiB
/// free for the debug mirror of linear memory (`-g`). `extra` are the
/// user's `--link` objects and archives; `aliases` are `(name, target)`
/// symbol definitions (the embedding API's names for them).
pub fn link(
    linker: &Linker,
    target: &Target,
    objects: &[Vec<u8>],
    output: &Path,
    high_image: bool,
    extra: &[PathBuf],
    aliases: &[(String, String)],
) -> Result<(), CompileError> {
    // KILN_RUNTIME_<TARGET> (e.g. KILN_RUNTIME_X86_64) points at a runtime
    // archive to link instead of the embedded one: for developing the
    // runtime without rebuilding Kiln.
    let override_var = format!("KILN_RUNTIME_{}", target.name.to_uppercase());
    let external = match std::env::var_os(&override_var) {
        Some(p) => Some(std::fs::read(&p).map_err(|e| CompileError::Read { path: PathBuf::from(p).display().to_string(), source: e })?),
        None => None,
    };
    let runtime = match &external {
        Some(bytes) => bytes.as_slice(),
        None => kiln_runtime_lib::archive(target.name)
            .ok_or_else(|| CompileError::Link(format!("no runtime for target {}", target.name)))?,
    };
    let staged_inputs = Staged::new(objects, runtime)?;

    let dir = output_dir(output)?;
    let staged = tempfile::Builder::new()
        .prefix(".kiln-link-")
        .tempfile_in(&dir)
        .map_err(|e| CompileError::Write { path: output.display().to_string(), source: e })?;

    let mut cmd = linker.command(target);
    cmd.args(["-static", "-nostdlib", "--gc-sections", "--build-id=none", "--eh-frame-hdr"])
        .args(["-z", "noexecstack", "-e", "_start", "-u", "_start"])
        // No separate RELRO segment: in a static executable with no loader
        // nobody would make it read-only, so it would only cost a segment
        // and a page fault at start-up (issue 15's start-up target).
        .args(["-z", "norelro"])
        .args(if high_image { &["--image-base=0x100000000"][..] } else { &[][..] })
        .arg("-o")
        .arg(staged.path())
        .args(&staged_inputs.objects)
        .args(extra)
        .args(aliases.iter().map(|(name, to)| format!("--defsym={name}={to}")))
        .arg(&staged_inputs.runtime);
    linker.run(cmd)?;
    set_executable(staged.path())?;
    staged
        .persist(output)
        .map_err(|e| CompileError::Write { path: output.display().to_string(), source: e.error })?;
    Ok(())
}

fn set_executable(p: &Path) -> Result<(), CompileError> {
    set_mode_with_umask(p, 0o777).map_err(|e| CompileError::Write { path: p.display().to_string(), source: e })
}

/// The directory `output` goes in, where its temporary file is made (so the
/// final rename stays within one file system). A missing one is reported
/// as such, for `output`, rather than as the temporary file's error.
fn output_dir(output: &Path) -> Result<PathBuf, CompileError> {
    let dir = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        let why = if dir.exists() { "is not a directory" } else { "does not exist" };
        return Err(CompileError::Write {
            path: output.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, format!("{} {why}", dir.display())),
        });
    }
    Ok(dir)
}

/// Writes `bytes` to `output` atomically (temporary file, then rename).
pub fn write_atomic(output: &Path, bytes: &[u8]) -> Result<(), CompileError> {
    use std::io::Write;
    let dir = output_dir(output)?;
    let err = |e: std::io::Error| CompileError::Write { path: output.display().to_string(), source: e };
    let mut f = tempfile::Builder::new().prefix(".kiln-").tempfile_in(dir).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    // tempfile creates 0600; an object, CLIF or .wat file gets the usual
    // 0666 less the umask, as any other tool's output.
    set_mode_with_umask(f.path(), 0o666).map_err(err)?;
    f.persist(output).map_err(|e| err(e.error))?;
    Ok(())
}

/// Sets `mode` less the process's umask on `path`.
fn set_mode_with_umask(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // The umask can only be read by setting it; the probe file shows it.
    let probe = tempfile::Builder::new().prefix(".kiln-umask-").tempdir()?;
    let p = probe.path().join("m");
    std::fs::File::create(&p)?;
    let created = std::fs::metadata(&p)?.permissions().mode() & 0o777;
    // File::create asks for 0666, so the umask is what it lost.
    let umask = 0o666 & !created;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & !umask))
}
