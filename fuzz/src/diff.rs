//! The differential runner: a batch of generated modules goes into ONE Kiln
//! test-driver executable per target; the driver's answers are compared
//! with the oracle's, request by request.
//!
//! What counts as a Kiln bug: a mismatch (results, trap kinds, exported
//! globals, memory and table hashes), a crash of the executable (death by
//! signal, or any exit before answering everything), a hang past the time
//! limit, and a compile error or panic on a valid module. Each is saved with
//! its seed under the artifacts directory.

use crate::gen::{self, Generated};
use crate::oracle::{self, Answer};
use crate::plan::{self, Limits, Req, Ty};
use kiln_targets::Target;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How a batch is run.
#[derive(Clone, Debug)]
pub struct Options {
    pub limits: Limits,
    /// Time limit for one driver run natively; qemu gets four times as much.
    pub timeout: Duration,
    /// Where failing modules are saved.
    pub artifacts: PathBuf,
    /// Scratch directory for executables and request scripts.
    pub work: PathBuf,
    /// `--cpu` for the executables (a level or feature list), or none for
    /// the target's baseline.
    pub cpu: Option<String>,
    /// `--bounds-checks` for the executables.
    pub bounds_checks: kiln::BoundsChecks,
}

/// Counts for one target.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub modules: u64,
    pub invocations: u64,
    pub requests: u64,
    pub mismatches: u64,
    pub crashes: u64,
    pub compile_failures: u64,
    pub timeouts: u64,
    /// Modules whose later state was not compared because a call exhausted
    /// the stack on one side (the depth is the implementation's choice).
    pub exhausted: u64,
    /// Modules the generator or the oracle could not handle (not Kiln bugs).
    pub skipped: u64,
    /// Modules compared with wasmtime instead of wasmi.
    pub wasmtime: u64,
    /// Runs that qemu-user itself aborted with an assertion failure in its
    /// translator (see [`is_emulator_fault`]): saved as findings of kind
    /// `emulator-fault`, but not Kiln failures.
    pub emulator_faults: u64,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        self.modules += o.modules;
        self.invocations += o.invocations;
        self.requests += o.requests;
        self.mismatches += o.mismatches;
        self.crashes += o.crashes;
        self.compile_failures += o.compile_failures;
        self.timeouts += o.timeouts;
        self.exhausted += o.exhausted;
        self.skipped += o.skipped;
        self.wasmtime += o.wasmtime;
        self.emulator_faults += o.emulator_faults;
    }

    pub fn failures(&self) -> u64 {
        self.mismatches + self.crashes + self.compile_failures + self.timeouts
    }

    /// The summary line (`fuzz: ...`), as `scripts/fuzz.sh` prints it.
    pub fn summary(&self, target: &str, secs: f64) -> String {
        format!(
            "fuzz {target}: {} modules, {} invocations, {} mismatches, {} crashes, {} compile failures, {} timeouts \
             ({} requests, {} stack-exhausted modules cut short, {} skipped, {} against wasmtime, \
             {} emulator faults, {secs:.0} s)",
            self.modules,
            self.invocations,
            self.mismatches,
            self.crashes,
            self.compile_failures,
            self.timeouts,
            self.requests,
            self.exhausted,
            self.skipped,
            self.wasmtime,
            self.emulator_faults
        )
    }
}

/// Whether a driver's end (its exit and stderr) is qemu-user aborting on an
/// assertion in its own code, e.g. qemu 7.2's riscv64 translator
/// (`decode_save_opc: Assertion ctx->insn_start != NULL`) on some vector
/// code. That says nothing about the generated code's behaviour on real
/// hardware (an instruction qemu cannot translate would be SIGILL, not an
/// assertion), so it is kept apart from crashes: saved, counted and
/// printed, to be re-run on a newer qemu or on hardware, but not a failure.
pub fn is_emulator_fault(end: &str) -> bool {
    end.contains("qemu-") && end.contains("Assertion") && end.contains("failed")
}

/// A Kiln bug found by the runner.
#[derive(Clone, Debug)]
pub struct Finding {
    pub kind: &'static str,
    pub target: &'static str,
    pub seed: u64,
    pub opt: kiln::OptLevel,
    pub cpu: Option<String>,
    pub bounds_checks: kiln::BoundsChecks,
    pub detail: String,
    /// What a reduced module must still show to count as the same bug:
    /// the kind, and for a mismatch the request and both answers' kinds.
    pub signature: String,
    pub module: Vec<u8>,
    /// Where it was saved.
    pub saved: Option<PathBuf>,
}

pub fn opt_name(o: kiln::OptLevel) -> &'static str {
    match o {
        kiln::OptLevel::None => "0",
        kiln::OptLevel::Speed => "1",
        kiln::OptLevel::SpeedAndSize => "2",
    }
}

pub fn parse_opt(s: &str) -> Result<kiln::OptLevel, String> {
    match s {
        "0" => Ok(kiln::OptLevel::None),
        "1" => Ok(kiln::OptLevel::Speed),
        "2" => Ok(kiln::OptLevel::SpeedAndSize),
        _ => Err(format!("optimisation level must be 0, 1 or 2, not `{s}`")),
    }
}

/// A module of a batch, ready to run.
struct Case {
    gen: Generated,
    /// What Kiln compiles (`Generated::kiln_bytes`).
    kiln: Vec<u8>,
    reqs: Vec<Req>,
}

fn name_of(seed: u64) -> String {
    format!("seed-{seed:016x}")
}

/// Saves a finding's module (binary and text) and description.
pub fn save(f: &mut Finding, artifacts: &Path) {
    let _ = std::fs::create_dir_all(artifacts);
    let explicit = f.bounds_checks == kiln::BoundsChecks::Explicit;
    let cpu_part = f.cpu.as_ref().map(|c| format!("-{c}")).unwrap_or_default() + if explicit { "-explicit" } else { "" };
    let cpu_arg = f.cpu.as_ref().map(|c| format!(" --cpu {c}")).unwrap_or_default()
        + if explicit { " --bounds-checks explicit" } else { "" };
    let stem = artifacts.join(format!("{}-{}-O{}{cpu_part}-{:016x}", f.kind, f.target, opt_name(f.opt), f.seed));
    let wasm = stem.with_extension("wasm");
    let _ = std::fs::write(&wasm, &f.module);
    if let Ok(text) = wasmprinter::print_bytes(&f.module) {
        let _ = std::fs::write(stem.with_extension("wat"), text);
    }
    // What Kiln compiled, where it differs from what the oracle ran.
    if gen::Profile::of_seed(f.seed).legacy() {
        if let Ok(text) = crate::variants::legacy(&f.module).and_then(|b| wasmprinter::print_bytes(b).map_err(|e| e.to_string())) {
            let _ = std::fs::write(stem.with_extension("kiln.wat"), text);
        }
    }
    let text = format!(
        "kind: {}\ntarget: {}\nseed: {:#018x}\nopt: -O{}\ncpu: {}\nbounds checks: {}\n\n{}\n\nreproduce:\n  cargo run -p kiln-fuzz -- repro --seed {:#x} --targets {} --opt {}{cpu_arg}\n  cargo run -p kiln-fuzz -- repro --module {} --targets {} --opt {}{cpu_arg}\n",
        f.kind,
        f.target,
        f.seed,
        opt_name(f.opt),
        f.cpu.as_deref().unwrap_or("baseline"),
        if explicit { "explicit" } else { "guard" },
        f.detail,
        f.seed,
        f.target,
        opt_name(f.opt),
        wasm.display(),
        f.target,
        opt_name(f.opt),
    );
    let _ = std::fs::write(stem.with_extension("txt"), text);
    f.saved = Some(wasm);
}

/// The kind of a NaN: the spec lets arithmetic pick any NaN of the right
/// kind, so two NaNs match when their classes do: canonical (any sign),
/// arithmetic (quiet bit set, any payload and sign), or signalling, which
/// only non-arithmetic operations (moves, loads, bit operations) produce
/// and which must then match bit for bit.
fn float_same(a: u64, b: u64, bits: u32) -> bool {
    let (exp, quiet, mag) = if bits == 32 {
        (0x7f80_0000u64, 0x0040_0000u64, 0x7fff_ffffu64)
    } else {
        (0x7ff0_0000_0000_0000, 0x0008_0000_0000_0000, 0x7fff_ffff_ffff_ffff)
    };
    let is_nan = |v: u64| v & exp == exp && v & (mag & !exp) != 0;
    if !(is_nan(a) && is_nan(b)) {
        return a == b;
    }
    let canonical = |v: u64| v & mag == exp | quiet;
    let arithmetic = |v: u64| v & quiet != 0;
    match (canonical(a), canonical(b)) {
        (true, true) => true,
        (false, false) if arithmetic(a) && arithmetic(b) => true,
        _ => a == b,
    }
}

/// Whether two results of type `ty` agree. A v128 compares bit for bit,
/// all 16 bytes: its lanes' interpretation is unknown here (a lane that
/// looks like a NaN may be an integer that must match exactly), so no
/// lane-wise NaN normalisation could be sound. Bit equality is also what
/// the spec requires of generated modules: every SIMD operation whose NaN
/// results the spec leaves open is followed by a canonicalisation in the
/// module itself (wasm-smith's `canonicalize_nans` for f32x4/f64x2
/// arithmetic, rounding, sqrt, min and max; `gen::rewrite` for
/// `f32x4.demote_f64x2_zero` and `f64x2.promote_low_f32x4`), and every
/// other operation that can yield a NaN (moves, loads, lane accesses,
/// bitwise operations, `abs`/`neg`, `pmin`/`pmax`) is specified bit for
/// bit. Relaxed SIMD, whose results are a set per operation, is not
/// generated (`gen::features`).
fn value_same(ty: Ty, a: u128, b: u128) -> bool {
    match ty {
        Ty::F32 => float_same((a as u64) & 0xffff_ffff, (b as u64) & 0xffff_ffff, 32),
        Ty::F64 => float_same(a as u64, b as u64, 64),
        _ => a == b,
    }
}

enum Verdict {
    Same,
    Differ,
    /// A call exhausted the stack on one side: the depth at which that
    /// happens is the implementation's choice (the spec leaves resource
    /// limits open), so neither this answer nor any later state of the
    /// module can be compared.
    Exhausted,
}

fn compare(req: &Req, kiln: &Answer, oracle: &Answer) -> Verdict {
    if matches!(kiln, Answer::Trap(9)) || matches!(oracle, Answer::Trap(9)) {
        return Verdict::Exhausted;
    }
    let same = match (req, kiln, oracle) {
        // Identities: the oracle answers Kiln's own pointers.
        (Req::Addr(_), Answer::Ok(_), Answer::Ok(_)) => true,
        (Req::Invoke { results, .. }, Answer::Ok(a), Answer::Ok(b)) => {
            a.len() == b.len() && a.len() == results.len() && results.iter().zip(a.iter().zip(b)).all(|(t, (x, y))| value_same(*t, *x, *y))
        }
        (Req::Get { ty, .. }, Answer::Ok(a), Answer::Ok(b)) => a.len() == 1 && b.len() == 1 && value_same(*ty, a[0], b[0]),
        // wasmtime has one trap code for Kiln's three null-reference kinds
        // (`crate::wasmtime::NULL_ANY`), whatever request ran the code: an
        // `invoke`, or an `instantiate` whose start function traps (found by
        // a campaign: `throw_ref` of a null exnref in a start function).
        (_, Answer::Trap(10 | 13 | 14), Answer::Trap(crate::wasmtime::NULL_ANY)) => true,
        (_, a, b) => a == b,
    };
    if same {
        Verdict::Same
    } else {
        Verdict::Differ
    }
}

/// Runs `exe` for `target`, built for `--cpu cpu`, with `input` on stdin;
/// returns stdout, how it ended (`None` for a normal exit 0), and whether
/// it timed out. Under qemu the CPU model is the one with every feature of
/// `cpu` (`kiln_testsuite::qemu_cpu`: riscv64's default model has no V).
fn run_driver(
    target: &Target,
    cpu: Option<&str>,
    exe: &Path,
    input: &Path,
    timeout: Duration,
) -> Result<(String, Option<String>, bool), String> {
    let prefix = kiln_testsuite::runner(target).ok_or_else(|| format!("cannot run {} executables here", target.name))?;
    let mut cmd = match prefix.split_first() {
        Some((q, rest)) => {
            let mut c = kiln_testsuite::tool(q);
            if let Some(model) = kiln_testsuite::qemu_cpu(target, cpu, None)? {
                c.args(["-cpu", &model]);
            }
            c.args(rest).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    let timeout = if prefix.is_empty() { timeout } else { timeout * 4 };
    cmd.env_clear().env("PATH", "/usr/bin:/bin");
    let (out, err, status) = run_with_timeout(cmd, input, timeout).map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    let timed_out = status.is_none();
    use std::os::unix::process::ExitStatusExt;
    let end = match status {
        None => Some(format!("killed after {} s", timeout.as_secs())),
        Some(s) if s.success() => None,
        Some(s) => Some(match s.signal() {
            Some(sig) => format!("killed by signal {sig}; stderr: {}", err.trim()),
            None => format!("exited with status {:?}; stderr: {}", s.code(), err.trim()),
        }),
    };
    Ok((out, end, timed_out))
}

/// Runs `cmd` with the file `input` on stdin, collecting stdout and stderr
/// (on threads, so neither pipe can fill up), and kills it after
/// `timeout`: returns (stdout, stderr, exit status or `None` if killed).
pub fn run_with_timeout(
    mut cmd: Command,
    input: &Path,
    timeout: Duration,
) -> Result<(String, String, Option<std::process::ExitStatus>), String> {
    cmd.stdin(Stdio::from(std::fs::File::open(input).map_err(|e| e.to_string())?));
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let out = String::from_utf8_lossy(&out_thread.join().unwrap_or_default()).into_owned();
    let err = String::from_utf8_lossy(&err_thread.join().unwrap_or_default()).into_owned();
    Ok((out, err, status))
}

/// Whether Kiln compiles SIMD for `target` at CPU level `cpu` (not for
/// riscv64 without V, where it refuses such a module as not buildable).
pub fn simd_compiles(target: &Target, cpu: Option<&str>) -> bool {
    target.cpu_features(cpu).is_ok_and(|f| target.simd_support(&f).is_ok())
}

/// Builds the cases for `seeds`, with SIMD if `simd` (modules the
/// generator fails on, or whose exports the runner cannot read, are
/// skipped and counted: not Kiln bugs).
fn cases(seeds: &[u64], simd: bool, limits: Limits, stats: &mut Stats) -> Vec<Case> {
    let mut out = Vec::new();
    for &seed in seeds {
        match gen::generate(seed, simd).and_then(|g| case_of(g, limits)) {
            Ok(c) => out.push(c),
            Err(e) => {
                eprintln!("kiln-fuzz: seed {seed:#x} skipped: {e}");
                stats.skipped += 1
            }
        }
    }
    out
}

fn case_of(gen: Generated, limits: Limits) -> Result<Case, String> {
    let exports = plan::exports(&gen.bytes)?;
    let reqs = plan::plan(&exports, gen.seed, limits);
    let kiln = gen.kiln_bytes()?;
    Ok(Case { gen, kiln, reqs })
}

/// Runs the modules of `seeds` on `target`; returns counts and findings
/// (already saved). The modules use SIMD where the batch's CPU level lets
/// Kiln compile it ([`simd_compiles`]).
pub fn run_batch(target: &'static Target, seeds: &[u64], opt: kiln::OptLevel, o: &Options) -> (Stats, Vec<Finding>) {
    let mut stats = Stats::default();
    let cases = cases(seeds, simd_compiles(target, o.cpu.as_deref()), o.limits, &mut stats);
    let mut findings = Vec::new();
    run_cases(target, cases, opt, o, &mut stats, &mut findings);
    for f in &mut findings {
        save(f, &o.artifacts);
    }
    (stats, findings)
}

/// Runs one given module (e.g. a saved artifact), with `seed` naming its
/// arguments.
pub fn run_module(target: &'static Target, bytes: Vec<u8>, seed: u64, opt: kiln::OptLevel, o: &Options) -> (Stats, Vec<Finding>) {
    let mut stats = Stats::default();
    let mut findings = Vec::new();
    let _ = std::fs::create_dir_all(&o.work);
    let g = Generated { seed, profile: gen::Profile::of_seed(seed), bytes };
    match case_of(g, o.limits) {
        Ok(c) => run_cases(target, vec![c], opt, o, &mut stats, &mut findings),
        Err(e) => {
            eprintln!("kiln-fuzz: {e}");
            stats.skipped += 1;
        }
    }
    (stats, findings)
}

fn finding(kind: &'static str, target: &Target, case: &Case, opt: kiln::OptLevel, detail: String) -> Finding {
    Finding {
        kind,
        target: target.name,
        seed: case.gen.seed,
        opt,
        cpu: None,
        bounds_checks: kiln::BoundsChecks::Guard,
        detail,
        signature: kind.to_string(),
        module: case.gen.bytes.clone(),
        saved: None,
    }
}

fn run_cases(
    target: &'static Target,
    mut cases: Vec<Case>,
    opt: kiln::OptLevel,
    o: &Options,
    stats: &mut Stats,
    findings: &mut Vec<Finding>,
) {
    if cases.is_empty() {
        return;
    }
    // A module with v128 (one given to `repro --module`) for a CPU level
    // without SIMD: Kiln rightly refuses it as not buildable, which is no
    // Kiln bug; it is skipped.
    if !simd_compiles(target, o.cpu.as_deref()) {
        let scalar = gen::features_for(false);
        let before = cases.len();
        let legacy = gen::wasmtime_features() | wasmparser::WasmFeatures::LEGACY_EXCEPTIONS;
        cases.retain(|c| wasmparser::Validator::new_with_features(scalar | legacy).validate_all(&c.kiln).is_ok());
        stats.skipped += (before - cases.len()) as u64;
        if cases.is_empty() {
            return;
        }
    }
    let _ = std::fs::create_dir_all(&o.work);
    let exe = o.work.join(format!("driver-{}-{:016x}", target.name, cases[0].gen.seed));
    let mut kopts = kiln::Options::new(target);
    kopts.opt_level = opt;
    kopts.cpu = o.cpu.clone();
    kopts.bounds_checks = o.bounds_checks;
    let first = findings.len();

    // Compile; a module Kiln fails on (error or panic) is a finding and
    // leaves the batch.
    loop {
        let modules: Vec<(String, Vec<u8>)> = cases.iter().map(|c| (name_of(c.gen.seed), c.kiln.clone())).collect();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| kiln::build_driver(&modules, &exe, &kopts)));
        let msg = match r {
            Ok(Ok(())) => break,
            Ok(Err(e)) => e.to_string(),
            Err(p) => format!("panic: {}", panic_text(&p)),
        };
        let bad = cases.iter().position(|c| msg.starts_with(&format!("{}:", name_of(c.gen.seed))));
        let bad = match bad {
            Some(k) => k,
            // Not attributed by name (a panic, a link error): find the
            // module by compiling each alone.
            None => match cases.iter().position(|c| {
                let one = vec![(name_of(c.gen.seed), c.kiln.clone())];
                !matches!(
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| kiln::build_driver(&one, &exe, &kopts))),
                    Ok(Ok(()))
                )
            }) {
                Some(k) => k,
                None => {
                    // Fails together but not alone: report the batch via its first module.
                    stats.compile_failures += 1;
                    findings.push(finding(
                        "compile",
                        target,
                        &cases[0],
                        opt,
                        format!("the batch {:?} fails to build, no module alone does: {msg}", seeds_of(&cases)),
                    ));
                    return;
                }
            },
        };
        stats.compile_failures += 1;
        stats.modules += 1;
        let c = cases.remove(bad);
        findings.push(finding("compile", target, &c, opt, format!("Kiln fails on a valid module: {msg}")));
        if cases.is_empty() {
            return;
        }
    }

    // Function references passed as arguments are Kiln's pointers, which
    // a first, short run learns (the executable is static: they do not
    // change between runs).
    if cases.iter().any(|c| plan::has_funcref_args(&c.reqs)) {
        let mut probe = String::new();
        let mut owner = Vec::new();
        for (k, c) in cases.iter().enumerate() {
            for r in c.reqs.iter().take_while(|r| matches!(r, Req::Instantiate | Req::Addr(_))) {
                probe.push_str(&r.line(k));
                probe.push('\n');
                owner.push((k, r.clone()));
            }
        }
        let script = exe.with_extension("probe");
        let answers = std::fs::write(&script, &probe)
            .map_err(|e| e.to_string())
            .and_then(|_| run_driver(target, o.cpu.as_deref(), &exe, &script, o.timeout))
            .map(|(out, _, _)| out)
            .unwrap_or_default();
        let _ = std::fs::remove_file(&script);
        let mut addrs = vec![HashMap::new(); cases.len()];
        for ((k, r), line) in owner.iter().zip(answers.lines()) {
            if let (Req::Addr(n), Answer::Ok(v)) = (r, Answer::parse(line)) {
                if let Some(p) = v.first() {
                    addrs[*k].insert(n.clone(), *p as u64);
                }
            }
        }
        for (c, a) in cases.iter_mut().zip(&addrs) {
            plan::resolve_funcrefs(&mut c.reqs, a);
        }
    }

    // One script for the whole batch.
    let mut input = String::new();
    let mut index = Vec::new(); // (case, request) of each line
    for (k, c) in cases.iter().enumerate() {
        for (i, r) in c.reqs.iter().enumerate() {
            input.push_str(&r.line(k));
            input.push('\n');
            index.push((k, i));
        }
    }
    let script = exe.with_extension("in");
    if let Err(e) = std::fs::write(&script, &input) {
        eprintln!("kiln-fuzz: cannot write {}: {e}", script.display());
        return;
    }
    let (out, end, timed_out) = match run_driver(target, o.cpu.as_deref(), &exe, &script, o.timeout) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kiln-fuzz: {e}");
            return;
        }
    };
    let answers: Vec<Answer> = out.lines().map(Answer::parse).collect();
    let _ = std::fs::remove_file(&exe);
    let _ = std::fs::remove_file(&script);

    // Modules fully answered are compared; if the run ended early, the
    // module of the first unanswered request is the culprit and the ones
    // after it run again in a new executable.
    let answered = answers.len().min(index.len());
    let complete = answered == index.len() && end.is_none();
    let culprit = if complete { None } else { Some(index.get(answered).map(|x| x.0).unwrap_or(cases.len() - 1)) };
    // The wasmtime oracle's answers for the modules wasmi cannot run, all
    // in one run of the oracle program.
    let mut wasmtime_answers: HashMap<usize, Result<Vec<Answer>, String>> = HashMap::new();
    {
        let mut at = 0;
        let mut picked = Vec::new();
        let mut addrs = Vec::new();
        for (k, c) in cases.iter().enumerate() {
            let n = c.reqs.len();
            if culprit.is_none_or(|b| k < b) && gen::needs_wasmtime(&c.gen.bytes) {
                picked.push(k);
                addrs.push(kiln_addrs(&c.reqs, &answers[at.min(answers.len())..(at + n).min(answers.len())]));
            }
            at += n;
        }
        if !picked.is_empty() {
            let jobs: Vec<crate::wasmtime::Job> = picked
                .iter()
                .zip(&addrs)
                .map(|(&k, a)| crate::wasmtime::Job { bytes: &cases[k].gen.bytes, reqs: &cases[k].reqs, kiln_addrs: a })
                .collect();
            let out = crate::wasmtime::answer(&jobs, &o.work, o.timeout);
            wasmtime_answers.extend(picked.into_iter().zip(out));
        }
    }
    let mut rest = Vec::new();
    let mut at = 0;
    for (k, c) in cases.into_iter().enumerate() {
        let n = c.reqs.len();
        let mine = &answers[at.min(answers.len())..(at + n).min(answers.len())];
        at += n;
        match culprit {
            Some(b) if k > b => {
                rest.push(c);
                continue;
            }
            Some(b) if k == b => {
                stats.modules += 1;
                let last = mine.len();
                let req = c.reqs.get(last).map(|r| r.line(k)).unwrap_or_default();
                let detail = format!(
                    "the driver {} while answering request {last} of this module: `{req}`",
                    end.clone().unwrap_or_else(|| "stopped".into())
                );
                if timed_out {
                    stats.timeouts += 1;
                    findings.push(finding("timeout", target, &c, opt, detail));
                } else if end.as_deref().is_some_and(is_emulator_fault) {
                    stats.emulator_faults += 1;
                    findings.push(finding("emulator-fault", target, &c, opt, detail));
                } else {
                    stats.crashes += 1;
                    findings.push(finding("crash", target, &c, opt, detail));
                }
                continue;
            }
            _ => {}
        }
        stats.modules += 1;
        check_case(target, &c, k, mine, wasmtime_answers.remove(&k), opt, stats, findings);
    }
    for f in &mut findings[first..] {
        f.cpu = o.cpu.clone();
        f.bounds_checks = o.bounds_checks;
    }
    if !rest.is_empty() {
        run_cases(target, rest, opt, o, stats, findings);
    }
}

/// Whether executables built with `--cpu level` start on this machine
/// (natively, or under the target's qemu with the CPU model for that
/// level): the runtime refuses to start where a feature is missing.
pub fn cpu_runs(target: &'static Target, level: &str, o: &Options) -> bool {
    let _ = std::fs::create_dir_all(&o.work);
    let exe = o.work.join(format!("cpu-probe-{}-{level}", target.name));
    let mut kopts = kiln::Options::new(target);
    kopts.cpu = Some(level.to_string());
    if kiln::build_driver(&[], &exe, &kopts).is_err() {
        return false;
    }
    let input = exe.with_extension("in");
    let ok = std::fs::write(&input, "").is_ok()
        && matches!(run_driver(target, Some(level), &exe, &input, o.timeout), Ok((_, None, false)));
    let _ = std::fs::remove_file(&exe);
    let _ = std::fs::remove_file(&input);
    ok
}

/// Shrinks a finding's module with wasm-shrink: a candidate is kept while
/// it is a valid module of the generated feature set and running it alone
/// still gives a finding of the same signature on the same target (the
/// same kind; for a mismatch, the same request and answer kinds). Writes
/// `<artifact>.min.wasm` and `.min.wat` beside the saved module and returns
/// the smallest module.
pub fn shrink(f: &Finding, o: &Options, attempts: u32) -> Option<Vec<u8>> {
    let target = kiln::Target::lookup(f.target).ok()?;
    let mut quick = o.clone();
    quick.timeout = quick.timeout.min(Duration::from_secs(10));
    quick.artifacts = o.work.join("shrink-artifacts");
    let signature = f.signature.clone();
    let predicate = |candidate: &[u8]| -> anyhow::Result<bool> {
        if wasmparser::Validator::new_with_features(gen::features() | gen::wasmtime_features()).validate_all(candidate).is_err() {
            return Ok(false);
        }
        let (_, found) = run_module(target, candidate.to_vec(), f.seed, f.opt, &quick);
        Ok(found.iter().any(|g| g.signature == signature))
    };
    let info = wasm_shrink::WasmShrink::default().attempts(attempts).run(f.module.clone(), predicate).ok()?;
    if let Some(saved) = &f.saved {
        let stem = saved.with_extension("");
        let _ = std::fs::write(stem.with_extension("min.wasm"), &info.output);
        if let Ok(text) = wasmprinter::print_bytes(&info.output) {
            let _ = std::fs::write(stem.with_extension("min.wat"), text);
        }
    }
    Some(info.output)
}

fn req_kind(r: &Req) -> &'static str {
    match r {
        Req::Instantiate => "instantiate",
        Req::Addr(_) => "addr",
        Req::SetFuel => "set",
        Req::Invoke { .. } => "invoke",
        Req::Get { .. } => "get",
        Req::Dump { .. } => "dump",
    }
}

/// An answer without its values: `ok`, `trap N`, `error`, `unlinkable`.
fn answer_kind(a: &Answer) -> String {
    match a {
        Answer::Ok(_) => "ok".into(),
        Answer::Trap(k) => format!("trap {k}"),
        Answer::Unlinkable(_) => "unlinkable".into(),
        Answer::Error(_) => "error".into(),
    }
}

fn seeds_of(cases: &[Case]) -> Vec<String> {
    cases.iter().map(|c| format!("{:#x}", c.gen.seed)).collect()
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

/// Kiln's `addr` answers: function identities by export name.
fn kiln_addrs(reqs: &[Req], kiln: &[Answer]) -> HashMap<String, u64> {
    let mut addrs = HashMap::new();
    for (r, a) in reqs.iter().zip(kiln) {
        if let (Req::Addr(n), Answer::Ok(v)) = (r, a) {
            if let Some(p) = v.first() {
                addrs.insert(n.clone(), *p as u64);
            }
        }
    }
    addrs
}

/// Compares one module's answers with the oracle's: wasmtime's
/// (`wasmtime`, already computed for the batch) for a module that needs
/// it, wasmi's otherwise.
#[allow(clippy::too_many_arguments)]
fn check_case(
    target: &'static Target,
    c: &Case,
    k: usize,
    kiln: &[Answer],
    wasmtime: Option<Result<Vec<Answer>, String>>,
    opt: kiln::OptLevel,
    stats: &mut Stats,
    findings: &mut Vec<Finding>,
) {
    let (expected, oracle_name) = match wasmtime {
        Some(Ok(e)) => {
            stats.wasmtime += 1;
            (e, "wasmtime")
        }
        Some(Err(e)) => {
            // wasmtime cannot run it: not a Kiln bug.
            eprintln!("kiln-fuzz: seed {:#x} skipped: {e}", c.gen.seed);
            stats.skipped += 1;
            return;
        }
        None => {
            let addrs = kiln_addrs(&c.reqs, kiln);
            match std::panic::catch_unwind(|| oracle::answer(&c.gen.bytes, &c.reqs, &addrs)) {
                Ok(Ok(e)) => (e, "wasmi"),
                Ok(Err(_)) | Err(_) => {
                    // wasmi cannot run it: not a Kiln bug, nothing to compare with.
                    stats.skipped += 1;
                    return;
                }
            }
        }
    };
    // An oracle error where Kiln answered is the oracle's limit, not a
    // Kiln bug, for wasmtime (whose Python binding's limits are not the
    // point); wasmi's unmapped errors stay mismatches (they found
    // `oracle::trap_kind`'s gaps).
    if oracle_name == "wasmtime" {
        if let Some((i, Answer::Error(m))) = expected.iter().enumerate().find(|(_, a)| matches!(a, Answer::Error(_))) {
            if !matches!(kiln.get(i), Some(Answer::Error(_))) {
                eprintln!("kiln-fuzz: seed {:#x} skipped: wasmtime oracle at request {i}: {m}", c.gen.seed);
                stats.skipped += 1;
                return;
            }
        }
    }
    for (i, ((r, a), e)) in c.reqs.iter().zip(kiln).zip(&expected).enumerate() {
        stats.requests += 1;
        if matches!(r, Req::Invoke { .. }) {
            stats.invocations += 1;
        }
        match compare(r, a, e) {
            Verdict::Same => {}
            Verdict::Exhausted => {
                stats.exhausted += 1;
                return;
            }
            Verdict::Differ => {
                stats.mismatches += 1;
                // The call before a state difference is its likely cause.
                let call = c.reqs[..=i].iter().rposition(|r| matches!(r, Req::Invoke { .. }));
                let context = match call {
                    Some(j) if j != i => format!(
                        "\nafter the call `{}` ({:?}), Kiln answered `{}`, {oracle_name} `{}`",
                        c.reqs[j].line(k),
                        c.reqs[j],
                        kiln[j],
                        expected[j]
                    ),
                    _ => String::new(),
                };
                let detail = format!(
                    "request {i}: `{}` ({r:?})\n  Kiln (expected from {oracle_name} in brackets): `{a}` [`{e}`]{context}",
                    r.line(k)
                );
                let mut f = finding("mismatch", target, c, opt, detail);
                f.signature = format!("mismatch {} {} / {}", req_kind(r), answer_kind(a), answer_kind(e));
                findings.push(f);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// wasmtime's one null-reference trap matches each of Kiln's three,
    /// also when a start function traps during `instantiate`.
    #[test]
    fn null_reference_traps_match_on_any_request() {
        let null_any = Answer::Trap(crate::wasmtime::NULL_ANY);
        for kind in [10, 13, 14] {
            assert!(matches!(compare(&Req::Instantiate, &Answer::Trap(kind), &null_any), Verdict::Same));
        }
        assert!(matches!(compare(&Req::Instantiate, &Answer::Trap(2), &null_any), Verdict::Differ));
    }

    #[test]
    fn nan_classes() {
        assert!(float_same(0x7fc0_0000, 0xffc0_0000, 32));
        assert!(float_same(0x7fc0_0001, 0x7fc1_0000, 32));
        assert!(!float_same(0x7fc0_0000, 0x7fa0_0000, 32));
        assert!(!float_same(0x7fa0_0000, 0x7fa0_0001, 32));
        assert!(float_same(0x7fa0_0000, 0x7fa0_0000, 32));
        assert!(!float_same(0x8000_0000, 0, 32));
        assert!(float_same(0x7ff8_0000_0000_0000, 0xfff8_0000_0000_0000, 64));
        assert!(!float_same(0x7ff8_0000_0000_0000, 0x7ff0_0000_0000_0001, 64));
    }

    /// A v128 travels as `LO:HI` and compares bit for bit, NaN-looking
    /// lanes included.
    #[test]
    fn v128_values() {
        assert_eq!(Answer::parse("ok 1:ffffffffffffffff"), Answer::Ok(vec![1 | (u64::MAX as u128) << 64]));
        assert_eq!(Answer::parse("ok 7fc00000:0").to_string(), "ok 7fc00000");
        assert_eq!(Answer::parse("ok 0:1").to_string(), "ok 0:1");
        assert_eq!(plan::value_text(Ty::V128, 2 << 64 | 3), "3:2");
        assert!(value_same(Ty::V128, 0x7fc0_0000 << 32, 0x7fc0_0000 << 32));
        assert!(!value_same(Ty::V128, 0x7fc0_0000 << 32, 0xffc0_0000 << 32));
        assert!(!value_same(Ty::V128, 1 << 100, 0));
    }
}
