//! A Rust host for `testsuite/embed/calc.wat`, built with the build-script
//! API (`build.rs`: `kiln::Build::new().file(...).compile("calc")`) and
//! using only the safe bindings it generates (no `unsafe` here).
//!
//! It creates three instances, calls exports with every value type, passes
//! a string through linear memory, implements the host imports (one of
//! which calls back into its instance, and that call reaches the other
//! imports), recovers from traps in one instance while the others go on,
//! reads and writes globals, and moves two instances to threads. Its
//! output is deterministic: the embedding test (`testsuite/tests/embed.rs`,
//! trial `HOST::rust_host`) runs it and compares its stdout with
//! `testsuite/embed/rust_host.stdout`.
//!
//! Built for the host target only: it is an ordinary workspace binary, so
//! Cargo builds it for (and `kiln::Build` compiles the plugin for) the
//! machine running the tests.

use std::error::Error;
use std::fmt::Debug;

include!(concat!(env!("OUT_DIR"), "/calc.rs"));

use calc::{Caller, Config, Instance, Status, Trap};

/// What each instance's imports keep: its name, the strings it logged,
/// and how many times `twice` and `scale` ran; and whether `log` should
/// panic instead.
struct Host {
    name: &'static str,
    logged: Vec<String>,
    arithmetic: u32,
    panic: bool,
}

impl Host {
    fn new(name: &'static str) -> Host {
        Host { name, logged: Vec::new(), arithmetic: 0, panic: false }
    }
}

impl calc::Imports for Host {
    /// Prints the string at [ptr, ptr+len), then re-enters the instance:
    /// `add`, and `mix`, which calls the two other imports.
    fn host_log(caller: &mut Caller<'_, Self>, ptr: i32, len: i32) {
        let (start, end) = (ptr as u32 as usize, ptr as u32 as usize + len as u32 as usize);
        let text = match caller.memory().get(start..end) {
            Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            None => "<out of bounds>".to_string(),
        };
        println!("  [{}] log: {text}", caller.user_data().name);
        if caller.user_data().panic {
            panic!("the log import was told to panic");
        }
        caller.user_data_mut().logged.push(text);
        let r = caller.add(40, 2);
        println!("  [{}] re-entered add: {r:?}", caller.user_data().name);
        let r = caller.mix(21, 2.0, 0.25);
        println!("  [{}] re-entered mix: {r:?}", caller.user_data().name);
    }

    fn host_twice(caller: &mut Caller<'_, Self>, x: i64) -> i64 {
        caller.user_data_mut().arithmetic += 1;
        x.wrapping_mul(2)
    }

    fn host_scale(caller: &mut Caller<'_, Self>, f: f32, d: f64) -> f64 {
        caller.user_data_mut().arithmetic += 1;
        f as f64 * d
    }
}

fn show<T: Debug>(what: &str, r: Result<T, Trap>) {
    match r {
        Ok(v) => println!("{what}: {v:?}"),
        Err(t) => println!("{what}: {:?}, trap kind {}\n{t}", t.status, t.kind),
    }
}

fn assert_send<T: Send>() {}

/// `kiln-embed-rust panic`: an import panics inside a call. The bindings
/// must abort the process with a message rather than unwind through the
/// wasm frames; the test checks the message and the SIGABRT.
fn panic_in_import() -> Result<(), Box<dyn Error>> {
    let mut inst = Instance::new(Host { panic: true, ..Host::new("P") }, &Config::new())?;
    inst.memory()[..5].copy_from_slice(b"panic");
    let r = inst.shout(0, 5);
    println!("the panic came back: {r:?}");
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    if std::env::args().nth(1).as_deref() == Some("panic") {
        return panic_in_import();
    }
    assert_send::<Instance<Host>>();
    let mut a = Instance::new(Host::new("A"), &Config::new())?;
    let mut b = Instance::new(Host::new("B"), &Config::default())?;
    let mut c = Instance::new(Host::new("C"), &Config::new().stack_size(256 << 10))?;

    println!("== values");
    show("add(i32::MAX, 1)", a.add(i32::MAX, 1));
    show("mix(-2^62, 1.5, -2.25)", a.mix(-(1 << 62), 1.5, -2.25));
    let z = a.negate_f32(0.0)?;
    println!("negate_f32(0.0): {z:?}");
    let nan = a.negate_f32(f32::from_bits(0x7fc0_1234))?;
    println!("negate_f32(NaN 0x7fc01234): bits {:#x}", nan.to_bits());
    println!("version: {:#x}", a.global_version());
    println!("table size: {}", a.table_size());

    println!("== strings through memory");
    let msg = "hello from the host";
    b.memory()[1024..1024 + msg.len()].copy_from_slice(msg.as_bytes());
    show("shout", b.shout(1024, msg.len() as i32));
    println!("memory now: {}", String::from_utf8_lossy(&b.memory()[1024..1024 + msg.len()]));
    println!("memory size: {}", b.memory().len());

    println!("== separate state");
    a.add(1, 1)?;
    c.set_global_count(100);
    println!("count: A {}, B {}, C {}", a.global_count(), b.global_count(), c.global_count());

    println!("== traps");
    show("div(1, 0) in A", a.div(1, 0));
    show("B meanwhile: add(20, 22)", b.add(20, 22));
    show("peek(65536) in A", a.peek(65536));
    match c.deep(0) {
        Ok(v) => println!("deep(0) in C: returned {v}"),
        Err(t) => println!("deep(0) in C: {:?}, trap kind {}", t.status, t.kind),
    }
    show("throw(7) in A", a.throw(7));
    println!("(an uncaught exception's kind is Trap::UNCAUGHT_EXCEPTION = {})", Trap::UNCAUGHT_EXCEPTION);
    show("catch(9) in A", a.catch(9));
    show("A after its traps: add(3, 4)", a.add(3, 4));
    show("C after its stack overflow: add(3, 4)", c.add(3, 4));
    if let Err(e) = a.div(i32::MIN, -1) {
        let e: Box<dyn Error> = Box::new(e);
        println!("as a Box<dyn Error>: {e}");
    }

    println!("== threads");
    let workers: Vec<_> = [a, b]
        .into_iter()
        .map(|mut inst| {
            std::thread::spawn(move || {
                let (mut ok, mut traps) = (0, 0);
                for _ in 0..200 {
                    if inst.sum(1000) == Ok(499500) {
                        ok += 1;
                    }
                    if matches!(inst.div(1, 0), Err(Trap { status: Status::Trap, .. })) {
                        traps += 1;
                    }
                }
                let sum = inst.sum(100);
                (inst, ok, traps, sum)
            })
        })
        .collect();
    let mut back = Vec::new();
    for w in workers {
        let (inst, ok, traps, sum) = w.join().expect("a worker panicked");
        println!("thread on {}: {ok} ok, {traps} traps, sum {sum:?}", inst.user_data().name);
        back.push(inst);
    }

    println!("== host data");
    for inst in back.iter().chain([&c]) {
        let h = inst.user_data();
        println!("{}: logged {:?}, {} arithmetic imports", h.name, h.logged, h.arithmetic);
    }

    println!("== config errors");
    match Instance::new(Host::new("D"), &Config::new().arg("nul\0inside")) {
        Ok(_) => println!("created an instance with a NUL in an argument"),
        Err(t) => println!("{:?}: {t}", t.status),
    }
    match Instance::new(Host::new("E"), &Config::new().env("A=B", "c")) {
        Ok(_) => println!("created an instance with `=` in a variable name"),
        Err(t) => println!("{:?}: {t}", t.status),
    }

    drop(back);
    drop(c);
    println!("== done");
    Ok(())
}
