//! `kiln bench`: one module through every contender on this machine, with
//! the same arguments and stdin, outputs compared, then one table.
//!
//! Contenders: Kiln AOT (the static executable, timed as a whole process),
//! Kiln JIT (`kiln run`, whose in-process compile time it reports through
//! `KILN_RUN_TIMES`, so its run time is the rest), wasmtime as JIT and as a
//! precompiled `.cwasm` (its CLI if found, else its Python package, labelled
//! so), and native code when `--native` gives a C source or an executable.
//! Every run is a fresh process timed from spawn to exit (see `run_once`
//! for its peak RSS), with the same argv (argv[0] is INPUT as given), stdin
//! and grants. Nothing here is asserted anywhere: it is a measurement tool.

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The Python runner for the wasmtime package (one source with bench/).
const WASMTIME_PY: &str = include_str!("../../../bench/wasmtime_py.py");

pub struct BenchArgs {
    pub input: PathBuf,
    pub args: Vec<OsString>,
    pub runs: usize,
    pub native: Option<PathBuf>,
    pub wasmtime: Option<PathBuf>,
    pub json: bool,
    pub chart: Option<PathBuf>,
    /// `kiln compile`/`kiln run` flags that apply to both Kiln contenders.
    pub kiln_flags: Vec<OsString>,
    pub opts: kiln::Options,
    pub quiet: bool,
}

/// One contender's measurements.
struct Result_ {
    name: String,
    note: String,
    /// Wall time of each run, seconds.
    times: Vec<f64>,
    /// Time to compile before running (AOT builds), or inside each run (JIT:
    /// the median), seconds.
    compile: Option<f64>,
    /// Size of what was built (executable, `.cwasm`), bytes.
    size: Option<u64>,
    /// Peak resident set size over the runs, KiB.
    peak_rss_kib: u64,
    output_matches: bool,
    status: i32,
    /// The first run's stdout and stderr (for the report when outputs
    /// differ or the program fails).
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// How a contender's run time is read.
enum Timing {
    /// The process's wall time.
    Wall,
    /// `kiln run`: the wall time less the compile time it writes to the
    /// file (`RUN_TIMES_ENV`).
    KilnRun(PathBuf),
    /// The Python runner: the times it writes as JSON to the file
    /// (`BENCH_TIMING_FILE`), which exclude starting Python. `jit`: compile
    /// is `load_s`, the run `instantiate_s + run_s` (as kiln-jit); `aot`:
    /// the run is `inner_s` (deserialize, instantiate, run).
    WasmtimePy { file: PathBuf, jit: bool },
}

struct Contender {
    name: String,
    note: String,
    cmd: Vec<OsString>,
    /// argv[0] for a program started directly (the others are told).
    arg0: Option<OsString>,
    compile: Option<f64>,
    size: Option<u64>,
    /// Extra environment (timing files, native code's `--env` grants).
    env: Vec<(String, OsString)>,
    /// Start from an empty environment (native code without
    /// `--inherit-env`, which sees only its `--env` grants).
    clear_env: bool,
    timing: Timing,
}

struct RunOutcome {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: i32,
    wall: f64,
    rss_kib: u64,
}

/// Runs `c` with `stdin`, its stdout and stderr captured.
///
/// Peak RSS: `wait4`'s `ru_maxrss` would also count the kiln process the
/// child was forked from (the memory it had before `exec`), so the child
/// runs traced instead (`PTRACE_TRACEME`, then `PTRACE_O_TRACEEXIT`): when it
/// stops at its exit, its memory still exists and `/proc/PID/status`'s
/// `VmHWM` is the program's own peak. Signals the program gets (Kiln's
/// traps are SIGSEGV and friends) are passed on unchanged.
fn run_once(con: &Contender, stdin: &[u8]) -> Result<RunOutcome, String> {
    use std::os::unix::process::CommandExt;
    let cmd = &con.cmd;
    let mut c = Command::new(&cmd[0]);
    c.args(&cmd[1..]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(a) = &con.arg0 {
        c.arg0(a);
    }
    if con.clear_env {
        c.env_clear();
    }
    c.envs(con.env.iter().map(|(k, v)| (k, v)));
    // SAFETY: ptrace(PTRACE_TRACEME) is async-signal-safe.
    unsafe {
        c.pre_exec(|| {
            if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = c.spawn().map_err(|e| format!("cannot run {}: {e}", cmd[0].to_string_lossy()))?;
    let mut input = child.stdin.take().expect("piped");
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let read_all = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let reader = read_all(Box::new(child.stdout.take().expect("piped")));
    let err_reader = read_all(Box::new(child.stderr.take().expect("piped")));
    let pid = child.id() as libc::pid_t;
    let mut rss_kib = 0;
    let status = loop {
        let mut st = 0;
        // SAFETY: waiting for and restarting our own traced child.
        let r = unsafe { libc::waitpid(pid, &mut st, libc::__WALL) };
        if r < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(format!("waiting for {}: {}", cmd[0].to_string_lossy(), std::io::Error::last_os_error()));
        }
        if libc::WIFEXITED(st) {
            break libc::WEXITSTATUS(st);
        }
        if libc::WIFSIGNALED(st) {
            break 128 + libc::WTERMSIG(st);
        }
        if !libc::WIFSTOPPED(st) {
            continue;
        }
        let sig = libc::WSTOPSIG(st);
        let event = (st >> 16) & 0xff;
        let deliver = if sig == libc::SIGTRAP && event == libc::PTRACE_EVENT_EXIT {
            rss_kib = vm_hwm_kib(pid).unwrap_or(0);
            0
        } else if sig == libc::SIGTRAP && event == 0 && rss_kib == 0 {
            // The stop after exec: from now on, stop at exit too.
            unsafe { libc::ptrace(libc::PTRACE_SETOPTIONS, pid, 0, libc::PTRACE_O_TRACEEXIT as libc::c_long) };
            0
        } else {
            sig
        };
        unsafe { libc::ptrace(libc::PTRACE_CONT, pid, 0, deliver as libc::c_long) };
    };
    let wall = start.elapsed().as_secs_f64();
    let _ = feeder.join();
    let stdout = reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(RunOutcome { stdout, stderr, status, wall, rss_kib })
}

/// `VmHWM` of a live process, KiB.
fn vm_hwm_kib(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Checks the paths given on the command line before anything is compiled:
/// `--native` and `--wasmtime` name existing files (taken as paths, never
/// looked up in PATH), and `--chart`'s directory exists.
pub fn check_paths(a: &mut BenchArgs) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path, flag: &str| -> Result<PathBuf, String> {
        let meta = std::fs::metadata(p).map_err(|e| format!("{flag} {}: {e}", p.display()))?;
        if !meta.is_file() {
            return Err(format!("{flag} {}: not a file", p.display()));
        }
        if meta.permissions().mode() & 0o111 == 0 {
            return Err(format!("{flag} {}: not executable", p.display()));
        }
        // Absolute, so that a name without a slash is this file and not a
        // program of that name in PATH.
        std::fs::canonicalize(p).map_err(|e| format!("{flag} {}: {e}", p.display()))
    };
    if let Some(n) = &a.native {
        if n.extension().is_some_and(|e| e == "c") {
            std::fs::File::open(n).map_err(|e| format!("--native {}: {e}", n.display()))?;
        } else {
            a.native = Some(executable(n, "--native")?);
        }
    }
    if let Some(w) = &a.wasmtime {
        a.wasmtime = Some(executable(w, "--wasmtime")?);
    }
    if let Some(c) = &a.chart {
        let dir = c.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !dir.is_dir() {
            return Err(format!("--chart {}: no directory {}", c.display(), dir.display()));
        }
    }
    Ok(())
}

/// Builds the contender list, compiling what needs compiling in `tmp`.
/// Every contender gets argv[0] = INPUT as given, the program's arguments
/// and, as far as it can express them, the same grants.
fn contenders(a: &BenchArgs, tmp: &Path, notes: &mut Vec<String>) -> Result<Vec<Contender>, String> {
    let mut list = Vec::new();
    let name = a.input.display().to_string();
    let argv0 = a.input.as_os_str().to_os_string();
    let bytes = kiln::read_module(&a.input).map_err(|e| e.to_string())?;
    let wasm = tmp.join("module.wasm");
    std::fs::write(&wasm, &bytes).map_err(|e| e.to_string())?;
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let with_args = |head: Vec<OsString>| -> Vec<OsString> { head.into_iter().chain(a.args.iter().cloned()).collect() };
    let plain = |name: &str, note: String, cmd: Vec<OsString>| Contender {
        name: name.into(),
        note,
        cmd,
        arg0: None,
        compile: None,
        size: None,
        env: vec![],
        clear_env: false,
        timing: Timing::Wall,
    };

    // Kiln AOT: compiled here, in this process, as `kiln compile` would;
    // the grants are baked into the executable.
    let exe = tmp.join("kiln-aot");
    let t = Instant::now();
    kiln::compile_bytes(&name, &bytes, &exe, &a.opts).map_err(|e| e.to_string())?;
    list.push(Contender {
        arg0: Some(argv0.clone()),
        compile: Some(secs(t.elapsed())),
        size: std::fs::metadata(&exe).map(|m| m.len()).ok(),
        ..plain("kiln-aot", "static executable".into(), with_args(vec![exe.into_os_string()]))
    });

    // Kiln JIT: `kiln run`, with the same flags (its argv[0] is INPUT).
    let times = tmp.join("kiln-jit-times");
    let mut head = vec![me.into_os_string(), "run".into()];
    head.extend(a.kiln_flags.iter().cloned());
    head.extend(["--".into(), argv0.clone()]);
    list.push(Contender {
        env: vec![(RUN_TIMES_ENV.to_string(), times.clone().into_os_string())],
        timing: Timing::KilnRun(times),
        ..plain("kiln-jit", "kiln run: compile in memory, then run".into(), with_args(head))
    });

    // wasmtime: its CLI, else its Python package.
    let cli = a.wasmtime.clone().or_else(|| which("wasmtime"));
    if let Some(wt) = cli {
        let (grants, lost) = wasmtime_cli_grants(&a.opts);
        notes.extend(lost);
        let mut head = vec![wt.clone().into_os_string(), "run".into(), "--argv0".into(), argv0.clone()];
        head.extend(grants.iter().cloned());
        let mut jit = head.clone();
        jit.push(wasm.clone().into_os_string());
        list.push(plain("wasmtime-jit", "wasmtime run".into(), with_args(jit)));
        let cwasm = tmp.join("module.cwasm");
        let t = Instant::now();
        let ok = Command::new(&wt).arg("compile").arg(&wasm).arg("-o").arg(&cwasm).status().map(|s| s.success()).unwrap_or(false);
        if ok {
            let compile = secs(t.elapsed());
            head.insert(2, "--allow-precompiled".into());
            head.push(cwasm.clone().into_os_string());
            list.push(Contender {
                compile: Some(compile),
                size: std::fs::metadata(&cwasm).map(|m| m.len()).ok(),
                ..plain("wasmtime-aot", "wasmtime compile, run .cwasm".into(), with_args(head))
            });
        } else {
            notes.push("wasmtime compile failed: no wasmtime-aot".into());
        }
    } else if python_has_wasmtime() {
        let script = tmp.join("wasmtime_py.py");
        std::fs::write(&script, WASMTIME_PY).map_err(|e| e.to_string())?;
        let grants = python_grants(&a.opts, &argv0);
        let py = |mode: &str, module: &Path| -> Vec<OsString> {
            let mut v: Vec<OsString> = vec!["python3".into(), script.clone().into_os_string(), mode.into()];
            v.extend(grants.iter().cloned());
            v.push(module.as_os_str().to_os_string());
            with_args(v)
        };
        let jit_times = tmp.join("wasmtime-jit-times");
        list.push(Contender {
            env: vec![("BENCH_TIMING_FILE".into(), jit_times.clone().into_os_string())],
            timing: Timing::WasmtimePy { file: jit_times, jit: true },
            ..plain("wasmtime-jit", "wasmtime (py API), Python start-up excluded".into(), py("jit", &wasm))
        });
        let cwasm = tmp.join("module.cwasm");
        let t = Instant::now();
        let ok = Command::new("python3").arg(&script).arg("compile").arg(&wasm).arg(&cwasm).status().map(|s| s.success()).unwrap_or(false);
        if ok {
            let aot_times = tmp.join("wasmtime-aot-times");
            list.push(Contender {
                compile: Some(secs(t.elapsed())),
                size: std::fs::metadata(&cwasm).map(|m| m.len()).ok(),
                env: vec![("BENCH_TIMING_FILE".into(), aot_times.clone().into_os_string())],
                timing: Timing::WasmtimePy { file: aot_times, jit: false },
                ..plain("wasmtime-aot", "wasmtime (py API) .cwasm, Python start-up excluded".into(), py("aot", &cwasm))
            });
        } else {
            notes.push("wasmtime (py API) could not precompile the module: no wasmtime-aot".into());
        }
    } else {
        notes.push("no wasmtime: give --wasmtime PATH, put it on PATH, or `pip install wasmtime`".into());
    }

    // Native: a C source (built with clang -O2) or an executable. It gets
    // the `--env` grants as its whole environment (or the inherited one);
    // directories cannot be granted to it, it sees the whole file system.
    if let Some(native) = &a.native {
        let (exe, note, compile) = if native.extension().is_some_and(|e| e == "c") {
            let out = tmp.join("native");
            let cc = ["clang-19", "clang", "cc"].into_iter().find(|c| which(c).is_some()).ok_or("--native with a C source needs clang-19, clang or cc")?;
            let t = Instant::now();
            let st = Command::new(cc).arg("-O2").arg(native).arg("-o").arg(&out).arg("-lm").status().map_err(|e| e.to_string())?;
            if !st.success() {
                return Err(format!("{cc} -O2 {} failed", native.display()));
            }
            (out, format!("{cc} -O2"), Some(secs(t.elapsed())))
        } else {
            (native.clone(), "given executable".into(), None)
        };
        let env = a.opts.env.iter().map(|kv| kv.split_once('=').unwrap_or((kv, ""))).map(|(k, v)| (k.to_string(), v.into())).collect();
        list.push(Contender {
            arg0: Some(argv0.clone()),
            compile,
            size: std::fs::metadata(&exe).map(|m| m.len()).ok(),
            env,
            clear_env: !a.opts.inherit_env,
            ..plain("native", note, with_args(vec![exe.into_os_string()]))
        });
        if !a.opts.dirs.is_empty() {
            notes.push("native code is not confined to the --dir/--dir-ro grants: it sees the whole file system".into());
        }
    }
    Ok(list)
}

fn python_has_wasmtime() -> bool {
    Command::new("python3")
        .args(["-c", "import wasmtime"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// `wasmtime run` flags for the same grants, and notes on what they lose.
fn wasmtime_cli_grants(o: &kiln::Options) -> (Vec<OsString>, Vec<String>) {
    let mut v: Vec<OsString> = Vec::new();
    let mut lost = Vec::new();
    for d in &o.dirs {
        v.extend(["--dir".into(), format!("{}::{}", d.host, d.guest).into()]);
        if d.read_only {
            lost.push(format!("wasmtime CLI: --dir-ro {} is granted read-write (Kiln passes it no read-only flag)", d.host));
        }
    }
    for kv in &o.env {
        v.extend(["--env".into(), kv.into()]);
    }
    if o.inherit_env {
        v.extend(["-S".into(), "inherit-env".into()]);
    }
    (v, lost)
}

/// The Python runner's flags for argv[0] and the same grants (see
/// bench/wasmtime_py.py).
fn python_grants(o: &kiln::Options, argv0: &OsString) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec!["--argv0".into(), argv0.clone()];
    for d in &o.dirs {
        let flag = if d.read_only { "--dir-ro" } else { "--dir" };
        v.extend([flag.into(), format!("{}::{}", d.host, d.guest).into()]);
    }
    for kv in &o.env {
        v.extend(["--env".into(), kv.into()]);
    }
    if o.inherit_env {
        v.push("--inherit-env".into());
    }
    v
}

/// A number in the Python runner's flat JSON object.
fn json_number(text: &str, key: &str) -> Option<f64> {
    let rest = &text[text.find(&format!("\"{key}\""))? + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// The environment variable `kiln run` writes its compile time to (in
/// seconds, as text) when set; removed before the program starts.
pub const RUN_TIMES_ENV: &str = "KILN_RUN_TIMES";

pub fn bench(a: BenchArgs) -> Result<(), String> {
    let stdin = if std::io::stdin().is_terminal() {
        Vec::new()
    } else {
        let mut v = Vec::new();
        std::io::stdin().read_to_end(&mut v).map_err(|e| format!("reading stdin: {e}"))?;
        v
    };
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut notes = Vec::new();
    let list = contenders(&a, tmp.path(), &mut notes)?;
    let bar = if a.quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new((list.len() * a.runs) as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {msg}").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    };
    let mut results: Vec<Result_> = Vec::new();
    for c in &list {
        bar.set_message(c.name.clone());
        let mut r = Result_ {
            name: c.name.clone(),
            note: c.note.clone(),
            times: vec![],
            compile: c.compile,
            size: c.size,
            peak_rss_kib: 0,
            output_matches: true,
            status: 0,
            stdout: vec![],
            stderr: vec![],
        };
        let mut jit_compile = Vec::new();
        for i in 0..a.runs {
            let o = run_once(c, &stdin)?;
            let wall = match &c.timing {
                Timing::Wall => o.wall,
                Timing::KilnRun(f) => match std::fs::read_to_string(f).ok().and_then(|s| s.trim().parse::<f64>().ok()) {
                    Some(t) => {
                        jit_compile.push(t);
                        o.wall - t
                    }
                    None => o.wall,
                },
                Timing::WasmtimePy { file, jit } => {
                    let text = std::fs::read_to_string(file).unwrap_or_default();
                    let n = |k| json_number(&text, k);
                    match (jit, n("load_s"), n("instantiate_s"), n("run_s"), n("inner_s")) {
                        (true, Some(load), Some(inst), Some(run), _) => {
                            jit_compile.push(load);
                            inst + run
                        }
                        (false, _, _, _, Some(inner)) => inner,
                        _ => o.wall,
                    }
                }
            };
            r.times.push(wall);
            r.peak_rss_kib = r.peak_rss_kib.max(o.rss_kib);
            if i == 0 {
                r.status = o.status;
                r.stdout = o.stdout;
                r.stderr = o.stderr;
            } else {
                // Every run of every contender must print the same.
                r.output_matches &= o.stdout == r.stdout && o.status == r.status;
            }
            bar.inc(1);
        }
        if !jit_compile.is_empty() {
            r.compile = Some(median(&jit_compile));
        }
        results.push(r);
    }
    bar.finish_and_clear();
    let (first, rest) = results.split_first_mut().expect("kiln-aot is always a contender");
    for r in rest {
        r.output_matches &= r.stdout == first.stdout;
    }
    let reference = &results[0];
    for r in &results[1..] {
        if let Some(d) = difference(reference, r) {
            notes.push(d);
        }
    }
    let all_match = results.iter().all(|r| r.output_matches && r.status == reference.status);
    if all_match && reference.status != 0 {
        notes.push(format!(
            "every contender exited with status {}{}: these are the times of a failing run{}",
            reference.status,
            if reference.status == 134 { " (a trap)" } else { "" },
            stderr_tail(reference)
        ));
    }
    let base = median(&reference.times);
    if a.json {
        println!("{}", json(&a, &results, base, all_match, &notes));
    } else {
        print!("{}", table(&a, &results, base, all_match, &notes));
    }
    if let Some(path) = &a.chart {
        chart(path, &results).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if all_match {
        Ok(())
    } else {
        Err("the contenders' outputs or exit statuses differ (see the notes)".into())
    }
}

/// How `r`'s first run differs from the reference's (kiln-aot's): the exit
/// status, the first differing stdout line, and `r`'s stderr.
fn difference(reference: &Result_, r: &Result_) -> Option<String> {
    let mut parts = Vec::new();
    if r.status != reference.status {
        parts.push(format!("exit status {} where {} exited with {}", r.status, reference.name, reference.status));
    }
    if r.stdout != reference.stdout {
        let (want, got) = (String::from_utf8_lossy(&reference.stdout), String::from_utf8_lossy(&r.stdout));
        let (mut w, mut g) = (want.lines(), got.lines());
        let mut line = 1;
        loop {
            match (w.next(), g.next()) {
                (Some(x), Some(y)) if x == y => line += 1,
                (x, y) => {
                    let show = |l: Option<&str>| l.map(|l| format!("{:?}", clip(l))).unwrap_or_else(|| "end of output".into());
                    parts.push(format!("stdout line {line}: {} printed {}, {} printed {}", reference.name, show(x), r.name, show(y)));
                    break;
                }
            }
        }
    } else if !r.output_matches {
        parts.push("its runs did not all print the same".into());
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!("{}: {}{}", r.name, parts.join("; "), stderr_tail(r)))
}

/// The last lines of a contender's stderr, for a note.
fn stderr_tail(r: &Result_) -> String {
    stderr_tail_of(&r.name, &r.stderr)
}

fn stderr_tail_of(name: &str, stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    // A trap's or an error's own line first (`kiln: wasm trap: integer
    // divide by zero`, wasmtime's `Error: ...`): a backtrace after it would
    // push it out of the last lines.
    let key = lines.iter().position(|l| l.contains("wasm trap:") || l.contains("error:") || l.starts_with("Error:"));
    let tail_from = lines.len().saturating_sub(if key.is_some() { 2 } else { 3 });
    let mut shown: Vec<&str> = key.filter(|&k| k < tail_from).map(|k| lines[k]).into_iter().collect();
    if !shown.is_empty() {
        shown.push("...");
    }
    shown.extend(&lines[tail_from..]);
    format!("; {name}'s stderr ends: {}", shown.iter().map(|l| clip(l)).collect::<Vec<_>>().join(" | "))
}

fn clip(l: &str) -> String {
    if l.chars().count() > 100 {
        format!("{}...", l.chars().take(100).collect::<String>())
    } else {
        l.to_string()
    }
}

fn fmt_time(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

fn fmt_size(b: u64) -> String {
    if b >= 1 << 20 {
        format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.0} KiB", b as f64 / 1024.0)
    }
}

fn table(a: &BenchArgs, results: &[Result_], base: f64, all_match: bool, notes: &[String]) -> String {
    let mut s = format!("{}: {} runs each, median wall time (spread = min..max)\n", a.input.display(), a.runs);
    s += &format!("{:<14} {:>11} {:>23} {:>9} {:>11} {:>10} {:>10}  {}\n", "contender", "median", "spread", "vs AOT", "compile", "size", "peak RSS", "");
    for r in results {
        let min = r.times.iter().copied().fold(f64::INFINITY, f64::min);
        let max = r.times.iter().copied().fold(0.0, f64::max);
        let m = median(&r.times);
        s += &format!(
            "{:<14} {:>11} {:>23} {:>8.2}x {:>11} {:>10} {:>10}  {}{}{}\n",
            r.name,
            fmt_time(m),
            format!("{}..{}", fmt_time(min), fmt_time(max)),
            if base > 0.0 { m / base } else { 0.0 },
            r.compile.map(fmt_time).unwrap_or_else(|| "-".into()),
            r.size.map(fmt_size).unwrap_or_else(|| "-".into()),
            fmt_size(r.peak_rss_kib * 1024),
            r.note,
            if r.output_matches { "" } else { "  OUTPUT DIFFERS" },
            if r.status == results[0].status { String::new() } else { format!("  EXIT STATUS {}", r.status) },
        );
    }
    s += if all_match { "outputs: every contender printed the same stdout and exit status\n" } else { "outputs: DIFFER\n" };
    s += "JIT contenders' times exclude their compile time (shown under compile: the median per run).\n";
    for n in notes {
        s += &format!("note: {n}\n");
    }
    s
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o += "\\\"",
            '\\' => o += "\\\\",
            c if (c as u32) < 0x20 => o += &format!("\\u{:04x}", c as u32),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn json_opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_else(|| "null".into())
}

fn json(a: &BenchArgs, results: &[Result_], base: f64, all_match: bool, notes: &[String]) -> String {
    let contenders: Vec<String> = results
        .iter()
        .map(|r| {
            let m = median(&r.times);
            format!(
                "{{\"name\": {}, \"note\": {}, \"median_s\": {m}, \"min_s\": {}, \"max_s\": {}, \"times_s\": [{}], \"ratio_vs_kiln_aot\": {}, \
                 \"compile_s\": {}, \"size_bytes\": {}, \"peak_rss_kib\": {}, \"exit_status\": {}, \"output_matches\": {}}}",
                json_str(&r.name),
                json_str(&r.note),
                r.times.iter().copied().fold(f64::INFINITY, f64::min),
                r.times.iter().copied().fold(0.0, f64::max),
                r.times.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", "),
                if base > 0.0 { m / base } else { 0.0 },
                json_opt(r.compile),
                r.size.map(|s| s.to_string()).unwrap_or_else(|| "null".into()),
                r.peak_rss_kib,
                r.status,
                r.output_matches
            )
        })
        .collect();
    format!(
        "{{\"module\": {}, \"runs\": {}, \"outputs_match\": {all_match}, \"notes\": [{}], \"contenders\": [\n  {}\n]}}",
        json_str(&a.input.display().to_string()),
        a.runs,
        notes.iter().map(|n| json_str(n)).collect::<Vec<_>>().join(", "),
        contenders.join(",\n  ")
    )
}

/// A horizontal bar chart of the median times, as a PNG (8×8 bitmap font).
fn chart(path: &Path, results: &[Result_]) -> Result<(), String> {
    use font8x8::UnicodeFonts;
    let (w, row, left, top) = (760usize, 28usize, 130usize, 36usize);
    let h = top + row * results.len() + 16;
    let mut px = vec![255u8; w * h * 3];
    let text = |px: &mut Vec<u8>, x: usize, y: usize, s: &str| {
        for (i, c) in s.chars().enumerate() {
            let glyph = font8x8::BASIC_FONTS.get(c).unwrap_or([0; 8]);
            for (gy, bits) in glyph.iter().enumerate() {
                for gx in 0..8 {
                    if bits >> gx & 1 == 1 {
                        let (px_x, px_y) = (x + i * 8 + gx, y + gy);
                        if px_x < w && px_y < h {
                            px[(px_y * w + px_x) * 3..(px_y * w + px_x) * 3 + 3].copy_from_slice(&[0, 0, 0]);
                        }
                    }
                }
            }
        }
    };
    text(&mut px, 8, 10, "median wall time per run (lower is better)");
    let max = results.iter().map(|r| median(&r.times)).fold(0.0, f64::max).max(1e-9);
    let span = w - left - 110;
    let colours = [[0xd9, 0x5f, 0x0e], [0xfe, 0x99, 0x29], [0x31, 0x82, 0xbd], [0x6b, 0xae, 0xd6], [0x31, 0xa3, 0x54]];
    for (i, r) in results.iter().enumerate() {
        let y = top + i * row;
        text(&mut px, 8, y + 6, &r.name);
        let m = median(&r.times);
        let len = ((m / max) * span as f64).round().max(1.0) as usize;
        for yy in y..y + row - 8 {
            for xx in left..left + len {
                px[(yy * w + xx) * 3..(yy * w + xx) * 3 + 3].copy_from_slice(&colours[i % colours.len()]);
            }
        }
        text(&mut px, left + len + 6, y + 6, &fmt_time(m).replace('µ', "u"));
    }
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w as u32, h as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&px).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::stderr_tail_of;

    #[test]
    fn a_note_keeps_the_trap_line_ahead_of_the_backtrace() {
        let err = b"kiln: wasm trap: integer divide by zero\n  in div at wasm offset 0x10\nbacktrace:\n  0: div\n  1: main\n  2: _start\n";
        assert_eq!(
            stderr_tail_of("kiln-aot", err),
            "; kiln-aot's stderr ends: kiln: wasm trap: integer divide by zero | ... |   1: main |   2: _start"
        );
        // Short stderr: the lines as they are, once each.
        assert_eq!(
            stderr_tail_of("w", b"Error: failed\n  cause\n"),
            "; w's stderr ends: Error: failed |   cause"
        );
        assert_eq!(stderr_tail_of("w", b"a\nb\nc\nd\n"), "; w's stderr ends: b | c | d");
        assert_eq!(stderr_tail_of("w", b"\n"), "");
    }
}
