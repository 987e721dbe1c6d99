//! A short, seed-fixed fuzzing run inside `cargo test`, so every test run
//! exercises the generator, the oracle and the runner on every target:
//! a few batches of random modules per target against wasmi, one batch of
//! the exception and function-reference profiles against wasmtime, and a
//! few hundred malformed inputs. Long campaigns: the `kiln-fuzz` binary (see
//! fuzz/README.md). `KILN_TEST_TARGETS` narrows the targets as elsewhere.

use kiln_fuzz::{diff, gen, malformed, plan, rng};
use std::time::Duration;

/// Fixed: the smoke run is the same modules every time.
const SEED: u64 = 0x6b69_6c6e;
const BATCHES: u64 = 6;
const BATCH_SIZE: u64 = 16;

fn options() -> diff::Options {
    let work = kiln_testsuite::scratch("fuzz-smoke");
    diff::Options {
        limits: plan::Limits { arg_sets: 8, max_calls: 64 },
        timeout: Duration::from_secs(60),
        artifacts: work.join("artifacts"),
        work,
        cpu: None,
        bounds_checks: kiln::BoundsChecks::Guard,
    }
}

fn smoke(target: &str) {
    let Some(t) = kiln_testsuite::test_targets().into_iter().find(|t| t.name == target) else {
        println!("fuzz smoke {target}: not run (not in KILN_TEST_TARGETS or no way to run it here)");
        return;
    };
    let o = options();
    let mut total = diff::Stats::default();
    let mut found = Vec::new();
    // The last batch is of the wasmtime profiles (exceptions, legacy
    // exceptions, typed function references, hand-written exception
    // programs and their legacy form).
    for b in 0..=BATCHES {
        let wasmtime = b == BATCHES;
        let seeds: Vec<u64> =
            (0..BATCH_SIZE).map(|j| gen::family_seed(rng::module_seed(SEED, b * BATCH_SIZE + j), wasmtime)).collect();
        // Every Cranelift optimisation level in turn.
        let opt = [kiln::OptLevel::SpeedAndSize, kiln::OptLevel::None, kiln::OptLevel::Speed][(b % 3) as usize];
        // The highest CPU level for the last batch, where it runs here.
        let mut o = o.clone();
        // Explicit bounds checks for every other batch.
        if b % 2 == 1 {
            o.bounds_checks = kiln::BoundsChecks::Explicit;
        }
        if b == BATCHES - 1 {
            o.cpu = t.cpu_levels.last().map(|l| l.0.to_string()).filter(|l| diff::cpu_runs(t, l, &o));
        }
        let (s, f) = diff::run_batch(t, &seeds, opt, &o);
        total.add(&s);
        found.extend(f);
    }
    println!("{}", total.summary(t.name, 0.0));
    let details: Vec<String> = found
        .iter()
        .map(|f| format!("{} (seed {:#x}, -O{}): {}\n  saved: {:?}", f.kind, f.seed, diff::opt_name(f.opt), f.detail, f.saved))
        .collect();
    assert!(found.is_empty(), "fuzzing found Kiln bugs on {target}:\n{}", details.join("\n"));
    assert!(total.modules >= BATCHES * BATCH_SIZE / 2, "too few modules ran: {total:?}");
    assert!(total.invocations > 0, "no invocation ran: {total:?}");
    // Most of this batch's modules use exceptions or function references
    // (12 of 16; the rest go to wasmi).
    assert!(total.wasmtime >= BATCH_SIZE / 4, "too few modules ran against wasmtime: {total:?}");
}

#[test]
fn diff_x86_64() {
    smoke("x86_64");
}

#[test]
fn diff_aarch64() {
    smoke("aarch64");
}

#[test]
fn diff_riscv64() {
    smoke("riscv64");
}

#[test]
fn malformed_inputs() {
    let work = kiln_testsuite::scratch("fuzz-smoke");
    let kiln = malformed::find_kiln();
    if kiln.is_none() {
        println!("fuzz smoke malformed: no kiln binary beside the tests (cargo build -p kiln), library entry points only");
    }
    let run = malformed::Run {
        seed: SEED,
        only: None,
        iterations: Some(300),
        deadline: None,
        cli_every: 8,
        kiln,
        work: work.clone(),
        artifacts: work.join("artifacts"),
    };
    let (s, found) = malformed::run(&run);
    println!("{}", s.summary(0.0));
    let details: Vec<String> = found.iter().map(|f| format!("input seed {:#x}: {}", f.seed, f.detail)).collect();
    assert!(found.is_empty(), "malformed inputs broke Kiln:\n{}", details.join("\n"));
}
