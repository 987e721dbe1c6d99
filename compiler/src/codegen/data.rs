//! The static data of a compiled module: the instance (VMContext, memories,
//! tables, funcrefs, segments) and the tables the runtime reads (module
//! descriptor, function table, trap table).
//!
//! Every structure the runtime reads is written field by field at the
//! offsets `kiln_abi` computes, the same offsets the generated C header
//! asserts, so the two sides cannot disagree about a layout.

use super::init::Helpers;
use super::CompiledFunc;
use super::LinkMode;
use crate::environ::{ElemItems, ImportKind, SegmentMode};
use crate::func_env::ModuleCtx;
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module, ModuleRelocTarget, ModuleResult};
use kiln_abi::{
    Struct, CALL_EXTRA, CALL_SITE, CATCH_ALL, EXPORT, EXTERN_FUNC, EXTERN_GLOBAL, EXTERN_MEMORY, EXTERN_TABLE, EXTERN_TAG, FUNCREF,
    FUNC_INFO, HANDLER, HEAP_CONCRETE, IMPORT, MEMORY, MODULE, NO_MAX, REF_NON_NULL, SEGMENT, SOURCE_LINE, TABLE, TAG, TRAP_GROUP, InlinedAt, InlinedCall, TrapSite,
    VMCTX_HEADER,
};
use std::collections::HashMap;
use wasmparser::{ExternalKind, GlobalType, HeapType, Operator, RefType, ValType};

/// Binary-format code of a value type.
fn valtype_code(t: ValType) -> u32 {
    match t {
        ValType::I32 => 0x7f,
        ValType::I64 => 0x7e,
        ValType::F32 => 0x7d,
        ValType::F64 => 0x7c,
        ValType::V128 => 0x7b,
        ValType::Ref(r) => reftype_code(r),
    }
}

/// Code of a reference type in import and export records (see
/// `kiln_abi::HEAP_CONCRETE`); the runtime matches imports with it.
fn reftype_code(r: RefType) -> u32 {
    use wasmparser::AbstractHeapType::*;
    let heap = match r.heap_type() {
        HeapType::Concrete(_) => HEAP_CONCRETE,
        HeapType::Abstract { ty: Func, .. } => 0x70,
        HeapType::Abstract { ty: Extern, .. } => 0x6f,
        HeapType::Abstract { ty: Exn, .. } => 0x69,
        HeapType::Abstract { ty: NoFunc, .. } => 0x73,
        HeapType::Abstract { ty: NoExtern, .. } => 0x72,
        HeapType::Abstract { ty: NoExn, .. } => 0x74,
        // `environ::gc_use` refuses every other heap type.
        _ => unreachable!("GC heap type admitted"),
    };
    heap | if r.is_nullable() { 0 } else { REF_NON_NULL }
}

/// The canonical id of a value type's concrete heap type, else 0.
fn type_id_of(ctx: &ModuleCtx, t: ValType) -> u64 {
    match t {
        ValType::Ref(r) => r.type_index().and_then(|i| i.as_module_index()).map_or(0, |i| ctx.type_ids[i as usize]),
        _ => 0,
    }
}

/// The `type` word of a table's import and export records: its element
/// type, plus [`kiln_abi::TABLE_TYPE_64`] for a 64-bit table (memory64).
fn table_type_word(t: &wasmparser::TableType) -> u32 {
    reftype_code(t.element_type) | if t.table64 { kiln_abi::TABLE_TYPE_64 } else { 0 }
}

fn global_code(g: &GlobalType) -> u32 {
    valtype_code(g.content_type) | if g.mutable { 0x100 } else { 0 }
}

/// A function signature as the test driver reads it: `ii:f`.
fn signature_text(t: &crate::environ::FuncType) -> String {
    let c = |v: &ValType| match v {
        ValType::I32 => 'i',
        ValType::I64 => 'I',
        ValType::F32 => 'f',
        ValType::F64 => 'F',
        ValType::V128 => 'v',
        ValType::Ref(_) => 'r',
    };
    format!("{}:{}", t.params.iter().map(c).collect::<String>(), t.results.iter().map(c).collect::<String>())
}

/// The data objects of one module.
pub struct DataIds {
    /// The VMContext block: the whole instance (see `kiln_abi::VmOffsets`).
    pub vmctx: DataId,
    /// VMContext offsets of its pointers into itself.
    pub fixups: DataId,
    pub host_funcrefs: DataId,
    pub data_bytes: DataId,
    pub funcs: DataId,
    pub names: DataId,
    pub trap_groups: DataId,
    pub trap_data: DataId,
    pub source_lines: DataId,
    pub calls: DataId,
    pub call_extras: DataId,
    pub handlers: DataId,
    pub imports: DataId,
    pub exports: DataId,
    /// The memories a command imports, which the runtime provides
    /// (`kiln_module.host_memories`): outside the VMContext, so that every
    /// copy of the block (a spawned thread's instance) shares them.
    pub host_memories: DataId,
    pub module: DataId,
}

pub fn declare(module: &mut impl Module, index: u32) -> ModuleResult<DataIds> {
    let mut d = |name: &str, writable: bool| module.declare_data(&format!("kiln_m{index}_{name}"), Linkage::Local, writable, false);
    Ok(DataIds {
        vmctx: d("vmctx", true)?,
        fixups: d("fixups", false)?,
        host_funcrefs: d("host_funcrefs", false)?,
        data_bytes: d("data_bytes", false)?,
        funcs: d("funcs", false)?,
        names: d("names", false)?,
        trap_groups: d("trap_groups", false)?,
        trap_data: d("trap_data", false)?,
        source_lines: d("source_lines", false)?,
        calls: d("calls", false)?,
        call_extras: d("call_extras", false)?,
        handlers: d("handlers", false)?,
        imports: d("imports", false)?,
        exports: d("exports", false)?,
        host_memories: d("host_memories", true)?,
        module: module.declare_data(&format!("kiln_m{index}_module"), Linkage::Export, false, false)?,
    })
}

/// A relocation target: a function or a data object of this module.
#[derive(Clone, Copy)]
enum Target {
    Func(FuncId),
    Data(DataId),
}

/// Bytes of an array of structures, plus the pointer fields to relocate.
struct Blob {
    bytes: Vec<u8>,
    relocs: Vec<(u32, Target, i64)>,
    align: u64,
}

impl Blob {
    fn new(size: usize) -> Blob {
        Blob { bytes: vec![0; size.max(1)], relocs: vec![], align: 16 }
    }
    fn array(s: &Struct, n: usize) -> Blob {
        Blob::new(s.size() as usize * n)
    }
    fn u32(&mut self, at: u32, v: u32) {
        self.bytes[at as usize..at as usize + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, at: u32, v: u64) {
        self.bytes[at as usize..at as usize + 8].copy_from_slice(&v.to_le_bytes());
    }
    fn ptr(&mut self, at: u32, t: Target, addend: i64) {
        self.relocs.push((at, t, addend));
    }
    /// Writes `field` of element `i` of an array of `s`.
    fn field_u32(&mut self, s: &Struct, i: usize, field: &str, v: u32) {
        self.u32(s.size() * i as u32 + s.offset(field), v)
    }
    fn field_u64(&mut self, s: &Struct, i: usize, field: &str, v: u64) {
        self.u64(s.size() * i as u32 + s.offset(field), v)
    }
    fn field_ptr(&mut self, s: &Struct, i: usize, field: &str, t: Target, addend: i64) {
        self.ptr(s.size() * i as u32 + s.offset(field), t, addend)
    }

    fn define(self, module: &mut impl Module, id: DataId) -> ModuleResult<()> {
        let mut desc = DataDescription::new();
        desc.define(self.bytes.into_boxed_slice());
        desc.set_align(self.align);
        for (at, t, addend) in self.relocs {
            let name = match t {
                Target::Func(f) => ModuleRelocTarget::user(0, f.as_u32()),
                Target::Data(d) => ModuleRelocTarget::user(1, d.as_u32()),
            };
            let gv = desc.import_global_value(name);
            desc.write_data_addr(at, gv, addend);
        }
        module.define_data(id, &desc)
    }
}

/// Evaluates a constant expression statically when it needs no instance
/// state: numeric constants, null, and `ref.func` of a defined function.
/// Returns `None` when the value must be computed at instantiation.
pub enum Static {
    Bits(u64),
    DefinedFunc(u32),
}

pub fn static_const(ctx: &ModuleCtx, expr: &wasmparser::ConstExpr) -> Option<Static> {
    let mut r = expr.get_operators_reader();
    let op = r.read().ok()?;
    if !matches!(r.read().ok()?, Operator::End) {
        return None;
    }
    match op {
        Operator::I32Const { value } => Some(Static::Bits(value as u32 as u64)),
        Operator::I64Const { value } => Some(Static::Bits(value as u64)),
        Operator::RefNull { .. } => Some(Static::Bits(0)),
        Operator::RefFunc { function_index } if function_index >= ctx.env.num_imported_funcs => {
            Some(Static::DefinedFunc(function_index))
        }
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
pub fn define(
    module: &mut impl Module,
    ctx: &ModuleCtx,
    ids: &DataIds,
    helpers: &Helpers,
    host_funcs: &[(FuncId, u32)],
    compiled: &[CompiledFunc],
    symbol_names: &[String],
    path: &str,
    index: u32,
    link: LinkMode,
    lines: &[(u64, String, u32)],
) -> ModuleResult<()> {
    let env = ctx.env;
    let o = &ctx.offsets;
    // The VMContext block is the whole instance. Every pointer in it that
    // points into the block itself is also listed in `fixups`, so that a
    // copy of the block can be rebased into a new instance (embedding).
    let mut vm = Blob::new(o.size() as usize);
    let mut fixups: Vec<u32> = Vec::new();
    let mut self_ptr = |vm: &mut Blob, at: u32, target: u32| {
        vm.ptr(at, Target::Data(ids.vmctx), target as i64);
        fixups.push(at);
    };
    let funcref_off = |f: u32| o.funcref(f - env.num_imported_funcs);
    vm.ptr(VMCTX_HEADER.offset("module"), Target::Data(ids.module), 0);
    // Imported entities' slots are filled at instantiation (or, for WASI
    // functions, bound here to the runtime's host functions).
    for i in env.num_imported_memories..env.memories.len() as u32 {
        self_ptr(&mut vm, o.memory(i), o.defined_memory(i - env.num_imported_memories));
    }
    for i in env.num_imported_tables..env.tables.len() as u32 {
        self_ptr(&mut vm, o.table(i), o.defined_table(i - env.num_imported_tables));
    }
    for i in 0..host_funcs.len() as u32 {
        vm.ptr(o.imported_func(i), Target::Data(ids.host_funcrefs), (i * FUNCREF.size()) as i64);
    }
    for i in env.num_imported_tags..env.tags.len() as u32 {
        self_ptr(&mut vm, o.tag(i), o.defined_tag(i - env.num_imported_tags));
    }

    let memory_record = |blob: &mut Blob, at: u32, m: &wasmparser::MemoryType, plan: crate::translate::heap::MemoryPlan| {
        blob.u64(at + MEMORY.offset("min_pages"), m.initial);
        // The runtime caps this further by the index type and page size.
        blob.u64(at + MEMORY.offset("max_pages"), m.maximum.unwrap_or(u64::MAX));
        blob.u64(at + MEMORY.offset("declared_max"), m.maximum.unwrap_or(NO_MAX));
        blob.u32(at + MEMORY.offset("page_size_log2"), plan.page_size_log2);
        blob.u32(at + MEMORY.offset("flags"), plan.flags());
    };
    let defined_mems = &env.memories[env.num_imported_memories as usize..];
    for (i, m) in defined_mems.iter().enumerate() {
        memory_record(&mut vm, o.defined_memory(i as u32), m, ctx.memories[env.num_imported_memories as usize + i]);
    }
    // A command's imported memories (only shared ones are accepted: see
    // `crate::imports`) are provided by the runtime: records outside the
    // block, set up at the first instantiation. Their slots are plain
    // relocations, not fixups, so every instance made by copying the block
    // imports the same memory.
    let n_host_memories = if link == LinkMode::Dynamic { 0 } else { env.num_imported_memories };
    let mut hm = Blob::new((n_host_memories * MEMORY.size()).max(MEMORY.size()) as usize);
    for i in 0..n_host_memories {
        memory_record(&mut hm, i * MEMORY.size(), &env.memories[i as usize], ctx.memories[i as usize]);
        vm.ptr(o.memory(i), Target::Data(ids.host_memories), (i * MEMORY.size()) as i64);
    }
    hm.define(module, ids.host_memories)?;

    let defined_tables = &env.tables[env.num_imported_tables as usize..];
    for (i, t) in defined_tables.iter().enumerate() {
        let at = o.defined_table(i as u32);
        // 64-bit tables may declare sizes past u32: saturated, they are
        // still over the runtime's table limit, which refuses them.
        vm.u32(at + TABLE.offset("min"), t.initial.min(u32::MAX as u64) as u32);
        vm.u32(at + TABLE.offset("max"), t.maximum.map(|m| m.min(u32::MAX as u64) as u32).unwrap_or(u32::MAX));
        vm.u64(at + TABLE.offset("declared_max"), t.maximum.unwrap_or(NO_MAX));
    }

    // Funcrefs of defined functions, closing over this instance.
    for i in 0..env.num_defined_funcs() {
        let f = env.num_imported_funcs + i;
        let at = o.funcref(i);
        vm.ptr(at + FUNCREF.offset("code"), Target::Func(ctx.func_ids[f as usize].expect("defined")), 0);
        vm.u64(at + FUNCREF.offset("type_id"), ctx.type_ids[env.functions[f as usize] as usize]);
        self_ptr(&mut vm, at + FUNCREF.offset("vmctx"), 0);
    }

    // Host funcrefs for imported functions: no instance of their own.
    let mut hfs = Blob::array(&FUNCREF, host_funcs.len());
    for (i, (id, ty)) in host_funcs.iter().enumerate() {
        hfs.field_ptr(&FUNCREF, i, "code", Target::Func(*id), 0);
        hfs.field_u64(&FUNCREF, i, "type_id", ctx.type_ids[*ty as usize]);
    }
    hfs.define(module, ids.host_funcrefs)?;

    // Data segments: bytes in one immutable blob shared by all instances,
    // a kiln_segment each in the instance (dropping one is per instance).
    let mut bytes = Vec::new();
    for (i, d) in env.datas.iter().enumerate() {
        let at = o.data_segment(i as u32);
        vm.ptr(at + SEGMENT.offset("data"), Target::Data(ids.data_bytes), bytes.len() as i64);
        vm.u64(at + SEGMENT.offset("length"), d.data.len() as u64);
        bytes.extend_from_slice(d.data);
    }
    let mut blob = Blob::new(bytes.len());
    blob.bytes[..bytes.len()].copy_from_slice(&bytes);
    blob.align = 1;
    blob.define(module, ids.data_bytes)?;

    // Element segments: 8-byte items in the instance, static where
    // possible (the init function fills in the rest), a kiln_segment each.
    // Declared segments start dropped.
    let mut at = 0u32;
    for (i, e) in env.elems.iter().enumerate() {
        let seg = o.elem_segment(i as u32);
        self_ptr(&mut vm, seg + SEGMENT.offset("data"), o.elem_item(at));
        let n = match &e.items {
            ElemItems::Functions(fs) => {
                for (j, f) in fs.iter().enumerate() {
                    if *f >= env.num_imported_funcs {
                        self_ptr(&mut vm, o.elem_item(at + j as u32), funcref_off(*f));
                    }
                }
                fs.len()
            }
            ElemItems::Exprs(xs) => {
                for (j, x) in xs.iter().enumerate() {
                    match static_const(ctx, x) {
                        Some(Static::DefinedFunc(f)) => self_ptr(&mut vm, o.elem_item(at + j as u32), funcref_off(f)),
                        Some(Static::Bits(v)) => vm.u64(o.elem_item(at + j as u32), v),
                        None => {}
                    }
                }
                xs.len()
            }
        };
        let live = !matches!(e.kind, SegmentMode::Declared);
        vm.u64(seg + SEGMENT.offset("length"), if live { n as u64 } else { 0 });
        at += n as u32;
    }
    debug_assert_eq!(at, o.num_elem_items);

    // Function table and names.
    let mut names = Vec::new();
    let mut funcs = Blob::array(&FUNC_INFO, compiled.len());
    for (i, f) in compiled.iter().enumerate() {
        let id = ctx.func_ids[f.index as usize].expect("defined");
        funcs.field_ptr(&FUNC_INFO, i, "start", Target::Func(id), 0);
        funcs.field_ptr(&FUNC_INFO, i, "name", Target::Data(ids.names), names.len() as i64);
        funcs.field_u32(&FUNC_INFO, i, "size", f.bytes.len() as u32);
        funcs.field_u32(&FUNC_INFO, i, "index", f.index);
        let shown = env.func_display_name(f.index).unwrap_or(&symbol_names[i]);
        names.extend(shown.bytes().filter(|b| *b != 0));
        names.push(0);
    }

    // Defined tags, in the instance: their identity is their address.
    for (i, t) in (env.num_imported_tags..env.tags.len() as u32).enumerate() {
        let at = o.defined_tag(i as u32);
        if let Some(name) = env.tag_display_name(t) {
            vm.ptr(at + TAG.offset("name"), Target::Data(ids.names), names.len() as i64);
            names.extend(name.bytes().filter(|b| *b != 0));
            names.push(0);
        }
        vm.u64(at + TAG.offset("type_id"), ctx.type_ids[env.tags[t as usize] as usize]);
        vm.u32(at + TAG.offset("n_values"), env.tag_type(t).params.len() as u32);
        vm.u32(at + TAG.offset("module"), index);
    }
    vm.define(module, ids.vmctx)?;
    let mut fx = Blob::new(fixups.len() * 4);
    for (i, f) in fixups.iter().enumerate() {
        fx.u32(i as u32 * 4, *f);
    }
    fx.align = 4;
    fx.define(module, ids.fixups)?;
    let n_fixups = fixups.len() as u32;
    // Imports resolved by name (dynamic linking only) and exports.
    // Wasm names may contain NUL, so they are stored whole, with a length,
    // and NUL-terminated only for display.
    let string = |names: &mut Vec<u8>, s: &str| -> i64 {
        let at = names.len() as i64;
        names.extend(s.bytes());
        names.push(0);
        at
    };
    let dynamic_imports: Vec<_> = if link == LinkMode::Dynamic { env.imports.iter().collect() } else { vec![] };
    let mut imps = Blob::array(&IMPORT, dynamic_imports.len());
    let (mut fi, mut ti, mut mi, mut gi, mut xi) = (0u32, 0u32, 0u32, 0u32, 0u32);
    for (i, imp) in dynamic_imports.iter().enumerate() {
        let m_at = string(&mut names, imp.module);
        let n_at = string(&mut names, imp.name);
        imps.field_ptr(&IMPORT, i, "module", Target::Data(ids.names), m_at);
        imps.field_ptr(&IMPORT, i, "name", Target::Data(ids.names), n_at);
        imps.field_u32(&IMPORT, i, "module_len", imp.module.len() as u32);
        imps.field_u32(&IMPORT, i, "name_len", imp.name.len() as u32);
        let (kind, ty, slot, type_id, min, max) = match &imp.kind {
            ImportKind::Func(t) => {
                fi += 1;
                (EXTERN_FUNC, 0, ctx.offsets.imported_func(fi - 1), ctx.type_ids[*t as usize], 0, NO_MAX)
            }
            ImportKind::Table(t) => {
                ti += 1;
                let id = type_id_of(ctx, ValType::Ref(t.element_type));
                (EXTERN_TABLE, table_type_word(t), ctx.offsets.table(ti - 1), id, t.initial, t.maximum.unwrap_or(NO_MAX))
            }
            ImportKind::Memory(m) => {
                mi += 1;
                let plan = ctx.memories[mi as usize - 1];
                let ty = kiln_abi::memory_type_word(plan.is64, plan.shared, plan.page_size_log2);
                (EXTERN_MEMORY, ty, ctx.offsets.memory(mi - 1), 0, m.initial, m.maximum.unwrap_or(NO_MAX))
            }
            ImportKind::Global(g) => {
                gi += 1;
                (EXTERN_GLOBAL, global_code(g), ctx.offsets.imported_global(gi - 1), type_id_of(ctx, g.content_type), 0, NO_MAX)
            }
            ImportKind::Tag(t) => {
                xi += 1;
                (EXTERN_TAG, 0, ctx.offsets.tag(xi - 1), ctx.type_ids[*t as usize], 0, NO_MAX)
            }
        };
        imps.field_u32(&IMPORT, i, "kind", kind);
        imps.field_u32(&IMPORT, i, "type", ty);
        imps.field_u32(&IMPORT, i, "slot", slot);
        imps.field_u64(&IMPORT, i, "type_id", type_id);
        imps.field_u64(&IMPORT, i, "min", min);
        imps.field_u64(&IMPORT, i, "max", max);
    }
    imps.define(module, ids.imports)?;

    let mut exps = Blob::array(&EXPORT, env.exports.len());
    for (i, (name, kind, idx)) in env.exports.iter().enumerate() {
        let n_at = string(&mut names, name);
        exps.field_ptr(&EXPORT, i, "name", Target::Data(ids.names), n_at);
        exps.field_u32(&EXPORT, i, "name_len", name.len() as u32);
        let (k, ty, indirect, offset) = match kind {
            ExternalKind::Func => {
                let imported = *idx < env.num_imported_funcs;
                let off = if imported { o.imported_func(*idx) } else { funcref_off(*idx) };
                if let Some((_, id)) = helpers.exports.iter().find(|(f, _)| f == idx) {
                    exps.field_ptr(&EXPORT, i, "trampoline", Target::Func(*id), 0);
                }
                let sig = string(&mut names, &signature_text(env.func_type(*idx)));
                exps.field_ptr(&EXPORT, i, "signature", Target::Data(ids.names), sig);
                (EXTERN_FUNC, 0, imported, off)
            }
            ExternalKind::Table => {
                let imported = *idx < env.num_imported_tables;
                let off = if imported { o.table(*idx) } else { o.defined_table(*idx - env.num_imported_tables) };
                let table = &env.tables[*idx as usize];
                exps.field_u64(&EXPORT, i, "type_id", type_id_of(ctx, ValType::Ref(table.element_type)));
                (EXTERN_TABLE, table_type_word(table), imported, off)
            }
            ExternalKind::Memory => {
                let imported = *idx < env.num_imported_memories;
                let off = if imported { o.memory(*idx) } else { o.defined_memory(*idx - env.num_imported_memories) };
                let plan = ctx.memories[*idx as usize];
                (EXTERN_MEMORY, kiln_abi::memory_type_word(plan.is64, plan.shared, plan.page_size_log2), imported, off)
            }
            ExternalKind::Global => {
                let imported = *idx < env.num_imported_globals;
                let off = if imported { o.imported_global(*idx) } else { o.defined_global(*idx - env.num_imported_globals) };
                let ty = env.globals[*idx as usize].ty;
                exps.field_u64(&EXPORT, i, "type_id", type_id_of(ctx, ty.content_type));
                (EXTERN_GLOBAL, global_code(&ty), imported, off)
            }
            ExternalKind::Tag => {
                let imported = *idx < env.num_imported_tags;
                let off = if imported { o.tag(*idx) } else { o.defined_tag(*idx - env.num_imported_tags) };
                (EXTERN_TAG, 0, imported, off)
            }
            // Exact function exports need custom descriptors, which validation rejects.
            ExternalKind::FuncExact => unreachable!("export kind admitted by validation"),
        };
        exps.field_u32(&EXPORT, i, "offset", offset);
        exps.field_u32(&EXPORT, i, "index", *idx);
        exps.field_u32(&EXPORT, i, "kind", k);
        exps.field_u32(&EXPORT, i, "type", ty);
        exps.field_u32(&EXPORT, i, "indirect", indirect as u32);
    }
    exps.define(module, ids.exports)?;

    // Source locations for backtraces, from the module's DWARF: the line
    // row covering a wasm offset, its file name interned in `names`.
    let mut files: HashMap<&str, i64> = HashMap::new();
    let mut source_of = |names: &mut Vec<u8>, wasm: u32| -> Option<(i64, u32)> {
        let i = lines.partition_point(|(o, _, _)| *o <= wasm as u64);
        let (_, file, line) = lines.get(i.checked_sub(1)?)?;
        if file.is_empty() || *line == 0 {
            return None;
        }
        let at = *files.entry(file.as_str()).or_insert_with(|| string(names, file));
        Some((at, *line))
    };

    // Trap table: one group per function, in address order (functions are
    // laid out in definition order, wasm index order then helpers, in one
    // .text section), each group's entries compactly encoded in
    // `trap_data` (kiln_abi::encode_trap_group), their source positions
    // shared in `source_lines`.
    let all: Vec<(FuncId, &CompiledFunc)> = compiled
        .iter()
        .map(|f| (ctx.func_ids[f.index as usize].expect("defined"), f))
        .chain(helpers.compiled.iter().map(|(id, f)| (*id, f)))
        .collect();
    let mut groups = Blob::array(&TRAP_GROUP, all.len());
    let mut trap_data = Vec::new();
    let mut source_index: HashMap<(i64, u32), u32> = HashMap::new();
    for (g, (id, f)) in all.iter().enumerate() {
        // Source positions are interned as they are met, so keep this
        // order (entries, then inlined calls) for deterministic output.
        let mut intern = |names: &mut Vec<u8>, wasm: u32| -> Option<u32> {
            let pos = source_of(names, wasm)?;
            let n = source_index.len() as u32;
            Some(*source_index.entry(pos).or_insert(n))
        };
        fn levels(
            intern: &mut impl FnMut(&mut Vec<u8>, u32) -> Option<u32>,
            names: &mut Vec<u8>,
            inlined: &[(u32, u32)],
        ) -> Vec<InlinedAt> {
            inlined
                .iter()
                .map(|&(func, call_offset)| InlinedAt { func, call_offset, call_source: intern(names, call_offset) })
                .collect()
        }
        let mut sites: Vec<TrapSite> = f
            .traps
            .iter()
            .map(|t| TrapSite {
                code_offset: t.code_offset,
                kind: t.kind,
                wasm_offset: t.wasm_offset,
                source: None,
                inlined: levels(&mut intern, &mut names, &t.inlined),
            })
            .collect();
        sites.sort_by_key(|t| t.code_offset);
        for site in &mut sites {
            site.source = intern(&mut names, site.wasm_offset);
        }
        // Calls in inlined code, so a backtrace shows every wasm frame.
        let mut calls: Vec<InlinedCall> = f
            .call_sites
            .iter()
            .filter(|c| !c.inlined.is_empty())
            .map(|c| InlinedCall { code_offset: c.ret, inlined: levels(&mut intern, &mut names, &c.inlined) })
            .collect();
        calls.sort_by_key(|c| c.code_offset);
        groups.field_ptr(&TRAP_GROUP, g, "start", Target::Func(*id), 0);
        groups.field_u32(&TRAP_GROUP, g, "data", trap_data.len() as u32);
        groups.field_u32(&TRAP_GROUP, g, "func_index", f.index);
        kiln_abi::encode_trap_group(&sites, &calls, &mut trap_data);
    }
    groups.define(module, ids.trap_groups)?;
    let mut data_blob = Blob::new(trap_data.len());
    data_blob.bytes[..trap_data.len()].copy_from_slice(&trap_data);
    data_blob.align = 1;
    data_blob.define(module, ids.trap_data)?;


    // Call sites of wasm functions, in the same address order. Helpers have
    // none, so a backtrace ends at the trampoline that entered wasm.
    let wasm_funcs = &all[..compiled.len()];
    let n_calls: usize = wasm_funcs.iter().map(|(_, f)| f.call_sites.len()).sum();
    let mut calls = Blob::array(&CALL_SITE, n_calls);
    let n_handlers: usize = wasm_funcs.iter().flat_map(|(_, f)| &f.call_sites).map(|c| c.handlers.len()).sum();
    let mut handlers = Blob::array(&HANDLER, n_handlers);
    // (call index, source, frame offset, first handler, handler count) of
    // the calls that have a source position or handlers, in call order.
    let mut extras: Vec<[u32; 5]> = Vec::new();
    let (mut k, mut h) = (0, 0);
    // Each function's call sites are a run named by its `funcs` entry,
    // their pcs offsets from the function's start.
    for (i, (id, f)) in wasm_funcs.iter().enumerate() {
        funcs.field_u32(&FUNC_INFO, i, "calls", k as u32);
        funcs.field_u32(&FUNC_INFO, i, "n_calls", f.call_sites.len() as u32);
        for c in &f.call_sites {
            calls.field_u32(&CALL_SITE, k, "pc_offset", c.ret);
            calls.field_u32(&CALL_SITE, k, "wasm_offset", c.wasm_offset);
            let source = source_of(&mut names, c.wasm_offset).map(|pos| {
                let n = source_index.len() as u32;
                1 + *source_index.entry(pos).or_insert(n)
            });
            if source.is_some() || !c.handlers.is_empty() {
                let (frame, first) = if c.handlers.is_empty() { (0, 0) } else { (c.frame_offset, h as u32) };
                extras.push([k as u32, source.unwrap_or(0), frame, first, c.handlers.len() as u32]);
            }
            if !c.handlers.is_empty() {
                for (tag, at) in &c.handlers {
                    handlers.field_ptr(&HANDLER, h, "pc", Target::Func(*id), *at as i64);
                    handlers.field_u32(&HANDLER, h, "tag", tag.unwrap_or(CATCH_ALL));
                    h += 1;
                }
            }
            k += 1;
        }
    }
    calls.define(module, ids.calls)?;
    let mut ex = Blob::array(&CALL_EXTRA, extras.len());
    for (i, e) in extras.iter().enumerate() {
        for (field, v) in ["call", "source", "frame_offset", "handlers", "n_handlers"].iter().zip(e) {
            ex.field_u32(&CALL_EXTRA, i, field, *v);
        }
    }
    ex.define(module, ids.call_extras)?;
    let n_call_extras = extras.len() as u32;
    funcs.define(module, ids.funcs)?;
    handlers.define(module, ids.handlers)?;
    let mut sources = Blob::array(&SOURCE_LINE, source_index.len());
    for (&(file, line), &i) in &source_index {
        sources.field_ptr(&SOURCE_LINE, i as usize, "file", Target::Data(ids.names), file);
        sources.field_u32(&SOURCE_LINE, i as usize, "line", line);
    }
    sources.define(module, ids.source_lines)?;

    let module_name_at = names.len();
    names.extend(path.bytes().filter(|b| *b != 0));
    names.push(0);
    let mut nb = Blob::new(names.len());
    nb.bytes.copy_from_slice(&names);
    nb.align = 1;
    nb.define(module, ids.names)?;

    // The descriptor.
    let mut m = Blob::new(MODULE.size() as usize);
    m.u32(MODULE.offset("abi_version"), kiln_abi::ABI_VERSION);
    m.u32(MODULE.offset("index"), index);
    m.ptr(MODULE.offset("name"), Target::Data(ids.names), module_name_at as i64);
    m.ptr(MODULE.offset("vmctx"), Target::Data(ids.vmctx), 0);
    m.ptr(MODULE.offset("init"), Target::Func(helpers.init), 0);
    if let Some(s) = helpers.start {
        m.ptr(MODULE.offset("start"), Target::Func(s), 0);
    }
    if let Some(e) = helpers.entry {
        m.ptr(MODULE.offset("entry"), Target::Func(e), 0);
    }
    m.ptr(MODULE.offset("fixups"), Target::Data(ids.fixups), 0);
    m.u32(MODULE.offset("n_fixups"), n_fixups);
    m.u32(MODULE.offset("memories_offset"), o.defined_memory(0));
    m.u32(MODULE.offset("tables_offset"), o.defined_table(0));
    m.u32(MODULE.offset("vmctx_size"), o.size());
    m.ptr(MODULE.offset("funcs"), Target::Data(ids.funcs), 0);
    m.ptr(MODULE.offset("trap_groups"), Target::Data(ids.trap_groups), 0);
    m.ptr(MODULE.offset("trap_data"), Target::Data(ids.trap_data), 0);
    m.ptr(MODULE.offset("source_lines"), Target::Data(ids.source_lines), 0);
    m.ptr(MODULE.offset("imports"), Target::Data(ids.imports), 0);
    m.ptr(MODULE.offset("calls"), Target::Data(ids.calls), 0);
    m.ptr(MODULE.offset("call_extras"), Target::Data(ids.call_extras), 0);
    m.ptr(MODULE.offset("handlers"), Target::Data(ids.handlers), 0);
    m.u32(MODULE.offset("n_calls"), n_calls as u32);
    m.u32(MODULE.offset("n_call_extras"), n_call_extras);
    m.u32(MODULE.offset("tags_offset"), ctx.offsets.tags());
    m.ptr(MODULE.offset("exports"), Target::Data(ids.exports), 0);
    m.ptr(MODULE.offset("host_memories"), Target::Data(ids.host_memories), 0);
    m.u32(MODULE.offset("n_host_memories"), n_host_memories);
    m.u32(MODULE.offset("n_imports"), dynamic_imports.len() as u32);
    m.u32(MODULE.offset("n_exports"), env.exports.len() as u32);
    m.u32(MODULE.offset("n_memories"), env.memories.len() as u32 - env.num_imported_memories);
    m.u32(MODULE.offset("n_tables"), env.tables.len() as u32 - env.num_imported_tables);
    m.u32(MODULE.offset("n_funcs"), compiled.len() as u32);
    m.u32(MODULE.offset("n_trap_groups"), all.len() as u32);
    m.define(module, ids.module)?;
    Ok(())
}

/// The per-executable object: the list of module descriptors the runtime
/// instantiates in order, their count, and the build configuration.
pub fn executable_tables(module: &mut impl Module, module_count: u32, config: &[u8]) -> ModuleResult<()> {
    let list = module.declare_data(kiln_abi::symbols::MODULE_LIST, Linkage::Export, false, false)?;
    let count = module.declare_data(kiln_abi::symbols::MODULE_COUNT, Linkage::Export, false, false)?;
    let cfg = module.declare_data(kiln_abi::symbols::CONFIG, Linkage::Export, false, false)?;
    let mut l = Blob::new(module_count as usize * 8);
    for i in 0..module_count {
        let d = module.declare_data(&format!("kiln_m{i}_module"), Linkage::Import, false, false)?;
        l.ptr(i * 8, Target::Data(d), 0);
    }
    l.align = 8;
    l.define(module, list)?;
    let mut c = Blob::new(4);
    c.u32(0, module_count);
    c.align = 4;
    c.define(module, count)?;
    let mut b = Blob::new(config.len());
    b.bytes.copy_from_slice(config);
    b.align = 1;
    b.define(module, cfg)
}
