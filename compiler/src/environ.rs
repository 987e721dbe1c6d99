//! The module environment: everything about a wasm module except code.
//!
//! [`ModuleEnv::parse`] validates the whole module with wasmparser first and
//! only then walks its sections, collecting types, imports, functions,
//! tables, memories, globals, exports, segments and names. Translation
//! relies on that order: nothing downstream re-checks what the validator
//! already guaranteed (index bounds, operand types, block shapes).
//!
//! This file does no I/O and no code generation.

use crate::error::CompileError;
use std::collections::HashMap;
use wasmparser::{
    AbstractHeapType, BlockType, CompositeInnerType, ConstExpr, DataKind, ElementItems, ElementKind, ExternalKind,
    FunctionBody, GlobalType, HeapType, MemoryType, Name, Operator, Parser, Payload, RefType, TableType, TypeRef,
    ValType, Validator, WasmFeatures,
};

/// A function signature in wasm terms. Concrete reference types in it
/// (`(ref $t)`) hold module type indices.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
    /// Whether the type was declared final (every type not written
    /// `(sub ...)` is). Part of a type's identity.
    pub is_final: bool,
}

/// What an import brings in.
#[derive(Clone, Debug)]
pub enum ImportKind {
    Func(u32),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
    /// An exception tag of the given function type index.
    Tag(u32),
}

#[derive(Clone, Debug)]
pub struct Import<'a> {
    pub module: &'a str,
    pub name: &'a str,
    pub kind: ImportKind,
    pub offset: usize,
}

/// A defined global's type and initializer.
#[derive(Clone)]
pub struct Global<'a> {
    pub ty: GlobalType,
    pub init: Option<ConstExpr<'a>>,
}

/// The items of an element segment.
#[derive(Clone)]
pub enum ElemItems<'a> {
    Functions(Vec<u32>),
    Exprs(Vec<ConstExpr<'a>>),
}

impl ElemItems<'_> {
    pub fn len(&self) -> usize {
        match self {
            ElemItems::Functions(f) => f.len(),
            ElemItems::Exprs(x) => x.len(),
        }
    }
}

#[derive(Clone)]
pub struct ElemSegment<'a> {
    /// Byte offset of the segment in the module.
    pub offset: usize,
    pub kind: SegmentMode<'a>,
    pub ty: RefType,
    pub items: ElemItems<'a>,
}

#[derive(Clone)]
pub enum SegmentMode<'a> {
    Passive,
    Declared,
    Active { index: u32, offset: ConstExpr<'a> },
}

#[derive(Clone)]
pub struct DataSegment<'a> {
    /// Byte offset of the segment in the module.
    pub offset: usize,
    pub kind: SegmentMode<'a>,
    pub data: &'a [u8],
}

/// A parsed, validated module.
pub struct ModuleEnv<'a> {
    pub bytes: &'a [u8],
    pub types: Vec<FuncType>,
    /// The recursion groups of the type section, as ranges of type
    /// indices, in order (a type outside an explicit `rec` is a group of
    /// one). Type identity is decided per group: see `TypeInterner`.
    pub rec_groups: Vec<std::ops::Range<u32>>,
    pub imports: Vec<Import<'a>>,
    /// Type index of every function, imported ones first.
    pub functions: Vec<u32>,
    pub num_imported_funcs: u32,
    pub tables: Vec<TableType>,
    /// The initialiser expression of each table that has one (defined
    /// tables only; `(table 10 (ref $t) (ref.func $f))`), by table index.
    pub table_inits: Vec<Option<ConstExpr<'a>>>,
    pub num_imported_tables: u32,
    pub memories: Vec<MemoryType>,
    pub num_imported_memories: u32,
    /// Global types, imported ones first; `globals[i].init` is `None` for imports.
    pub globals: Vec<Global<'a>>,
    pub num_imported_globals: u32,
    /// Function type index of every exception tag, imported ones first.
    pub tags: Vec<u32>,
    pub num_imported_tags: u32,
    pub exports: Vec<(&'a str, ExternalKind, u32)>,
    pub start: Option<u32>,
    pub elems: Vec<ElemSegment<'a>>,
    pub datas: Vec<DataSegment<'a>>,
    pub bodies: Vec<FunctionBody<'a>>,
    /// Names from the name section's function subsection.
    pub func_names: HashMap<u32, &'a str>,
    /// Names from the name section's tag subsection.
    pub tag_names: HashMap<u32, &'a str>,
    /// Module offset of the code section's contents: wasm DWARF addresses
    /// are relative to it.
    pub code_section_start: usize,
}

/// The features Kiln compiles: WebAssembly 2.0 (SIMD included); relaxed
/// SIMD; exception handling in both encodings (Wasm 3.0's
/// `try_table`/`exnref`, and the legacy `try`/`catch`/`rethrow`/`delegate`
/// that older LLVM emits); tail calls (`return_call`,
/// `return_call_indirect`); threads (shared memories, atomics, and
/// wasi-threads' `thread-spawn` in commands); extended constant expressions; wide arithmetic;
/// multiple memories (each with its own reservation and VMContext slot);
/// 64-bit memories (explicitly bounds-checked: `translate/heap.rs`) and
/// tables (`func_env::table_operand`); custom page sizes (1-byte pages);
/// typed function references (`call_ref`, `(ref $t)`, non-nullable
/// locals, table initialisers).
pub fn features() -> WasmFeatures {
    WasmFeatures::WASM2
        | WasmFeatures::SIMD
        | WasmFeatures::RELAXED_SIMD
        | WasmFeatures::EXCEPTIONS
        | WasmFeatures::LEGACY_EXCEPTIONS
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::THREADS
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::WIDE_ARITHMETIC
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::MEMORY64
        | WasmFeatures::CUSTOM_PAGE_SIZES
        | WasmFeatures::FUNCTION_REFERENCES
}

/// What the validator runs with: [`features`] plus GC. Wasm 3.0's
/// recursive type groups (`rec`) and `sub` declarations belong to the GC
/// proposal in wasmparser, but Kiln needs them for typed function
/// references (their type equivalence is what `TypeInterner` computes), so
/// the validator admits GC and `gc_use` then refuses, as not buildable,
/// every part of GC that Kiln does not compile (see `partly_supported`).
pub fn validation_features() -> WasmFeatures {
    features() | WasmFeatures::GC
}

/// The proposals Kiln compiles only in part, each with the offset of its
/// first use that Kiln cannot compile. Of GC, Kiln compiles only what
/// typed function references need (see `gc_use`).
fn partly_supported(bytes: &[u8]) -> Vec<(&'static str, usize)> {
    let mut found = Vec::new();
    if let Some(offset) = gc_use(bytes) {
        found.push(("garbage collection (gc)", offset));
    }
    found.sort_by_key(|(_, offset)| *offset);
    found
}

/// Whether a heap type belongs to GC rather than to typed function
/// references: everything but the function, extern and exception
/// hierarchies and concrete (function) types.
fn gc_heap_type(h: HeapType) -> bool {
    use AbstractHeapType::*;
    match h {
        HeapType::Concrete(_) => false,
        HeapType::Abstract { shared, ty } => shared || !matches!(ty, Func | NoFunc | Extern | NoExtern | Exn | NoExn),
        HeapType::Exact(_) => true,
    }
}

fn gc_val_type(t: ValType) -> bool {
    matches!(t, ValType::Ref(r) if gc_heap_type(r.heap_type()))
}

fn gc_block_type(t: BlockType) -> bool {
    matches!(t, BlockType::Type(v) if gc_val_type(v))
}

/// Whether an operator belongs to GC (the 0xFB prefix: structs, arrays,
/// i31, casts, `ref.eq`) or names a GC heap type.
fn gc_operator(op: &Operator) -> bool {
    use Operator::*;
    match op {
        RefEq | StructNew { .. } | StructNewDefault { .. } | StructGet { .. } | StructGetS { .. } | StructGetU { .. }
        | StructSet { .. } | ArrayNew { .. } | ArrayNewDefault { .. } | ArrayNewFixed { .. } | ArrayNewData { .. }
        | ArrayNewElem { .. } | ArrayGet { .. } | ArrayGetS { .. } | ArrayGetU { .. } | ArraySet { .. } | ArrayLen
        | ArrayFill { .. } | ArrayCopy { .. } | ArrayInitData { .. } | ArrayInitElem { .. } | RefTestNonNull { .. }
        | RefTestNullable { .. } | RefCastNonNull { .. } | RefCastNullable { .. } | BrOnCast { .. }
        | BrOnCastFail { .. } | AnyConvertExtern | ExternConvertAny | RefI31 | I31GetS | I31GetU => true,
        RefNull { hty } => gc_heap_type(*hty),
        TypedSelect { ty } => gc_val_type(*ty),
        TypedSelectMulti { tys } => tys.iter().any(|t| gc_val_type(*t)),
        Block { blockty } | Loop { blockty } | If { blockty } | Try { blockty } => gc_block_type(*blockty),
        TryTable { try_table } => gc_block_type(try_table.ty),
        _ => false,
    }
}

/// The offset of the first operator of `expr` that belongs to GC.
fn gc_in_expr(mut ops: wasmparser::OperatorsReader) -> Option<u64> {
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset().ok()?;
        if gc_operator(&op) {
            return Some(offset as u64);
        }
    }
    None
}

/// For a module that validates with [`validation_features`]: the offset of
/// its first use of GC beyond what typed function references need, if
/// any. Admitted from GC: recursive type groups, and `sub` declarations
/// without a supertype (a non-final type is a distinct type, nothing
/// more). Refused: struct and array types, declared supertypes (function
/// subtyping would make `call_indirect` a subtype test, not a compare of
/// interned ids), the heap types `any`, `eq`, `i31`, `struct`, `array`,
/// `none` wherever a value type can stand, and GC operators.
fn gc_use(bytes: &[u8]) -> Option<usize> {
    let mut first: Option<usize> = None;
    let mut note = |offset: u64| {
        let offset = offset as usize;
        first = Some(first.map_or(offset, |f| f.min(offset)));
    };
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else { break };
        match payload {
            Payload::TypeSection(r) => {
                for (offset, rec) in r.into_iter_with_offsets().flatten() {
                    for sub in rec.into_types() {
                        let refused = match &sub.composite_type.inner {
                            CompositeInnerType::Func(f) => {
                                f.params().iter().chain(f.results()).any(|t| gc_val_type(*t))
                            }
                            _ => true,
                        };
                        if refused || !sub.supertype_idxs.is_empty() || sub.composite_type.shared {
                            note(offset as u64);
                        }
                    }
                }
            }
            Payload::ImportSection(r) => {
                for (offset, imp) in r.into_imports_with_offsets().flatten() {
                    match imp.ty {
                        TypeRef::Table(t) if gc_heap_type(t.element_type.heap_type()) => note(offset as u64),
                        TypeRef::Global(g) if gc_val_type(g.content_type) => note(offset as u64),
                        _ => {}
                    }
                }
            }
            Payload::TableSection(r) => {
                for (offset, t) in r.into_iter_with_offsets().flatten() {
                    if gc_heap_type(t.ty.element_type.heap_type()) {
                        note(offset as u64);
                    }
                    if let wasmparser::TableInit::Expr(e) = t.init {
                        gc_in_expr(e.get_operators_reader()).map(&mut note);
                    }
                }
            }
            Payload::GlobalSection(r) => {
                for (offset, g) in r.into_iter_with_offsets().flatten() {
                    if gc_val_type(g.ty.content_type) {
                        note(offset as u64);
                    }
                    gc_in_expr(g.init_expr.get_operators_reader()).map(&mut note);
                }
            }
            Payload::ElementSection(r) => {
                for (offset, e) in r.into_iter_with_offsets().flatten() {
                    if let ElementItems::Expressions(ty, exprs) = e.items {
                        if gc_heap_type(ty.heap_type()) {
                            note(offset as u64);
                        }
                        for x in exprs.into_iter().flatten() {
                            gc_in_expr(x.get_operators_reader()).map(&mut note);
                        }
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                if let Ok(mut locals) = body.get_locals_reader() {
                    for _ in 0..locals.get_count() {
                        let offset = locals.original_position();
                        let Ok((_, t)) = locals.read() else { break };
                        if gc_val_type(t) {
                            note(offset as u64);
                        }
                    }
                }
                if let Ok(ops) = body.get_operators_reader() {
                    gc_in_expr(ops).map(&mut note);
                }
            }
            _ => {}
        }
    }
    first
}

/// Core-wasm proposals that wasmparser validates, with the names users know
/// them by, and the proposals that build on each (switched off with it when
/// looking for its first use: GC subsumes typed function references, so a
/// module's `call_ref` would otherwise still validate). Those that
/// [`validation_features`] does not contain are the ones Kiln does not
/// compile yet; GC, which it contains for its type system, is reported by
/// `partly_supported`.
const PROPOSALS: &[(WasmFeatures, &str, WasmFeatures)] = &[
    (WasmFeatures::SIMD, "fixed-width SIMD (simd)", WasmFeatures::RELAXED_SIMD),
    (WasmFeatures::RELAXED_SIMD, "relaxed SIMD (relaxed-simd)", WasmFeatures::empty()),
    (WasmFeatures::EXCEPTIONS, "exception handling (exceptions)", WasmFeatures::STACK_SWITCHING),
    (WasmFeatures::LEGACY_EXCEPTIONS, "legacy exception handling (legacy-exceptions)", WasmFeatures::empty()),
    (WasmFeatures::THREADS, "threads and atomics (threads)", WasmFeatures::SHARED_EVERYTHING_THREADS),
    (WasmFeatures::SHARED_EVERYTHING_THREADS, "shared-everything threads", WasmFeatures::empty()),
    (WasmFeatures::TAIL_CALL, "tail calls (tail-call)", WasmFeatures::empty()),
    (
        WasmFeatures::FUNCTION_REFERENCES,
        "typed function references (function-references)",
        WasmFeatures::GC.union(WasmFeatures::STACK_SWITCHING),
    ),
    (WasmFeatures::GC, "garbage collection (gc)", WasmFeatures::STACK_SWITCHING),
    (WasmFeatures::MULTI_MEMORY, "multiple memories (multi-memory)", WasmFeatures::empty()),
    (WasmFeatures::MEMORY64, "64-bit memories (memory64)", WasmFeatures::empty()),
    (WasmFeatures::EXTENDED_CONST, "extended constant expressions (extended-const)", WasmFeatures::empty()),
    (WasmFeatures::CUSTOM_PAGE_SIZES, "custom page sizes (custom-page-sizes)", WasmFeatures::empty()),
    (WasmFeatures::WIDE_ARITHMETIC, "wide arithmetic (wide-arithmetic)", WasmFeatures::empty()),
    (WasmFeatures::STACK_SWITCHING, "stack switching (stack-switching)", WasmFeatures::empty()),
    (WasmFeatures::MEMORY_CONTROL, "memory control (memory-control)", WasmFeatures::empty()),
];

/// For a module that fails validation with [`features`]: if it is valid
/// with every proposal wasmparser knows, the proposals it uses that Kiln
/// lacks, each with the offset of its first use, in module order; `None`
/// if the module is invalid whatever is enabled. The first use of proposal
/// P is where validation with everything but P (and what builds on P)
/// fails, which wasmparser finds in one pass per proposal: this runs only
/// on that error path.
pub fn unsupported_proposals(bytes: &[u8]) -> Option<Vec<(&'static str, usize)>> {
    let ours = validation_features();
    let everything = PROPOSALS.iter().fold(ours, |f, (p, _, _)| f | *p);
    Validator::new_with_features(everything).validate_all(bytes).ok()?;
    let mut used: Vec<(&'static str, usize)> = PROPOSALS
        .iter()
        .filter(|(p, _, _)| !ours.contains(*p))
        .filter_map(|(p, name, dependents)| {
            let without = everything.difference(*p | *dependents);
            Validator::new_with_features(without).validate_all(bytes).err().map(|e| (*name, e.offset() as usize))
        })
        .collect();
    used.sort_by_key(|(_, offset)| *offset);
    Some(used)
}

/// Whether `bytes` is a component (the component model's binary layer 1),
/// not a core module.
fn is_component(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes.starts_with(b"\0asm") && bytes[6..8] == [1, 0]
}

impl<'a> ModuleEnv<'a> {
    /// Validates `bytes` and collects the module's environment. `path` only
    /// names the file in errors.
    ///
    /// Errors: [`CompileError::NotBuildable`] (with no imports listed: the
    /// caller adds them) for a valid module that uses proposals Kiln does
    /// not compile yet; [`CompileError::Invalid`] for a module that is
    /// invalid under every proposal, naming the function and offset where
    /// validation failed; [`CompileError::Unsupported`] for a component.
    pub fn parse(path: &str, bytes: &'a [u8]) -> Result<ModuleEnv<'a>, CompileError> {
        if is_component(bytes) {
            return Err(CompileError::Unsupported {
                path: path.to_string(),
                func: None,
                offset: 0,
                message: "this is a WebAssembly component, not a core module; Kiln compiles core modules \
                          (a WASI preview1 command)"
                    .into(),
            });
        }
        let mut validator = Validator::new_with_features(validation_features());
        let validated = validator.validate_all(bytes);
        if validated.is_ok() {
            let partly = partly_supported(bytes);
            if !partly.is_empty() {
                return Err(CompileError::NotBuildable { path: path.to_string(), features: partly, imports: vec![], reactor: false });
            }
        }
        if let Err(e) = validated {
            if let Some(mut used) = unsupported_proposals(bytes).filter(|u| !u.is_empty()) {
                used.extend(partly_supported(bytes));
                used.sort_by_key(|(_, offset)| *offset);
                return Err(CompileError::NotBuildable {
                    path: path.to_string(),
                    features: used,
                    imports: vec![],
                    reactor: false,
                });
            }
            // Name the function whose body holds the offset, when one does.
            let func = function_at_offset(bytes, e.offset() as usize);
            return Err(CompileError::Invalid {
                path: path.to_string(),
                func,
                offset: e.offset() as usize,
                message: invalid_message(&e, bytes),
            });
        }
        Self::collect(bytes).map_err(|e| CompileError::Invalid {
            path: path.to_string(),
            func: None,
            offset: e.offset() as usize,
            message: invalid_message(&e, bytes),
        })
    }

    fn collect(bytes: &'a [u8]) -> wasmparser::Result<ModuleEnv<'a>> {
        let mut env = ModuleEnv {
            bytes,
            types: vec![],
            rec_groups: vec![],
            imports: vec![],
            functions: vec![],
            num_imported_funcs: 0,
            tables: vec![],
            table_inits: vec![],
            num_imported_tables: 0,
            memories: vec![],
            num_imported_memories: 0,
            globals: vec![],
            num_imported_globals: 0,
            tags: vec![],
            num_imported_tags: 0,
            exports: vec![],
            start: None,
            elems: vec![],
            datas: vec![],
            bodies: vec![],
            func_names: HashMap::new(),
            tag_names: HashMap::new(),
            code_section_start: 0,
        };
        for payload in Parser::new(0).parse_all(bytes) {
            match payload? {
                Payload::TypeSection(r) => {
                    for rec in r {
                        let start = env.types.len() as u32;
                        for sub in rec?.into_types() {
                            match &sub.composite_type.inner {
                                CompositeInnerType::Func(f) => env.types.push(FuncType {
                                    params: f.params().to_vec(),
                                    results: f.results().to_vec(),
                                    is_final: sub.is_final,
                                }),
                                // `gc_use` refused every other kind of type before this runs.
                                _ => unreachable!("non-function type admitted by validation"),
                            }
                        }
                        env.rec_groups.push(start..env.types.len() as u32);
                    }
                }
                Payload::ImportSection(r) => {
                    for imp in r.into_imports_with_offsets() {
                        let (offset, imp) = imp?;
                        let kind = match imp.ty {
                            TypeRef::Func(t) => {
                                env.functions.push(t);
                                env.num_imported_funcs += 1;
                                ImportKind::Func(t)
                            }
                            TypeRef::Table(t) => {
                                env.tables.push(t);
                                env.table_inits.push(None);
                                env.num_imported_tables += 1;
                                ImportKind::Table(t)
                            }
                            TypeRef::Memory(m) => {
                                env.memories.push(m);
                                env.num_imported_memories += 1;
                                ImportKind::Memory(m)
                            }
                            TypeRef::Global(g) => {
                                env.globals.push(Global { ty: g, init: None });
                                env.num_imported_globals += 1;
                                ImportKind::Global(g)
                            }
                            TypeRef::Tag(t) => {
                                env.tags.push(t.func_type_idx);
                                env.num_imported_tags += 1;
                                ImportKind::Tag(t.func_type_idx)
                            }
                            // Exact function imports need custom descriptors, which validation rejects.
                            TypeRef::FuncExact(_) => unreachable!("import kind admitted by validation"),
                        };
                        env.imports.push(Import { module: imp.module, name: imp.name, kind, offset: offset as usize });
                    }
                }
                Payload::FunctionSection(r) => {
                    for t in r {
                        env.functions.push(t?);
                    }
                }
                Payload::TableSection(r) => {
                    for t in r {
                        let t = t?;
                        env.tables.push(t.ty);
                        env.table_inits.push(match t.init {
                            wasmparser::TableInit::RefNull => None,
                            wasmparser::TableInit::Expr(e) => Some(e),
                        });
                    }
                }
                Payload::MemorySection(r) => {
                    for m in r {
                        env.memories.push(m?);
                    }
                }
                Payload::GlobalSection(r) => {
                    for g in r {
                        let g = g?;
                        env.globals.push(Global { ty: g.ty, init: Some(g.init_expr) });
                    }
                }
                Payload::ExportSection(r) => {
                    for e in r {
                        let e = e?;
                        env.exports.push((e.name, e.kind, e.index));
                    }
                }
                Payload::TagSection(r) => {
                    for t in r {
                        env.tags.push(t?.func_type_idx);
                    }
                }
                Payload::StartSection { func, .. } => env.start = Some(func),
                Payload::ElementSection(r) => {
                    for e in r {
                        let e = e?;
                        let kind = match e.kind {
                            ElementKind::Passive => SegmentMode::Passive,
                            ElementKind::Declared => SegmentMode::Declared,
                            ElementKind::Active { table_index, offset_expr } => {
                                SegmentMode::Active { index: table_index.unwrap_or(0), offset: offset_expr }
                            }
                        };
                        let (ty, items) = match e.items {
                            ElementItems::Functions(r) => {
                                (RefType::FUNCREF, ElemItems::Functions(r.into_iter().collect::<Result<_, _>>()?))
                            }
                            ElementItems::Expressions(ty, r) => {
                                (ty, ElemItems::Exprs(r.into_iter().collect::<Result<_, _>>()?))
                            }
                        };
                        env.elems.push(ElemSegment { offset: e.range.start as usize, kind, ty, items });
                    }
                }
                Payload::DataSection(r) => {
                    for d in r {
                        let d = d?;
                        let kind = match d.kind {
                            DataKind::Passive => SegmentMode::Passive,
                            DataKind::Active { memory_index, offset_expr } => {
                                SegmentMode::Active { index: memory_index, offset: offset_expr }
                            }
                        };
                        env.datas.push(DataSegment { offset: d.range.start as usize, kind, data: d.data });
                    }
                }
                Payload::CodeSectionStart { unchecked_range, .. } => env.code_section_start = unchecked_range.start as usize,
                Payload::CodeSectionEntry(body) => env.bodies.push(body),
                Payload::CustomSection(c) => {
                    if let wasmparser::KnownCustom::Name(names) = c.as_known() {
                        // A malformed name section is ignored, as the spec allows.
                        for n in names.into_iter().flatten() {
                            match n {
                                Name::Function(map) => {
                                    for naming in map.into_iter().flatten() {
                                        env.func_names.insert(naming.index, naming.name);
                                    }
                                }
                                Name::Tag(map) => {
                                    for naming in map.into_iter().flatten() {
                                        env.tag_names.insert(naming.index, naming.name);
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(env)
    }

    pub fn func_type(&self, func: u32) -> &FuncType {
        &self.types[self.functions[func as usize] as usize]
    }

    pub fn num_defined_funcs(&self) -> u32 {
        self.functions.len() as u32 - self.num_imported_funcs
    }

    /// Display name of a function: its name-section name, else an export
    /// name, else none.
    pub fn func_display_name(&self, func: u32) -> Option<&'a str> {
        self.func_names.get(&func).copied().or_else(|| {
            self.exports.iter().find(|(_, k, i)| *k == ExternalKind::Func && *i == func).map(|(n, _, _)| *n)
        })
    }

    /// Display name of a tag: its name-section name, else an export name.
    pub fn tag_display_name(&self, tag: u32) -> Option<&'a str> {
        self.tag_names.get(&tag).copied().or_else(|| {
            self.exports.iter().find(|(_, k, i)| *k == ExternalKind::Tag && *i == tag).map(|(n, _, _)| *n)
        })
    }

    /// The parameter types of a tag (its payload).
    pub fn tag_type(&self, tag: u32) -> &FuncType {
        &self.types[self.tags[tag as usize] as usize]
    }

    /// Whether the module imports wasi-threads' `thread-spawn`.
    pub fn spawns_threads(&self) -> bool {
        self.imports.iter().any(|i| i.module == kiln_abi::WASI_THREADS_MODULE && i.name == kiln_abi::WASI_THREAD_SPAWN)
    }

    pub fn export_func(&self, name: &str) -> Option<u32> {
        self.exports.iter().find(|(n, k, _)| *n == name && *k == ExternalKind::Func).map(|(_, _, i)| *i)
    }
}

/// wasmparser's message for an invalid module, with a hint where the bytes
/// ran out: a module cut short (an interrupted download or copy) is the
/// usual cause, and the offset alone does not say so.
fn invalid_message(e: &wasmparser::BinaryReaderError, bytes: &[u8]) -> String {
    let message = e.message().to_string();
    if message.contains("end-of-file") || (message.contains("out of bounds") && e.offset() as usize >= bytes.len()) {
        format!("{message} (the file is {} bytes long: is it cut short?)", bytes.len())
    } else {
        message
    }
}

/// Finds which function body contains `offset`, for error messages:
/// returns its index and display name. Best effort over a module that may
/// be invalid; parse errors simply yield `None`.
pub fn function_at_offset(bytes: &[u8], offset: usize) -> Option<(u32, Option<String>)> {
    let mut imported = 0u32;
    let mut body_index = 0u32;
    let mut found = None;
    let mut names = HashMap::new();
    let mut exports = HashMap::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else { break };
        match payload {
            Payload::ImportSection(r) => {
                for i in r.into_imports().flatten() {
                    if matches!(i.ty, TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
            }
            Payload::ExportSection(r) => {
                for e in r.into_iter().flatten() {
                    if e.kind == ExternalKind::Func {
                        exports.entry(e.index).or_insert_with(|| e.name.to_string());
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                if body.range().contains(&(offset as u64)) && found.is_none() {
                    found = Some(imported + body_index);
                }
                body_index += 1;
            }
            Payload::CustomSection(c) => {
                if let wasmparser::KnownCustom::Name(n) = c.as_known() {
                    for n in n.into_iter().flatten() {
                        if let Name::Function(map) = n {
                            for naming in map.into_iter().flatten() {
                                names.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let idx = found?;
    let name = names.get(&idx).or_else(|| exports.get(&idx)).cloned();
    Some((idx, name))
}
