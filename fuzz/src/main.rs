//! `kiln-fuzz`: long fuzzing campaigns against Kiln. See fuzz/README.md.

use clap::{Parser, Subcommand};
use kiln_fuzz::{diff, malformed, rng};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "kiln-fuzz", about = "Differential and malformed-input fuzzing of Kiln")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct Common {
    /// Targets, comma-separated (default: every target this machine can run).
    #[arg(long, value_delimiter = ',')]
    targets: Vec<String>,
    /// Where failing modules are saved.
    #[arg(long)]
    artifacts: Option<PathBuf>,
    /// Scratch directory for executables.
    #[arg(long)]
    work: Option<PathBuf>,
    /// Time limit of one driver run in seconds (qemu gets four times as much).
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Argument sets per function.
    #[arg(long, default_value_t = 8)]
    arg_sets: usize,
    /// `--cpu` for the executables (default for diff: the baseline and the
    /// target's highest CPU level in turn by batch, where it runs here).
    #[arg(long)]
    cpu: Option<String>,
    /// `--bounds-checks` for the executables: guard or explicit (default
    /// for diff: both in turn by batch; for repro: guard).
    #[arg(long, value_parser = ["guard", "explicit"])]
    bounds_checks: Option<String>,
    /// Shrink attempts per finding (0: do not shrink).
    #[arg(long, default_value_t = 300)]
    shrink: u32,
}

#[derive(Subcommand)]
enum Cmd {
    /// Random modules, Kiln executables against the wasmi interpreter (and
    /// wasmtime for the exception and function-reference profiles).
    Diff {
        /// Time budget per target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Stop after this many batches per target.
        #[arg(long)]
        batches: Option<u64>,
        /// Campaign seed (default: from the clock; printed).
        #[arg(long, value_parser = parse_u64)]
        seed: Option<u64>,
        /// Modules per driver executable.
        #[arg(long, default_value_t = 16)]
        batch_size: u64,
        /// Cranelift level 0, 1 or 2 (default: 2, 0, 1 in turn by batch).
        #[arg(long)]
        opt: Option<String>,
        /// Only the profiles of one oracle: `wasmi`, or `wasmtime` (the
        /// exception and function-reference profiles). Default: every 4th
        /// batch is of the wasmtime profiles.
        #[arg(long, value_parser = ["wasmi", "wasmtime"])]
        oracle: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Runs one module again: a generated one by its seed, or a file.
    Repro {
        #[arg(long, value_parser = parse_u64)]
        seed: Option<u64>,
        #[arg(long)]
        module: Option<PathBuf>,
        #[arg(long, default_value = "2")]
        opt: String,
        #[command(flatten)]
        common: Common,
    },
    /// Prints the module of a seed, its requests and the oracle's answers
    /// (function identities shown as their export names' indices).
    Show {
        #[arg(long, value_parser = parse_u64, default_value = "0")]
        seed: u64,
        /// A module file (.wasm or .wat) instead of the seed's module.
        #[arg(long)]
        module: Option<PathBuf>,
        #[arg(long, default_value_t = 8)]
        arg_sets: usize,
        /// The seed's module as a batch gets it for a CPU level without
        /// SIMD (riscv64 without V): no v128.
        #[arg(long)]
        no_simd: bool,
    },
    /// Broken inputs for `kiln compile` and the library entry points.
    Malformed {
        #[arg(long)]
        iterations: Option<u64>,
        #[arg(long)]
        seconds: Option<u64>,
        #[arg(long, value_parser = parse_u64)]
        seed: Option<u64>,
        /// Runs only the input with this seed (as a finding names it).
        #[arg(long, value_parser = parse_u64)]
        input_seed: Option<u64>,
        /// The kiln binary (default: the one beside kiln-fuzz).
        #[arg(long)]
        kiln: Option<PathBuf>,
        /// Runs the kiln command on every Nth input.
        #[arg(long, default_value_t = 4)]
        cli_every: u64,
        #[command(flatten)]
        common: Common,
    },
}

fn parse_u64(s: &str) -> Result<u64, String> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    }
    .map_err(|e| e.to_string())
}

fn targets(names: &[String]) -> Result<Vec<&'static kiln::Target>, String> {
    if names.is_empty() {
        return Ok(kiln_testsuite::TARGETS.iter().copied().filter(|t| kiln_testsuite::runner(t).is_some()).collect());
    }
    names.iter().map(|n| kiln::Target::lookup(n)).collect()
}

fn options(c: &Common) -> diff::Options {
    let artifacts = c.artifacts.clone().unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts"));
    let work = c.work.clone().unwrap_or_else(|| kiln_testsuite::scratch("fuzz"));
    diff::Options {
        limits: kiln_fuzz::plan::Limits { arg_sets: c.arg_sets, ..Default::default() },
        timeout: Duration::from_secs(c.timeout),
        artifacts,
        work,
        cpu: c.cpu.clone(),
        bounds_checks: if c.bounds_checks.as_deref() == Some("explicit") {
            kiln::BoundsChecks::Explicit
        } else {
            kiln::BoundsChecks::Guard
        },
    }
}

fn report_and_shrink(f: &diff::Finding, o: &diff::Options, attempts: u32) {
    report(f);
    if attempts > 0 && f.kind != "timeout" {
        if let Some(m) = diff::shrink(f, o, attempts) {
            println!("  shrunk from {} to {} bytes: {}", f.module.len(), m.len(), f.saved.as_ref().map(|p| p.with_extension("min.wat").display().to_string()).unwrap_or_default());
        }
    }
}

fn report(f: &diff::Finding) {
    println!(
        "FOUND {} on {} (seed {:#x}, -O{}, cpu {}, {} bounds checks): {}\n  saved: {}",
        f.kind,
        f.target,
        f.seed,
        diff::opt_name(f.opt),
        f.cpu.as_deref().unwrap_or("baseline"),
        if f.bounds_checks == kiln::BoundsChecks::Explicit { "explicit" } else { "guard" },
        f.detail,
        f.saved.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
    );
}

/// A command-line value that did not parse: said on stderr, exit status 2.
fn usage<T>(r: Result<T, String>) -> Result<T, ExitCode> {
    r.map_err(|e| {
        eprintln!("kiln-fuzz: {e}");
        ExitCode::from(2)
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Diff { seconds, batches, seed, batch_size, opt, oracle, common } => {
            let seed = seed.unwrap_or_else(|| {
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
            });
            let fixed_opt = match usage(opt.as_deref().map(diff::parse_opt).transpose()) {
                Ok(v) => v,
                Err(code) => return code,
            };
            let ts = match usage(targets(&common.targets)) {
                Ok(v) => v,
                Err(code) => return code,
            };
            let o = options(&common);
            println!("kiln-fuzz diff: seed {seed:#x}, {seconds} s per target, targets {:?}", ts.iter().map(|t| t.name).collect::<Vec<_>>());
            let mut failed = false;
            let mut lines = Vec::new();
            for t in ts {
                // CPU levels in turn: the baseline, and the highest level
                // if executables built for it run here.
                let mut cpus = vec![o.cpu.clone()];
                if o.cpu.is_none() {
                    if let Some((level, _)) = t.cpu_levels.last() {
                        if diff::cpu_runs(t, level, &o) {
                            cpus.push(Some(level.to_string()));
                        } else {
                            println!("kiln-fuzz: {} executables for --cpu {level} do not run here; baseline only", t.name);
                        }
                    }
                }
                let start = Instant::now();
                let mut total = diff::Stats::default();
                let mut b = 0u64;
                while start.elapsed() < Duration::from_secs(seconds) && batches.is_none_or(|n| b < n) {
                    let wasmtime = match oracle.as_deref() {
                        Some(o) => o == "wasmtime",
                        None => b % 4 == 3,
                    };
                    let seeds: Vec<u64> = (0..batch_size)
                        .map(|j| kiln_fuzz::gen::family_seed(rng::module_seed(seed, b * batch_size + j), wasmtime))
                        .collect();
                    let level = fixed_opt.unwrap_or([kiln::OptLevel::SpeedAndSize, kiln::OptLevel::None, kiln::OptLevel::Speed][(b % 3) as usize]);
                    let mut bo = o.clone();
                    bo.cpu = cpus[(b / 3) as usize % cpus.len()].clone();
                    if common.bounds_checks.is_none() && b % 2 == 1 {
                        bo.bounds_checks = kiln::BoundsChecks::Explicit;
                    }
                    let (s, findings) = diff::run_batch(t, &seeds, level, &bo);
                    for f in &findings {
                        report_and_shrink(f, &bo, common.shrink);
                    }
                    total.add(&s);
                    b += 1;
                    eprintln!("[{} batch {b}] {}", t.name, total.summary(t.name, start.elapsed().as_secs_f64()));
                }
                failed |= total.failures() > 0;
                lines.push(total.summary(t.name, start.elapsed().as_secs_f64()));
            }
            for l in lines {
                println!("{l}");
            }
            if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Cmd::Repro { seed, module, opt, common } => {
            let level = match usage(diff::parse_opt(&opt)) {
                Ok(v) => v,
                Err(code) => return code,
            };
            let ts = match usage(targets(&common.targets)) {
                Ok(v) => v,
                Err(code) => return code,
            };
            let mut o = options(&common);
            // A reproduction never overwrites the saved artifacts (its
            // own, and their shrunk forms, go to WORK/repro-artifacts).
            o.artifacts = o.work.join("repro-artifacts");
            let mut failed = false;
            for t in ts {
                let (s, findings) = match (&module, seed) {
                    (Some(path), _) => match kiln::read_module(path) {
                        Ok(bytes) => {
                            let (s, mut found) = diff::run_module(t, bytes, seed.unwrap_or(0), level, &o);
                            for f in &mut found {
                                diff::save(f, &o.artifacts);
                            }
                            (s, found)
                        }
                        Err(e) => {
                            eprintln!("kiln-fuzz: {}: {e}", path.display());
                            return ExitCode::from(2);
                        }
                    },
                    (None, Some(s)) => diff::run_batch(t, &[s], level, &o),
                    (None, None) => {
                        eprintln!("kiln-fuzz: repro needs --seed or --module");
                        return ExitCode::from(2);
                    }
                };
                for f in &findings {
                    report_and_shrink(f, &o, common.shrink);
                }
                failed |= s.failures() > 0;
                println!("{}", s.summary(t.name, 0.0));
            }
            if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Cmd::Show { seed, module, arg_sets, no_simd } => {
            let g = match module {
                Some(p) => kiln::read_module(&p)
                    .map(|bytes| kiln_fuzz::gen::Generated { seed, profile: kiln_fuzz::gen::Profile::of_seed(seed), bytes })
                    .map_err(|e| e.to_string()),
                None => kiln_fuzz::gen::generate(seed, !no_simd),
            };
            let g = match g {
                Ok(g) => g,
                Err(e) => {
                    eprintln!("kiln-fuzz: {e}");
                    return ExitCode::FAILURE;
                }
            };
            println!(";; seed {seed:#x}, profile {:?}\n{}", g.profile, wasmprinter::print_bytes(&g.bytes).unwrap_or_default());
            let exports = match kiln_fuzz::plan::exports(&g.bytes) {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("kiln-fuzz: cannot read the exports: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let limits = kiln_fuzz::plan::Limits { arg_sets, ..Default::default() };
            let mut reqs = kiln_fuzz::plan::plan(&exports, seed, limits);
            let addrs = reqs
                .iter()
                .enumerate()
                .filter_map(|(i, r)| match r {
                    kiln_fuzz::plan::Req::Addr(n) => Some((n.clone(), i as u64 + 1)),
                    _ => None,
                })
                .collect();
            kiln_fuzz::plan::resolve_funcrefs(&mut reqs, &addrs);
            let answers = if kiln_fuzz::gen::needs_wasmtime(&g.bytes) {
                let job = kiln_fuzz::wasmtime::Job { bytes: &g.bytes, reqs: &reqs, kiln_addrs: &addrs };
                let work = kiln_testsuite::scratch("fuzz");
                kiln_fuzz::wasmtime::answer(&[job], &work, Duration::from_secs(60)).remove(0)
            } else {
                kiln_fuzz::oracle::answer(&g.bytes, &reqs, &addrs)
            };
            if g.profile.legacy() {
                if let Ok(b) = g.kiln_bytes() {
                    println!(";; what Kiln compiles (legacy exceptions):\n{}", wasmprinter::print_bytes(&b).unwrap_or_default());
                }
            }
            match answers {
                Ok(answers) => {
                    for (r, a) in reqs.iter().zip(answers) {
                        println!("{:<60} -> {a}", r.line(0));
                    }
                }
                Err(e) => println!("oracle: {e}"),
            }
            ExitCode::SUCCESS
        }
        Cmd::Malformed { iterations, seconds, seed, input_seed, kiln, cli_every, common } => {
            let o = options(&common);
            let seed = seed.unwrap_or_else(|| {
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
            });
            let kiln = kiln.or_else(malformed::find_kiln);
            if kiln.is_none() {
                eprintln!("kiln-fuzz: no kiln binary found (build it with `cargo build -p kiln` or pass --kiln); library only");
            }
            let iterations = if iterations.is_none() && seconds.is_none() { Some(1000) } else { iterations };
            let start = Instant::now();
            let run = malformed::Run {
                seed,
                only: input_seed,
                iterations,
                deadline: seconds.map(|s| start + Duration::from_secs(s)),
                cli_every,
                kiln,
                work: o.work.clone(),
                artifacts: o.artifacts.clone(),
            };
            println!("kiln-fuzz malformed: seed {seed:#x}");
            let (s, findings) = malformed::run(&run);
            for f in &findings {
                println!(
                    "FOUND malformed-input failure (input seed {:#x}): {}\n  saved: {}",
                    f.seed,
                    f.detail,
                    f.saved.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
                );
            }
            println!("{}", s.summary(start.elapsed().as_secs_f64()));
            if s.failures > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}
