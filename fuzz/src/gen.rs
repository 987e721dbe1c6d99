//! The generator: `wasm-smith` modules of exactly the features Kiln
//! compiles, made to terminate, with every entity exported, and rewritten
//! so that the comparison with the oracle can be bit for bit (see
//! [`rewrite`]).

use crate::rng::Rng;
use wasm_encoder::reencode::{Error as ReError, Reencode};
use wasmparser::WasmFeatures;

/// The WebAssembly features generated modules may use: the ONE place to
/// widen fuzzing when Kiln learns a proposal. Everything else in fuzz/
/// (wasm-smith switches, wasmi's configuration) is derived from it, and a
/// unit test checks that Kiln compiles every feature listed here.
///
/// Left out, although Kiln compiles them:
/// - relaxed SIMD: the spec lets each of its operations give any of a set
///   of results (`f32x4.relaxed_madd` fused or not,
///   `i32x4.relaxed_trunc_f32x4_s` of a NaN or out-of-range lane,
///   `i8x16.relaxed_swizzle` of an index over 15, `relaxed_laneselect`
///   per bit or per lane, ...). A comparison up to that freedom would have
///   to accept, lane by lane, any allowed answer, which needs the
///   operation and its inputs, not just the result; forcing the inputs
///   into the range where all answers agree would leave nothing relaxed
///   to test. Comparing exactly would instead hold both sides to one
///   choice: Kiln promises the deterministic profile on every target
///   (checked by `testsuite/spec/kiln/relaxed_simd_deterministic.wast`),
///   but wasmi 1.1 is not documented to implement that profile, and
///   wasm-smith does not canonicalise the NaNs of `relaxed_madd`/`nmadd`;
///   so that script is the test of relaxed SIMD;
/// - exceptions, typed function references and atomics: wasmi 1.1 runs
///   none of them; the first two are in [`wasmtime_features`], for the
///   second oracle.
///
/// SIMD is in, but a batch whose CPU level cannot compile it (riscv64
/// without V) gets its modules generated without it ([`generate`]'s
/// `simd`).
pub fn features() -> WasmFeatures {
    WasmFeatures::WASM2
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::WIDE_ARITHMETIC
        | WasmFeatures::MEMORY64
        | WasmFeatures::CUSTOM_PAGE_SIZES
}

/// [`features`] without SIMD if `simd` is false.
pub fn features_for(simd: bool) -> WasmFeatures {
    if simd {
        features()
    } else {
        features().difference(WasmFeatures::SIMD)
    }
}

/// The features of the modules that go to the second oracle, wasmtime
/// (`crate::wasmtime`): [`features`] without SIMD (wasmtime's C API, which
/// the oracle uses, aborts on v128 arguments, results and globals), plus
/// exceptions, typed function references and threads (atomics, shared
/// memories: `Profile::Atomics` only, wasm-smith never gets it). Legacy exceptions are not
/// here: wasmtime does not run them, so Kiln gets a legacy rewrite of a
/// module whose original goes to the oracle ([`Generated::kiln_bytes`]).
/// Atomics are left out: their modules need shared memories, which the
/// driver's `dump` and the oracle would both have to learn first.
pub fn wasmtime_features() -> WasmFeatures {
    features_for(false) | WasmFeatures::EXCEPTIONS | WasmFeatures::FUNCTION_REFERENCES | WasmFeatures::THREADS
}

/// Whether `bytes` needs the wasmtime oracle: it uses a feature of
/// [`wasmtime_features`] that wasmi (which runs exactly [`features`])
/// lacks. Only such modules go to wasmtime.
///
/// SIMD is allowed here although [`wasmtime_features`] leaves it out: the
/// oracle runs v128 code, only v128 values at the boundary abort its C
/// API, and the one generator of wasmtime modules with SIMD
/// (`handmade_exn`) keeps them inside (exception payloads, locals,
/// memory).
pub fn needs_wasmtime(bytes: &[u8]) -> bool {
    wasmparser::Validator::new_with_features(features()).validate_all(bytes).is_err()
        && wasmparser::Validator::new_with_features(wasmtime_features() | WasmFeatures::SIMD).validate_all(bytes).is_ok()
}

/// The top byte of a seed whose module is of a wasmtime profile
/// ([`Profile::of_seed`]); [`family_seed`] sets or clears it, so that a
/// seed alone still names its module.
const WASMTIME_SEED_TAG: u64 = 0xe7;

/// `seed` made a seed of the wasmtime profiles (`wasmtime`) or of the
/// others.
pub fn family_seed(seed: u64, wasmtime: bool) -> u64 {
    let top = seed >> 56;
    match (wasmtime, top == WASMTIME_SEED_TAG) {
        (true, _) => seed & !(0xff << 56) | WASMTIME_SEED_TAG << 56,
        (false, true) => seed ^ 1 << 56,
        (false, false) => seed,
    }
}

/// Name under which [`rewrite`] exports the fuel global, so the runner can
/// refill it before every call.
pub const FUEL_EXPORT: &str = "kiln-fuzz-fuel";

/// Fuel per invocation: `ensure_termination` spends one unit per function
/// entry and loop iteration and traps with `unreachable` at zero. It also
/// bounds recursion depth, well below both engines' stack limits, so stack
/// exhaustion stays the rare, incomparable case (see `diff.rs`).
pub const FUEL: u32 = 800;

/// The shapes of module the generator steers towards, picked by seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// wasm-smith's defaults (within the limits below).
    Mixed,
    /// The same without trapping code (`disallow_traps`), so calls run
    /// deeper instead of stopping at the first `unreachable`.
    NoTraps,
    /// Loads, stores and bulk memory/table operations, integer arithmetic.
    Memory,
    /// Float arithmetic and conversions around locals and control flow.
    Float,
    /// Not wasm-smith: [`handmade::edge_module`], loads and stores at the
    /// end of memory wrapped in arithmetic, with grow, fill and copy.
    Edges,
    /// Not wasm-smith: [`handmade::extreme_module`], sizes random
    /// generation never reaches (huge `br_table`s, thousands of locals,
    /// deep nesting, big data segments, growing memory to its maximum).
    Extremes,
    /// Exceptions (`try_table`, `throw`, `throw_ref`, exnref) among
    /// control flow, integer arithmetic and memory, so that throws cross
    /// frames and rethrows (`throw_ref` of a caught exnref) occur often;
    /// every other `unreachable` throws instead (`variants::throws`).
    /// For the wasmtime oracle, like the two below.
    Exceptions,
    /// The same, but Kiln gets every `try_table` it can as a legacy `try`
    /// (`variants::legacy`) while wasmtime runs the original.
    LegacyExceptions,
    /// wasm-smith's defaults with exceptions, and every direct call made
    /// through a typed function reference (`variants::func_refs`: `ref.func`,
    /// `ref.as_non_null`, `call_ref`, `return_call_ref`).
    FuncRefs,
    /// Not wasm-smith: [`handmade_exn::exn_module`], programs whose throws
    /// run: workers calling each other (directly, `call_indirect`,
    /// `call_ref`, tail calls) to a bounded depth inside nests of
    /// `try_table`s, throwing tags with payloads of every type at random
    /// depths, handlers that rethrow, throw other tags and call again.
    ExnPrograms,
    /// The same, but Kiln gets the legacy form (`variants::legacy`, which
    /// also makes `delegate` and `rethrow` of this generator's shapes)
    /// while wasmtime runs the original.
    LegacyExnPrograms,
    /// Not wasm-smith: [`handmade::atomic_module`], every atomic operator
    /// near the end of a shared or unshared memory, waits with a zero
    /// timeout, notify, fence and grow (threads; wasmi has none).
    Atomics,
}

impl Profile {
    /// Whether Kiln compiles a legacy-exceptions form of the module
    /// ([`Generated::kiln_bytes`]).
    pub fn legacy(self) -> bool {
        matches!(self, Profile::LegacyExceptions | Profile::LegacyExnPrograms)
    }

    /// Whether it is a profile of the wasmtime oracle.
    pub fn wasmtime(self) -> bool {
        matches!(
            self,
            Profile::Exceptions
                | Profile::LegacyExceptions
                | Profile::FuncRefs
                | Profile::ExnPrograms
                | Profile::LegacyExnPrograms
                | Profile::Atomics
        )
    }

    pub fn of_seed(seed: u64) -> Profile {
        if seed >> 56 == WASMTIME_SEED_TAG {
            // Most of them hand-written: wasm-smith's throws seldom run.
            return match seed % 7 {
                0 => Profile::Exceptions,
                1 => Profile::LegacyExceptions,
                2 => Profile::FuncRefs,
                3 | 5 => Profile::ExnPrograms,
                6 => Profile::Atomics,
                _ => Profile::LegacyExnPrograms,
            };
        }
        match seed % 10 {
            0 | 1 => Profile::Mixed,
            2 | 3 => Profile::NoTraps,
            4 | 5 => Profile::Memory,
            6 | 7 => Profile::Float,
            8 => Profile::Edges,
            _ => Profile::Extremes,
        }
    }
}

/// wasm-smith's configuration for one profile (set field by field, each
/// next to why), with SIMD if `simd` (see [`features_for`]).
#[allow(clippy::field_reassign_with_default)]
pub fn config(profile: Profile, simd: bool) -> wasm_smith::Config {
    let f = features_for(simd);
    let mut c = wasm_smith::Config::default();
    // Proposals, from `features()` only.
    c.simd_enabled = f.contains(WasmFeatures::SIMD);
    c.relaxed_simd_enabled = f.contains(WasmFeatures::RELAXED_SIMD);
    c.exceptions_enabled = f.contains(WasmFeatures::EXCEPTIONS);
    c.gc_enabled = f.contains(WasmFeatures::GC);
    c.memory64_enabled = f.contains(WasmFeatures::MEMORY64);
    c.tail_call_enabled = f.contains(WasmFeatures::TAIL_CALL);
    c.threads_enabled = f.contains(WasmFeatures::THREADS);
    c.shared_everything_threads_enabled = f.contains(WasmFeatures::SHARED_EVERYTHING_THREADS);
    c.wide_arithmetic_enabled = f.contains(WasmFeatures::WIDE_ARITHMETIC);
    c.extended_const_enabled = f.contains(WasmFeatures::EXTENDED_CONST);
    c.custom_page_sizes_enabled = f.contains(WasmFeatures::CUSTOM_PAGE_SIZES);
    c.compact_imports_enabled = f.contains(WasmFeatures::COMPACT_IMPORTS);
    c.custom_descriptors_enabled = f.contains(WasmFeatures::CUSTOM_DESCRIPTORS);
    c.bulk_memory_enabled = f.contains(WasmFeatures::BULK_MEMORY);
    c.reference_types_enabled = f.contains(WasmFeatures::REFERENCE_TYPES);
    c.multi_value_enabled = f.contains(WasmFeatures::MULTI_VALUE);
    c.saturating_float_to_int_enabled = f.contains(WasmFeatures::SATURATING_FLOAT_TO_INT);
    c.sign_extension_ops_enabled = f.contains(WasmFeatures::SIGN_EXTENSION);
    c.max_memories = if f.contains(WasmFeatures::MULTI_MEMORY) { 2 } else { 1 };
    c.max_tables = if f.contains(WasmFeatures::REFERENCE_TYPES) { 3 } else { 1 };

    // No imports: the modules run alone, in wasmi and in a Kiln driver.
    c.max_imports = 0;
    c.export_everything = true;
    // Float results that the spec lets vary (NaN payloads of arithmetic)
    // are made canonical by the module itself, so that memories, globals
    // and reinterpreted bits can be compared exactly. wasm-smith does this
    // for scalar and f32x4/f64x2 arithmetic, rounding, sqrt, min and max;
    // `rewrite` does the same for the scalar and vector promote/demote,
    // which wasm-smith leaves alone.
    c.canonicalize_nans = true;

    // Bounded sizes, so that a batch compiles quickly, a memory is cheap to
    // hash after every call, and no growth is limited by either engine.
    c.min_funcs = 2;
    c.max_funcs = 12;
    c.max_instructions = 120;
    c.max_types = 16;
    c.max_globals = 12;
    c.max_data_segments = 6;
    c.max_element_segments = 6;
    c.max_elements = 24;
    c.max_table_elements = 64;
    c.table_max_size_required = true;
    c.max_memory32_bytes = 4 * 65536;
    c.max_memory64_bytes = 4 * 65536;
    c.memory_max_size_required = true;
    c.max_type_size = 400;
    match profile {
        Profile::Mixed | Profile::Edges | Profile::Extremes | Profile::ExnPrograms | Profile::LegacyExnPrograms | Profile::Atomics => {}
        Profile::Exceptions | Profile::LegacyExceptions | Profile::FuncRefs => {
            let w = wasmtime_features();
            c.simd_enabled = false;
            c.exceptions_enabled = w.contains(WasmFeatures::EXCEPTIONS);
            c.min_tags = 1;
            c.max_tags = 4;
            if profile != Profile::FuncRefs {
                use wasm_smith::InstructionKind as K;
                // Control includes the exception instructions.
                c.allowed_instructions = wasm_smith::InstructionKinds::new(&[
                    K::NumericInt,
                    K::MemoryInt,
                    K::Reference,
                    K::Variable,
                    K::Parametric,
                    K::Control,
                ]);
                c.max_instructions = 200;
            }
        }
        Profile::NoTraps => c.disallow_traps = true,
        Profile::Memory => {
            use wasm_smith::InstructionKind as K;
            c.allowed_instructions = wasm_smith::InstructionKinds::new(&[
                K::NumericInt,
                // Integer SIMD, v128 loads, stores and lane accesses.
                K::VectorInt,
                K::Memory,
                K::Table,
                K::Reference,
                K::Variable,
                K::Parametric,
                K::Control,
            ]);
            c.min_memories = 1;
            c.min_data_segments = 1;
            // Offsets near and past the end of memory, not mostly inside.
            c.memory_offset_choices = wasm_smith::MemoryOffsetChoices(50, 30, 20);
            c.max_instructions = 200;
        }
        Profile::Float => {
            use wasm_smith::InstructionKind as K;
            c.allowed_instructions =
                wasm_smith::InstructionKinds::new(&[K::Numeric, K::Vector, K::Variable, K::Parametric, K::Control, K::Memory]);
            c.max_instructions = 200;
            c.disallow_traps = true;
        }
    }
    c
}

/// A generated module and how it came about.
#[derive(Clone, Debug)]
pub struct Generated {
    pub seed: u64,
    pub profile: Profile,
    /// The module the oracle runs (and, but for the legacy profiles
    /// ([`Profile::legacy`]), Kiln too).
    pub bytes: Vec<u8>,
}

impl Generated {
    /// The module Kiln compiles: [`Self::bytes`], or its legacy-exceptions
    /// form for the legacy profiles (`variants::legacy`, which keeps its
    /// meaning).
    pub fn kiln_bytes(&self) -> Result<Vec<u8>, String> {
        if self.profile.legacy() {
            crate::variants::legacy(&self.bytes)
        } else {
            Ok(self.bytes.clone())
        }
    }
}

/// The module of `seed`: always the same bytes for the same seed and
/// `simd` (and the same wasm-smith version, pinned in the workspace).
/// Without `simd` the module has no v128 anywhere, for a CPU level that
/// cannot compile SIMD; the runner decides by the batch's target and CPU
/// (`diff::simd_compiles`), so a seed and `--cpu` name one module.
pub fn generate(seed: u64, simd: bool) -> Result<Generated, String> {
    let profile = Profile::of_seed(seed);
    let mut rng = Rng::new(seed);
    match profile {
        Profile::Edges => return Ok(Generated { seed, profile, bytes: crate::handmade::edge_module(&mut rng, simd)? }),
        Profile::Extremes => return Ok(Generated { seed, profile, bytes: crate::handmade::extreme_module(&mut rng)? }),
        Profile::Atomics => return Ok(Generated { seed, profile, bytes: crate::handmade::atomic_module(&mut rng)? }),
        // v128 only inside (payloads, locals, memory), never at the
        // boundary, so SIMD stays (see `needs_wasmtime`).
        Profile::ExnPrograms | Profile::LegacyExnPrograms => {
            return Ok(Generated { seed, profile, bytes: crate::handmade_exn::exn_module(&mut rng, simd)? })
        }
        _ => {}
    }
    let wasmtime = profile.wasmtime();
    let simd = simd && !wasmtime;
    let mut data = vec![0u8; 16 * 1024];
    rng.fill(&mut data);
    let mut u = arbitrary::Unstructured::new(&data);
    let mut m = wasm_smith::Module::new(config(profile, simd), &mut u).map_err(|e| format!("wasm-smith: {e}"))?;
    let fuel = m.ensure_termination(FUEL).map_err(|e| format!("ensure_termination: {e}"))?;
    let mut bytes = rewrite(&m.to_bytes(), fuel)?;
    if wasmtime {
        bytes = crate::variants::throws(&bytes)?;
    }
    if profile == Profile::FuncRefs {
        bytes = crate::variants::func_refs(&bytes)?;
    }
    Ok(Generated { seed, profile, bytes })
}

/// Re-encodes a generated module with three changes:
/// - the fuel global `fuel` is exported as [`FUEL_EXPORT`];
/// - export `i` is renamed `e<i>-<name>`: wasm-smith makes names of any
///   characters, which this keeps, but also the empty name, which the
///   driver's `invoke` line cannot carry;
/// - every `f32.demote_f64`, `f64.promote_f32`, `f32x4.demote_f64x2_zero`
///   and `f64x2.promote_low_f32x4` becomes a call to a helper that does
///   the conversion and then replaces any NaN (lane) with the positive
///   canonical NaN. The spec lets these conversions return any NaN for a
///   NaN input: riscv64 returns the canonical NaN, x86-64 and aarch64 keep
///   the payload (and sign). wasm-smith's `canonicalize_nans` covers
///   arithmetic, scalar and vector, but not these four, so this rewrite
///   normalises exactly them, and nothing else.
pub fn rewrite(bytes: &[u8], fuel: u32) -> Result<Vec<u8>, String> {
    let mut types = 0u32;
    let mut funcs = 0u32;
    let mut used = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| e.to_string())? {
            wasmparser::Payload::TypeSection(r) => types = r.count(),
            wasmparser::Payload::FunctionSection(r) => funcs = r.count(),
            wasmparser::Payload::CodeSectionEntry(body) => {
                let mut ops = body.get_operators_reader().map_err(|e| e.to_string())?;
                while !ops.eof() {
                    let op = ops.read().map_err(|e| e.to_string())?;
                    if let Some(c) = Convert::of(&op) {
                        if !used.contains(&c) {
                            used.push(c);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    // Scalar helpers only when a scalar conversion occurs, vector ones only
    // when a vector one does: a module without SIMD must stay without v128.
    let scalar = used.iter().any(|c| !c.vector());
    let vector = used.iter().any(|c| c.vector());
    let helpers: Vec<Convert> = Convert::ALL.into_iter().filter(|c| if c.vector() { vector } else { scalar }).collect();
    let mut r = Rewriter { fuel, exported: false, helpers, first_type: types, first_func: funcs, exports: 0 };
    let mut module = wasm_encoder::Module::new();
    r.parse_core_module(&mut module, wasmparser::Parser::new(0), bytes).map_err(|e| format!("rewrite: {e:?}"))?;
    Ok(module.finish())
}

/// A conversion whose NaN results the spec leaves open and wasm-smith
/// does not canonicalise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Convert {
    Demote,
    Promote,
    DemoteX4,
    PromoteX2,
}

impl Convert {
    const ALL: [Convert; 4] = [Convert::Demote, Convert::Promote, Convert::DemoteX4, Convert::PromoteX2];

    fn of(op: &wasmparser::Operator) -> Option<Convert> {
        use wasmparser::Operator as O;
        match op {
            O::F32DemoteF64 => Some(Convert::Demote),
            O::F64PromoteF32 => Some(Convert::Promote),
            O::F32x4DemoteF64x2Zero => Some(Convert::DemoteX4),
            O::F64x2PromoteLowF32x4 => Some(Convert::PromoteX2),
            _ => None,
        }
    }

    fn vector(self) -> bool {
        matches!(self, Convert::DemoteX4 | Convert::PromoteX2)
    }

    /// (parameter, result) types of the helper.
    fn signature(self) -> (wasm_encoder::ValType, wasm_encoder::ValType) {
        use wasm_encoder::ValType as V;
        match self {
            Convert::Demote => (V::F64, V::F32),
            Convert::Promote => (V::F32, V::F64),
            Convert::DemoteX4 | Convert::PromoteX2 => (V::V128, V::V128),
        }
    }

    /// Body of the helper: convert parameter 0, keep it in local 1, and
    /// answer the canonical NaN where it is a NaN (in each lane, for a
    /// vector: the zero lanes of `demote_f64x2_zero` stay zero).
    fn helper(self) -> wasm_encoder::Function {
        use wasm_encoder::Instruction as I;
        const NAN32: u32 = 0x7fc0_0000;
        const NAN64: u64 = 0x7ff8_0000_0000_0000;
        let (op, nan, ne, select) = match self {
            Convert::Demote => (I::F32DemoteF64, I::F32Const(f32::from_bits(NAN32).into()), I::F32Ne, I::Select),
            Convert::Promote => (I::F64PromoteF32, I::F64Const(f64::from_bits(NAN64).into()), I::F64Ne, I::Select),
            Convert::DemoteX4 => {
                let n = NAN32 as i128;
                (I::F32x4DemoteF64x2Zero, I::V128Const(n | n << 32 | n << 64 | n << 96), I::F32x4Ne, I::V128Bitselect)
            }
            Convert::PromoteX2 => {
                let n = NAN64 as i128;
                (I::F64x2PromoteLowF32x4, I::V128Const(n | n << 64), I::F64x2Ne, I::V128Bitselect)
            }
        };
        let mut f = wasm_encoder::Function::new([(1, self.signature().1)]);
        f.instruction(&I::LocalGet(0));
        f.instruction(&op);
        f.instruction(&I::LocalSet(1));
        // select(nan, value, value != value), or bitselect with the same
        // operands per lane: nan where the value is a NaN.
        f.instruction(&nan);
        f.instruction(&I::LocalGet(1));
        f.instruction(&I::LocalGet(1));
        f.instruction(&I::LocalGet(1));
        f.instruction(&ne);
        f.instruction(&select);
        f.instruction(&I::End);
        f
    }
}

struct Rewriter {
    fuel: u32,
    exported: bool,
    /// The helpers added, in order: helper `i` has type `first_type + i`
    /// and function index `first_func + i`.
    helpers: Vec<Convert>,
    first_type: u32,
    first_func: u32,
    /// Exports renamed so far.
    exports: u32,
}

impl Reencode for Rewriter {
    type Error = std::convert::Infallible;

    fn instruction<'a>(
        &mut self,
        arg: wasmparser::Operator<'a>,
    ) -> Result<wasm_encoder::Instruction<'a>, ReError<Self::Error>> {
        match Convert::of(&arg).and_then(|c| self.helpers.iter().position(|h| *h == c)) {
            Some(i) => Ok(wasm_encoder::Instruction::Call(self.first_func + i as u32)),
            None => wasm_encoder::reencode::utils::instruction(self, arg),
        }
    }

    fn parse_type_section(
        &mut self,
        types: &mut wasm_encoder::TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), ReError<Self::Error>> {
        wasm_encoder::reencode::utils::parse_type_section(self, types, section)?;
        for h in &self.helpers {
            let (param, result) = h.signature();
            types.ty().function([param], [result]);
        }
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut wasm_encoder::FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), ReError<Self::Error>> {
        wasm_encoder::reencode::utils::parse_function_section(self, functions, section)?;
        for i in 0..self.helpers.len() as u32 {
            functions.function(self.first_type + i);
        }
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), ReError<Self::Error>> {
        wasm_encoder::reencode::utils::parse_code_section(self, code, section)?;
        for h in &self.helpers {
            code.function(&h.helper());
        }
        Ok(())
    }

    fn parse_export(
        &mut self,
        exports: &mut wasm_encoder::ExportSection,
        export: wasmparser::Export<'_>,
    ) -> Result<(), ReError<Self::Error>> {
        let name = format!("e{}-{}", self.exports, export.name);
        self.exports += 1;
        exports.export(&name, self.export_kind(export.kind)?, export.index);
        Ok(())
    }

    fn parse_export_section(
        &mut self,
        exports: &mut wasm_encoder::ExportSection,
        section: wasmparser::ExportSectionReader<'_>,
    ) -> Result<(), ReError<Self::Error>> {
        wasm_encoder::reencode::utils::parse_export_section(self, exports, section)?;
        exports.export(FUEL_EXPORT, wasm_encoder::ExportKind::Global, self.fuel);
        self.exported = true;
        Ok(())
    }

    fn intersperse_section_hook(
        &mut self,
        module: &mut wasm_encoder::Module,
        _after: Option<wasm_encoder::SectionId>,
        before: Option<wasm_encoder::SectionId>,
    ) -> Result<(), ReError<Self::Error>> {
        use wasm_encoder::SectionId as S;
        // A module without an export section gets one just before the
        // first section that must follow exports.
        let follows_exports =
            matches!(before, None | Some(S::Start | S::Element | S::DataCount | S::Code | S::Data));
        if !self.exported && follows_exports {
            let mut exports = wasm_encoder::ExportSection::new();
            exports.export(FUEL_EXPORT, wasm_encoder::ExportKind::Global, self.fuel);
            module.section(&exports);
            self.exported = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kiln_compiles_every_generated_feature() {
        let kiln = kiln::environ::features();
        assert!(kiln.contains(features()), "fuzz features {:?} exceed Kiln's {:?}", features(), kiln);
        let legacy = wasmtime_features() | WasmFeatures::LEGACY_EXCEPTIONS;
        assert!(kiln.contains(legacy), "fuzz features {legacy:?} exceed Kiln's {kiln:?}");
        for p in [Profile::Exceptions, Profile::LegacyExceptions, Profile::FuncRefs] {
            let smith = config(p, false).features();
            assert!(wasmtime_features().contains(smith.difference(WasmFeatures::MUTABLE_GLOBAL | WasmFeatures::WASM1)));
        }
        for p in [Profile::Mixed, Profile::NoTraps, Profile::Memory, Profile::Float] {
            for simd in [true, false] {
                let smith = config(p, simd).features();
                assert!(features_for(simd).contains(smith.difference(WasmFeatures::MUTABLE_GLOBAL | WasmFeatures::WASM1)));
            }
        }
    }

    /// The conversion helpers convert, and make only NaNs canonical.
    #[test]
    fn promote_and_demote_canonicalise_only_nans() {
        use crate::oracle::{answer, Answer};
        use crate::plan::{Req, Ty};
        let text = r#"(module
            (global (mut i32) (i32.const 9))
            (func (export "p") (param f32) (result f64) local.get 0 f64.promote_f32)
            (func (export "d") (param f64) (result f32) local.get 0 f32.demote_f64))"#;
        let bytes = rewrite(&wat::parse_str(text).unwrap(), 0).unwrap();
        let call = |name: &str, ty: Ty, bits: u64, res: Ty| Req::Invoke {
            name: name.into(),
            args: vec![(ty, bits.into())],
            results: vec![res],
        };
        let reqs = vec![
            Req::Instantiate,
            call("e0-p", Ty::F32, 0x3f80_0000, Ty::F64),
            call("e0-p", Ty::F32, 0xffa0_0001, Ty::F64),
            call("e1-d", Ty::F64, 0xbff8_0000_0000_0000, Ty::F32),
            call("e1-d", Ty::F64, 0xfff4_0000_0000_0001, Ty::F32),
        ];
        let a = answer(&bytes, &reqs, &Default::default()).unwrap();
        assert_eq!(a[1], Answer::Ok(vec![0x3ff0_0000_0000_0000]));
        assert_eq!(a[2], Answer::Ok(vec![0x7ff8_0000_0000_0000]));
        assert_eq!(a[3], Answer::Ok(vec![0xbfc0_0000]));
        assert_eq!(a[4], Answer::Ok(vec![0x7fc0_0000]));
    }

    /// The vector helpers convert, and make only NaN lanes canonical.
    #[test]
    fn vector_promote_and_demote_canonicalise_only_nan_lanes() {
        use crate::oracle::{answer, Answer};
        use crate::plan::{Req, Ty};
        let text = r#"(module
            (global (mut i32) (i32.const 9))
            (func (export "p") (param v128) (result v128) local.get 0 f64x2.promote_low_f32x4)
            (func (export "d") (param v128) (result v128) local.get 0 f32x4.demote_f64x2_zero))"#;
        let bytes = rewrite(&wat::parse_str(text).unwrap(), 0).unwrap();
        let call = |name: &str, bits: u128| Req::Invoke { name: name.into(), args: vec![(Ty::V128, bits)], results: vec![Ty::V128] };
        let reqs = vec![
            Req::Instantiate,
            // f32 lanes 1.0 and a negative signalling NaN (lanes 2, 3 ignored).
            call("e0-p", 0xdead_beef_dead_beef_ffa0_0001_3f80_0000),
            // f64 lanes -1.5 and a signalling NaN with a payload.
            call("e1-d", 0xfff4_0000_0000_0001_bff8_0000_0000_0000),
        ];
        let a = answer(&bytes, &reqs, &Default::default()).unwrap();
        assert_eq!(a[1], Answer::Ok(vec![0x7ff8_0000_0000_0000_3ff0_0000_0000_0000]));
        assert_eq!(a[2], Answer::Ok(vec![0x7fc0_0000_bfc0_0000]));
        wasmparser::Validator::new_with_features(features()).validate_all(&bytes).unwrap();
        // A module without SIMD gets no vector helper (no v128 at all).
        let scalar = rewrite(
            &wat::parse_str("(module (global (mut i32) (i32.const 9)) (func (param f64) (result f32) local.get 0 f32.demote_f64))")
                .unwrap(),
            0,
        );
        wasmparser::Validator::new_with_features(features_for(false)).validate_all(&scalar.unwrap()).unwrap();
    }

    /// The wasmtime profiles: valid (Kiln's legacy form too), and using
    /// exceptions often enough to be worth a second oracle.
    #[test]
    fn wasmtime_modules_are_valid() {
        let legacy = wasmtime_features() | WasmFeatures::LEGACY_EXCEPTIONS;
        let mut using = 0;
        for i in 0..30 {
            let seed = family_seed(i, true);
            let a = generate(seed, true).unwrap();
            assert_eq!(a.bytes, generate(seed, true).unwrap().bytes);
            // SIMD only in the hand-written ones (see `needs_wasmtime`).
            let simd = if matches!(a.profile, Profile::ExnPrograms | Profile::LegacyExnPrograms) { WasmFeatures::SIMD } else { WasmFeatures::empty() };
            wasmparser::Validator::new_with_features(wasmtime_features() | simd).validate_all(&a.bytes).unwrap();
            wasmparser::Validator::new_with_features(legacy | simd).validate_all(&a.kiln_bytes().unwrap()).unwrap();
            using += needs_wasmtime(&a.bytes) as u32;
            assert!(a.profile.wasmtime());
            assert!(!Profile::of_seed(family_seed(seed, false)).wasmtime());
        }
        assert!(using >= 15, "only {using} of 30 modules need wasmtime");
    }

    #[test]
    fn generated_modules_are_valid_and_deterministic() {
        for seed in 0..60 {
            for simd in [true, false] {
                let a = generate(seed, simd).unwrap();
                assert_eq!(a.bytes, generate(seed, simd).unwrap().bytes);
                wasmparser::Validator::new_with_features(features_for(simd)).validate_all(&a.bytes).unwrap();
            }
        }
    }
}
