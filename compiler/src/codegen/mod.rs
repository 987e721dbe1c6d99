//! Compiling one validated module into one relocatable object.
//!
//! Flow: declare every symbol (runtime entry points, WASI imports, wasm
//! functions, generated helpers, data), translate and compile the wasm
//! functions in parallel with rayon, then define code and data in a fixed
//! order so the object is identical however the threads were scheduled.
//!
//! What the object contains for module `N` (all local symbols except the
//! descriptor):
//! - one function per defined wasm function, named from the name section;
//! - `init`, `start` and `entry` helpers with the array-call ABI;
//! - the static instance: VMContext, memories, tables, funcrefs, segments;
//! - the trap table and function table the runtime searches on a fault;
//! - the descriptor `kiln_mN_module`, a `struct kiln_module`.

mod data;
mod init;
mod inline;

use crate::environ::{ImportKind, ModuleEnv};
use crate::error::{CompileError, FuncRef as FuncName};
use crate::func_env::{trap_kind, FuncEnv, ModuleCtx, RuntimeFuncs};
use crate::translate::translate_function;
use cranelift_codegen::ir::{self, UserFuncName};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::{Context, MachReloc};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module, ModuleReloc};
use cranelift_object::{ObjectBuilder, ObjectModule};
use kiln_abi::{symbols, TrapKind, VmOffsets};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use wasmparser::ValType;

/// Interns function types across every module linked into one executable,
/// so that two types get equal ids exactly when Wasm 3.0's type
/// equivalence says they are equal, and `call_indirect`, `call_ref`'s
/// validation-given types and function imports can compare ids.
///
/// Equivalence is iso-recursive: types are compared as members of their
/// recursion group. Two groups are equal when they have the same number of
/// types and, pairwise, the same finality and the same parameters and
/// results, where a reference to a type of the same group counts as its
/// position in the group and a reference to an earlier type counts as that
/// type's id (interned already: a type can only name types before its
/// group or inside it). A type's id is its group's id plus its position.
/// Kiln refuses declared supertypes (`environ::gc_use`), so no concrete
/// function type has a proper subtype and equal ids are exactly the
/// subtyping `call_indirect` must check.
#[derive(Default)]
pub struct TypeInterner {
    groups: HashMap<Vec<CanonicalFuncType>, u64>,
    next: u64,
}

/// A function type of a recursion group in module-independent form.
#[derive(Clone, PartialEq, Eq, Hash)]
struct CanonicalFuncType {
    is_final: bool,
    params: Vec<CanonicalValType>,
    results: Vec<CanonicalValType>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum CanonicalValType {
    /// A number, vector or abstract reference type: the same in every module.
    Plain(ValType),
    /// `(ref null? $t)` with `$t` in the same recursion group, by position.
    InGroup { nullable: bool, position: u32 },
    /// `(ref null? $t)` with `$t` an earlier type, by interned id.
    Earlier { nullable: bool, id: u64 },
}

impl TypeInterner {
    /// The interned id of every type of `env`, by type index.
    pub fn intern_module(&mut self, env: &ModuleEnv) -> Vec<u64> {
        let mut ids: Vec<u64> = Vec::with_capacity(env.types.len());
        for group in &env.rec_groups {
            let canonical = |t: &ValType| -> CanonicalValType {
                let ValType::Ref(r) = t else { return CanonicalValType::Plain(*t) };
                match r.type_index().and_then(|i| i.as_module_index()) {
                    Some(i) if group.contains(&i) => {
                        CanonicalValType::InGroup { nullable: r.is_nullable(), position: i - group.start }
                    }
                    // Validation: a type names only types of its own group or before it.
                    Some(i) => CanonicalValType::Earlier { nullable: r.is_nullable(), id: ids[i as usize] },
                    None => CanonicalValType::Plain(*t),
                }
            };
            let key: Vec<CanonicalFuncType> = env.types[group.start as usize..group.end as usize]
                .iter()
                .map(|f| CanonicalFuncType {
                    is_final: f.is_final,
                    params: f.params.iter().map(canonical).collect(),
                    results: f.results.iter().map(canonical).collect(),
                })
                .collect();
            let len = key.len() as u64;
            let next = &mut self.next;
            let base = *self.groups.entry(key).or_insert_with(|| {
                let base = kiln_abi::FIRST_TYPE_ID + *next;
                *next += len;
                base
            });
            ids.extend((0..len).map(|k| base + k));
        }
        ids
    }
}

/// One compiled function, ready to be placed in the object.
pub struct CompiledFunc {
    pub index: u32,
    pub bytes: Vec<u8>,
    pub alignment: u64,
    pub relocs: Vec<ModuleReloc>,
    pub traps: Vec<Trap>,
    /// Every call, for backtraces and the exception unwinder.
    pub call_sites: Vec<CallSite>,
    /// (native start, native end, wasm offset) of every instruction range.
    pub srclocs: Vec<(u32, u32, u32)>,
    /// Under `-g`: the offset from the frame pointer of each wasm local's
    /// debug slot, by local index.
    pub local_slots: Vec<i64>,
    pub unwind: Option<cranelift_codegen::isa::unwind::UnwindInfo>,
    pub clif: Option<String>,
}

/// One trapping instruction in compiled code.
pub struct Trap {
    pub code_offset: u32,
    pub kind: TrapKind,
    /// Wasm offset of the operator, in the function whose code it is.
    pub wasm_offset: u32,
    /// If it is inlined code, its inlining levels, innermost first: (the
    /// function whose code it is, wasm offset of the call that was inlined;
    /// see `inline::InlineMap::resolve`).
    pub inlined: Vec<(u32, u32)>,
}

/// One call in compiled code.
pub struct CallSite {
    /// Offset of the return address in the function.
    pub ret: u32,
    /// Wasm offset of the call, in the function whose code it is.
    pub wasm_offset: u32,
    /// Inlining levels of the call, as for [`Trap::inlined`].
    pub inlined: Vec<(u32, u32)>,
    /// FP minus SP at the call (0 when Cranelift did not say: no handlers).
    pub frame_offset: u32,
    /// Active handlers, in the order wasm tries them: (module tag index or
    /// `None` for catch-all, handler offset in the function).
    pub handlers: Vec<(Option<u32>, u32)>,
}

/// Options for compiling one module.
pub struct ModuleOptions<'o> {
    pub isa: &'o OwnedTargetIsa,
    pub extend_i32: bool,
    /// Whether guarded stores probe their last byte first (the target's
    /// `partial_store_faults`; see `translate/heap.rs`).
    pub probe_stores: bool,
    /// Whether a 32-bit compare-exchange gets a zero-extended expected
    /// value (the target's `cas32_compares_whole_register`; see
    /// `translate/atomics.rs`).
    pub clean_cas32: bool,
    /// Whether to keep the CLIF text of each function.
    pub keep_clif: bool,
    /// Whether the executable runs this module as its command (`_start`).
    pub is_command: bool,
    /// How imports are bound.
    pub link: LinkMode,
    /// With [`LinkMode::Wasi`]: the function imports (by index among
    /// imported functions) that the host provides in C, and the symbol of
    /// each (`crate::embed::host_imports`); every other import is WASI.
    pub host_imports: Vec<(u32, String)>,
    /// Whether every exported function gets an array-call trampoline (the
    /// runtime calls exports: test driver, embedding).
    pub export_trampolines: bool,
    /// Whether to translate the module's DWARF (`-g`).
    pub debug: bool,
    /// Whether to inline small functions at their direct calls (see
    /// `inline.rs`); ignored under `debug`.
    pub inline: bool,
    /// DWARF number of the target's frame-pointer register.
    pub fp_dwarf_register: u16,
    /// How memories are kept in bounds (see `translate/heap.rs`).
    pub bounds_checks: crate::BoundsChecks,
    /// Whether the module's memory 0 may live at the fixed address
    /// `kiln_abi::FIXED_MEMORY_BASE`: true only where the process will have
    /// one instance of it (a plain command executable, the test driver's
    /// module 0; see "Fixed memories" in `translate/heap.rs`).
    pub fixed_memory: bool,
    /// Under `-g` for a module without DWARF: its text form, the name the
    /// `.wat` file will have and the directory it will be in.
    pub text_source: Option<(&'o crate::debug::WatSource, String, String)>,
    /// Told of each function compiled.
    pub progress: Option<crate::Progress>,
}

/// How a module's imports are bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkMode {
    /// At compile time, to WASI preview1 in the runtime (a command).
    Wasi,
    /// By name when instantiated, against other modules of the executable;
    /// every exported function gets an array-call trampoline (test driver).
    Dynamic,
}

pub struct ModuleOutput {
    pub object: Vec<u8>,
    /// CLIF text of each function, when asked for.
    pub clif: String,
}

/// Symbol names a module may not take for its functions: the runtime's and
/// the libcalls Cranelift emits.
fn reserved_name(name: &str) -> bool {
    name.starts_with("kiln_")
        || matches!(
            name,
            "memcpy" | "memmove" | "memset" | "memcmp" | "ceil" | "ceilf" | "floor" | "floorf" | "trunc" | "truncf"
                | "nearbyint" | "nearbyintf" | "fma" | "fmaf" | "strlen" | "strcmp" | "strncmp" | "_start"
        )
}

/// The native symbol of each defined function, so debuggers and profilers
/// show wasm names: the name-section (or export) name; `NAME.wasm` when that
/// would shadow a runtime symbol; `NAME.INDEX` when taken twice;
/// `wasm_function_INDEX` when the function has no name.
fn function_symbols(env: &ModuleEnv) -> Vec<String> {
    let mut seen = HashSet::new();
    (env.num_imported_funcs..env.functions.len() as u32)
        .map(|i| {
            let base = match env.func_display_name(i) {
                Some(n) if !n.is_empty() && !n.contains('\0') && reserved_name(n) => format!("{n}.wasm"),
                Some(n) if !n.is_empty() && !n.contains('\0') => n.to_string(),
                _ => format!("wasm_function_{i}"),
            };
            // Every chosen name is recorded, and suffixes are tried until one
            // is free, so no two functions can share a symbol.
            let mut name = base.clone();
            let mut n = 0u32;
            while !seen.insert(name.clone()) {
                name = if n == 0 { format!("{base}.{i}") } else { format!("{base}.{i}.{n}") };
                n += 1;
            }
            name
        })
        .collect()
}

/// A module compiled and defined in a Cranelift [`Module`]: what the object
/// writer still needs for unwind tables and DWARF.
pub struct Defined<'a> {
    ctx: ModuleCtx<'a>,
    compiled: Vec<CompiledFunc>,
    helpers: init::Helpers,
    data_ids: data::DataIds,
    names: Vec<String>,
    /// CLIF text of each function, when asked for.
    pub clif: String,
}

impl Defined<'_> {
    /// The module's descriptor (`kiln_mN_module`, a `struct kiln_module`).
    pub fn descriptor(&self) -> cranelift_module::DataId {
        self.data_ids.module
    }
}

/// Compiles module number `index` of an executable into a relocatable object.
pub fn compile_module(
    path: &str,
    env: &ModuleEnv,
    index: u32,
    opts: &ModuleOptions,
    interner: &mut TypeInterner,
) -> Result<ModuleOutput, CompileError> {
    let isa = opts.isa;
    let mut builder = ObjectBuilder::new(isa.clone(), format!("kiln_m{index}"), default_libcall_names())
        .map_err(|e| CompileError::Target(e.to_string()))?;
    builder.per_function_section(false);
    let mut module = ObjectModule::new(builder);
    let Defined { ctx, mut compiled, mut helpers, data_ids, names, clif } =
        define_module(&mut module, path, env, index, opts, interner)?;
    let mut product = module.finish();
    let mut frames = Vec::new();
    for f in compiled.iter_mut() {
        if let Some(u) = f.unwind.take() {
            frames.push((product.function_symbol(ctx.func_ids[f.index as usize].expect("defined")), u));
        }
    }
    for (id, f) in helpers.compiled.iter_mut() {
        if let Some(u) = f.unwind.take() {
            frames.push((product.function_symbol(*id), u));
        }
    }
    crate::debug::write_eh_frame(&mut product.object, &**isa, frames)
        .map_err(|e| CompileError::Target(format!("{path}: {e}")))?;
    if opts.debug {
        let sections = crate::debug::dwarf_sections(env.bytes);
        let funcs: Vec<crate::debug::FuncDebug> = compiled
            .iter()
            .map(|f| {
                let body = &env.bodies[(f.index - env.num_imported_funcs) as usize];
                crate::debug::FuncDebug {
                    symbol: product.function_symbol(ctx.func_ids[f.index as usize].expect("defined")),
                    wasm_start: body.range().start as u64,
                    wasm_end: body.range().end as u64,
                    native_size: f.bytes.len() as u64,
                    srclocs: f.srclocs.clone(),
                    local_slots: f.local_slots.clone(),
                }
            })
            .collect();
        if let (false, Some((source, name, dir))) = (sections.contains_key(".debug_info"), &opts.text_source) {
            let shown: Vec<String> = compiled.iter().map(|f| names[(f.index - env.num_imported_funcs) as usize].clone()).collect();
            crate::debug::write_wat_dwarf(&mut product.object, name, dir, source, &funcs, &shown)
                .map_err(|e| CompileError::Target(format!("{path}: {e}")))?;
        }
        if sections.contains_key(".debug_info") {
            let globals = (0..env.globals.len() as u32)
                .map(|g| (g >= env.num_imported_globals).then(|| ctx.offsets.defined_global(g - env.num_imported_globals)))
                .collect();
            let instance = crate::debug::InstanceSymbols {
                memory: (env.num_imported_memories == 0 && !env.memories.is_empty()).then(|| ctx.offsets.defined_memory(0)),
                vmctx: product.data_symbol(data_ids.vmctx),
                globals,
            };
            crate::debug::write_dwarf(&mut product.object, &sections, env.code_section_start as u64, &funcs, &instance, opts.fp_dwarf_register)
                .map_err(|e| CompileError::Target(format!("{path}: {e}")))?;
        }
    }
    let object = product.emit().map_err(|e| CompileError::Target(format!("{path}: cannot write object: {e}")))?;
    Ok(ModuleOutput { object, clif })
}

/// Declares and defines everything module number `index` consists of in
/// `module` (an object being written, or memory for `kiln run`): code in
/// definition order (wasm index order, then helpers), then data. The trap
/// and function tables rely on that order being the address order.
pub fn define_module<'a>(
    module: &mut impl Module,
    path: &str,
    env: &'a ModuleEnv,
    index: u32,
    opts: &ModuleOptions,
    interner: &mut TypeInterner,
) -> Result<Defined<'a>, CompileError> {
    let isa = opts.isa;
    let call_conv = isa.default_call_conv();
    let decl_err = |e: cranelift_module::ModuleError| CompileError::Target(format!("{path}: {e}"));

    let type_ids = interner.intern_module(env);
    let offsets = VmOffsets {
        num_memories: env.memories.len() as u32,
        num_tables: env.tables.len() as u32,
        num_tags: env.tags.len() as u32,
        num_imported_funcs: env.num_imported_funcs,
        num_imported_globals: env.num_imported_globals,
        num_defined_globals: env.globals.len() as u32 - env.num_imported_globals,
        num_defined_memories: env.memories.len() as u32 - env.num_imported_memories,
        num_defined_tables: env.tables.len() as u32 - env.num_imported_tables,
        num_defined_tags: env.tags.len() as u32 - env.num_imported_tags,
        num_defined_funcs: env.num_defined_funcs(),
        num_data_segments: env.datas.len() as u32,
        num_elem_segments: env.elems.len() as u32,
        num_elem_items: env.elems.iter().map(|e| e.items.len() as u32).sum(),
    };

    // Runtime entry points. Their signatures come from ModuleCtx, which needs
    // the ids first: declare with a placeholder context, then fix up.
    let mut ctx = ModuleCtx {
        env,
        offsets,
        type_ids,
        call_conv,
        extend_i32: opts.extend_i32,
        probe_stores: opts.probe_stores,
        clean_cas32: opts.clean_cas32,
        debug: opts.debug,
        memories: env
            .memories
            .iter()
            .enumerate()
            .map(|(i, m)| {
                // Only memory 0, and only if the module defines it: an
                // imported memory is the host's (see `translate/heap.rs`).
                let may_fix = opts.fixed_memory && i == 0 && env.num_imported_memories == 0 && !env.spawns_threads();
                crate::translate::heap::MemoryPlan::new(m, opts.bounds_checks, may_fix)
            })
            .collect(),
        func_ids: vec![],
        runtime: RuntimeFuncs {
            memory_grow: FuncId::from_u32(0),
            memory_fill: FuncId::from_u32(0),
            memory_copy: FuncId::from_u32(0),
            memory_init: FuncId::from_u32(0),
            table_grow: FuncId::from_u32(0),
            table_fill: FuncId::from_u32(0),
            table_copy: FuncId::from_u32(0),
            table_init: FuncId::from_u32(0),
            exn_new: FuncId::from_u32(0),
            exn_free: FuncId::from_u32(0),
            throw: FuncId::from_u32(0),
            atomic_wait32: FuncId::from_u32(0),
            atomic_wait64: FuncId::from_u32(0),
            atomic_notify: FuncId::from_u32(0),
        },
    };
    {
        use ir::types::{I32, I64};
        let mut rt = |name: &str, p: &[ir::Type], r: &[ir::Type]| {
            module.declare_function(name, Linkage::Import, &ctx.c_signature(p, r)).map_err(decl_err)
        };
        let runtime = RuntimeFuncs {
            memory_grow: rt(symbols::MEMORY_GROW, &[I64, I64], &[I64])?,
            memory_fill: rt(symbols::MEMORY_FILL, &[I64, I64, I32, I64], &[I32])?,
            memory_copy: rt(symbols::MEMORY_COPY, &[I64, I64, I64, I64, I64], &[I32])?,
            memory_init: rt(symbols::MEMORY_INIT, &[I64, I64, I64, I32, I32], &[I32])?,
            table_grow: rt(symbols::TABLE_GROW, &[I64, I64, I32], &[I32])?,
            table_fill: rt(symbols::TABLE_FILL, &[I64, I32, I64, I32], &[I32])?,
            table_copy: rt(symbols::TABLE_COPY, &[I64, I64, I32, I32, I32], &[I32])?,
            table_init: rt(symbols::TABLE_INIT, &[I64, I64, I32, I32, I32], &[I32])?,
            exn_new: rt(symbols::EXN_NEW, &[I64], &[I64])?,
            exn_free: rt(symbols::EXN_FREE, &[I64], &[])?,
            throw: FuncId::from_u32(0),
            atomic_wait32: rt(symbols::ATOMIC_WAIT32, &[I64, I32, I64], &[I32])?,
            atomic_wait64: rt(symbols::ATOMIC_WAIT64, &[I64, I64, I64], &[I32])?,
            atomic_notify: rt(symbols::ATOMIC_NOTIFY, &[I64, I32], &[I32])?,
        };
        let throw = module.declare_function(symbols::THROW, Linkage::Import, &ctx.throw_signature()).map_err(decl_err)?;
        ctx.runtime = RuntimeFuncs { throw, ..runtime };
    }

    // Host functions for imports (resolved by `crate::imports` or
    // `crate::embed` beforehand), in C; wasm reaches each through a
    // generated `tail` adapter. WASI functions take the VMContexts, a
    // host's own imports the instance (`kiln_instance *`).
    let mut host_c_funcs = Vec::new();
    let mut fi = 0u32;
    let spawns_threads = env.spawns_threads();
    for imp in env.imports.iter().filter(|_| opts.link == LinkMode::Wasi) {
        if let ImportKind::Func(ty) = imp.kind {
            let fty = &env.types[ty as usize];
            let host = opts.host_imports.iter().find(|(i, _)| *i == fi);
            let (name, sig) = match host {
                Some((_, sym)) => (sym.clone(), ctx.host_import_signature(fty)),
                None if imp.module == kiln_abi::WASI_THREADS_MODULE => (symbols::THREAD_SPAWN.to_string(), ctx.host_signature(fty)),
                // A module that spawns threads calls the WASI functions
                // that take the process's WASI lock (proc_exit takes none).
                None if spawns_threads && imp.name != "proc_exit" => {
                    (format!("{}{}", symbols::WASI_LOCKED_PREFIX, imp.name), ctx.host_signature(fty))
                }
                None => (format!("{}{}", symbols::WASI_PREFIX, imp.name), ctx.host_signature(fty)),
            };
            let id = module.declare_function(&name, Linkage::Import, &sig).map_err(decl_err)?;
            host_c_funcs.push((id, ty, host.is_some()));
            fi += 1;
        }
    }

    // Wasm functions.
    let names = function_symbols(env);
    let mut func_ids = vec![None; env.num_imported_funcs as usize];
    for (i, name) in names.iter().enumerate() {
        let f = env.num_imported_funcs + i as u32;
        let sig = ctx.wasm_signature(env.func_type(f));
        func_ids.push(Some(module.declare_function(name, Linkage::Local, &sig).map_err(decl_err)?));
    }
    ctx.func_ids = func_ids;

    let data_ids = data::declare(module, index).map_err(decl_err)?;

    // Two phases, each parallel over functions (every worker has its own
    // contexts; the ISA and ModuleCtx are shared), so that inlining sees the
    // CLIF of any callee while its caller is compiled:
    //
    // 1. translate each function that could be inlined (a body small enough
    //    to be a candidate, `inline::MAX_CANDIDATE_BODY_BYTES`) and keep its
    //    CLIF; large functions are left for phase 2, so the CLIF held at
    //    once is only that of small functions, whatever the module's size;
    // 2. compile each function: take its CLIF from phase 1 or translate it
    //    now, inline candidate calls into it, run Cranelift.
    //
    // A function is translated exactly once, and results are gathered in
    // index order, so the object does not depend on scheduling.
    let inline = opts.inline && !opts.debug;
    let translate = |func: &mut ir::Function, fctx: &mut FunctionBuilderContext, i: usize| {
        let index = env.num_imported_funcs + i as u32;
        let id = ctx.func_ids[index as usize].expect("defined");
        func.signature = ctx.wasm_signature(env.func_type(index));
        func.name = UserFuncName::user(0, id.as_u32());
        translate_function(func, fctx, FuncEnv::new(&ctx), env.func_type(index), &env.bodies[i]).map_err(
            |(offset, message)| CompileError::Unsupported {
                path: path.to_string(),
                func: Some((index, env.func_display_name(index).map(str::to_string))),
                offset,
                message,
            },
        )
    };
    let ahead: Vec<Option<(ir::Function, Vec<ir::StackSlot>)>> = (0..env.bodies.len())
        .into_par_iter()
        .map_init(FunctionBuilderContext::new, |fctx, i| {
            let body = &env.bodies[i];
            if !inline || body.range().end - body.range().start > inline::MAX_CANDIDATE_BODY_BYTES as u64 {
                return None;
            }
            let mut func = ir::Function::new();
            // An error is reported by phase 2, which translates again.
            translate(&mut func, fctx, i).ok().map(|slots| (func, slots))
        })
        .collect();
    let candidates = inline::Candidates::new(
        env.bytes.len(),
        ahead.iter().enumerate().filter_map(|(i, a)| {
            let index = env.num_imported_funcs + i as u32;
            let id = ctx.func_ids[index as usize].expect("defined").as_u32();
            a.as_ref().map(|(f, _)| (index, id, body_start(&env.bodies[i]), f))
        }),
    );
    crate::Progress::tell(&opts.progress, crate::ProgressEvent::Functions(env.bodies.len() as u64));
    let compiled: Vec<Result<CompiledFunc, CompileError>> = (0..env.bodies.len())
        .into_par_iter()
        .map_init(
            || (Context::new(), FunctionBuilderContext::new()),
            |(cctx, fctx), i| {
                let index = env.num_imported_funcs + i as u32;
                let id = ctx.func_ids[index as usize].expect("defined");
                let name = || FuncName(index, env.func_display_name(index).map(str::to_string));
                cctx.clear();
                let slots = match &ahead[i] {
                    Some((func, slots)) => {
                        cctx.func = func.clone();
                        slots.clone()
                    }
                    None => translate(&mut cctx.func, fctx, i)?,
                };
                let start = body_start(&env.bodies[i]);
                let codegen_err = |message| CompileError::Codegen { path: path.to_string(), func: name(), message };
                let map = if inline { inline::inline_calls(cctx, &candidates, index, start).map_err(codegen_err)? } else { None };
                let f = finish_function(cctx, isa, index, id, opts.keep_clif, start, &slots, map.as_ref()).map_err(codegen_err);
                crate::Progress::tell(&opts.progress, crate::ProgressEvent::Compiled);
                f
            },
        )
        .collect();
    drop(ahead);
    let mut compiled = compiled.into_iter().collect::<Result<Vec<_>, _>>()?;

    // Generated helpers: init, start and entry trampolines (and one per
    // export for the test driver, embeddings, and a module that spawns
    // threads: the runtime calls `wasi_thread_start` through its own).
    let mut helpers =
        init::Helpers::declare(module, &ctx, index, opts.is_command, opts.export_trampolines || spawns_threads, &host_c_funcs)
            .map_err(decl_err)?;
    let host_funcs: Vec<(FuncId, u32)> = helpers.adapters.iter().map(|(a, _, ty, _)| (*a, *ty)).collect();
    let mut cctx = Context::new();
    let mut fctx = FunctionBuilderContext::new();
    for (id, kind) in helpers.list() {
        cctx.clear();
        init::build(&mut cctx.func, &mut fctx, &ctx, id, kind);
        // Traps in init are attributed to instantiation (index u32::MAX);
        // a trampoline's to the function it calls.
        let owner = match kind {
            init::HelperKind::Init | init::HelperKind::HostAdapter(..) | init::HelperKind::HostImport(..) => u32::MAX,
            init::HelperKind::Trampoline(f) => f,
        };
        let f = finish_function(&mut cctx, isa, owner, id, opts.keep_clif, 0, &[], None)
            .map_err(|message| CompileError::Codegen { path: path.to_string(), func: FuncName(u32::MAX, Some(format!("{kind:?}"))), message })?;
        helpers.compiled.push((id, f));
    }

    // Place code in index order, then the helpers.
    let mut clif = String::new();
    for f in &mut compiled {
        let id = ctx.func_ids[f.index as usize].expect("defined");
        module.define_function_bytes(id, f.alignment, &f.bytes, &f.relocs).map_err(decl_err)?;
        if let Some(c) = f.clif.take() {
            clif.push_str(&c);
            clif.push('\n');
        }
    }
    for (id, f) in &mut helpers.compiled {
        module.define_function_bytes(*id, f.alignment, &f.bytes, &f.relocs).map_err(decl_err)?;
        if let Some(c) = f.clif.take() {
            clif.push_str(&c);
            clif.push('\n');
        }
    }

    // Wasm offsets name source lines in backtraces when the module has DWARF.
    let lines = crate::debug::wasm_lines(&crate::debug::dwarf_sections(env.bytes), env.code_section_start as u64);
    data::define(module, &ctx, &data_ids, &helpers, &host_funcs, &compiled, &names, path, index, opts.link, &lines)
        .map_err(decl_err)?;

    Ok(Defined { ctx, compiled, helpers, data_ids, names, clif })
}

fn body_start(body: &wasmparser::FunctionBody) -> u32 {
    body.range().start as u32
}

/// Runs Cranelift on a translated function and extracts what the object
/// and the trap table need.
fn finish_function(
    cctx: &mut Context,
    isa: &OwnedTargetIsa,
    index: u32,
    id: FuncId,
    keep_clif: bool,
    default_offset: u32,
    slots: &[cranelift_codegen::ir::StackSlot],
    inlined: Option<&inline::InlineMap>,
) -> Result<CompiledFunc, String> {
    let clif = keep_clif.then(|| cctx.func.display().to_string());
    let mut ctrl = Default::default();
    cctx.compile(&**isa, &mut ctrl).map_err(|e| format!("{:?}", e.inner))?;
    let code = cctx.compiled_code().expect("compiled above");
    let buffer = &code.buffer;
    let srclocs = buffer.get_srclocs_sorted();
    // The wasm offset of code offset `at`: the source location of the code
    // range holding it (the prologue's stack check has none: it is
    // attributed to the function's start), resolved through the inlining
    // map if it is a synthetic location of inlined code.
    let wasm_location = |at: u32| -> (u32, Vec<(u32, u32)>) {
        let loc = srclocs
            .iter()
            .find(|s| s.start <= at && at < s.end)
            .and_then(|s| wasm_offset_of(s.loc))
            .unwrap_or(default_offset);
        match inlined {
            Some(map) => map.resolve(loc),
            None => (loc, vec![]),
        }
    };
    let traps = buffer
        .traps()
        .iter()
        .map(|t| {
            let (wasm_offset, inlined) = wasm_location(t.offset);
            Trap { code_offset: t.offset, kind: trap_kind(t.code), wasm_offset, inlined }
        })
        .collect();
    let relocs = buffer
        .relocs()
        .iter()
        .map(|r: &MachReloc| ModuleReloc::from_mach_reloc(r, &cctx.func, id))
        .collect();
    // The call instruction ends at the return address; its wasm offset is
    // that of the byte before.
    use cranelift_codegen::MachExceptionHandler as H;
    let call_sites = buffer
        .call_sites()
        .map(|c| {
            let (wasm_offset, inlined) = wasm_location(c.ret_addr.saturating_sub(1));
            CallSite {
                ret: c.ret_addr,
                wasm_offset,
                inlined,
                frame_offset: c.frame_offset.unwrap_or(0),
                handlers: c
                    .exception_handlers
                    .iter()
                    .filter_map(|h| match h {
                        // A finalized buffer's handlers are code offsets.
                        H::Tag(tag, at) => Some((Some(tag.as_u32()), at.as_offset())),
                        H::Default(at) => Some((None, at.as_offset())),
                        // Kiln's tags need no dynamic context (one instance per module).
                        H::Context(_) => None,
                    })
                    .collect(),
            }
        })
        .collect();
    let unwind = code.create_unwind_info(&**isa).map_err(|e| format!("unwind info: {e:?}"))?;
    // Debug slots are addressed from the frame pointer, which every
    // Cranelift frame keeps: slot address = FP - frame_to_fp + slot offset.
    let local_slots = match buffer.frame_layout() {
        Some(layout) => slots
            .iter()
            .map(|s| layout.stackslots[*s].offset as i64 - layout.frame_to_fp_offset as i64)
            .collect(),
        None => vec![],
    };
    Ok(CompiledFunc {
        index,
        bytes: buffer.data().to_vec(),
        // The ISA's preferred function alignment (32 bytes on x86-64 and
        // aarch64), which wasmtime uses too; the buffer's own is only the
        // minimum its constants need. (On bench/ the gain was within the
        // noise: kept so code placement matches wasmtime's.)
        alignment: (buffer.min_alignment as u64).max(isa.function_alignment().preferred as u64),
        relocs,
        traps,
        call_sites,
        srclocs: srclocs.iter().filter_map(|s| Some((s.start, s.end, wasm_offset_of(s.loc)?))).collect(),
        local_slots,
        unwind,
        clif,
    })
}

/// The wasm byte offset a finalized buffer's source location holds (it is
/// absolute: the function's base location is applied when compilation
/// finishes), or `None` for code of no wasm instruction (the prologue).
fn wasm_offset_of(loc: ir::MaybeRelSourceLoc) -> Option<u32> {
    let loc = loc.as_abs();
    (!loc.is_default()).then(|| loc.bits())
}

/// Emits the object holding the executable-wide tables (module list and
/// build configuration).
pub fn executable_object(isa: &OwnedTargetIsa, module_count: u32, config: &[u8]) -> Result<Vec<u8>, CompileError> {
    let builder = ObjectBuilder::new(isa.clone(), "kiln_exe", default_libcall_names())
        .map_err(|e| CompileError::Target(e.to_string()))?;
    let mut module = ObjectModule::new(builder);
    data::executable_tables(&mut module, module_count, config).map_err(|e| CompileError::Target(e.to_string()))?;
    module.finish().emit().map_err(|e| CompileError::Target(format!("cannot write object: {e}")))
}

#[cfg(test)]
mod tests {
    use super::TypeInterner;
    use crate::environ::ModuleEnv;

    fn ids(interner: &mut TypeInterner, wat: &str) -> Vec<u64> {
        let bytes = wat::parse_str(wat).expect("test module parses");
        let env = ModuleEnv::parse("test", &bytes).unwrap_or_else(|e| panic!("{e}"));
        interner.intern_module(&env)
    }

    /// Type equivalence across modules, as type-equivalence.wast and
    /// type-rec.wast state it.
    #[test]
    fn types_are_equal_by_rec_group_structure() {
        let mut i = TypeInterner::default();
        let a = ids(
            &mut i,
            "(module (type $f (func (param i32))) (type $r (func (param (ref $f))))
               (rec (type $s (func (param (ref $t)))) (type $t (func (result (ref null $s))))))",
        );
        // The same types, declared in another order and another module.
        let b = ids(
            &mut i,
            "(module (type $g (func (param i32))) (rec (type $s (func (param (ref $t)))) (type $t (func (result (ref null $s)))))
               (type $r (func (param (ref $g)))))",
        );
        assert_eq!(a[0], b[0]);
        assert_eq!(a[1], b[3], "references to earlier types compare by id");
        assert_eq!(a[2..4], b[1..3], "equal rec groups give equal ids");
        // A group of one is not equal to the same type inside a larger group,
        // and position in the group matters.
        let c = ids(&mut i, "(module (rec (type (func)) (type (func (param i32)))) (type (func)) (rec (type (func (param i32))) (type (func))))");
        assert_ne!(c[0], c[2]);
        assert_ne!(c[0], c[4]);
        assert_ne!(c[1], c[3]);
        // Finality is part of a type.
        let d = ids(&mut i, "(module (type (func)) (type (sub (func))))");
        assert_eq!(d[0], c[2]);
        assert_ne!(d[0], d[1]);
    }
}
