//! The threads stress test: `e2e/threads_stress.wat` (64 threads on one
//! atomic counter and one shared queue, drained with wait/notify) run 100
//! times natively, checked for the exact counter and sum each time, and 5
//! times on every other target (under qemu, which is much slower). Each run
//! is bounded: a lost wake-up or a deadlock fails the test instead of
//! hanging it.
//!
//! And a liveness test: a thread's WASI call goes on while another thread
//! waits in a read of stdin (`threads/blocked_read.wat`).

use kiln_testsuite::{root, runner, scratch, test_targets, tool};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUN_LIMIT: Duration = Duration::from_secs(60);

#[test]
fn threads_stress_is_exact_every_time() {
    let src = root().join("testsuite/e2e/threads_stress.wat");
    let want = std::fs::read(root().join("testsuite/e2e/threads_stress.stdout")).unwrap();
    for target in test_targets() {
        let exe = scratch("threads").join(format!("threads_stress-{}", target.name));
        kiln::compile_file(&src, &exe, &kiln::Options::new(target)).unwrap_or_else(|e| panic!("{}: {e}", target.name));
        let prefix = runner(target).unwrap_or_else(|| panic!("cannot run {} executables here", target.name));
        let runs = if prefix.is_empty() { 100 } else { 5 };
        for i in 0..runs {
            let mut cmd = match prefix.split_first() {
                Some((q, rest)) => {
                    let mut c = tool(q);
                    c.args(rest).arg(&exe);
                    c
                }
                None => Command::new(&exe),
            };
            let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
            let start = Instant::now();
            let status = loop {
                if let Some(s) = child.try_wait().unwrap() {
                    break s;
                }
                if start.elapsed() > RUN_LIMIT {
                    let _ = child.kill();
                    panic!("{} run {i}: no exit after {RUN_LIMIT:?} (deadlock or lost wake-up)", target.name);
                }
                std::thread::sleep(Duration::from_millis(2));
            };
            let out = child.wait_with_output().unwrap();
            assert!(status.success(), "{} run {i}: {status}: {}", target.name, String::from_utf8_lossy(&out.stderr));
            assert_eq!(out.stdout, want, "{} run {i}", target.name);
        }
    }
}

#[test]
fn a_read_waiting_on_stdin_blocks_no_other_thread() {
    use std::io::{Read, Write};
    let src = root().join("testsuite/threads/blocked_read.wat");
    let exe = scratch("threads").join("blocked_read");
    let host = test_targets().into_iter().find(|t| runner(t).is_some_and(|p| p.is_empty())).expect("a native target");
    kiln::compile_file(&src, &exe, &kiln::Options::new(host)).unwrap();
    let mut child = Command::new(&exe).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // The thread's line arrives while stdin is still open and empty (a
    // reader thread, so that a regression fails after the limit instead
    // of hanging).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = [0u8; 7];
        let r = stdout.read_exact(&mut line).map(|_| line.to_vec());
        let _ = tx.send(r);
        let mut rest = Vec::new();
        let _ = stdout.read_to_end(&mut rest);
        let _ = tx.send(Ok(rest));
    });
    let first = rx.recv_timeout(RUN_LIMIT);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"hi\n").unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    assert_eq!(first.expect("the thread printed while main waited on stdin").unwrap(), b"thread\n");
    assert_eq!(rx.recv_timeout(RUN_LIMIT).unwrap().unwrap(), b"hi\n");
    assert!(status.success());
}
