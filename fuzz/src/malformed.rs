//! Malformed-input mode: truncated, bit-flipped and spliced modules and
//! random bytes, fed to the library entry points (`kiln::compile_bytes`,
//! `kiln::build_driver`) and to the `kiln compile` command. None may panic
//! or crash; every rejection must name the file and, for a module that is
//! invalid (not merely using a proposal Kiln lacks), the offset; and no
//! failed compile may leave output behind.

use crate::gen;
use crate::rng::{module_seed, Rng};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub inputs: u64,
    /// Library and command runs in all.
    pub runs: u64,
    pub rejected: u64,
    /// Mutants that were still valid and compiled.
    pub accepted: u64,
    pub cli_runs: u64,
    pub failures: u64,
}

impl Stats {
    pub fn summary(&self, secs: f64) -> String {
        format!(
            "fuzz malformed: {} inputs, {} runs ({} by the kiln command), {} rejected, {} still valid, {} failures ({secs:.0} s)",
            self.inputs, self.runs, self.cli_runs, self.rejected, self.accepted, self.failures
        )
    }
}

#[derive(Clone, Debug)]
pub struct Finding {
    pub seed: u64,
    pub detail: String,
    pub input: Vec<u8>,
    pub saved: Option<PathBuf>,
}

/// The mutant of input number `seed`, and how it was made.
pub fn mutant(seed: u64) -> (Vec<u8>, String) {
    let mut rng = Rng::new(seed);
    let base = |rng: &mut Rng| gen::generate(rng.next_u64(), true).map(|g| g.bytes).unwrap_or_else(|_| b"\0asm\x01\0\0\0".to_vec());
    let a = base(&mut rng);
    match rng.below(6) {
        0 => {
            let n = rng.below(a.len() as u64) as usize;
            (a[..n].to_vec(), format!("truncated to {n} bytes"))
        }
        1 | 2 => {
            let mut m = a;
            let flips = 1 + rng.below(8);
            for _ in 0..flips {
                let bit = rng.below(m.len() as u64 * 8) as usize;
                m[bit / 8] ^= 1 << (bit % 8);
            }
            (m, format!("{flips} bits flipped"))
        }
        3 => {
            let b = base(&mut rng);
            let i = rng.below(a.len() as u64) as usize;
            let j = rng.below(b.len() as u64) as usize;
            let mut m = a[..i].to_vec();
            m.extend_from_slice(&b[j..]);
            (m, format!("spliced: first {i} bytes of one module, then another from byte {j}"))
        }
        4 => {
            // A byte run overwritten with 0xff or 0x80 (LEB128 continuation
            // bytes: over-long and overflowing integers).
            let mut m = a;
            let at = rng.below(m.len() as u64) as usize;
            let len = (1 + rng.below(12) as usize).min(m.len() - at);
            let fill = if rng.below(2) == 0 { 0xff } else { 0x80 };
            m[at..at + len].fill(fill);
            (m, format!("{len} bytes at {at} set to {fill:#x}"))
        }
        _ => {
            let n = rng.below(300) as usize;
            let mut m = vec![0u8; n];
            rng.fill(&mut m);
            if rng.below(4) != 0 {
                let mut h = b"\0asm\x01\0\0\0".to_vec();
                h.extend_from_slice(&m);
                m = h;
            }
            (m, format!("{n} random bytes"))
        }
    }
}

/// Whether the bytes are a module some proposal makes valid: only for a
/// module that is not is an offset owed.
fn valid_somehow(bytes: &[u8]) -> bool {
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all()).validate_all(bytes).is_ok()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Checks one rejection message.
fn check_error(msg: &str, name: &str, bytes: &[u8], text_format: bool) -> Result<(), String> {
    if !msg.contains(name) {
        return Err(format!("the error does not name the file `{name}`: {msg}"));
    }
    if valid_somehow(bytes) {
        return Ok(());
    }
    // The text format reports `--> FILE:LINE:COLUMN` instead.
    let at_line = |m: &str| {
        m.match_indices(&format!("--> {name}:")).any(|(i, p)| m[i + p.len()..].starts_with(|c: char| c.is_ascii_digit()))
    };
    let has_offset = msg.contains("offset 0x") || (text_format && at_line(msg));
    if !has_offset {
        return Err(format!("the error gives no offset: {msg}"));
    }
    Ok(())
}

/// Runs one input through one entry point in an empty directory `dir`;
/// returns whether it compiled.
fn library(
    entry: &str,
    bytes: &[u8],
    dir: &Path,
    f: impl FnOnce(&str, &Path) -> Result<(), kiln::CompileError>,
) -> Result<bool, String> {
    let name = dir.join("input.wasm").display().to_string();
    let out = dir.join("out");
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&name, &out)));
    let result = match r {
        Err(p) => {
            let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
            return Err(format!("{entry} panicked: {}", msg.unwrap_or_default()));
        }
        Ok(Ok(())) => Ok(true),
        Ok(Err(e)) => check_error(&e.to_string(), &name, bytes, false).map(|_| false).map_err(|m| format!("{entry}: {m}")),
    };
    let left = entries(dir);
    let compiled = matches!(result, Ok(true));
    let expected: &[&str] = if compiled { &["out"] } else { &[] };
    if left != expected {
        return Err(format!("{entry} left {left:?} behind (compiled: {compiled})"));
    }
    for e in left {
        let _ = std::fs::remove_file(dir.join(e));
    }
    result
}

/// Runs `kiln compile` on the input; `kiln` is the binary.
fn command(kiln: &Path, bytes: &[u8], dir: &Path) -> Result<bool, String> {
    let input = dir.join("input.wasm");
    std::fs::write(&input, bytes).map_err(|e| e.to_string())?;
    let out = dir.join("out");
    let mut child = Command::new(kiln)
        .arg("compile")
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", kiln.display()))?;
    let mut err = child.stderr.take().unwrap();
    let t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stderr = t.join().unwrap();
    let _ = std::fs::remove_file(&input);
    let left = entries(dir);
    let result = match status {
        None => Err("kiln compile hung for 120 s".to_string()),
        Some(s) => {
            use std::os::unix::process::ExitStatusExt;
            if let Some(sig) = s.signal() {
                Err(format!("kiln compile was killed by signal {sig}: {stderr}"))
            } else if s.code() == Some(0) {
                Ok(true)
            } else if s.code() != Some(1) {
                Err(format!("kiln compile exited with {:?} (a panic is 101): {stderr}", s.code()))
            } else if !stderr.starts_with("kiln: error: ") {
                Err(format!("kiln compile failed without `kiln: error:`: {stderr}"))
            } else {
                let text = !bytes.starts_with(b"\0asm");
                check_error(&stderr, &input.display().to_string(), bytes, text).map(|_| false)
            }
        }
    };
    let compiled = matches!(result, Ok(true));
    let expected: &[&str] = if compiled { &["out"] } else { &[] };
    let r = if left != expected {
        Err(format!("kiln compile left {left:?} behind (compiled: {compiled}); stderr: {stderr}"))
    } else {
        result
    };
    for e in entries(dir) {
        let _ = std::fs::remove_file(dir.join(e));
    }
    r
}

/// The `kiln` binary beside the running executable (target/<profile>/ or
/// its deps/), if built.
pub fn find_kiln() -> Option<PathBuf> {
    let me = std::env::current_exe().ok()?;
    let mut dir = me.parent()?;
    for _ in 0..2 {
        let k = dir.join("kiln");
        if k.is_file() {
            return Some(k);
        }
        dir = dir.parent()?;
    }
    None
}

pub struct Run {
    pub seed: u64,
    /// Run just this one input seed (as a finding names it).
    pub only: Option<u64>,
    pub iterations: Option<u64>,
    pub deadline: Option<Instant>,
    /// Every how many inputs the `kiln` command runs too (it costs a process).
    pub cli_every: u64,
    pub kiln: Option<PathBuf>,
    pub work: PathBuf,
    pub artifacts: PathBuf,
}

pub fn run(r: &Run) -> (Stats, Vec<Finding>) {
    let mut stats = Stats::default();
    let mut findings = Vec::new();
    let dir = r.work.join(format!("malformed-{:x}", r.seed));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("work directory");
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let target = kiln::Target::default_target();
    let mut i = 0u64;
    loop {
        if r.iterations.is_some_and(|n| i >= n) || r.deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        if r.only.is_some() && i > 0 {
            break;
        }
        let seed = r.only.unwrap_or_else(|| module_seed(r.seed, i));
        i += 1;
        let (bytes, how) = mutant(seed);
        stats.inputs += 1;
        let mut problems = Vec::new();
        let mut note = |res: Result<bool, String>, stats: &mut Stats| {
            stats.runs += 1;
            match res {
                Ok(true) => stats.accepted += 1,
                Ok(false) => stats.rejected += 1,
                Err(e) => problems.push(e),
            }
        };
        let mut obj = kiln::Options::new(target);
        obj.emit = kiln::Emit::Obj;
        note(library("kiln::compile_bytes", &bytes, &dir, |n, o| kiln::compile_bytes(n, &bytes, o, &obj)), &mut stats);
        let drv = kiln::Options::new(target);
        note(
            library("kiln::build_driver", &bytes, &dir, |n, o| kiln::build_driver(&[(n.to_string(), bytes.clone())], o, &drv)),
            &mut stats,
        );
        if let Some(k) = &r.kiln {
            if i % r.cli_every.max(1) == 1 % r.cli_every.max(1) {
                stats.cli_runs += 1;
                note(command(k, &bytes, &dir), &mut stats);
            }
        }
        if !problems.is_empty() {
            stats.failures += 1;
            let mut f = Finding { seed, detail: format!("input: {how}\n{}", problems.join("\n")), input: bytes, saved: None };
            let _ = std::fs::create_dir_all(&r.artifacts);
            let stem = r.artifacts.join(format!("malformed-{seed:016x}"));
            let _ = std::fs::write(stem.with_extension("wasm"), &f.input);
            let _ = std::fs::write(
                stem.with_extension("txt"),
                format!(
                    "seed: {seed:#018x}\n{}\n\nreproduce:\n  cargo run -p kiln-fuzz -- malformed --input-seed {seed:#x}\n  kiln compile {} -o /tmp/out\n",
                    f.detail,
                    stem.with_extension("wasm").display()
                ),
            );
            f.saved = Some(stem.with_extension("wasm"));
            findings.push(f);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    (stats, findings)
}
