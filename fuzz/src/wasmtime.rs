//! The second oracle: wasmtime, through its Python API
//! (`fuzz/oracle_wasmtime.py`, the pinned `wasmtime` package that
//! scripts/tools.txt lists), for the modules wasmi 1.1 cannot run
//! (`gen::needs_wasmtime`). One Python process answers every such module
//! of a batch, in the driver's answer lines.
//!
//! wasmi stays the primary oracle: wasmtime compiles with Cranelift, as
//! Kiln does (with its own translator), so a Cranelift miscompile could
//! give the same wrong answer on both sides. Only modules using features
//! wasmi lacks come here.

use crate::oracle::Answer;
use crate::plan::{self, Req};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// The trap kind the oracle answers for wasmtime's single null-reference
/// trap code, which stands for three of Kiln's kinds (`throw_ref` of null,
/// `call_ref` of null, `ref.as_non_null`/`br_on_*` of null: 10, 13, 14);
/// `diff::compare` matches it with any of them. Not a Kiln kind.
pub const NULL_ANY: u32 = 0x200;

/// What the driver answers for an exception no wasm frame caught
/// (`kiln_abi::UNCAUGHT_EXCEPTION`); the oracle answers the same.
pub const UNCAUGHT_EXCEPTION: u32 = 0x100;

/// The oracle program.
fn script() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/oracle_wasmtime.py")
}

/// One module for the oracle: its bytes, requests, and Kiln's `addr`
/// answers (function identities, as for the wasmi oracle).
pub struct Job<'a> {
    pub bytes: &'a [u8],
    pub reqs: &'a [Req],
    pub kiln_addrs: &'a HashMap<String, u64>,
}

/// wasmtime's answers for each job, in one run of the oracle program;
/// `Err` for a job it could not load or answer completely (not a Kiln
/// bug: the module is skipped).
pub fn answer(jobs: &[Job], work: &Path, timeout: Duration) -> Vec<Result<Vec<Answer>, String>> {
    match run(jobs, work, timeout) {
        Ok(out) => out,
        Err(e) => jobs.iter().map(|_| Err(e.clone())).collect(),
    }
}

fn run(jobs: &[Job], work: &Path, timeout: Duration) -> Result<Vec<Result<Vec<Answer>, String>>, String> {
    let _ = std::fs::create_dir_all(work);
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tag = format!("{}-{}", std::process::id(), RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let mut files = Vec::new();
    let mut input = String::new();
    for (k, j) in jobs.iter().enumerate() {
        let path = work.join(format!("wasmtime-{tag}-{k}.wasm"));
        std::fs::write(&path, j.bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        input.push_str(&format!("load {k:x} {}\n", plan::hex(&path.to_string_lossy())));
        files.push(path);
        for r in j.reqs {
            if let Req::Addr(n) = r {
                if let Some(p) = j.kiln_addrs.get(n) {
                    input.push_str(&format!("funcaddr {k:x} {} {p:x}\n", plan::hex(n)));
                }
            }
        }
        for r in j.reqs {
            input.push_str(&r.line(k));
            input.push('\n');
        }
    }
    let stdin = work.join(format!("wasmtime-{tag}.in"));
    std::fs::write(&stdin, &input).map_err(|e| format!("cannot write {}: {e}", stdin.display()))?;
    let out = run_python(&stdin, timeout);
    let _ = std::fs::remove_file(&stdin);
    for f in &files {
        let _ = std::fs::remove_file(f);
    }
    let (out, stopped) = out?;
    let mut lines = out.lines();
    let mut results = Vec::new();
    for (k, j) in jobs.iter().enumerate() {
        let load = lines.next().map(Answer::parse);
        let addrs = j.reqs.iter().filter(|r| matches!(r, Req::Addr(n) if j.kiln_addrs.contains_key(n))).count();
        for _ in 0..addrs {
            lines.next();
        }
        let answers: Vec<Answer> = lines.by_ref().take(j.reqs.len()).map(Answer::parse).collect();
        results.push(match load {
            Some(Answer::Ok(_)) if answers.len() == j.reqs.len() => Ok(answers),
            Some(Answer::Ok(_)) | None => Err(format!("the wasmtime oracle stopped at module {k}: {}", stopped.clone().unwrap_or_default())),
            Some(a) => Err(format!("{a}")),
        });
    }
    Ok(results)
}

/// Runs the oracle program on `stdin`: its stdout, and how it ended if not
/// normally.
fn run_python(stdin: &Path, timeout: Duration) -> Result<(String, Option<String>), String> {
    let mut cmd = kiln_testsuite::tool("python3");
    cmd.arg(script());
    let (out, err, status) =
        crate::diff::run_with_timeout(cmd, stdin, timeout).map_err(|e| format!("cannot run the wasmtime oracle: {e}"))?;
    let err: String = err.lines().take(3).collect::<Vec<_>>().join(" / ");
    let end = match status {
        None => Some(format!("killed after {} s", timeout.as_secs())),
        Some(s) if s.success() => None,
        Some(s) => Some(format!("{s}; stderr: {err}")),
    };
    if end.is_some() {
        eprintln!("kiln-fuzz: the wasmtime oracle {}", end.as_deref().unwrap_or_default());
    }
    Ok((out, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Ty;

    /// Exceptions across frames, an uncaught one, a null `throw_ref`, and
    /// signalling-NaN bits through a call.
    #[test]
    fn answers_like_the_driver() {
        let bytes = wat::parse_str(
            r#"(module
              (tag $t (param i32))
              (func $g (export "g") (param i32) (throw $t (local.get 0)))
              (func (export "f") (param i32) (result i32)
                (block $h (result i32)
                  (try_table (catch $t $h) (call $g (local.get 0)))
                  (i32.const 7)))
              (func (export "n") ref.null exn throw_ref)
              (func (export "x") (param f32) (result f32) local.get 0))"#,
        )
        .unwrap();
        let call = |name: &str, args: Vec<(Ty, u128)>, results: Vec<Ty>| Req::Invoke { name: name.into(), args, results };
        let reqs = vec![
            Req::Instantiate,
            call("f", vec![(Ty::I32, 5)], vec![Ty::I32]),
            call("g", vec![(Ty::I32, 5)], vec![]),
            call("n", vec![], vec![]),
            call("x", vec![(Ty::F32, 0x7fa0_0001)], vec![Ty::F32]),
        ];
        let addrs = HashMap::new();
        let work = kiln_testsuite::scratch("fuzz-wasmtime-unit");
        let out = answer(&[Job { bytes: &bytes, reqs: &reqs, kiln_addrs: &addrs }], &work, Duration::from_secs(60));
        let a = out[0].as_ref().unwrap();
        assert_eq!(a[0], Answer::Ok(vec![]));
        assert_eq!(a[1], Answer::Ok(vec![5]));
        assert_eq!(a[2], Answer::Trap(UNCAUGHT_EXCEPTION));
        assert_eq!(a[3], Answer::Trap(NULL_ANY));
        assert_eq!(a[4], Answer::Ok(vec![0x7fa0_0001]));
    }
}
