//! The hand-written generator of *exception programs*
//! (`gen::Profile::ExnPrograms` and `LegacyExnPrograms`): random modules
//! whose throws actually run, across frames. wasm-smith places exception
//! instructions well, but its functions seldom reach a `throw` at run
//! time (they mostly run out of fuel first), rarely have a tag's values at
//! hand, and almost never throw through several frames, so this builds the
//! text format of programs that do, from a seeded [`Rng`] (a seed names
//! one module):
//!
//! - two to six tags whose payloads are i32, i64, f32, f64, v128 (with
//!   `simd`), typed and untyped function references, externref and
//!   exnref values (an exception carrying another);
//! - *workers*, all of type `$w = [i32 d, i64 x] -> [i64]`, calling each
//!   other directly, through `call_indirect` (a funcref table), `call_ref`
//!   (of `ref.func`, a typed global, a typed table) and the tail-call
//!   forms of all three, always with a smaller depth `d`. Called from
//!   outside (when the budget below is full), a worker counts its depth
//!   down from its own bound (2 to 64) by the argument, `cap - d % (cap +
//!   1)`, so that the runner's small and special arguments make deep
//!   calls; the depth bounds the stack far below both engines' limits;
//! - a call budget: the global the runner refills before every call
//!   (`gen::FUEL_EXPORT`), one unit per worker call; a worker called at
//!   depth 0 or without budget runs its *base case* instead of its body,
//!   without calls (a value, a conditional throw, or for a quarter of the
//!   workers always a throw, so that deep call chains end in an exception
//!   unwinding through all of them). Not a trap: running out of budget is
//!   an ordinary, deterministic answer;
//! - bodies of random expressions: arithmetic on the arguments, calls,
//!   throws guarded by conditions on the arguments and the depth (so a
//!   throw happens at a random depth of a call chain, with a payload
//!   computed from the arguments), nests of `try_table`s with one to four
//!   clauses of every kind (`catch`, `catch_ref`, `catch_all`,
//!   `catch_all_ref`) to new handler blocks or to labels already in scope
//!   (an outer nest's handler, a block, a loop: `catch_all` to a loop
//!   label retries the iteration), bounded loops, early `br_if` exits,
//!   values kept in locals across calls and read by handlers, and
//!   `throw_ref` of an exception saved in a global by an earlier handler;
//! - handlers that take the payload apart (each value into a local,
//!   folded into an i64), then update the exported `acc` global or the
//!   memory, rethrow the caught exnref (`throw_ref`), throw a different
//!   tag, save the exnref, call through a function reference of the
//!   payload, store a funcref or externref of the payload in an exported
//!   global or table, rethrow an exnref carried in the payload, and
//!   compute more (which can call, throw and catch again);
//! - *entries*: exported functions that call a worker, half of them
//!   inside a nest catching every tag with handlers that neither throw
//!   nor rethrow, so that the payloads of exceptions escaping the workers
//!   are compared too, not just the fact of an uncaught exception.
//!
//! Every function is exported, plus `acc`, counters of throws and of
//! handlers run, the budget, a funcref and an externref global (`set_ext`
//! sets the latter from the runner's externref arguments), the funcref
//! table and (in half of the modules) a 256-byte memory of one-byte
//! pages, all compared after every call.
//! Floats are only converted from integers or reinterpreted, never
//! computed, so no NaN bits are left to the engines' choice; the only
//! traps are deterministic (null references, `call_indirect` to a null
//! entry, division by zero).
//!
//! Shapes for the legacy twin (`variants::legacy`, which turns them into
//! legacy `delegate` and `rethrow` with the same meaning): a *delegate
//! block* `block $dl (result exnref) ... end throw_ref` with lone
//! `catch_all_ref $dl` try_tables inside, at any depth (so `delegate`
//! skips the handlers in between), and a *rethrow block* `block $rl
//! (result T* exnref) ... end throw_ref drop*` around a nest with a
//! `catch_ref $t $rl` clause (which becomes `catch $t rethrow 0`).

use crate::rng::Rng;

/// A value type of a payload or local.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum T {
    I32,
    I64,
    F32,
    F64,
    V128,
    /// `(ref null $w)`: a typed reference to a worker.
    FuncTyped,
    FuncRef,
    ExternRef,
    Exn,
}

impl T {
    fn wat(self) -> &'static str {
        match self {
            T::I32 => "i32",
            T::I64 => "i64",
            T::F32 => "f32",
            T::F64 => "f64",
            T::V128 => "v128",
            T::FuncTyped => "(ref null $w)",
            T::FuncRef => "funcref",
            T::ExternRef => "externref",
            T::Exn => "exnref",
        }
    }
}

/// What a label in scope is, for choosing catch targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Plain,
    Handler,
    Loop,
    TryTable,
    /// `block (result exnref) ... end throw_ref`.
    Delegate,
    /// `block (result T* exnref) ... end throw_ref`, for tag `.0`.
    Rethrow(usize),
}

struct Label {
    name: String,
    /// The types a branch to it carries.
    types: Vec<T>,
    kind: Kind,
}

/// The generator's state: the module's shape, and the function being
/// built.
struct Gen<'a> {
    rng: &'a mut Rng,
    simd: bool,
    tags: Vec<Vec<T>>,
    workers: usize,
    /// Size of both tables (a power of two).
    table: u64,
    /// The null entries of `$tab` and `$tt`.
    nulls: [Vec<u64>; 2],
    memory: bool,
    // The current function:
    locals: Vec<(String, T)>,
    labels: Vec<Label>,
    next: u32,
    loops: u32,
    nests: u32,
    /// Handlers that neither throw nor rethrow (an entry's).
    quiet: bool,
}

/// Counts a throw of a tag (the exported `throws`).
const COUNT_THROW: &str = "global.get $throws i64.const 1 i64.add global.set $throws";

/// The budget, as the runner sets it before every call.
const FUEL: u32 = crate::gen::FUEL;

/// The worker signature, with names.
const SIG: &str = "(param $d i32) (param $x i64) (result i64)";

/// A module of exception programs; `simd` allows v128 payloads (never at
/// the boundary: wasmtime's C API aborts on v128 arguments and results).
pub fn exn_module(rng: &mut Rng, simd: bool) -> Result<Vec<u8>, String> {
    let text = exn_module_text(rng, simd);
    wat::parse_str(&text).map_err(|e| format!("exception-program module: {e}\n{text}"))
}

/// The text of [`exn_module`].
pub fn exn_module_text(rng: &mut Rng, simd: bool) -> String {
    let mut g = Gen {
        rng,
        simd,
        tags: Vec::new(),
        workers: 0,
        table: 0,
        nulls: [Vec::new(), Vec::new()],
        memory: false,
        locals: Vec::new(),
        labels: Vec::new(),
        next: 0,
        loops: 0,
        nests: 0,
        quiet: false,
    };
    g.module()
}

impl Gen<'_> {
    fn below(&mut self, n: u64) -> u64 {
        self.rng.below(n)
    }

    /// One chance in `n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.rng.below(n) == 0
    }

    fn pick<'s, X>(&mut self, xs: &'s [X]) -> &'s X {
        &xs[self.below(xs.len() as u64) as usize]
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("${prefix}{}", self.next)
    }

    fn local(&mut self, t: T) -> String {
        let name = self.fresh("l");
        self.locals.push((name.clone(), t));
        name
    }

    /// A constant index into table 0 (`$tab`) or 1 (`$tt`): rarely a null
    /// entry.
    fn slot(&mut self, table: usize) -> u64 {
        loop {
            let i = self.below(self.table);
            if !self.nulls[table].contains(&i) || self.one_in(8) {
                return i;
            }
        }
    }

    fn worker(&mut self) -> String {
        format!("$f{}", self.below(self.workers as u64))
    }

    fn konst(&mut self) -> i64 {
        match self.below(6) {
            0 => *self.pick(&[0, 1, -1, i64::MIN, i64::MAX, 0x7fff_ffff, -0x8000_0000]),
            1 | 2 => self.below(100) as i64,
            _ => self.rng.next_u64() as i64,
        }
    }

    fn payload_type(&mut self) -> T {
        loop {
            let t = *self.pick(&[T::I32, T::I32, T::I64, T::I64, T::F32, T::F64, T::V128, T::FuncTyped, T::FuncRef, T::ExternRef, T::Exn]);
            if t != T::V128 || self.simd {
                return t;
            }
        }
    }

    fn module(&mut self) -> String {
        let ntags = 2 + self.below(5) as usize;
        for _ in 0..ntags {
            let n = *self.pick(&[0, 1, 1, 2, 2, 3]);
            let params = (0..n).map(|_| self.payload_type()).collect();
            self.tags.push(params);
        }
        self.workers = 3 + self.below(5) as usize;
        let entries = 2 + self.below(3) as usize;
        self.table = *self.pick(&[4, 8]);
        self.memory = self.one_in(2);

        let mut w = String::from("(module\n  (type $w (func (param i32 i64) (result i64)))\n");
        for (k, params) in self.tags.iter().enumerate() {
            let p: Vec<&str> = params.iter().map(|t| t.wat()).collect();
            w.push_str(&format!("  (tag $t{k} (param {}))\n", p.join(" ")));
        }
        w.push_str(&format!(
            "  (global $fuel (export \"{}\") (mut i32) (i32.const {}))\n",
            crate::gen::FUEL_EXPORT,
            crate::gen::FUEL
        ));
        w.push_str("  (global $acc (export \"acc\") (mut i64) (i64.const 0))\n");
        // How many throws of a tag ran, and how many handlers.
        w.push_str("  (global $throws (export \"throws\") (mut i64) (i64.const 0))\n");
        w.push_str("  (global $catches (export \"catches\") (mut i64) (i64.const 0))\n");
        w.push_str("  (global $saved (mut exnref) (ref.null exn))\n");
        w.push_str(&format!("  (global $gtf (mut (ref null $w)) (ref.func $f{}))\n", self.below(self.workers as u64)));
        w.push_str("  (global $gfunc (export \"gfunc\") (mut funcref) (ref.null func))\n");
        w.push_str("  (global $gext (export \"gext\") (mut externref) (ref.null extern))\n");
        if self.memory {
            w.push_str("  (memory (export \"mem\") 256 256 (pagesize 1))\n");
        }
        // Workers only (entries are the way in from outside). A null entry
        // now and then (for the call_indirect and call_ref
        // traps), which constant indices mostly avoid (`slot`).
        let n = self.table;
        let mut items = [Vec::new(), Vec::new()];
        let nulls = self.one_in(3);
        for (t, null) in ["(ref.null func)", "(ref.null $w)"].into_iter().enumerate() {
            for i in 0..n {
                if nulls && self.one_in(4) {
                    items[t].push(null.to_string());
                    self.nulls[t].push(i);
                } else {
                    items[t].push(format!("(ref.func {})", self.worker()));
                }
            }
        }
        let items = items.map(|i| i.join(" "));
        w.push_str(&format!("  (table $tab (export \"tab\") {n} funcref)\n  (elem (table $tab) (i32.const 0) funcref {})\n", items[0]));
        w.push_str(&format!("  (table $tt {n} (ref null $w))\n  (elem (table $tt) (i32.const 0) (ref null $w) {})\n", items[1]));
        for k in 0..self.workers {
            let f = self.worker_func(k);
            w.push_str(&f);
        }
        for k in self.workers..self.workers + entries {
            let f = self.entry_func(k);
            w.push_str(&f);
        }
        w.push_str("  (func (export \"set_ext\") (param externref) local.get 0 global.set $gext)\n");
        w.push_str(")\n");
        w
    }

    fn start_func(&mut self) {
        self.locals.clear();
        self.labels.clear();
        self.next = 0;
        self.loops = 0;
        self.nests = 0;
    }

    fn locals_text(&self) -> String {
        self.locals.iter().map(|(n, t)| format!(" (local {n} {})", t.wat())).collect()
    }

    /// A worker: the depth counted down from its bound by the argument
    /// when called from outside (`cap - d % (cap + 1)`, so that the
    /// runner's small and special arguments make deep calls; the budget is
    /// full only then); then the base case at depth 0 or without budget,
    /// else one unit of budget spent and the body.
    fn worker_func(&mut self, k: usize) -> String {
        self.start_func();
        let cap = *self.pick(&[2, 4, 8, 12, 16, 24, 40, 64]);
        // No calls in the base case: it is what ends the recursion.
        let base = match self.below(4) {
            0 => self.throw(0),
            1 => {
                let c = self.cond();
                let t = self.throw(0);
                let l = self.leaf();
                let e = self.mix(l);
                format!("{c} if {t} end {e}")
            }
            _ => {
                let l = self.leaf();
                self.mix(l)
            }
        };
        let budget = 8 + self.below(40) as i32;
        let body = self.sequence(budget);
        format!(
            "  (func $f{k} (export \"f{k}\") (type $w) {SIG}{}\n    global.get $fuel i32.const {FUEL} i32.eq if i32.const {cap} local.get $d i32.const {rem} i32.rem_u i32.sub local.set $d end\n    global.get $fuel i32.eqz local.get $d i32.const 0 i32.le_s i32.or\n    if (result i64)\n      {base}\n    else\n      global.get $fuel i32.const 1 i32.sub global.set $fuel\n      {body}\n    end)\n",
            self.locals_text(),
            rem = cap + 1,
        )
    }

    /// An entry: a worker called inside a nest with a `catch` for every
    /// tag (in random order), sometimes ending with a catch-all, so that
    /// the payloads of exceptions escaping the workers are compared too;
    /// or, for half of them, just called.
    fn entry_func(&mut self, k: usize) -> String {
        self.start_func();
        let call = self.call(0, false);
        let body = if self.one_in(2) {
            call
        } else {
            let mut order: Vec<usize> = (0..self.tags.len()).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, self.below(i as u64 + 1) as usize);
            }
            let mut clauses: Vec<(u8, Option<usize>)> = order.into_iter().map(|t| (if self.one_in(4) { 1 } else { 0 }, Some(t))).collect();
            if self.one_in(2) {
                clauses.push((2 + self.below(2) as u8, None));
            }
            // Handlers that give an answer (the payload folded), so that
            // it is compared.
            self.quiet = true;
            let nest = self.try_nest(6, Some(clauses), Some(call));
            self.quiet = false;
            nest
        };
        format!("  (func $f{k} (export \"f{k}\") (type $w) {SIG}{}\n    {body})\n", self.locals_text())
    }

    /// An i64 of the arguments, the state or a local.
    fn leaf(&mut self) -> String {
        match self.below(9) {
            0 | 1 => "local.get $x".into(),
            2 => "local.get $d i64.extend_i32_s".into(),
            3 => format!("i64.const {}", self.konst()),
            4 => "global.get $acc".into(),
            5 => "global.get $fuel i64.extend_i32_u".into(),
            _ if !self.locals.is_empty() => {
                let (n, t) = self.pick(&self.locals.clone()).clone();
                as_i64(&n, t)
            }
            _ => "local.get $x".into(),
        }
    }

    /// `e` mixed so that its bits change (calls pass mixed arguments, so
    /// that conditions on them differ down a call chain).
    fn mix(&mut self, e: String) -> String {
        match self.below(3) {
            0 => format!("{e} i64.const {} i64.mul i64.const {} i64.add", self.rng.next_u64() as i64 | 1, self.below(1000)),
            1 => format!("{e} i64.const {} i64.rotl i64.const {} i64.xor", 1 + self.below(63), self.rng.next_u64() as i64),
            _ => format!("{e} i64.const {} i64.add", self.konst()),
        }
    }

    /// A small i64: a mixed leaf, or an expression.
    fn small(&mut self, budget: i32) -> String {
        if budget > 2 && self.one_in(3) {
            self.expr(budget)
        } else {
            let l = self.leaf();
            self.mix(l)
        }
    }

    /// An i32 condition on the arguments, the depth or the state: true
    /// about a quarter, half the time, or at one depth.
    fn cond(&mut self) -> String {
        match self.below(10) {
            0..=2 => {
                // One time in 8 to 32, by bits of `x` (which calls mix).
                let bits = 3 + self.below(3);
                let s = self.below(64 - bits);
                let c = self.below(1 << bits);
                format!("local.get $x i64.const {s} i64.shr_u i64.const {} i64.and i64.const {c} i64.eq", (1u64 << bits) - 1)
            }
            3..=5 => format!("local.get $d i32.const {} i32.eq", self.below(4)),
            6 => format!("local.get $d i32.const {} i32.le_s", self.below(3)),
            7 => format!("local.get $x i64.const {} i64.shr_u i32.wrap_i64 i32.const 3 i32.and i32.eqz", self.below(62)),
            8 => "global.get $acc i64.const 7 i64.and i64.eqz".into(),
            _ => {
                let l = self.leaf();
                format!("{l} i64.const 7 i64.and i64.eqz")
            }
        }
    }

    /// A value of type `t` computed from the arguments (for payloads).
    fn value(&mut self, t: T, budget: i32) -> String {
        match t {
            T::I32 => format!("{} i32.wrap_i64", self.small(budget)),
            T::I64 => self.small(budget),
            T::F32 if self.one_in(2) => format!("{} i32.wrap_i64 f32.reinterpret_i32", self.small(budget)),
            T::F32 => format!("{} f32.convert_i64_s", self.small(budget)),
            T::F64 if self.one_in(2) => format!("{} f64.reinterpret_i64", self.small(budget)),
            T::F64 => format!("{} f64.convert_i64_s", self.small(budget)),
            T::V128 if self.one_in(3) => format!("v128.const i64x2 {} {}", self.konst(), self.konst()),
            T::V128 => {
                let a = self.small(budget / 2);
                let b = self.small(budget / 2);
                format!("{a} i64x2.splat {b} i64x2.replace_lane 1")
            }
            T::FuncTyped => match self.below(6) {
                0 => "global.get $gtf".into(),
                1 => format!("i32.const {} table.get $tt", self.slot(1)),
                2 if self.one_in(2) => "ref.null $w".into(),
                _ => format!("ref.func {}", self.worker()),
            },
            T::FuncRef => match self.below(4) {
                0 => format!("i32.const {} table.get $tab", self.slot(0)),
                1 => "ref.null func".into(),
                _ => format!("ref.func {}", self.worker()),
            },
            T::ExternRef if self.one_in(3) => "ref.null extern".into(),
            T::ExternRef => "global.get $gext".into(),
            T::Exn => {
                let exns: Vec<String> = self.locals.iter().filter(|l| l.1 == T::Exn).map(|l| l.0.clone()).collect();
                match self.below(3) {
                    0 if !exns.is_empty() => format!("local.get {}", self.pick(&exns)),
                    1 => "ref.null exn".into(),
                    _ => "global.get $saved".into(),
                }
            }
        }
    }

    /// Up to four expressions folded into one i64, at least one a call
    /// or a throw (a body, a try_table's body).
    fn sequence(&mut self, budget: i32) -> String {
        let n = 2 + self.below(3) as i32;
        let each = budget / n;
        let mut s = match self.below(4) {
            0 => {
                let c = self.cond();
                let t = self.throw(each / 3);
                let e = self.call(each / 3, false);
                format!("{c} if {t} end {e}")
            }
            1 if self.nests < 5 => {
                // The call in a nest of its own.
                let call = self.call(each / 3, false);
                self.try_nest(each, None, Some(call))
            }
            _ => self.call(each / 2, false),
        };
        for _ in 1..n {
            let e = self.expr(each);
            let op = self.pick(&["add", "sub", "xor", "mul", "rotl"]);
            s = format!("{s} {e} i64.{op}");
        }
        s
    }

    /// An expression of type i64 of about `budget` nodes.
    fn expr(&mut self, budget: i32) -> String {
        if budget <= 0 {
            let l = self.leaf();
            return if self.one_in(3) { self.mix(l) } else { l };
        }
        loop {
            match self.below(24) {
                0..=2 => {
                    let a = self.expr(budget / 2);
                    let b = self.expr(budget - budget / 2 - 1);
                    let op = self.pick(&["add", "sub", "xor", "mul", "rotl", "or", "and"]);
                    return format!("{a} {b} i64.{op}");
                }
                3..=5 => {
                    let c = self.call(budget / 3, false);
                    let e = self.expr(budget - budget / 3 - 1);
                    let op = self.pick(&["add", "xor", "sub"]);
                    return format!("{c} {e} i64.{op}");
                }
                6 => {
                    // A tail call, when a condition holds: it leaves every
                    // handler of this frame behind.
                    let c = self.cond();
                    let call = self.call(budget / 3, true);
                    let e = self.expr(budget - budget / 3 - 2);
                    return format!("{c} if {call} end {e}");
                }
                7..=9 => {
                    let c = self.cond();
                    let t = self.throw(budget / 3);
                    let e = self.expr(budget - budget / 3 - 1);
                    return format!("{c} if {t} end {e}");
                }
                10..=13 if self.nests < 5 && budget >= 3 => return self.try_nest(budget, None, None),
                14 if self.loops < 2 && budget >= 5 => return self.loop_form(budget),
                15 => {
                    let b = self.fresh("b");
                    self.labels.push(Label { name: b.clone(), types: vec![T::I64], kind: Kind::Plain });
                    let e1 = self.expr(budget / 2);
                    let c = self.cond();
                    let e2 = self.expr(budget - budget / 2 - 1);
                    self.labels.pop();
                    return format!("block {b} (result i64) {e1} {c} br_if {b} {e2} i64.xor end");
                }
                16 => {
                    let s = self.side_effect(budget / 2);
                    let e = self.expr(budget - budget / 2 - 1);
                    return format!("{s} {e}");
                }
                17 => {
                    // A value kept in a local across what follows (calls
                    // that throw, handlers that read it).
                    let e = self.expr(budget / 2);
                    let l = self.local(T::I64);
                    let r = self.expr(budget - budget / 2 - 1);
                    return format!("{e} local.tee {l} {r} i64.add");
                }
                18 => {
                    // Rethrow an exception an earlier handler saved, maybe
                    // in another frame or an earlier call.
                    let c = self.cond();
                    let e = self.expr(budget - 1);
                    return format!("{c} if global.get $saved ref.is_null i32.eqz if global.get $saved throw_ref end end {e}");
                }
                19 | 20 => {
                    let dx = self.fresh("dx");
                    let dl = self.fresh("dl");
                    self.labels.push(Label { name: dx.clone(), types: vec![T::I64], kind: Kind::Plain });
                    self.labels.push(Label { name: dl.clone(), types: vec![T::Exn], kind: Kind::Delegate });
                    let e = self.expr(budget - 1);
                    self.labels.pop();
                    self.labels.pop();
                    return format!("block {dx} (result i64) block {dl} (result exnref) {e} br {dx} end throw_ref end");
                }
                21 if budget >= 3 => {
                    let k = self.below(self.tags.len() as u64) as usize;
                    let mut types = self.tags[k].clone();
                    types.push(T::Exn);
                    let rx = self.fresh("rx");
                    let rl = self.fresh("rl");
                    self.labels.push(Label { name: rx.clone(), types: vec![T::I64], kind: Kind::Plain });
                    self.labels.push(Label { name: rl.clone(), types: types.clone(), kind: Kind::Rethrow(k) });
                    let e = self.try_nest(budget - 1, None, None);
                    self.labels.pop();
                    self.labels.pop();
                    let drops = " drop".repeat(types.len() - 1);
                    return format!("block {rx} (result i64) block {rl} {} {e} br {rx} end throw_ref{drops} end", result(&types));
                }
                22 => {
                    let a = self.expr(budget / 3);
                    let b = self.expr(budget / 3);
                    let c = self.cond();
                    return format!("{a} {b} {c} select");
                }
                23 if self.one_in(4) => {
                    // Division by a value of the arguments: a trap, which
                    // no handler may catch, when it is zero.
                    let a = self.expr(budget / 2);
                    let b = self.leaf();
                    let op = self.pick(&["div_s", "rem_u"]);
                    return format!("{a} {b} i64.const {} i64.and i64.{op}", self.pick(&[1, 3, 255]));
                }
                _ => {}
            }
        }
    }

    /// A call of a worker with a smaller depth; `tail` for the
    /// `return_call` forms (stack-polymorphic, so any type).
    fn call(&mut self, budget: i32, tail: bool) -> String {
        let dec = *self.pick(&[1, 1, 1, 2, 3]);
        let x = self.small(budget);
        let x = self.mix(x);
        let args = format!("local.get $d i32.const {dec} i32.sub {x}");
        let f = self.worker();
        let r = if tail { "return_" } else { "" };
        match self.below(6) {
            0 | 1 => format!("{args} {r}call {f}"),
            2 => {
                let idx = if self.one_in(2) {
                    format!("i32.const {}", self.slot(0))
                } else {
                    format!("local.get $x i32.wrap_i64 i32.const {} i32.and", self.table - 1)
                };
                format!("{args} {idx} {r}call_indirect $tab (type $w)")
            }
            3 => format!("{args} ref.func {f} {r}call_ref $w"),
            4 => format!("{args} global.get $gtf {r}call_ref $w"),
            _ => format!("{args} i32.const {} table.get $tt {r}call_ref $w", self.slot(1)),
        }
    }

    /// A throw (stack-polymorphic): of a tag with a payload from the
    /// arguments, sometimes after updating `acc`; rarely a `throw_ref` of
    /// the saved exception (a null one traps).
    fn throw(&mut self, budget: i32) -> String {
        let mut s = String::new();
        if self.one_in(3) {
            s = self.side_effect(1);
            s.push(' ');
        }
        if self.one_in(10) {
            // The saved exception, or (mostly) a new one if there is none:
            // a null one traps.
            if !self.one_in(4) {
                let t = self.throw_tag(budget);
                s.push_str(&format!("global.get $saved ref.is_null if {t} end "));
            }
            s.push_str("global.get $saved throw_ref");
            return s;
        }
        s.push_str(&self.throw_tag(budget));
        s
    }

    /// A throw of a random tag with a payload from the arguments.
    fn throw_tag(&mut self, budget: i32) -> String {
        let mut s = String::new();
        let k = self.below(self.tags.len() as u64) as usize;
        let params = self.tags[k].clone();
        let each = budget / (params.len() as i32 + 1);
        s.push_str(COUNT_THROW);
        s.push(' ');
        for t in params {
            let v = self.value(t, each);
            s.push_str(&v);
            s.push(' ');
        }
        s.push_str(&format!("throw $t{k}"));
        s
    }

    /// An update of `acc` (order-sensitive, so the trace of handlers run
    /// is compared) or of the memory.
    fn side_effect(&mut self, budget: i32) -> String {
        let v = self.small(budget);
        if self.memory && self.one_in(3) {
            let (ty, op, mask) = *self.pick(&[("i64", "i64.store", 0xf8), ("i32", "i32.store16", 0xfe), ("i64", "i64.store8", 0xff)]);
            let v = if ty == "i32" { format!("{v} i32.wrap_i64") } else { v };
            return format!("global.get $acc i32.wrap_i64 i32.const {mask} i32.and {v} {op}");
        }
        format!("global.get $acc {v} i64.xor i64.const {} i64.rotl global.set $acc", 1 + self.below(63))
    }

    /// A bounded loop adding up an expression; its labels are catch
    /// targets too (`catch_all` to the loop retries the iteration).
    fn loop_form(&mut self, budget: i32) -> String {
        let i = self.local(T::I32);
        let sum = self.local(T::I64);
        let n = 1 + self.below(4);
        let lx = self.fresh("lx");
        let lp = self.fresh("lp");
        self.labels.push(Label { name: lx.clone(), types: vec![], kind: Kind::Plain });
        self.labels.push(Label { name: lp.clone(), types: vec![], kind: Kind::Loop });
        self.loops += 1;
        let early = if self.one_in(3) { format!("{} br_if {lx} ", self.cond()) } else { String::new() };
        let body = self.expr(budget - 3);
        self.loops -= 1;
        self.labels.pop();
        self.labels.pop();
        format!(
            "i32.const {n} local.set {i} i64.const 0 local.set {sum} block {lx} loop {lp} local.get {i} i32.eqz br_if {lx} local.get {i} i32.const 1 i32.sub local.set {i} {early}local.get {sum} {body} i64.add local.set {sum} br {lp} end end local.get {sum}"
        )
    }

    /// A nest of a `try_table` and its handlers:
    ///
    /// ```text
    /// block $done (result i64)
    ///   block $h1 (result T1*) ... block $hn (result Tn*)
    ///     try_table (result i64) (catch.. $t $h1) ... BODY end
    ///     br $done
    ///   end HANDLER_n br $done ... end HANDLER_1 br $done
    /// end
    /// ```
    ///
    /// Clauses target new handler blocks or, sometimes, labels in scope of
    /// the same types. `clauses` forces the clause kinds (0 catch, 1
    /// catch_ref, 2 catch_all, 3 catch_all_ref) and tags, all to new
    /// handlers; `body` the body.
    fn try_nest(&mut self, budget: i32, clauses: Option<Vec<(u8, Option<usize>)>>, body: Option<String>) -> String {
        // A lone catch_all_ref to a delegate block: `delegate` in the
        // legacy twin.
        let delegates: Vec<String> = self.labels.iter().filter(|l| l.kind == Kind::Delegate).map(|l| l.name.clone()).collect();
        if clauses.is_none() && !delegates.is_empty() && self.one_in(3) {
            let dl = self.pick(&delegates).clone();
            let tt = self.fresh("tt");
            self.labels.push(Label { name: tt.clone(), types: vec![T::I64], kind: Kind::TryTable });
            self.nests += 1;
            let body = self.sequence(budget - 1);
            self.nests -= 1;
            self.labels.pop();
            return format!("try_table {tt} (result i64) (catch_all_ref {dl}) {body} end");
        }
        let clauses_forced = clauses.is_some();
        let spec: Vec<(u8, Option<usize>)> = match clauses {
            Some(c) => c,
            None => {
                // Clauses for tags, then mostly a catch-all; none at all
                // now and then (`delegate 0` in the legacy form).
                let mut c = Vec::new();
                if !self.one_in(12) {
                    for _ in 0..*self.pick(&[0, 1, 1, 2, 2, 3]) {
                        c.push((self.below(2) as u8, Some(self.below(self.tags.len() as u64) as usize)));
                    }
                    if c.is_empty() || !self.one_in(3) {
                        c.push((2 + self.below(2) as u8, None));
                        // Clauses after a catch-all never match; rarely one.
                        if self.one_in(6) {
                            c.push((self.below(2) as u8, Some(self.below(self.tags.len() as u64) as usize)));
                        }
                    }
                }
                c
            }
        };
        let forced = clauses_forced;
        let mut clause_text = String::new();
        let mut handlers: Vec<(String, Vec<T>)> = Vec::new();
        for (kind, tag) in spec {
            let (mut kind, mut tag) = (kind, tag);
            // A rethrow block in scope: catch_ref its tag to it.
            let rethrows: Vec<(String, usize)> = self
                .labels
                .iter()
                .filter_map(|l| match l.kind {
                    Kind::Rethrow(t) => Some((l.name.clone(), t)),
                    _ => None,
                })
                .collect();
            let mut target = None;
            if !forced && !rethrows.is_empty() && self.one_in(2) {
                let (rl, t) = self.pick(&rethrows).clone();
                kind = 1;
                tag = Some(t);
                target = Some(rl);
            }
            let mut types = tag.map(|t| self.tags[t].clone()).unwrap_or_default();
            if kind % 2 == 1 {
                types.push(T::Exn);
            }
            if target.is_none() && !forced && self.one_in(3) {
                let same: Vec<String> = self.labels.iter().filter(|l| l.types == types).map(|l| l.name.clone()).collect();
                if !same.is_empty() {
                    target = Some(self.pick(&same).clone());
                }
            }
            let target = match target {
                Some(t) => t,
                None => {
                    let h = self.fresh("h");
                    handlers.push((h.clone(), types));
                    h
                }
            };
            let name = ["catch", "catch_ref", "catch_all", "catch_all_ref"][kind as usize];
            let tag = tag.map(|t| format!(" $t{t}")).unwrap_or_default();
            clause_text.push_str(&format!(" ({name}{tag} {target})"));
        }
        let done = self.fresh("done");
        let mut s = format!("block {done} (result i64) ");
        self.labels.push(Label { name: done.clone(), types: vec![T::I64], kind: Kind::Plain });
        for (h, types) in &handlers {
            s.push_str(&format!("block {h} {} ", result(types)));
            self.labels.push(Label { name: h.clone(), types: types.clone(), kind: Kind::Handler });
        }
        let share = budget / (handlers.len() as i32 + 2);
        // Now and then a try_table with a parameter, computed before it
        // (a handler drops it with the rest of the try_table's stack).
        let param = !clauses_forced && self.one_in(5);
        if param {
            let pre = self.expr(share);
            s.push_str(&pre);
            s.push(' ');
        }
        let tt = self.fresh("tt");
        self.labels.push(Label { name: tt.clone(), types: vec![T::I64], kind: Kind::TryTable });
        let body = match body {
            Some(b) => b,
            None => {
                self.nests += 1;
                let b = self.sequence(budget - share * handlers.len() as i32 - 1);
                self.nests -= 1;
                b
            }
        };
        self.labels.pop();
        if param {
            let op = self.pick(&["add", "xor", "sub"]);
            s.push_str(&format!("try_table {tt} (param i64) (result i64){clause_text} {body} i64.{op} end br {done}"));
        } else {
            s.push_str(&format!("try_table {tt} (result i64){clause_text} {body} end br {done}"));
        }
        for (_, types) in handlers.iter().rev() {
            self.labels.pop();
            let h = self.handler(types, share);
            s.push_str(&format!(" end {h} br {done}"));
        }
        self.labels.pop();
        s.push_str(" end");
        s
    }

    /// The code at a handler block's end: the payload (and exnref) on the
    /// stack, into locals; then effects; an i64 left for `$done`.
    fn handler(&mut self, types: &[T], budget: i32) -> String {
        let names: Vec<String> = types.iter().map(|t| self.local(*t)).collect();
        let mut s = String::new();
        for n in names.iter().rev() {
            s.push_str(&format!("local.set {n} "));
        }
        let v = self.local(T::I64);
        s.push_str("global.get $catches i64.const 1 i64.add global.set $catches ");
        s.push_str(&format!("i64.const {}", self.konst()));
        for (n, t) in names.iter().zip(types) {
            s.push_str(&format!(" {} i64.xor i64.const {} i64.rotl", as_i64(n, *t), 1 + self.below(63)));
        }
        s.push_str(&format!(" local.set {v} global.get $acc local.get {v} i64.xor i64.const 7 i64.rotl global.set $acc"));
        let find = |want: &dyn Fn(T) -> bool| -> Vec<String> {
            names.iter().zip(types).filter(|(_, t)| want(**t)).map(|(n, _)| n.clone()).collect()
        };
        let exns = find(&|t| t == T::Exn);
        // The exnref of a *_ref clause is the last; earlier ones come
        // from the payload.
        for _ in 0..self.below(3) {
            match self.below(12) {
                0 | 1 if !exns.is_empty() && !self.quiet => {
                    // Rethrow, maybe only when a condition holds.
                    let e = self.pick(&exns).clone();
                    let guard = self.one_in(2);
                    let c = self.cond();
                    if guard {
                        s.push_str(&format!(" {c} if local.get {e} ref.is_null i32.eqz if local.get {e} throw_ref end end"));
                    } else {
                        s.push_str(&format!(" local.get {e} throw_ref"));
                    }
                }
                2 if !exns.is_empty() => {
                    let e = self.pick(&exns).clone();
                    s.push_str(&format!(" local.get {e} global.set $saved"));
                }
                3 | 4 if !self.quiet => {
                    // A different exception, its payload from this one.
                    let c = self.cond();
                    let k = self.below(self.tags.len() as u64) as usize;
                    let mut t = String::new();
                    for ty in self.tags[k].clone() {
                        let val = if self.one_in(2) {
                            match ty {
                                T::I32 => format!("local.get {v} i32.wrap_i64"),
                                T::I64 => format!("local.get {v}"),
                                T::F32 => format!("local.get {v} f32.convert_i64_u"),
                                T::F64 => format!("local.get {v} f64.reinterpret_i64"),
                                T::V128 => format!("local.get {v} i64x2.splat"),
                                _ => self.value(ty, 1),
                            }
                        } else {
                            self.value(ty, 1)
                        };
                        t.push_str(&val);
                        t.push(' ');
                    }
                    if self.one_in(2) {
                        s.push_str(&format!(" {c} if {COUNT_THROW} {t}throw $t{k} end"));
                    } else {
                        s.push_str(&format!(" {COUNT_THROW} {t}throw $t{k}"));
                    }
                }
                5 => {
                    let f = find(&|t| t == T::FuncTyped);
                    if let Some(f) = f.first() {
                        // Call through the payload's reference.
                        s.push_str(&format!(
                            " local.get {f} ref.is_null if (result i64) local.get {v} else local.get $d i32.const 1 i32.sub local.get {v} local.get {f} call_ref $w end local.set {v}"
                        ));
                    } else if let Some(f) = find(&|t| t == T::FuncRef).first() {
                        if self.one_in(2) {
                            s.push_str(&format!(" local.get {f} global.set $gfunc"));
                        } else {
                            s.push_str(&format!(" i32.const {} local.get {f} table.set $tab", self.below(self.table)));
                        }
                    }
                }
                6 => {
                    if let Some(f) = find(&|t| t == T::FuncTyped).first() {
                        s.push_str(&format!(" local.get {f} global.set $gtf"));
                    } else if let Some(e) = find(&|t| t == T::ExternRef).first() {
                        s.push_str(&format!(" local.get {e} global.set $gext"));
                    }
                }
                7 if self.memory => {
                    let stores: Vec<(String, T)> = names.iter().cloned().zip(types.iter().copied()).filter(|(_, t)| matches!(t, T::I32 | T::I64 | T::F32 | T::F64 | T::V128)).collect();
                    if !stores.is_empty() {
                        let (n, t) = self.pick(&stores).clone();
                        let (op, mask) = match t {
                            T::I32 => ("i32.store", 0xfc),
                            T::I64 => ("i64.store", 0xf8),
                            T::F32 => ("f32.store", 0xfc),
                            T::F64 => ("f64.store", 0xf8),
                            _ => ("v128.store", 0xf0),
                        };
                        s.push_str(&format!(" global.get $acc i32.wrap_i64 i32.const {mask} i32.and local.get {n} {op}"));
                    }
                }
                8 if budget >= 2 => {
                    // More work that can call, throw and catch again.
                    let e = self.expr(budget - 1);
                    s.push_str(&format!(" local.get {v} {e} i64.add local.set {v}"));
                }
                9 if !self.quiet => {
                    // Rethrow an exception carried in the payload.
                    let payload_exns: Vec<String> = names.iter().zip(types).take(types.len() - (types.last() == Some(&T::Exn)) as usize).filter(|(_, t)| **t == T::Exn).map(|(n, _)| n.clone()).collect();
                    if let Some(e) = payload_exns.first() {
                        s.push_str(&format!(" local.get {e} ref.is_null i32.eqz if local.get {e} throw_ref end"));
                    }
                }
                10 if self.one_in(3) => s.push_str(&format!(" local.get {v} return")),
                _ => {}
            }
        }
        s.push_str(&format!(" local.get {v}"));
        if budget >= 2 && self.one_in(2) {
            let e = self.expr(budget - 1);
            s.push_str(&format!(" {e} i64.xor"));
        }
        s
    }
}

/// `(result ...)` of a block, or nothing.
fn result(types: &[T]) -> String {
    if types.is_empty() {
        String::new()
    } else {
        let t: Vec<&str> = types.iter().map(|t| t.wat()).collect();
        format!("(result {})", t.join(" "))
    }
}

/// Local `name` of type `t` as an i64 (references by null-ness: their
/// identities are compared where they are stored, not here).
fn as_i64(name: &str, t: T) -> String {
    match t {
        T::I32 => format!("local.get {name} i64.extend_i32_s"),
        T::I64 => format!("local.get {name}"),
        T::F32 => format!("local.get {name} i32.reinterpret_f32 i64.extend_i32_u"),
        T::F64 => format!("local.get {name} i64.reinterpret_f64"),
        T::V128 => format!("local.get {name} i64x2.extract_lane 0 local.get {name} i64x2.extract_lane 1 i64.const 17 i64.rotl i64.xor"),
        T::FuncTyped | T::FuncRef | T::ExternRef | T::Exn => format!("local.get {name} ref.is_null i64.extend_i32_u"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmparser::WasmFeatures;

    fn module(seed: u64, simd: bool) -> Vec<u8> {
        exn_module(&mut Rng::new(seed), simd).unwrap()
    }

    /// Valid for the oracle (wasmtime's features, SIMD only with `simd`),
    /// and so is Kiln's legacy form; the same bytes for the same seed; and
    /// the legacy form has every shape, `delegate` to an outer label and
    /// `rethrow` included.
    #[test]
    fn modules_and_legacy_forms_are_valid() {
        let oracle = crate::gen::wasmtime_features();
        let legacy = oracle | WasmFeatures::LEGACY_EXCEPTIONS;
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..120 {
            for simd in [true, false] {
                let bytes = module(seed, simd);
                assert_eq!(bytes, module(seed, simd));
                let extra = if simd { WasmFeatures::SIMD } else { WasmFeatures::empty() };
                wasmparser::Validator::new_with_features(oracle | extra).validate_all(&bytes).unwrap();
                assert!(crate::gen::needs_wasmtime(&bytes), "seed {seed}");
                let kiln = crate::variants::legacy(&bytes).unwrap();
                wasmparser::Validator::new_with_features(legacy | extra).validate_all(&kiln).unwrap();
                for b in [&bytes, &kiln] {
                    seen.extend(shapes(b));
                }
            }
        }
        for shape in [
            "catch", "catch_ref", "catch_all", "catch_all_ref", "try_table param", "throw", "throw_ref", "call_indirect", "call_ref",
            "return_call", "return_call_indirect", "return_call_ref", "v128", "try", "try param", "legacy catch", "legacy catch_all",
            "rethrow", "delegate 0", "delegate outer",
        ] {
            assert!(seen.contains(shape), "no {shape} in 240 modules: {seen:?}");
        }
    }

    /// The shapes of exception handling and calls in a module.
    fn shapes(bytes: &[u8]) -> Vec<&'static str> {
        use wasmparser::{Catch, Operator as O, Payload};
        let mut out = Vec::new();
        for p in wasmparser::Parser::new(0).parse_all(bytes) {
            let Ok(Payload::CodeSectionEntry(body)) = p else { continue };
            let mut ops = body.get_operators_reader().unwrap();
            while !ops.eof() {
                match ops.read().unwrap() {
                    O::TryTable { try_table } => {
                        if matches!(try_table.ty, wasmparser::BlockType::FuncType(_)) {
                            out.push("try_table param");
                        }
                        for c in try_table.catches {
                            out.push(match c {
                                Catch::One { .. } => "catch",
                                Catch::OneRef { .. } => "catch_ref",
                                Catch::All { .. } => "catch_all",
                                Catch::AllRef { .. } => "catch_all_ref",
                            });
                        }
                    }
                    O::Throw { .. } => out.push("throw"),
                    O::ThrowRef => out.push("throw_ref"),
                    O::CallIndirect { .. } => out.push("call_indirect"),
                    O::CallRef { .. } => out.push("call_ref"),
                    O::ReturnCall { .. } => out.push("return_call"),
                    O::ReturnCallIndirect { .. } => out.push("return_call_indirect"),
                    O::ReturnCallRef { .. } => out.push("return_call_ref"),
                    O::V128Store { .. } => out.push("v128"),
                    O::Try { blockty: wasmparser::BlockType::FuncType(_) } => out.push("try param"),
                    O::Try { .. } => out.push("try"),
                    O::Catch { .. } => out.push("legacy catch"),
                    O::CatchAll => out.push("legacy catch_all"),
                    O::Rethrow { .. } => out.push("rethrow"),
                    O::Delegate { relative_depth: 0 } => out.push("delegate 0"),
                    O::Delegate { .. } => out.push("delegate outer"),
                    _ => {}
                }
            }
        }
        out
    }

    /// Kiln compiles them, both forms, on every target (riscv64 without
    /// SIMD at its baseline).
    #[test]
    fn kiln_compiles_them() {
        let dir = kiln_testsuite::scratch("fuzz-handmade-exn");
        for target in kiln_testsuite::TARGETS.iter().copied() {
            let simd = crate::diff::simd_compiles(target, None);
            let mut opts = kiln::Options::new(target);
            opts.emit = kiln::Emit::Obj;
            for seed in 0..8 {
                let bytes = module(seed, simd);
                let out = dir.join(format!("exn-{}-{seed}.o", target.name));
                kiln::compile_bytes("exn", &bytes, &out, &opts).unwrap_or_else(|e| panic!("seed {seed} on {}: {e}", target.name));
                let legacy = crate::variants::legacy(&bytes).unwrap();
                kiln::compile_bytes("exn-legacy", &legacy, &out, &opts).unwrap_or_else(|e| panic!("legacy seed {seed} on {}: {e}", target.name));
                let _ = std::fs::remove_file(&out);
            }
        }
    }
}
