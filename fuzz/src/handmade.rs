//! Hand-written generators for what wasm-smith rarely or never produces:
//! accesses at the very end of memory, and extreme sizes. Each builds the
//! text format from a seeded [`Rng`] (so a seed names one module) and
//! exports everything it defines.

use crate::rng::Rng;

/// A module of loads and stores near the end of its memory: every access
/// function takes a distance `d` from the end (`memory.size * 64 KiB - d`),
/// so the small and special arguments the runner passes land on the last
/// bytes, straddle the end, or pass it; loaded values go through a little
/// arithmetic, stored ones come from a parameter. Plus `memory.grow`,
/// `memory.fill` and `memory.copy` with distances from the end too. With
/// `simd`, also v128 loads and stores of every width: whole vectors,
/// extending, splatting and zero-filling loads (`v128.load32_zero`), and
/// lane loads and stores, with the vector stored or loaded into a
/// parameter. No loops, so no fuel is needed.
pub fn edge_module(rng: &mut Rng, simd: bool) -> Result<Vec<u8>, String> {
    let min = rng.below(3);
    let max = min + rng.below(3);
    let mut w = format!("(module\n  (memory (export \"mem\") {min} {max})\n");
    w.push_str("  (global (export \"acc\") (mut i64) (i64.const 0))\n");
    if min > 0 && rng.below(2) == 0 {
        let n = 1 + rng.below(3);
        let mut bytes = vec![0u8; 1 + rng.below(40) as usize];
        rng.fill(&mut bytes);
        let data: String = bytes.iter().map(|b| format!("\\{b:02x}")).collect();
        for _ in 0..n {
            w.push_str(&format!("  (data (i32.const {}) \"{data}\")\n", rng.below(min * 65536 - bytes.len() as u64 + 1)));
        }
    }
    // (type, load ops with natural size, store ops with natural size)
    const LOADS: &[(&str, &str, u32)] = &[
        ("i32", "i32.load", 4),
        ("i32", "i32.load8_s", 1),
        ("i32", "i32.load8_u", 1),
        ("i32", "i32.load16_s", 2),
        ("i32", "i32.load16_u", 2),
        ("i64", "i64.load", 8),
        ("i64", "i64.load8_s", 1),
        ("i64", "i64.load16_u", 2),
        ("i64", "i64.load32_s", 4),
        ("i64", "i64.load32_u", 4),
        ("f32", "f32.load", 4),
        ("f64", "f64.load", 8),
    ];
    const STORES: &[(&str, &str, u32)] = &[
        ("i32", "i32.store", 4),
        ("i32", "i32.store8", 1),
        ("i32", "i32.store16", 2),
        ("i64", "i64.store", 8),
        ("i64", "i64.store8", 1),
        ("i64", "i64.store16", 2),
        ("i64", "i64.store32", 4),
        ("f32", "f32.store", 4),
        ("f64", "f64.store", 8),
    ];
    const ARITH: &[(&str, &[&str])] = &[
        ("i32", &["i32.const 0x9e3779b9 i32.xor", "i32.const 5 i32.rotl", "i32.popcnt", "i32.const 7 i32.mul", "i32.clz", "i32.eqz"]),
        ("i64", &["i64.const 0x9e3779b97f4a7c15 i64.xor", "i64.const 13 i64.rotr", "i64.popcnt", "i64.const -3 i64.mul", "i64.ctz"]),
        ("f32", &["f32.abs", "f32.neg", "f32.const 2 f32.copysign"]),
        ("f64", &["f64.abs", "f64.neg", "f64.const -1 f64.copysign"]),
    ];
    let end = "memory.size i32.const 16 i32.shl local.get 0 i32.sub";
    let offset = |rng: &mut Rng| [0u64, 0, 1, 3, 4, 7, 8, 15, 0xffff, 0x10000][rng.below(10) as usize];
    // (op, natural size, lanes: 0 for an op without a lane index)
    const VLOADS: &[(&str, u32, u64)] = &[
        ("v128.load", 16, 0),
        ("v128.load8x8_s", 8, 0),
        ("v128.load8x8_u", 8, 0),
        ("v128.load16x4_s", 8, 0),
        ("v128.load32x2_u", 8, 0),
        ("v128.load8_splat", 1, 0),
        ("v128.load16_splat", 2, 0),
        ("v128.load32_splat", 4, 0),
        ("v128.load64_splat", 8, 0),
        ("v128.load32_zero", 4, 0),
        ("v128.load64_zero", 8, 0),
        ("v128.load8_lane", 1, 16),
        ("v128.load16_lane", 2, 8),
        ("v128.load32_lane", 4, 4),
        ("v128.load64_lane", 8, 2),
    ];
    const VSTORES: &[(&str, u32, u64)] = &[
        ("v128.store", 16, 0),
        ("v128.store8_lane", 1, 16),
        ("v128.store16_lane", 2, 8),
        ("v128.store32_lane", 4, 4),
        ("v128.store64_lane", 8, 2),
    ];
    const VARITH: &[&str] = &[
        "v128.not",
        "i8x16.popcnt",
        "v128.const i32x4 0x9e3779b9 5 -1 0x80000000 i32x4.mul",
        "i16x8.neg",
        "i16x8.extadd_pairwise_i8x16_u",
    ];
    let n = 4 + rng.below(10);
    for i in 0..n {
        if simd && rng.below(3) == 0 {
            if rng.below(2) == 0 {
                let (op, size, lanes) = VLOADS[rng.below(VLOADS.len() as u64) as usize];
                let align = 1u32 << rng.below(size.trailing_zeros() as u64 + 1);
                // A lane load replaces one lane of the parameter.
                let (operand, lane) = if lanes > 0 { (" local.get 1", format!(" {}", rng.below(lanes))) } else { ("", String::new()) };
                let mut body = format!("{end}{operand} {op} offset={} align={align}{lane}", offset(rng));
                for _ in 0..rng.below(3) {
                    body.push(' ');
                    body.push_str(VARITH[rng.below(VARITH.len() as u64) as usize]);
                }
                w.push_str(&format!("  (func (export \"vload{i}\") (param i32 v128) (result v128) {body})\n"));
            } else {
                let (op, size, lanes) = VSTORES[rng.below(VSTORES.len() as u64) as usize];
                let align = 1u32 << rng.below(size.trailing_zeros() as u64 + 1);
                let lane = if lanes > 0 { format!(" {}", rng.below(lanes)) } else { String::new() };
                w.push_str(&format!(
                    "  (func (export \"vstore{i}\") (param i32 v128) {end} local.get 1 {op} offset={} align={align}{lane} global.get 0 local.get 1 i64x2.extract_lane 1 i64.add global.set 0)\n",
                    offset(rng)
                ));
            }
        } else if rng.below(2) == 0 {
            let (ty, op, size) = LOADS[rng.below(LOADS.len() as u64) as usize];
            let align = 1u32 << rng.below(size.trailing_zeros() as u64 + 1);
            let mut body = format!("{end} {op} offset={} align={align}", offset(rng));
            let arith = ARITH.iter().find(|a| a.0 == ty).expect("every type").1;
            for _ in 0..rng.below(3) {
                body.push(' ');
                body.push_str(arith[rng.below(arith.len() as u64) as usize]);
            }
            let res = if body.ends_with("eqz") { "i32" } else { ty };
            w.push_str(&format!("  (func (export \"load{i}\") (param i32) (result {res}) {body})\n"));
        } else {
            let (ty, op, size) = STORES[rng.below(STORES.len() as u64) as usize];
            let align = 1u32 << rng.below(size.trailing_zeros() as u64 + 1);
            // The value from an i64 parameter, as the store's type.
            let value = match ty {
                "i32" => "local.get 1 i32.wrap_i64",
                "i64" => "local.get 1",
                "f32" => "local.get 1 i32.wrap_i64 f32.reinterpret_i32",
                _ => "local.get 1 f64.reinterpret_i64",
            };
            w.push_str(&format!(
                "  (func (export \"store{i}\") (param i32 i64) {end} {value} {op} offset={} align={align} global.get 0 local.get 1 i64.add global.set 0)\n",
                offset(rng)
            ));
        }
    }
    w.push_str("  (func (export \"grow\") (param i32) (result i32) local.get 0 memory.grow)\n");
    w.push_str(&format!("  (func (export \"fill\") (param i32 i32) {end} local.get 1 i32.const {} memory.fill)\n", rng.below(20)));
    w.push_str(&format!(
        "  (func (export \"copy\") (param i32 i32) {end} local.get 1 i32.const {} memory.copy)\n",
        rng.below(20)
    ));
    w.push_str(")\n");
    wat::parse_str(&w).map_err(|e| format!("edge module: {e}\n{w}"))
}

/// A module with two or three of the extremes random generation misses:
/// a `br_table` with thousands of targets out of thousands of nested
/// blocks, a function with thousands of locals, control nested hundreds
/// deep, a data segment filling most of memory, and growing memory page by
/// page to its declared maximum.
pub fn extreme_module(rng: &mut Rng) -> Result<Vec<u8>, String> {
    let mut w = String::from("(module\n");
    let mut parts: Vec<u64> = (0..5).collect();
    // Two or three distinct parts, in seed order.
    for i in (1..parts.len()).rev() {
        parts.swap(i, rng.below(i as u64 + 1) as usize);
    }
    parts.truncate(2 + rng.below(2) as usize);
    parts.sort();
    let mut has_memory = false;
    for p in parts {
        match p {
            0 => {
                // br_table: N nested blocks; each block's end adds its own
                // constant, so the sum tells which target was taken.
                let n = 500 + rng.below(2500) as usize;
                let mut f = String::from("  (func (export \"br_table\") (param i32) (result i32) (local i32)\n");
                f.push_str(&"block\n".repeat(n));
                f.push_str("local.get 0 br_table");
                let targets = n + 1 + rng.below(n as u64) as usize;
                for _ in 0..targets {
                    f.push_str(&format!(" {}", rng.below(n as u64)));
                }
                f.push_str(&format!(" {}\n", rng.below(n as u64)));
                for j in 0..n {
                    f.push_str(&format!("end local.get 1 i32.const {} i32.add local.set 1\n", j * 7 + 1));
                }
                f.push_str("local.get 1)\n");
                w.push_str(&f);
            }
            1 => {
                // Thousands of locals of every type, each set, some read.
                let n = 1000 + rng.below(4000) as usize;
                let tys = ["i32", "i64", "f32", "f64"];
                let kinds: Vec<usize> = (0..n).map(|_| rng.below(4) as usize).collect();
                let mut f = String::from("  (func (export \"locals\") (param i64) (result i64)");
                for k in &kinds {
                    f.push_str(&format!(" (local {})", tys[*k]));
                }
                f.push('\n');
                for (i, k) in kinds.iter().enumerate() {
                    let v = match *k {
                        0 => format!("local.get 0 i32.wrap_i64 i32.const {i} i32.add"),
                        1 => format!("local.get 0 i64.const {i} i64.mul"),
                        2 => format!("local.get 0 f32.convert_i64_s f32.const {i} f32.add"),
                        _ => format!("local.get 0 f64.convert_i64_u f64.const {i} f64.mul"),
                    };
                    f.push_str(&format!("{v} local.set {}\n", i + 1));
                }
                f.push_str("i64.const 0\n");
                for _ in 0..300 {
                    let i = rng.below(n as u64) as usize;
                    let get = match kinds[i] {
                        0 => "i64.extend_i32_s",
                        1 => "",
                        2 => "i64.trunc_sat_f32_s",
                        _ => "i64.trunc_sat_f64_u",
                    };
                    f.push_str(&format!("local.get {} {get} i64.xor i64.const 1 i64.rotl\n", i + 1));
                }
                f.push_str(")\n");
                w.push_str(&f);
            }
            2 => {
                // Blocks, loops and ifs nested hundreds deep, with results.
                let d = 200 + rng.below(1000) as usize;
                let mut f = String::from("  (func (export \"nested\") (param i32) (result i32)\n");
                let mut closes = Vec::new();
                for i in 0..d {
                    match rng.below(3) {
                        0 => {
                            f.push_str("block (result i32)\n");
                            closes.push(format!("end i32.const {i} i32.xor\n"));
                        }
                        1 => {
                            f.push_str("loop (result i32)\n");
                            closes.push(format!("end i32.const {} i32.add\n", i * 3));
                        }
                        _ => {
                            f.push_str(&format!("local.get 0 i32.const {} i32.and if (result i32)\n", 1u32 << (i % 32)));
                            closes.push(format!("else i32.const {i} end\n"));
                        }
                    }
                }
                f.push_str("local.get 0 i32.const 1 i32.add\n");
                for c in closes.iter().rev() {
                    f.push_str(c);
                }
                f.push_str(")\n");
                w.push_str(&f);
            }
            3 if !has_memory => {
                // A data segment over most of a four-page memory.
                has_memory = true;
                let len = 65536 + rng.below(3 * 65536) as usize;
                let mut bytes = vec![0u8; len];
                rng.fill(&mut bytes);
                let at = rng.below((4 * 65536 - len) as u64 + 1);
                let data: String = bytes.iter().map(|b| format!("\\{b:02x}")).collect();
                w.push_str(&format!("  (memory (export \"mem\") 4 4)\n  (data (i32.const {at}) \"{data}\")\n"));
                w.push_str("  (func (export \"load\") (param i32) (result i64) local.get 0 i64.load)\n");
            }
            4 if !has_memory => {
                // Grow one page at a time until memory.grow fails at the
                // declared maximum; answer the pages gained.
                has_memory = true;
                let min = rng.below(3);
                let max = min + rng.below(14);
                w.push_str(&format!("  (memory (export \"mem\") {min} {max})\n"));
                w.push_str(
                    "  (func (export \"grow_all\") (result i32) (local i32)\n\
                     loop\n\
                     i32.const 1 memory.grow i32.const -1 i32.ne\n\
                     if local.get 0 i32.const 1 i32.add local.set 0 br 1 end\n\
                     end\n\
                     memory.size i32.const 16 i32.shl i32.const 1 i32.sub i32.const 255 i32.store8\n\
                     local.get 0)\n",
                );
                w.push_str("  (func (export \"grow\") (param i32) (result i32) local.get 0 memory.grow)\n");
            }
            _ => {}
        }
    }
    w.push_str(")\n");
    wat::parse_str(&w).map_err(|e| format!("extreme module: {e}"))
}

/// A module of atomic operations (the threads proposal) near the end of its
/// memory, shared or not: every operator's function takes a distance `d`
/// from the end (as [`edge_module`]'s), so the runner's small arguments
/// land on the last cells, straddle the end, pass it, or miss the natural
/// alignment ("unaligned atomic" comes before "out of bounds"). Loads, stores,
/// every read-modify-write and cmpxchg of each width, `atomic.fence`,
/// `memory.atomic.notify` (which wakes nobody: one thread) and
/// `memory.atomic.wait32/64` with a zero timeout (so the answer is 1,
/// "not-equal", or 2, "timed-out", and nothing sleeps), which trap with
/// "expected shared memory" on an unshared memory; plus `memory.grow`,
/// serialised on a shared memory. For the wasmtime oracle (wasmi has no
/// threads). No loops, so no fuel is needed.
pub fn atomic_module(rng: &mut Rng) -> Result<Vec<u8>, String> {
    let shared = rng.below(3) != 0;
    let min = rng.below(3);
    let max = min + rng.below(3);
    let share = if shared { " shared" } else { "" };
    let mut w = format!("(module\n  (memory (export \"mem\") {min} {max}{share})\n");
    w.push_str("  (global (export \"acc\") (mut i64) (i64.const 0))\n");
    let end = "memory.size i32.const 16 i32.shl local.get 0 i32.sub";
    let offset = |rng: &mut Rng| [0u64, 0, 1, 2, 4, 7, 8, 0xffff, 0x10000][rng.below(9) as usize];
    // (type, width suffix for the op name, size in bytes)
    const WIDTHS: &[(&str, &str, u32)] =
        &[("i32", "", 4), ("i32", "8", 1), ("i32", "16", 2), ("i64", "", 8), ("i64", "8", 1), ("i64", "16", 2), ("i64", "32", 4)];
    const RMW: &[&str] = &["add", "sub", "and", "or", "xor", "xchg"];
    let n = 4 + rng.below(10);
    for i in 0..n {
        let (ty, width, size) = WIDTHS[rng.below(WIDTHS.len() as u64) as usize];
        let off = offset(rng);
        // The natural alignment is the only one atomics allow.
        let mem = format!("offset={off} align={size}");
        let narrow = width;
        let u = if width.is_empty() { "" } else { "_u" };
        let value = if ty == "i32" { "local.get 1 i32.wrap_i64" } else { "local.get 1" };
        let to_acc = if ty == "i32" { "i64.extend_i32_u global.get 0 i64.add global.set 0" } else { "global.get 0 i64.add global.set 0" };
        match rng.below(7) {
            0 => {
                let op = if width.is_empty() { format!("{ty}.atomic.load") } else { format!("{ty}.atomic.load{narrow}_u") };
                w.push_str(&format!("  (func (export \"load{i}\") (param i32) (result {ty}) {end} {op} {mem})\n"));
            }
            1 => {
                let op = format!("{ty}.atomic.store{narrow}");
                w.push_str(&format!("  (func (export \"store{i}\") (param i32 i64) {end} {value} {op} {mem})\n"));
            }
            2 | 3 => {
                let rmw = RMW[rng.below(RMW.len() as u64) as usize];
                let op = if width.is_empty() { format!("{ty}.atomic.rmw.{rmw}") } else { format!("{ty}.atomic.rmw{narrow}.{rmw}{u}") };
                w.push_str(&format!("  (func (export \"rmw{i}\") (param i32 i64) {end} {value} {op} {mem} {to_acc})\n"));
            }
            4 => {
                let op = if width.is_empty() { format!("{ty}.atomic.rmw.cmpxchg") } else { format!("{ty}.atomic.rmw{narrow}.cmpxchg_u") };
                let replacement = if ty == "i32" { "local.get 2 i32.wrap_i64" } else { "local.get 2" };
                w.push_str(&format!(
                    "  (func (export \"cmpxchg{i}\") (param i32 i64 i64) {end} {value} {replacement} {op} {mem} {to_acc})\n"
                ));
            }
            5 => {
                // wait with a zero timeout: 1 (the cell differs) or 2.
                let (op, size, val) = if rng.below(2) == 0 { ("memory.atomic.wait32", 4, "local.get 1 i32.wrap_i64") } else { ("memory.atomic.wait64", 8, "local.get 1") };
                w.push_str(&format!(
                    "  (func (export \"wait{i}\") (param i32 i64) (result i32) {end} {val} i64.const 0 {op} offset={off} align={size})\n"
                ));
            }
            _ => {
                w.push_str(&format!(
                    "  (func (export \"notify{i}\") (param i32 i32) (result i32) atomic.fence {end} local.get 1 memory.atomic.notify offset={off} align=4)\n"
                ));
            }
        }
    }
    w.push_str("  (func (export \"grow\") (param i32) (result i32) local.get 0 i32.const 3 i32.and memory.grow)\n");
    w.push_str(")\n");
    wat::parse_str(&w).map_err(|e| format!("{e}\n{w}"))
}
