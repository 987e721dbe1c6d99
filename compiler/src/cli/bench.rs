//! `kiln bench`: one module through every contender on this machine, with
//! the same arguments and stdin, outputs compared, then one table.
//!
//! Contenders: Kiln AOT (the static executable, timed as a whole process),
//! Kiln JIT (`kiln run`, whose in-process compile time it reports through
//! `KILN_RUN_TIMES`, so its run time is the rest), wasmtime as JIT and as a
//! precompiled `.cwasm` (its CLI if found, else its Python package, labelled
//! so), and native code when `--native` gives a C source or an executable.
//! Every run is a fresh process timed from spawn to exit (see `run_once`
//! for its peak RSS). Nothing here is asserted anywhere: it is a measurement tool.

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
}

struct Contender {
    name: String,
    note: String,
    cmd: Vec<OsString>,
    compile: Option<f64>,
    size: Option<u64>,
    /// Extra environment (the JIT's timing file).
    env: Vec<(String, OsString)>,
    timing_file: Option<PathBuf>,
}

struct RunOutcome {
    stdout: Vec<u8>,
    status: i32,
    wall: f64,
    rss_kib: u64,
}

/// Runs `cmd` with `stdin`, its stdout captured and its stderr discarded.
///
/// Peak RSS: `wait4`'s `ru_maxrss` would also count the kiln process the
/// child was forked from (the memory it had before `exec`), so the child
/// runs traced instead (`PTRACE_TRACEME`, then `PTRACE_O_TRACEEXIT`): when it
/// stops at its exit, its memory still exists and `/proc/PID/status`'s
/// `VmHWM` is the program's own peak. Signals the program gets (Kiln's
/// traps are SIGSEGV and friends) are passed on unchanged.
fn run_once(cmd: &[OsString], env: &[(String, OsString)], stdin: &[u8]) -> Result<RunOutcome, String> {
    use std::os::unix::process::CommandExt;
    let mut c = Command::new(&cmd[0]);
    c.args(&cmd[1..]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
    c.envs(env.iter().map(|(k, v)| (k, v)));
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
    let mut out = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
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
    Ok(RunOutcome { stdout, status, wall, rss_kib })
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

/// Builds the contender list, compiling what needs compiling in `tmp`.
fn contenders(a: &BenchArgs, tmp: &Path, notes: &mut Vec<String>) -> Result<Vec<Contender>, String> {
    let mut list = Vec::new();
    let name = a.input.display().to_string();
    let bytes = kiln::read_module(&a.input).map_err(|e| e.to_string())?;
    let wasm = tmp.join("module.wasm");
    std::fs::write(&wasm, &bytes).map_err(|e| e.to_string())?;
    let me = std::env::current_exe().map_err(|e| e.to_string())?;

    // Kiln AOT: compiled here, in this process, as `kiln compile` would.
    let exe = tmp.join("kiln-aot");
    let t = Instant::now();
    kiln::compile_bytes(&name, &bytes, &exe, &a.opts).map_err(|e| e.to_string())?;
    let compile = secs(t.elapsed());
    let size = std::fs::metadata(&exe).map(|m| m.len()).ok();
    let mut cmd = vec![exe.into_os_string()];
    cmd.extend(a.args.iter().cloned());
    list.push(Contender { name: "kiln-aot".into(), note: "static executable".into(), cmd, compile: Some(compile), size, env: vec![], timing_file: None });

    // Kiln JIT: `kiln run`, with the same flags.
    let times = tmp.join("kiln-jit-times");
    let mut cmd = vec![me.into_os_string(), "run".into()];
    cmd.extend(a.kiln_flags.iter().cloned());
    cmd.push(a.input.clone().into_os_string());
    cmd.extend(a.args.iter().cloned());
    list.push(Contender {
        name: "kiln-jit".into(),
        note: "kiln run: compile in memory, then run".into(),
        cmd,
        compile: None,
        size: None,
        env: vec![(RUN_TIMES_ENV.to_string(), times.clone().into_os_string())],
        timing_file: Some(times),
    });

    // wasmtime: its CLI, else its Python package.
    let cli = a.wasmtime.clone().or_else(|| which("wasmtime"));
    let grants = wasmtime_grants(&a.opts);
    if let Some(wt) = cli {
        let mut cmd = vec![wt.clone().into_os_string(), "run".into()];
        cmd.extend(grants.iter().cloned());
        cmd.push(wasm.clone().into_os_string());
        cmd.extend(a.args.iter().cloned());
        list.push(Contender { name: "wasmtime-jit".into(), note: "wasmtime run".into(), cmd, compile: None, size: None, env: vec![], timing_file: None });
        let cwasm = tmp.join("module.cwasm");
        let t = Instant::now();
        let ok = Command::new(&wt).arg("compile").arg(&wasm).arg("-o").arg(&cwasm).status().map(|s| s.success()).unwrap_or(false);
        if ok {
            let compile = secs(t.elapsed());
            let mut cmd = vec![wt.into_os_string(), "run".into(), "--allow-precompiled".into()];
            cmd.extend(grants.iter().cloned());
            cmd.push(cwasm.clone().into_os_string());
            cmd.extend(a.args.iter().cloned());
            let size = std::fs::metadata(&cwasm).map(|m| m.len()).ok();
            list.push(Contender { name: "wasmtime-aot".into(), note: "wasmtime compile, run .cwasm".into(), cmd, compile: Some(compile), size, env: vec![], timing_file: None });
        } else {
            notes.push("wasmtime compile failed: no wasmtime-aot".into());
        }
    } else if python_has_wasmtime() {
        if !grants.is_empty() {
            notes.push("wasmtime (py API) runs without the directory and environment grants".into());
        }
        let script = tmp.join("wasmtime_py.py");
        std::fs::write(&script, WASMTIME_PY).map_err(|e| e.to_string())?;
        let mut cmd: Vec<OsString> = vec!["python3".into(), script.clone().into_os_string(), "jit".into(), wasm.clone().into_os_string()];
        cmd.extend(a.args.iter().cloned());
        list.push(Contender {
            name: "wasmtime-jit".into(),
            note: "wasmtime (py API), includes Python start-up".into(),
            cmd,
            compile: None,
            size: None,
            env: vec![],
            timing_file: None,
        });
        let cwasm = tmp.join("module.cwasm");
        let t = Instant::now();
        let ok = Command::new("python3").arg(&script).arg("compile").arg(&wasm).arg(&cwasm).status().map(|s| s.success()).unwrap_or(false);
        if ok {
            let compile = secs(t.elapsed());
            let mut cmd: Vec<OsString> = vec!["python3".into(), script.into_os_string(), "aot".into(), cwasm.clone().into_os_string()];
            cmd.extend(a.args.iter().cloned());
            let size = std::fs::metadata(&cwasm).map(|m| m.len()).ok();
            list.push(Contender {
                name: "wasmtime-aot".into(),
                note: "wasmtime (py API) .cwasm, includes Python start-up".into(),
                cmd,
                compile: Some(compile),
                size,
                env: vec![],
                timing_file: None,
            });
        }
    } else {
        notes.push("no wasmtime: give --wasmtime PATH, put it on PATH, or `pip install wasmtime`".into());
    }

    // Native: a C source (built with clang -O2) or an executable.
    if let Some(native) = &a.native {
        if native.extension().is_some_and(|e| e == "c") {
            let out = tmp.join("native");
            let cc = ["clang-19", "clang", "cc"].into_iter().find(|c| which(c).is_some()).ok_or("--native with a C source needs clang-19, clang or cc")?;
            let t = Instant::now();
            let st = Command::new(cc).arg("-O2").arg(native).arg("-o").arg(&out).arg("-lm").status().map_err(|e| e.to_string())?;
            if !st.success() {
                return Err(format!("{cc} -O2 {} failed", native.display()));
            }
            list.push(native_contender(&out, &a.args, format!("{cc} -O2"), Some(secs(t.elapsed()))));
        } else {
            list.push(native_contender(native, &a.args, "given executable".into(), None));
        }
    }
    Ok(list)
}

fn native_contender(exe: &Path, args: &[OsString], note: String, compile: Option<f64>) -> Contender {
    let mut cmd = vec![exe.as_os_str().to_os_string()];
    cmd.extend(args.iter().cloned());
    Contender { name: "native".into(), note, cmd, compile, size: std::fs::metadata(exe).map(|m| m.len()).ok(), env: vec![], timing_file: None }
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

/// `wasmtime run` flags for the same grants.
fn wasmtime_grants(o: &kiln::Options) -> Vec<OsString> {
    let mut v: Vec<OsString> = Vec::new();
    for d in &o.dirs {
        v.push("--dir".into());
        v.push(format!("{}::{}", d.host, d.guest).into());
    }
    for kv in &o.env {
        v.push("--env".into());
        v.push(kv.into());
    }
    v
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
    let mut reference: Option<Vec<u8>> = None;
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
        };
        let mut jit_compile = Vec::new();
        for _ in 0..a.runs {
            let o = run_once(&c.cmd, &c.env, &stdin)?;
            let mut wall = o.wall;
            if let Some(f) = &c.timing_file {
                if let Some(t) = std::fs::read_to_string(f).ok().and_then(|s| s.trim().parse::<f64>().ok()) {
                    jit_compile.push(t);
                    wall -= t;
                }
            }
            r.times.push(wall);
            r.peak_rss_kib = r.peak_rss_kib.max(o.rss_kib);
            r.status = o.status;
            match &reference {
                None => reference = Some(o.stdout),
                Some(want) => r.output_matches &= *want == o.stdout,
            }
            bar.inc(1);
        }
        if !jit_compile.is_empty() {
            r.compile = Some(median(&jit_compile));
        }
        results.push(r);
    }
    bar.finish_and_clear();
    let base = median(&results[0].times);
    let all_match = results.iter().all(|r| r.output_matches && r.status == results[0].status);
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
        Err("the contenders' outputs or exit statuses differ (see the table)".into())
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
    s += "kiln-jit's time excludes its compile time (shown under compile, per run).\n";
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
