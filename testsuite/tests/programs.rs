//! Real programs nobody here wrote (the Lua interpreter and SQLite, from
//! pinned registry sources) built to wasm and run through Kiln on every
//! target against granted directories. The work is done by
//! `testsuite/programs/run.py` (see its header); this harness makes it part
//! of `cargo test`, building the `kiln` binary it drives first.

use kiln_testsuite::root;
use libtest_mimic::{Arguments, Trial};
use std::process::Command;

fn main() {
    let args = Arguments::from_args();
    let trial = Trial::test("programs::lua_and_sqlite", || {
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
        let status = kiln_testsuite::tool("python3")
            .arg(root().join("testsuite/programs/run.py"))
            .env("KILN", target.join("debug/kiln"))
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
