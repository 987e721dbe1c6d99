//! Source-level debugging with gdb: C programs compiled to wasm with `-g`,
//! then by `kiln -g` into executables, debugged by a real gdb in batch mode.
//!
//! Each `testsuite/gdb/NAME.c` (or `NAME.rs`, built with Debian's rustc for
//! wasm32-wasi, or `NAME.wat`, a module without DWARF) has a
//! `NAME.gdb` script (C files may add `NAME.cflags`, and `NAME.cpu` a
//! `--cpu` level for the targets that know it); its `# check: TEXT`
//! lines must appear in gdb's output in that order (`# check(T1,T2): TEXT`
//! only on those targets). The host target runs
//! under plain gdb; aarch64 and riscv64 run under qemu-user's gdb stub with
//! gdb-multiarch (`target remote`). `KILN_GDB` overrides the gdb binary.
//! A missing tool fails the test, naming its package (scripts/setup.sh).

use kiln_testsuite::*;
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};

static PORT: AtomicU16 = AtomicU16::new(23000);

fn run_case(dir: &Path, name: &str, target: &'static Target) -> Result<(), Failed> {
    // A C program (built with clang -g), or a WAT module without DWARF,
    // which gdb then steps through as text.
    let wat = dir.join(format!("{name}.wat"));
    let rs = dir.join(format!("{name}.rs"));
    let wasm = if wat.exists() {
        wat
    } else if rs.exists() {
        // Debian's rustc with its wasm32-wasi standard library (both from
        // scripts/setup.sh: a missing one fails the test, never skips it).
        let wasm = scratch("gdb").join(format!("{name}.wasm"));
        let out = tool("/usr/bin/rustc")
            .args(["--target", "wasm32-wasi", "-g", "-C", "opt-level=0", "-o"])
            .arg(&wasm)
            .arg(&rs)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("rustc failed: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        wasm
    } else {
        // NAME.cflags: more flags after `-g -O0` (e.g. -msimd128).
        let extra = std::fs::read_to_string(dir.join(format!("{name}.cflags"))).unwrap_or_default();
        let mut flags = vec!["-g", "-O0"];
        flags.extend(extra.split_whitespace());
        let wasm = scratch("gdb").join(format!("{name}.wasm"));
        build_c(&dir.join(format!("{name}.c")), &wasm, &flags)?;
        wasm
    };
    let exe = scratch(&format!("gdb-{}", target.name)).join(name);
    let mut opts = kiln::Options::new(target);
    opts.debug = true;
    // NAME.cpu: a `--cpu` level, used on the targets that know it (SIMD on
    // riscv64 needs V); qemu then runs a CPU model that has it.
    let cpu = std::fs::read_to_string(dir.join(format!("{name}.cpu"))).unwrap_or_default();
    let cpu = cpu.trim();
    if !cpu.is_empty() && target.cpu_features(Some(cpu)).is_ok() {
        opts.cpu = Some(cpu.to_string());
    }
    let qemu_model = qemu_cpu(target, opts.cpu.as_deref(), None)?;
    kiln::compile_file(&wasm, &exe, &opts).map_err(|e| e.to_string())?;

    // The executable's DWARF names the original compilation unit.
    {
        let info = tool("readelf").arg("--debug-dump=info").arg(&exe).output().map_err(|e| e.to_string())?;
        let info = String::from_utf8_lossy(&info.stdout);
        // A module without DWARF gets its text form as the source,
        // written beside the executable as NAME.kiln.wat.
        let source = ["c", "rs", "wat"]
            .iter()
            .map(|e| format!("{name}.{e}"))
            .find(|f| dir.join(f).exists())
            .map(|f| if f.ends_with(".wat") { format!("{name}.kiln.wat") } else { f })
            .unwrap_or_default();
        if !info.contains("DW_TAG_compile_unit") || !info.contains(&source) {
            return Err(format!("readelf --debug-dump=info shows no compilation unit for {source}").into());
        }
    }
    let script_text = std::fs::read_to_string(dir.join(format!("{name}.gdb"))).map_err(|e| e.to_string())?;
    // `# check: TEXT` applies to every target; `# check(T1,T2): TEXT` only
    // to those targets.
    let checks: Vec<&str> = script_text
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            if let Some(c) = l.strip_prefix("# check: ") {
                return Some(c);
            }
            let (targets, c) = l.strip_prefix("# check(")?.split_once("): ")?;
            targets.split(',').any(|t| t.trim() == target.name).then_some(c)
        })
        .collect();
    let native = target.name == std::env::consts::ARCH;
    // KILN_GDB names another gdb to use; otherwise the one setup.sh installs.
    let custom_gdb = std::env::var("KILN_GDB").ok();
    let gdb = custom_gdb.clone().unwrap_or_else(|| if native { "gdb".into() } else { "gdb-multiarch".into() });
    let gdb_command = || if custom_gdb.is_some() { Command::new(&gdb) } else { tool(&gdb) };
    if gdb_command().arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        return Err(format!("cannot run {gdb} (scripts/setup.sh installs it)").into());
    }
    // A session under qemu may start before qemu listens on its port (on a
    // busy machine): then gdb's connection is refused, and it is retried
    // with a fresh qemu and a longer wait.
    let mut text = String::new();
    for attempt in 0..4u64 {
        let mut script = String::from("set pagination off\nset confirm off\nset width 0\n");
        let mut qemu = None;
        if native {
            script.push_str(&script_text);
        } else {
            // qemu-user waits for gdb on a port; `run` becomes `continue`.
            let port = PORT.fetch_add(1, Ordering::Relaxed);
            qemu = Some(
                tool(target.qemu)
                    .args(qemu_model.iter().flat_map(|m| ["-cpu", m.as_str()]))
                    .args(["-g", &port.to_string()])
                    .arg(&exe)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(|e| format!("cannot start {}: {e}", target.qemu))?,
            );
            std::thread::sleep(std::time::Duration::from_millis(300 * (attempt + 1)));
            script.push_str(&format!("target remote 127.0.0.1:{port}\n"));
            for l in script_text.lines() {
                script.push_str(if l.trim() == "run" { "continue" } else { l });
                script.push('\n');
            }
        }
        let script_path = scratch(&format!("gdb-{}", target.name)).join(format!("{name}.gdbscript"));
        std::fs::write(&script_path, script).map_err(|e| e.to_string())?;
        let out = gdb_command()
            .args(["-nx", "-batch", "-x"])
            .arg(&script_path)
            .arg(&exe)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {gdb}: {e}"))?;
        text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        if let Some(mut q) = qemu {
            let _ = q.kill();
            if let Ok(o) = q.wait_with_output() {
                // Under qemu the program's output arrives on qemu's stdout;
                // put it where it belongs, just before the exit message.
                let program = String::from_utf8_lossy(&o.stdout);
                text = text.replacen("[Inferior 1", &format!("{program}[Inferior 1"), 1);
            }
        }
        if !text.contains("Connection refused") {
            break;
        }
    }
    let mut rest = text.as_str();
    for c in &checks {
        match rest.find(c) {
            Some(i) => rest = &rest[i + c.len()..],
            None => return Err(format!("gdb output lacks `{c}` (after the earlier checks):\n{text}").into()),
        }
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let dir = root().join("testsuite/gdb");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter_map(|e| e.path().file_stem().map(|s| s.to_string_lossy().to_string()))
        .filter(|n| dir.join(format!("{n}.gdb")).exists())
        .collect();
    names.sort();
    names.dedup();
    let mut trials = Vec::new();
    for target in test_targets() {
        for n in &names {
            let (d, n) = (dir.clone(), n.clone());
            trials.push(Trial::test(format!("{}::{n}", target.name), move || run_case(&d, &n, target)));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
