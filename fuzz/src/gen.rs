//! The generator: `wasm-smith` modules of exactly the features Kiln
//! compiles, made to terminate, with every entity exported, and rewritten
//! so that the comparison with the oracle can be bit for bit (see
//! [`rewrite`]).

use crate::rng::Rng;
use wasm_encoder::reencode::{Error as ReError, Reencode};
use wasmparser::WasmFeatures;

/// The WebAssembly features generated modules may use: the ONE place to
/// widen fuzzing when Kiln learns a proposal. SIMD, exceptions and atomics
/// (which Kiln compiles) are not here yet: v128 arguments and results need
/// their place in `plan` and `oracle` (wasmi runs SIMD), and wasmi 1.1
/// runs neither exceptions nor atomics, so those need another oracle. Everything else in
/// fuzz/ (wasm-smith switches, wasmi's configuration) is derived from it,
/// and a unit test checks that Kiln compiles every feature listed here.
pub fn features() -> WasmFeatures {
    WasmFeatures::WASM2.difference(WasmFeatures::SIMD)
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::WIDE_ARITHMETIC
        | WasmFeatures::MEMORY64
        | WasmFeatures::CUSTOM_PAGE_SIZES
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
}

impl Profile {
    pub fn of_seed(seed: u64) -> Profile {
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
/// next to why).
#[allow(clippy::field_reassign_with_default)]
pub fn config(profile: Profile) -> wasm_smith::Config {
    let f = features();
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
    // and reinterpreted bits can be compared exactly; `rewrite` does the
    // same for promote/demote, which wasm-smith leaves alone.
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
        Profile::Mixed | Profile::Edges | Profile::Extremes => {}
        Profile::NoTraps => c.disallow_traps = true,
        Profile::Memory => {
            use wasm_smith::InstructionKind as K;
            c.allowed_instructions = wasm_smith::InstructionKinds::new(&[
                K::NumericInt,
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
                wasm_smith::InstructionKinds::new(&[K::Numeric, K::Variable, K::Parametric, K::Control, K::Memory]);
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
    pub bytes: Vec<u8>,
}

/// The module of `seed`: always the same bytes for the same seed (and the
/// same wasm-smith version, pinned in the workspace).
pub fn generate(seed: u64) -> Result<Generated, String> {
    let profile = Profile::of_seed(seed);
    let mut rng = Rng::new(seed);
    match profile {
        Profile::Edges => return Ok(Generated { seed, profile, bytes: crate::handmade::edge_module(&mut rng)? }),
        Profile::Extremes => return Ok(Generated { seed, profile, bytes: crate::handmade::extreme_module(&mut rng)? }),
        _ => {}
    }
    let mut data = vec![0u8; 16 * 1024];
    rng.fill(&mut data);
    let mut u = arbitrary::Unstructured::new(&data);
    let mut m = wasm_smith::Module::new(config(profile), &mut u).map_err(|e| format!("wasm-smith: {e}"))?;
    let fuel = m.ensure_termination(FUEL).map_err(|e| format!("ensure_termination: {e}"))?;
    let bytes = rewrite(&m.to_bytes(), fuel)?;
    Ok(Generated { seed, profile, bytes })
}

/// Re-encodes a generated module with three changes:
/// - the fuel global `fuel` is exported as [`FUEL_EXPORT`];
/// - export `i` is renamed `e<i>-<name>`: wasm-smith makes names of any
///   characters, which this keeps, but also the empty name, which the
///   driver's `invoke` line cannot carry;
/// - every `f32.demote_f64` and `f64.promote_f32` becomes a call to a
///   helper that does the conversion and then replaces any NaN with the
///   positive canonical NaN. The spec lets these conversions return any
///   NaN for a NaN input: riscv64 returns the canonical NaN, x86-64 and
///   aarch64 keep the payload (and sign). wasm-smith's `canonicalize_nans`
///   covers arithmetic but not these two, so this rewrite normalises
///   exactly them, and nothing else.
pub fn rewrite(bytes: &[u8], fuel: u32) -> Result<Vec<u8>, String> {
    let mut types = 0u32;
    let mut funcs = 0u32;
    let mut converts = false;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| e.to_string())? {
            wasmparser::Payload::TypeSection(r) => types = r.count(),
            wasmparser::Payload::FunctionSection(r) => funcs = r.count(),
            wasmparser::Payload::CodeSectionEntry(body) => {
                let mut ops = body.get_operators_reader().map_err(|e| e.to_string())?;
                while !ops.eof() {
                    let op = ops.read().map_err(|e| e.to_string())?;
                    if matches!(op, wasmparser::Operator::F32DemoteF64 | wasmparser::Operator::F64PromoteF32) {
                        converts = true;
                    }
                }
            }
            _ => {}
        }
    }
    let mut r = Rewriter { fuel, exported: false, helpers: converts.then_some((types, funcs)), exports: 0 };
    let mut module = wasm_encoder::Module::new();
    r.parse_core_module(&mut module, wasmparser::Parser::new(0), bytes).map_err(|e| format!("rewrite: {e:?}"))?;
    Ok(module.finish())
}

struct Rewriter {
    fuel: u32,
    exported: bool,
    /// (first new type index, first new function index) when helpers are added.
    helpers: Option<(u32, u32)>,
    /// Exports renamed so far.
    exports: u32,
}

impl Rewriter {
    /// Body of the helper: convert parameter 0, keep it in local 1, and
    /// answer the canonical NaN if it is a NaN.
    fn helper(demote: bool) -> wasm_encoder::Function {
        use wasm_encoder::{Instruction as I, ValType};
        let (res, ne, nan): (ValType, I, I) = if demote {
            (ValType::F32, I::F32Ne, I::F32Const(f32::from_bits(0x7fc0_0000).into()))
        } else {
            (ValType::F64, I::F64Ne, I::F64Const(f64::from_bits(0x7ff8_0000_0000_0000).into()))
        };
        let mut f = wasm_encoder::Function::new([(1, res)]);
        f.instruction(&I::LocalGet(0));
        f.instruction(if demote { &I::F32DemoteF64 } else { &I::F64PromoteF32 });
        f.instruction(&I::LocalSet(1));
        // select(nan, value, value != value): nan when the value is a NaN.
        f.instruction(&nan);
        f.instruction(&I::LocalGet(1));
        f.instruction(&I::LocalGet(1));
        f.instruction(&I::LocalGet(1));
        f.instruction(&ne);
        f.instruction(&I::Select);
        f.instruction(&I::End);
        f
    }
}

impl Reencode for Rewriter {
    type Error = std::convert::Infallible;

    fn instruction<'a>(
        &mut self,
        arg: wasmparser::Operator<'a>,
    ) -> Result<wasm_encoder::Instruction<'a>, ReError<Self::Error>> {
        match (&arg, self.helpers) {
            (wasmparser::Operator::F32DemoteF64, Some((_, f))) => Ok(wasm_encoder::Instruction::Call(f)),
            (wasmparser::Operator::F64PromoteF32, Some((_, f))) => Ok(wasm_encoder::Instruction::Call(f + 1)),
            _ => wasm_encoder::reencode::utils::instruction(self, arg),
        }
    }

    fn parse_type_section(
        &mut self,
        types: &mut wasm_encoder::TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), ReError<Self::Error>> {
        wasm_encoder::reencode::utils::parse_type_section(self, types, section)?;
        if self.helpers.is_some() {
            use wasm_encoder::ValType;
            types.ty().function([ValType::F64], [ValType::F32]);
            types.ty().function([ValType::F32], [ValType::F64]);
        }
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut wasm_encoder::FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), ReError<Self::Error>> {
        wasm_encoder::reencode::utils::parse_function_section(self, functions, section)?;
        if let Some((t, _)) = self.helpers {
            functions.function(t);
            functions.function(t + 1);
        }
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), ReError<Self::Error>> {
        wasm_encoder::reencode::utils::parse_code_section(self, code, section)?;
        if self.helpers.is_some() {
            code.function(&Self::helper(true));
            code.function(&Self::helper(false));
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
        for p in [Profile::Mixed, Profile::NoTraps, Profile::Memory, Profile::Float] {
            let smith = config(p).features();
            assert!(features().contains(smith.difference(WasmFeatures::MUTABLE_GLOBAL | WasmFeatures::WASM1)));
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
            args: vec![(ty, bits)],
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

    #[test]
    fn generated_modules_are_valid_and_deterministic() {
        for seed in 0..60 {
            let a = generate(seed).unwrap();
            assert_eq!(a.bytes, generate(seed).unwrap().bytes);
            wasmparser::Validator::new_with_features(features()).validate_all(&a.bytes).unwrap();
        }
    }
}
