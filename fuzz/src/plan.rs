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
    /// A 128-bit vector: its 16 bytes as a little-endian number (lane 0 in
    /// the low bits), `LO:HI` in the driver's text.
    V128,
    /// Anything the generated feature set does not contain.
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
            V::V128 => Ty::V128,
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
    Table { name: String, elem: Ty },
}

/// One request, in the order the driver answers them. Values are bit
/// patterns: i32 and f32 in the low 32 bits, a v128 in all 128.
#[derive(Clone, Debug)]
pub enum Req {
    Instantiate,
    /// The funcref pointer of a function export (Kiln's identity for it).
    Addr(String),
    /// Refill the fuel global before a call.
    SetFuel,
    Invoke { name: String, args: Vec<(Ty, u128)>, results: Vec<Ty> },
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
                for (ty, v) in args {
                    s.push(' ');
                    s.push_str(&value_text(*ty, *v));
                }
                s
            }
            Req::Get { name, .. } => format!("get {k:x} {}", hex(name)),
            Req::Dump { name } => format!("dump {k:x} {}", hex(name)),
        }
    }
}

/// A value as the driver reads it: hex bits, or `LO:HI` for a v128 (its
/// bytes 0-7 and 8-15 as two little-endian 64-bit numbers).
pub fn value_text(ty: Ty, v: u128) -> String {
    match ty {
        Ty::V128 => format!("{:x}:{:x}", v as u64, (v >> 64) as u64),
        _ => format!("{:x}", v as u64),
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
    let mut tables: Vec<Ty> = Vec::new();
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
            wasmparser::Payload::TableSection(r) => {
                for t in r {
                    tables.push(Ty::of(wasmparser::ValType::Ref(t.map_err(|e| e.to_string())?.ty.element_type)));
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
                        wasmparser::ExternalKind::Table => Export::Table { name, elem: tables[e.index as usize] },
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
/// INT_MAX and 2, or NaN, +inf and -inf; for v128 see [`V128_SPECIALS`]),
/// the rest are drawn at random.
fn specials(ty: Ty) -> Vec<u128> {
    let scalars: &[u64] = match ty {
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
        Ty::V128 => return V128_SPECIALS.to_vec(),
        Ty::Other => &[0],
    };
    scalars.iter().map(|&v| v as u128).collect()
}

/// A v128 of four 32-bit lanes, lane 0 first.
const fn x4(l: [u32; 4]) -> u128 {
    l[0] as u128 | (l[1] as u128) << 32 | (l[2] as u128) << 64 | (l[3] as u128) << 96
}

/// A v128 of two 64-bit lanes, lane 0 first.
const fn x2(l: [u64; 2]) -> u128 {
    l[0] as u128 | (l[1] as u128) << 64
}

/// A v128 of eight 16-bit lanes, lane 0 first.
const fn x8(l: [u16; 8]) -> u128 {
    let mut v = 0u128;
    let mut i = 0;
    while i < 8 {
        v |= (l[i] as u128) << (16 * i);
        i += 1;
    }
    v
}

/// Special v128 values. The six every function gets first: zero, four
/// f32 lanes (1.0, -0.0, canonical NaN, +inf), all ones (minus one in
/// every integer lane, a negative NaN in every float lane), i64 lanes
/// INT_MIN and INT_MAX, i32 lanes INT_MIN, INT_MAX, 1 and -1, and f64
/// lanes (signalling NaN with a payload, -inf). Then: f32 lanes of
/// signalling and negative NaNs, -inf, the smallest subnormal, 2^31 and
/// just below -2^31 (the edges of truncation); f64 -0.0, 2^63, the largest
/// finite; i16 and i8 INT_MIN/INT_MAX lanes (saturation, narrowing); lane
/// indices and shift counts.
pub const V128_SPECIALS: &[u128] = &[
    0,
    x4([0x3f80_0000, 0x8000_0000, 0x7fc0_0000, 0x7f80_0000]),
    u128::MAX,
    x2([1 << 63, (1 << 63) - 1]),
    x4([0x8000_0000, 0x7fff_ffff, 1, 0xffff_ffff]),
    x2([0x7ff4_0000_0000_0001, 0xfff0_0000_0000_0000]),
    x4([0x7fa0_0001, 0xffc0_0000, 0xff80_0000, 0x0000_0001]),
    x4([0x4f00_0000, 0xcf00_0001, 0xbf00_0000, 0x3f00_0000]),
    x2([0x8000_0000_0000_0000, 0x43e0_0000_0000_0000]),
    x2([0x7fef_ffff_ffff_ffff, 0x7ff8_0000_0000_0000]),
    x8([0x8000, 0x7fff, 0xffff, 0, 1, 0x7f, 0xff80, 0x80]),
    0x7f80_807f_ff00_0180_8000_7fff_0102_0380,
    x4([0, 1, 2, 3]),
    x4([31, 32, 63, 64]),
];

fn random_value(ty: Ty, rng: &mut Rng) -> u128 {
    let pool = specials(ty);
    if rng.below(2) == 0 {
        return pool[rng.below(pool.len() as u64) as usize];
    }
    match ty {
        // Small values often land inside memories and tables.
        Ty::I32 | Ty::I64 if rng.below(2) == 0 => rng.below(0x4_0010) as u128,
        Ty::I32 | Ty::F32 => (rng.next_u64() & 0xffff_ffff) as u128,
        Ty::I64 | Ty::F64 => rng.next_u64() as u128,
        // Random bits, or lanes of the scalar specials (so that float
        // lanes hold NaNs, infinities, -0.0 and subnormals together).
        Ty::V128 => match rng.below(4) {
            0 | 1 => rng.next_u64() as u128 | (rng.next_u64() as u128) << 64,
            2 => {
                let f = specials(Ty::F32);
                let mut l = [0u32; 4];
                for x in &mut l {
                    *x = f[rng.below(f.len() as u64) as usize] as u32;
                }
                x4(l)
            }
            _ => {
                let (f, i) = (specials(Ty::F64), specials(Ty::I64));
                let mut l = [0u64; 2];
                for x in &mut l {
                    let pool = if rng.below(2) == 0 { &f } else { &i };
                    *x = pool[rng.below(pool.len() as u64) as usize] as u64;
                }
                x2(l)
            }
        },
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
                    *v = if funcs.is_empty() {
                        0
                    } else {
                        addrs.get(&funcs[(*v as usize - 1) % funcs.len()]).copied().unwrap_or(0) as u128
                    };
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
    // Values of other types (exnref) are neither asked for nor passed:
    // no identity of an exception is shared by Kiln and an oracle, and
    // wasmtime's C API aborts on them.
    let snapshot = |reqs: &mut Vec<Req>| {
        for e in exports {
            match e {
                Export::Global { ty: Ty::Other, .. } | Export::Table { elem: Ty::Other, .. } => {}
                Export::Global { name, ty } => reqs.push(Req::Get { name: name.clone(), ty: *ty }),
                Export::Memory { name } | Export::Table { name, .. } => reqs.push(Req::Dump { name: name.clone() }),
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
            Export::Func { name, params, results, .. }
                if !name.is_empty() && !params.iter().chain(results.iter()).any(|t| *t == Ty::Other) =>
            {
                Some((name, params, results))
            }
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
                    let v = if set < 6 {
                        let pool = specials(ty);
                        pool[set.min(pool.len() - 1)]
                    } else {
                        random_value(ty, &mut rng)
                    };
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
