//! The `kiln` command line.
//!
//! `kiln compile app.wasm -o app`, `kiln run app.wasm ARGS...`, `kiln
//! targets` and `kiln inspect`. Errors are printed as `kiln: error: ...`
//! with exit status 1; Kiln never panics on bad input.

#[path = "cli/bench.rs"]
mod bench;

use clap::{Parser, Subcommand};
use kiln::{Emit, OptLevel, Options, Target};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "kiln", version, about = "Fire WebAssembly into static native executables")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a WASI module (.wasm or .wat) into a static executable.
    Compile(CompileArgs),
    /// Compile a WASI command in memory and run it in this process, as its
    /// executable would run (same code, runtime, output, traps and exit
    /// status), with no file written.
    Run(RunArgs),
    /// Run a module through every contender on this machine (Kiln AOT,
    /// Kiln JIT, wasmtime JIT and .cwasm, native code with --native), check
    /// that they print the same output, and compare their times.
    ///
    /// Every contender gets the same arguments, the same argv[0] (INPUT as
    /// given) and the same grants. Stdin, if it is not a terminal, is read
    /// once and given to every run. Flags go before INPUT: everything after
    /// it belongs to the program.
    Bench(BenchArgs),
    /// Run test-driver modules in memory (what `kiln::build_driver` makes
    /// an executable of; used by the spec suite's JIT pass).
    #[command(hide = true)]
    RunDriver {
        /// The modules, in order.
        modules: Vec<PathBuf>,
        #[command(flatten)]
        code: CodeArgs,
    },
    /// List the targets Kiln can compile for, with their CPU baselines.
    Targets,
    /// Show the settings baked into a Kiln executable: target, CPU
    /// features, directory and environment grants.
    Inspect {
        /// The executable.
        executable: PathBuf,
    },
}

#[derive(clap::Args)]
struct CompileArgs {
    /// The module to compile (binary .wasm or text .wat).
    input: PathBuf,
    /// Output path (default: the input's name without extension).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// What to write: a static executable, a static library with a C header
    /// for embedding (`lib`, see docs/embedding.md), only that header
    /// (`header`: what `--link` objects implement), a relocatable object,
    /// or CLIF text.
    #[arg(long, value_enum, default_value = "exe")]
    emit: EmitArg,
    /// Prefix of the C names of a library (`--emit lib`) or of the host
    /// imports `--link` provides (default: the input's file name).
    #[arg(long, value_name = "NAME")]
    prefix: Option<String>,
    /// Where `--emit lib` writes the C header (default: PREFIX.h next to the
    /// library).
    #[arg(long, value_name = "PATH")]
    header: Option<PathBuf>,
    /// Link an object or archive into the executable: it defines the
    /// module's non-WASI function imports as `PREFIX_import_MODULE_NAME`
    /// (declared by the header `--emit lib` writes). Repeatable.
    #[arg(long = "link", value_name = "FILE")]
    link: Vec<PathBuf>,
    /// Debug info: translate the module's DWARF so gdb and lldb debug the
    /// executable at the source level.
    #[arg(short = 'g')]
    debug: bool,
    /// Target triple or alias (x86_64, aarch64, riscv64).
    #[arg(long, default_value = "x86_64")]
    target: String,
    #[command(flatten)]
    code: CodeArgs,
    #[command(flatten)]
    wasi: WasiArgs,
    /// Let whoever runs the executable grant more directories with
    /// KILN_DIRS=HOST::GUEST[::ro];... (off by default).
    #[arg(long)]
    allow_runtime_dirs: bool,
    /// The lld to link with (default: ld.lld-19, ld.lld, or rust-lld).
    #[arg(long)]
    linker: Option<PathBuf>,
    /// No progress bar (one is shown for large modules when stderr is a
    /// terminal).
    #[arg(short, long)]
    quiet: bool,
}

/// How code is generated: the same flags for `compile` and `run`.
#[derive(clap::Args)]
struct CodeArgs {
    /// Optimisation level: 0 (fast compile, no inlining), 1 (speed), 2
    /// (speed and size). 1 and 2 inline small wasm functions at their direct
    /// calls.
    #[arg(short = 'O', value_name = "LEVEL", default_value = "2", value_parser = ["0", "1", "2"])]
    opt: String,
    /// Do not inline wasm functions into their callers (inlining is on at
    /// -O1 and -O2, off at -O0 and under -g). A trap in inlined code is
    /// reported in the function whose code trapped either way.
    #[arg(long)]
    no_inline: bool,
    /// CPU level above the target's baseline (see `kiln targets`), a
    /// comma-separated feature list, or `native` (this machine's features).
    /// The program checks at start-up that the CPU has them.
    #[arg(long)]
    cpu: Option<String>,
    /// How linear memory is kept in bounds. `guard` (default): an 8 GiB
    /// address-space reservation per memory and no checks in code.
    /// `explicit`: a compare before every access and memories map only
    /// what they use, for small address spaces or no overcommit (64-bit
    /// memories and 1-byte pages are always checked explicitly).
    #[arg(long, value_enum, default_value = "guard", value_name = "MODE")]
    bounds_checks: BoundsArg,
}

/// What the program may reach: the same grants for `compile` and `run`.
#[derive(clap::Args)]
struct WasiArgs {
    /// Grant the program an environment variable (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Let the program see the whole environment it is started with.
    #[arg(long)]
    inherit_env: bool,
    /// Grant a directory, read-write: HOST[::GUEST]. HOST is resolved when
    /// the program starts (`.` is its working directory then); the
    /// program sees it as GUEST (default: HOST). Repeatable.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// Grant a directory read-only: HOST[::GUEST]. Repeatable.
    #[arg(long = "dir-ro", value_name = "HOST[::GUEST]")]
    dirs_ro: Vec<String>,
    /// Wasm stack size of each thread the program spawns (wasi-threads),
    /// e.g. 1048576, 512K or 8M (default 1M; the main thread has 8M).
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    thread_stack: Option<u64>,
}

/// A size in bytes, with an optional K or M suffix (powers of 1024), from
/// 64 KiB to 1 GiB.
fn parse_size(s: &str) -> Result<u64, String> {
    let (digits, unit) = match s.strip_suffix(['K', 'k']) {
        Some(d) => (d, 1u64 << 10),
        None => match s.strip_suffix(['M', 'm']) {
            Some(d) => (d, 1 << 20),
            None => (s, 1),
        },
    };
    let n: u64 = digits.parse().map_err(|_| format!("`{s}` is not a size (BYTES, or a number with K or M)"))?;
    match n.checked_mul(unit) {
        Some(v) if (64 << 10..=1 << 30).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is outside 64K..1024M")),
    }
}

/// `kiln run`'s arguments and flags, plus the measurement's.
#[derive(clap::Args)]
struct BenchArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Runs per contender.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// Native code to compare with: a C source (built with clang -O2) or an
    /// executable.
    #[arg(long, value_name = "FILE")]
    native: Option<PathBuf>,
    /// The wasmtime CLI (default: `wasmtime` on PATH, else the `wasmtime`
    /// Python package if installed).
    #[arg(long, value_name = "PATH")]
    wasmtime: Option<PathBuf>,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also draw the median times as a bar chart (PNG).
    #[arg(long, value_name = "OUT.png")]
    chart: Option<PathBuf>,
}

/// `kiln run`'s operands: Kiln's flags come first, and everything after
/// INPUT belongs to the program, even words that look like Kiln flags
/// (`kiln run app.wasm --help` passes `--help` to the program).
#[derive(clap::Args)]
struct RunArgs {
    /// INPUT, the module to run (binary .wasm or text .wat), then the
    /// program's arguments (its argv[0] is INPUT as given). Everything after
    /// INPUT goes to the program.
    #[arg(
        value_name = "INPUT [ARGS]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true
    )]
    command: Vec<OsString>,
    /// No progress bar (one is shown for large modules when stderr is a
    /// terminal).
    #[arg(short, long)]
    quiet: bool,
    /// Not an option of `kiln run` (it runs on this machine); accepted only
    /// to say so, rather than clap's "use `-- --target`" tip.
    #[arg(long, hide = true, value_name = "TARGET")]
    target: Option<String>,
    #[command(flatten)]
    code: CodeArgs,
    #[command(flatten)]
    wasi: WasiArgs,
}

impl RunArgs {
    /// INPUT and the program's arguments.
    fn input_and_args(&self) -> (PathBuf, Vec<OsString>) {
        let (input, args) = self.command.split_first().expect("clap requires INPUT");
        (PathBuf::from(input), args.to_vec())
    }
}

impl WasiArgs {
    /// The same grants as `kiln compile`/`kiln run` flags.
    fn flags(&self) -> Vec<OsString> {
        let mut v: Vec<OsString> = Vec::new();
        for kv in &self.env {
            v.extend(["--env".into(), kv.into()]);
        }
        if self.inherit_env {
            v.push("--inherit-env".into());
        }
        for d in &self.dirs {
            v.extend(["--dir".into(), d.into()]);
        }
        for d in &self.dirs_ro {
            v.extend(["--dir-ro".into(), d.into()]);
        }
        if let Some(n) = self.thread_stack {
            v.extend(["--thread-stack".into(), n.to_string().into()]);
        }
        v
    }
}

impl CodeArgs {
    fn flags(&self) -> Vec<OsString> {
        let mut v: Vec<OsString> = vec![format!("-O{}", self.opt).into()];
        if self.no_inline {
            v.push("--no-inline".into());
        }
        if let Some(c) = &self.cpu {
            v.extend(["--cpu".into(), c.into()]);
        }
        if let BoundsArg::Explicit = self.bounds_checks {
            v.extend(["--bounds-checks".into(), "explicit".into()]);
        }
        v
    }
}

/// Modules at least this large get a progress bar (a 24 MB module takes
/// about 20 s to compile; a 1 MiB one about a second).
const PROGRESS_MIN_BYTES: u64 = 1 << 20;

/// A progress bar on stderr for compiling `input`, when it is large,
/// stderr is a terminal and `--quiet` was not given: functions translated
/// and compiled, then linking. The bar clears itself when dropped.
fn progress_bar(input: &std::path::Path, quiet: bool) -> Option<(indicatif::ProgressBar, kiln::Progress)> {
    use std::io::IsTerminal;
    let big = std::fs::metadata(input).map(|m| m.len() >= PROGRESS_MIN_BYTES).unwrap_or(false);
    if quiet || !big || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    let style = indicatif::ProgressStyle::with_template("{msg:>10} {bar:40} {pos}/{len} functions [{elapsed}]")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message("compiling");
    let b = bar.clone();
    let progress = kiln::Progress(std::sync::Arc::new(move |e| match e {
        kiln::ProgressEvent::Functions(n) => b.set_length(n),
        kiln::ProgressEvent::Compiled => b.inc(1),
        kiln::ProgressEvent::Linking => b.set_message("linking"),
    }));
    Some((bar, progress))
}

impl CodeArgs {
    fn apply(&self, opts: &mut Options) -> Result<(), String> {
        let target = opts.target;
        opts.cpu = match self.cpu.as_deref() {
            Some("native") => Some(native_features(target)?),
            other => other.map(str::to_string),
        };
        opts.opt_level = match self.opt.as_str() {
            "0" => OptLevel::None,
            "1" => OptLevel::Speed,
            _ => OptLevel::SpeedAndSize,
        };
        opts.inline = !self.no_inline;
        opts.bounds_checks = match self.bounds_checks {
            BoundsArg::Guard => kiln::BoundsChecks::Guard,
            BoundsArg::Explicit => kiln::BoundsChecks::Explicit,
        };
        Ok(())
    }
}

impl WasiArgs {
    fn apply(&self, opts: &mut Options) -> Result<(), String> {
        opts.env = self.env.clone();
        opts.inherit_env = self.inherit_env;
        opts.thread_stack = self.thread_stack;
        for d in &self.dirs {
            opts.dirs.push(kiln::DirGrant::parse(d, false).map_err(|e| e.to_string())?);
        }
        for d in &self.dirs_ro {
            opts.dirs.push(kiln::DirGrant::parse(d, true).map_err(|e| e.to_string())?);
        }
        Ok(())
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum BoundsArg {
    Guard,
    Explicit,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum EmitArg {
    Exe,
    Lib,
    Header,
    Obj,
    Clif,
}

fn compile(args: CompileArgs) -> Result<(), String> {
    let target = Target::lookup(&args.target)?;
    let mut opts = Options::new(target);
    args.code.apply(&mut opts)?;
    args.wasi.apply(&mut opts)?;
    opts.emit = match args.emit {
        EmitArg::Exe => Emit::Exe,
        EmitArg::Obj => Emit::Obj,
        EmitArg::Clif => Emit::Clif,
        EmitArg::Lib => Emit::Lib,
        EmitArg::Header => Emit::Header,
    };
    opts.prefix = args.prefix;
    opts.header = args.header;
    opts.link_inputs = args.link;
    opts.runtime_dirs = args.allow_runtime_dirs;
    opts.debug = args.debug;
    opts.linker = args.linker;
    let output = args.output.unwrap_or_else(|| {
        let stem = args.input.with_extension("");
        match opts.emit {
            Emit::Exe if stem != args.input => stem,
            Emit::Exe => args.input.with_extension("out"),
            Emit::Obj => args.input.with_extension("o"),
            Emit::Clif => args.input.with_extension("clif"),
            Emit::Header => {
                let prefix = kiln::embed::prefix_for(opts.prefix.as_deref(), None, &args.input.display().to_string())
                    .unwrap_or_else(|_| "module".into());
                args.input.with_file_name(format!("{prefix}.h"))
            }
            Emit::Lib => {
                let stem = args.input.file_stem().unwrap_or_default().to_string_lossy().into_owned();
                args.input.with_file_name(format!("lib{stem}.a"))
            }
        }
    });
    let bar = progress_bar(&args.input, args.quiet);
    opts.progress = bar.as_ref().map(|(_, p)| p.clone());
    let r = kiln::compile_file(&args.input, &output, &opts).map_err(|e| e.to_string());
    if let Some((b, _)) = bar {
        b.finish_and_clear();
    }
    r
}

/// `kiln run`: compile in memory, then hand the process to the program.
fn run(args: RunArgs) -> Result<(), String> {
    if let Some(t) = &args.target {
        return Err(format!(
            "kiln run compiles for this machine and runs the module now, so it takes no --target; for {t}, \
             `kiln compile --target {t}` and run the executable there (or under qemu)"
        ));
    }
    let target = kiln::jit::target().ok_or("kiln run needs a machine whose architecture Kiln targets (x86_64, aarch64, riscv64)")?;
    let mut opts = Options::new(target);
    args.code.apply(&mut opts)?;
    args.wasi.apply(&mut opts)?;
    let (input, program_args) = args.input_and_args();
    let name = input.display().to_string();
    let bytes = kiln::read_module(&input).map_err(|e| e.to_string())?;
    let bar = progress_bar(&input, args.quiet);
    opts.progress = bar.as_ref().map(|(_, p)| p.clone());
    let started = std::time::Instant::now();
    let program = kiln::jit::compile_command(&name, &bytes, &opts).map_err(|e| e.to_string());
    if let Some((b, _)) = bar {
        b.finish_and_clear();
    }
    let program = program?;
    // `kiln bench` asks for the compile time; the program never sees the
    // variable (it would with --inherit-env).
    if let Some(path) = std::env::var_os(bench::RUN_TIMES_ENV) {
        std::env::remove_var(bench::RUN_TIMES_ENV);
        let _ = std::fs::write(path, format!("{}\n", started.elapsed().as_secs_f64()));
    }
    let mut argv = vec![input.into_os_string()];
    argv.extend(program_args);
    program.run(&argv)
}

fn bench_cmd(a: BenchArgs) -> Result<(), String> {
    let target = kiln::jit::target().ok_or("kiln bench runs on a machine whose architecture Kiln targets")?;
    let mut opts = Options::new(target);
    let r = a.run;
    let (input, args) = r.input_and_args();
    r.code.apply(&mut opts)?;
    r.wasi.apply(&mut opts)?;
    let mut kiln_flags = r.code.flags();
    kiln_flags.extend(r.wasi.flags());
    let mut b = bench::BenchArgs {
        input,
        args,
        runs: a.runs as usize,
        native: a.native,
        wasmtime: a.wasmtime,
        json: a.json,
        chart: a.chart,
        kiln_flags,
        opts,
        quiet: r.quiet,
    };
    bench::check_paths(&mut b)?;
    bench::bench(b)
}

fn run_driver(modules: Vec<PathBuf>, code: CodeArgs) -> Result<(), String> {
    let target = kiln::jit::target().ok_or("no runtime for this machine's architecture")?;
    let mut opts = Options::new(target);
    code.apply(&mut opts)?;
    let mut loaded = Vec::new();
    for m in &modules {
        loaded.push((m.display().to_string(), kiln::read_module(m).map_err(|e| e.to_string())?));
    }
    let program = kiln::jit::compile_driver(&loaded, &opts).map_err(|e| e.to_string())?;
    program.run(&[OsString::from("kiln-driver")])
}

/// `--cpu native`: every optional feature of the target that this machine
/// has. This is the only place Kiln looks at the host, and only on request.
fn native_features(target: &Target) -> Result<String, String> {
    if target.name != std::env::consts::ARCH {
        return Err(format!("--cpu native needs the target to be this machine's ({})", std::env::consts::ARCH));
    }
    let has = |name: &str| -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            return match name {
                "sse3" => std::arch::is_x86_feature_detected!("sse3"),
                "ssse3" => std::arch::is_x86_feature_detected!("ssse3"),
                "sse4.1" => std::arch::is_x86_feature_detected!("sse4.1"),
                "sse4.2" => std::arch::is_x86_feature_detected!("sse4.2"),
                "popcnt" => std::arch::is_x86_feature_detected!("popcnt"),
                "avx" => std::arch::is_x86_feature_detected!("avx"),
                "avx2" => std::arch::is_x86_feature_detected!("avx2"),
                "bmi1" => std::arch::is_x86_feature_detected!("bmi1"),
                "bmi2" => std::arch::is_x86_feature_detected!("bmi2"),
                "lzcnt" => std::arch::is_x86_feature_detected!("lzcnt"),
                "fma" => std::arch::is_x86_feature_detected!("fma"),
                _ => false,
            };
        }
        #[cfg(target_arch = "aarch64")]
        {
            return name == "lse" && std::arch::is_aarch64_feature_detected!("lse");
        }
        #[allow(unreachable_code)]
        {
            let _ = name;
            false
        }
    };
    let list: Vec<&str> = target.features.iter().map(|f| f.name).filter(|n| has(n)).collect();
    Ok(if list.is_empty() { "baseline".to_string() } else { list.join(",") })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compile(a) => compile(a),
        Command::Run(a) => run(a),
        Command::Bench(a) => bench_cmd(a),
        Command::RunDriver { modules, code } => run_driver(modules, code),
        Command::Inspect { executable } => kiln::inspect::inspect(&executable).map(|i| print!("{i}")).map_err(|e| e.to_string()),
        Command::Targets => {
            for t in kiln_targets::TARGETS {
                let levels: Vec<&str> = t.cpu_levels.iter().map(|(n, _)| *n).collect();
                println!("{:<8} {:<28} baseline {:<10} --cpu: {}, native", t.name, t.triple, t.baseline, levels.join(", "));
            }
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiln: error: {e}");
            ExitCode::FAILURE
        }
    }
}
