//! Fresh-machine discipline: everything the build, tests, example and bench
//! check use is listed in `scripts/tools.txt`, installed by
//! `scripts/setup.sh`, and present here. A tool installed by hand on one
//! machine must not be what makes the tests pass.
//!
//! - Every listed tool resolves: a program on PATH (following symlinks to
//!   the end, since Debian's `rust-lld` is a link into a package that rustc
//!   only recommends), a file or directory, or a Python package at its
//!   pinned version. A missing one fails naming its package.
//! - The harness's own programs only come through `kiln_testsuite::tool`,
//!   which refuses unlisted ones; the Python harnesses use the same list.
//! - Builds of test inputs are hermetic: `scripts/wasm-cc` gives the same
//!   module whether or not a `wasm-opt` (binaryen) is on PATH.

use kiln_testsuite::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    // symlink_metadata: a dangling link is found (and then reported as such).
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.symlink_metadata().is_ok())
}

#[test]
fn every_listed_tool_is_installed() {
    let mut missing = Vec::new();
    for t in tool_needs() {
        let problem = if let Some(module) = t.need.strip_prefix("python3:") {
            let version = t.package.split_once("==").map(|(_, v)| v).unwrap_or("");
            let out = Command::new("python3")
                .args(["-c", &format!("import importlib.metadata as m, {module}; print(m.version('{module}'))")])
                .output();
            match out {
                Ok(o) if o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == version => None,
                Ok(o) if o.status.success() => {
                    Some(format!("Python package {module} is {}, not the pinned {version}", String::from_utf8_lossy(&o.stdout).trim()))
                }
                _ => Some(format!("Python package {module} cannot be imported")),
            }
        } else if t.need.starts_with('/') {
            // exists() follows symlinks: a dangling link counts as missing.
            (!Path::new(&t.need).exists()).then(|| format!("{} does not exist", t.need))
        } else {
            match on_path(&t.need) {
                None => Some(format!("`{}` is not on PATH", t.need)),
                Some(p) if std::fs::canonicalize(&p).is_err() => {
                    Some(format!("`{}` is a dangling link ({} -> {:?})", t.need, p.display(), std::fs::read_link(&p).ok()))
                }
                Some(_) => None,
            }
        };
        if let Some(p) = problem {
            missing.push(format!("  {p}: package {} (run scripts/setup.sh)", t.package));
        }
    }
    assert!(missing.is_empty(), "tools the tests use are missing:\n{}", missing.join("\n"));
}

#[test]
fn setup_installs_every_listed_package() {
    // setup.sh must take its package list from tools.txt, not keep its own.
    let setup = std::fs::read_to_string(root().join("scripts/setup.sh")).unwrap();
    assert!(setup.contains("scripts/tools.txt"), "scripts/setup.sh does not read scripts/tools.txt");
    let out = Command::new("bash").arg(root().join("scripts/setup.sh")).output().unwrap();
    assert!(out.status.success(), "scripts/setup.sh failed:\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("installing"),
        "scripts/setup.sh still had something to install after setup: the machine is not as setup.sh leaves it"
    );
}

#[test]
#[should_panic(expected = "scripts/tools.txt does not list")]
fn harness_refuses_unlisted_programs() {
    let _ = tool("wasm-opt");
}

#[test]
fn wasm_builds_ignore_wasm_opt_on_path() {
    // A stand-in wasm-opt that would rewrite the module and leaves a mark
    // if clang ever runs it.
    let dir = tempfile::tempdir().unwrap();
    let mark = dir.path().join("ran");
    let fake = dir.path().join("wasm-opt");
    std::fs::write(&fake, format!("#!/bin/sh\ntouch '{}'\nexit 1\n", mark.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let src = root().join("testsuite/e2e/divzero.c");
    let build = |out: &Path, path: Option<&Path>| {
        let mut c = tool("scripts/wasm-cc");
        c.args(["-O2", "-o"]).arg(out).arg(&src).arg("-lm");
        if let Some(p) = path {
            let old = std::env::var_os("PATH").unwrap_or_default();
            let mut dirs = vec![p.to_path_buf()];
            dirs.extend(std::env::split_paths(&old));
            c.env("PATH", std::env::join_paths(dirs).unwrap());
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "scripts/wasm-cc failed: {}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(out).unwrap()
    };
    // The same file name in two directories: the module's name section
    // records the output's file name.
    for sub in ["plain", "opt"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    let plain = build(&dir.path().join("plain/m.wasm"), None);
    let with_opt = build(&dir.path().join("opt/m.wasm"), Some(dir.path()));
    assert!(!mark.exists(), "clang ran the wasm-opt found on PATH");
    assert_eq!(plain, with_opt, "the module differs when a wasm-opt is on PATH");
    // And the name section that backtraces rely on is there.
    assert!(plain.windows(4).any(|w| w == b"name"), "no name section in the module");
}
