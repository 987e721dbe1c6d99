//! CLIF snapshots: the translator's output for representative functions.
//!
//! Each `testsuite/snapshots/NAME.wat` is compiled with `--emit clif` for
//! x86_64, aarch64 and riscv64 (whose ABI sign-extends i32 arguments; with
//! `--cpu rva23u64`, whose V extension SIMD functions need), and the text
//! is compared with `NAME.<target>.clif`. The CLIF is the translator's,
//! before Cranelift runs, so the CPU level changes nothing else. After an intended change to
//! the translator, re-bless with `KILN_BLESS=1 cargo test --test snapshots`
//! and review the diff.

use kiln_testsuite::*;
use libtest_mimic::{Arguments, Trial};

fn main() {
    let args = Arguments::from_args();
    let dir = root().join("testsuite/snapshots");
    let mut wats: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wat"))
        .collect();
    wats.sort();
    let mut trials = Vec::new();
    for target in ["x86_64", "aarch64", "riscv64"] {
        for wat in &wats {
            let wat = wat.clone();
            let name = wat.file_stem().unwrap().to_string_lossy().to_string();
            trials.push(Trial::test(format!("{target}::{name}"), move || {
                let t = Target::lookup(target)?;
                let mut opts = kiln::Options::new(t);
                opts.cpu = (target == "riscv64").then(|| "rva23u64".to_string());
                opts.emit = kiln::Emit::Clif;
                let out = scratch("snapshots").join(format!("{name}.{target}.clif"));
                kiln::compile_file(&wat, &out, &opts).map_err(|e| e.to_string())?;
                let text = std::fs::read(&out).map_err(|e| e.to_string())?;
                check_file(&wat.with_extension(format!("{target}.clif")), &text, "CLIF")?;
                Ok(())
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
