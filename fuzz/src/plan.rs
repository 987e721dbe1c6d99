//! What to ask of a module: the requests of the driver protocol
//! (`runtime-lib/c/driver.c`), built from the module's exports, with
//! deterministic arguments. Both the Kiln driver and the oracle answer the
//! same list.

use crate::gen::FUEL_EXPORT;
use crate::rng::Rng;

/// A value type as the fuzzer sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    I32,
    I64,
    F32,
    F64,
    FuncRef,
    ExternRef,
    /// Anything Kiln's feature set does not generate yet (e.g. v128).
    Other,
}

impl Ty {
    pub fn of(v: wasmparser::ValType) -> Ty {
        use wasmparser::ValType as V;
        match v {
            V::I32 => Ty::I32,
            V::I64 => Ty::I64,
            V::F32 => Ty::F32,
            V::F64 => Ty::F64,
            V::Ref(r) if r.is_func_ref() => Ty::FuncRef,
            V::Ref(r) if r.is_extern_ref() => Ty::ExternRef,
            _ => Ty::Other,
        }
    }
}

/// One exported entity.
#[derive(Clone, Debug)]
pub enum Export {
    Func { name: String, index: u32, params: Vec<Ty>, results: Vec<Ty> },
    Global { name: String, ty: Ty },
    Memory { name: String },
    Table { name: String },
}

/// One request, in the order the driver answers them.
#[derive(Clone, Debug)]
pub enum Req {
    Instantiate,
    /// The funcref pointer of a function export (Kiln's identity for it).
    Addr(String),
    /// Refill the fuel global before a call.
    SetFuel,
    Invoke { name: String, args: Vec<(Ty, u64)>, results: Vec<Ty> },
    Get { name: String, ty: Ty },
    Dump { name: String },
}

impl Req {
    /// The request line for module `k` of the driver.
    pub fn line(&self, k: usize) -> String {
        match self {
            Req::Instantiate => format!("instantiate {k:x}"),
            Req::Addr(n) => format!("addr {k:x} {}", hex(n)),
            Req::SetFuel => format!("set {k:x} {} {:x}", hex(FUEL_EXPORT), crate::gen::FUEL),
            Req::Invoke { name, args, .. } => {
                let mut s = format!("invoke {k:x} {}", hex(name));
                for (_, v) in args {
                    s.push_str(&format!(" {v:x}"));
                }
                s
            }
            Req::Get { name, .. } => format!("get {k:x} {}", hex(name)),
            Req::Dump { name } => format!("dump {k:x} {}", hex(name)),
        }
    }
}

pub fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The exports of a (valid) module, in export-section order.
pub fn exports(bytes: &[u8]) -> Result<Vec<Export>, String> {
    let mut types: Vec<(Vec<Ty>, Vec<Ty>)> = Vec::new();
    let mut func_types: Vec<u32> = Vec::new();
    let mut globals: Vec<Ty> = Vec::new();
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| e.to_string())? {
            wasmparser::Payload::TypeSection(r) => {
                for ty in r.into_iter_err_on_gc_types() {
                    let f = ty.map_err(|e| e.to_string())?;
                    types.push((
                        f.params().iter().map(|v| Ty::of(*v)).collect(),
                        f.results().iter().map(|v| Ty::of(*v)).collect(),
                    ));
                }
            }
            wasmparser::Payload::ImportSection(r) if r.count() > 0 => return Err("generated module has imports".into()),
            wasmparser::Payload::FunctionSection(r) => {
                for t in r {
                    func_types.push(t.map_err(|e| e.to_string())?);
                }
            }
            wasmparser::Payload::GlobalSection(r) => {
                for g in r {
                    globals.push(Ty::of(g.map_err(|e| e.to_string())?.ty.content_type));
                }
            }
            wasmparser::Payload::ExportSection(r) => {
                for e in r {
                    let e = e.map_err(|e| e.to_string())?;
                    let name = e.name.to_string();
                    out.push(match e.kind {
                        wasmparser::ExternalKind::Func => {
                            let (params, results) = types[func_types[e.index as usize] as usize].clone();
                            Export::Func { name, index: e.index, params, results }
                        }
                        wasmparser::ExternalKind::Global => Export::Global { name, ty: globals[e.index as usize] },
                        wasmparser::ExternalKind::Memory => Export::Memory { name },
                        wasmparser::ExternalKind::Table => Export::Table { name },
                        _ => continue,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Special values of each type: the first six are the argument sets every
/// function is called with first (zero, one, minus one, then INT_MIN,
/// INT_MAX and 2, or NaN, +inf and -inf), the rest are drawn at random.
fn specials(ty: Ty) -> &'static [u64] {
    match ty {
        Ty::I32 => &[
            0, 1, 0xffff_ffff, 0x8000_0000, 0x7fff_ffff, 2, 0x80, 0xffff, 0x1_0000, 0xfffc, 0x1_fffc, 0x3_fffd,
            0x4_0000, 0xffff_fff0,
        ],
        Ty::I64 => &[
            0,
            1,
            u64::MAX,
            1 << 63,
            (1 << 63) - 1,
            2,
            0xffff_ffff,
            0x1_0000_0000,
            0x8000_0000,
            0xffff_fffc,
            0x1_0000,
        ],
        Ty::F32 => &[
            0,           // 0.0
            0x3f80_0000, // 1.0
            0xbf80_0000, // -1.0
            0x7fc0_0000, // canonical NaN
            0x7f80_0000, // +inf
            0xff80_0000, // -inf
            0x8000_0000, // -0.0
            0xffc0_0000, // negative canonical NaN
            0x7fa0_0001, // signalling NaN with a payload
            0x7f7f_ffff, // largest finite
            0x0000_0001, // smallest subnormal
            0x4f00_0000, // 2^31
            0xcf00_0001, // just below -2^31
            0x3f00_0000, // 0.5
        ],
        Ty::F64 => &[
            0,
            0x3ff0_0000_0000_0000,
            0xbff0_0000_0000_0000,
            0x7ff8_0000_0000_0000,
            0x7ff0_0000_0000_0000,
            0xfff0_0000_0000_0000,
            0x8000_0000_0000_0000,
            0xfff8_0000_0000_0000,
            0x7ff4_0000_0000_0001,
            0x7fef_ffff_ffff_ffff,
            0x0000_0000_0000_0001,
            0x43e0_0000_0000_0000, // 2^63
            0xc1e0_0000_0020_0000, // just below -2^31
            0x3fe0_0000_0000_0000,
        ],
        // Externref N travels as N + 1 (0 is null), as in the spec runner.
        Ty::ExternRef => &[0, 1, 43],
        // Null, or the Nth function export: symbolic until
        // `resolve_funcrefs` replaces N with Kiln's pointer for it.
        Ty::FuncRef => &[0, 1, 2, 3],
        Ty::Other => &[0],
    }
}

fn random_value(ty: Ty, rng: &mut Rng) -> u64 {
    let pool = specials(ty);
    if rng.below(2) == 0 {
        return pool[rng.below(pool.len() as u64) as usize];
    }
    match ty {
        // Small values often land inside memories and tables.
        Ty::I32 | Ty::I64 if rng.below(2) == 0 => rng.below(0x4_0010),
        Ty::I32 | Ty::F32 => rng.next_u64() & 0xffff_ffff,
        Ty::I64 | Ty::F64 => rng.next_u64(),
        _ => pool[rng.below(pool.len() as u64) as usize],
    }
}

/// Whether some call passes a non-null funcref, which must be resolved
/// with [`resolve_funcrefs`] before the requests are sent.
pub fn has_funcref_args(reqs: &[Req]) -> bool {
    reqs.iter().any(|r| matches!(r, Req::Invoke { args, .. } if args.iter().any(|(t, v)| *t == Ty::FuncRef && *v != 0)))
}

/// Replaces each symbolic funcref argument N (see `specials`) with the
/// pointer of function export N mod the number of function exports, as
/// `addrs` (export name to Kiln's `addr` answer) gives it. A function
/// reference can only be passed as the pointer Kiln knows it by; the
/// oracle maps pointers back to exports through the same table.
pub fn resolve_funcrefs(reqs: &mut [Req], addrs: &std::collections::HashMap<String, u64>) {
    let funcs: Vec<String> = reqs
        .iter()
        .filter_map(|r| match r {
            Req::Addr(n) => Some(n.clone()),
            _ => None,
        })
        .collect();
    for r in reqs.iter_mut() {
        if let Req::Invoke { args, .. } = r {
            for (t, v) in args.iter_mut() {
                if *t == Ty::FuncRef && *v != 0 {
                    *v = if funcs.is_empty() { 0 } else { addrs.get(&funcs[(*v as usize - 1) % funcs.len()]).copied().unwrap_or(0) };
                }
            }
        }
    }
}

/// Limits of one module's plan.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Argument sets per function with parameters (the first six are the
    /// special values, the rest random).
    pub arg_sets: usize,
    /// Invocations per module at most.
    pub max_calls: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { arg_sets: 8, max_calls: 96 }
    }
}

/// The requests for one module: instantiate, learn function identities,
/// snapshot the state, then for each call refill fuel, invoke, and
/// snapshot every exported global, memory and table.
pub fn plan(exports: &[Export], seed: u64, limits: Limits) -> Vec<Req> {
    let mut rng = Rng::new(seed ^ 0xa5a5_5a5a);
    let mut reqs = vec![Req::Instantiate];
    for e in exports {
        if let Export::Func { name, .. } = e {
            reqs.push(Req::Addr(name.clone()));
        }
    }
    let snapshot = |reqs: &mut Vec<Req>| {
        for e in exports {
            match e {
                Export::Global { name, ty } => reqs.push(Req::Get { name: name.clone(), ty: *ty }),
                Export::Memory { name } | Export::Table { name } => reqs.push(Req::Dump { name: name.clone() }),
                Export::Func { .. } => {}
            }
        }
    };
    snapshot(&mut reqs);
    let funcs: Vec<_> = exports
        .iter()
        .filter_map(|e| match e {
            // The driver's `invoke` line cannot carry an empty name (then
            // its arguments would be read as the name); generated modules
            // never have one (`gen::rewrite`), other modules may.
            Export::Func { name, params, results, .. } if !name.is_empty() => Some((name, params, results)),
            _ => None,
        })
        .collect();
    let fueled = exports.iter().any(|e| matches!(e, Export::Global { name, .. } if name == FUEL_EXPORT));
    let mut calls = 0;
    'sets: for set in 0..limits.arg_sets {
        for (name, params, results) in &funcs {
            if params.is_empty() && set >= 2 {
                continue;
            }
            if calls == limits.max_calls {
                break 'sets;
            }
            calls += 1;
            let args = params
                .iter()
                .map(|&ty| {
                    let v = if set < 6 { specials(ty)[set.min(specials(ty).len() - 1)] } else { random_value(ty, &mut rng) };
                    (ty, v)
                })
                .collect();
            if fueled {
                reqs.push(Req::SetFuel);
            }
            reqs.push(Req::Invoke { name: (*name).clone(), args, results: (*results).clone() });
            snapshot(&mut reqs);
        }
    }
    reqs
}
