//! Generated helpers with the array-call ABI
//! `(callee_vmctx, caller_vmctx, uint64_t *values)`, the only way the C
//! runtime calls into generated code:
//!
//! - `init` finishes instantiation in the order wasm prescribes: defined
//!   globals, table initialisers (table.fill), then active element
//!   segments (table.init + elem.drop),
//!   then active data segments (memory.init + data.drop). An out-of-bounds
//!   segment traps there, leaving the effects of earlier segments in place.
//! - `start` and `entry` trampolines read arguments from `values` (16-byte
//!   slots), call the function, and write results back to `values`.
//!
//! And one more kind, called from wasm code: a host adapter per WASI
//! import, a `tail`-convention function with the import's wasm signature
//! that calls the C host function in the platform convention (wasm
//! functions use `tail`; see `ModuleCtx::wasm_signature`).

use super::data::static_const;
use super::CompiledFunc;
use crate::environ::{ElemItems, SegmentMode};
use crate::func_env::{clif_type, mutable, FuncEnv, ModuleCtx};
use cranelift_codegen::ir::{self, types, InstBuilder, UserFuncName, Value};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{FuncId, Linkage, Module, ModuleResult};
use kiln_abi::{TrapKind, SEGMENT};
use wasmparser::{ConstExpr, Operator};

#[derive(Clone, Copy, Debug)]
pub enum HelperKind {
    Init,
    Trampoline(u32),
    /// Calls the C host function `.0` of module type `.1`.
    HostAdapter(FuncId, u32),
    /// Calls the host's C function `.0` for an import of module type
    /// `.1`, passing the calling instance (embedding, `--link`).
    HostImport(FuncId, u32),
}

pub struct Helpers {
    pub init: FuncId,
    pub start: Option<FuncId>,
    pub entry: Option<FuncId>,
    start_func: Option<u32>,
    entry_func: Option<u32>,
    /// Array-call trampolines of exported functions, by function index
    /// (only for executables whose modules are driven from outside).
    pub exports: Vec<(u32, FuncId)>,
    /// Host adapters: (adapter, C host function, module type index,
    /// whether it is the host's own import rather than WASI), in import
    /// order.
    pub adapters: Vec<(FuncId, FuncId, u32, bool)>,
    pub compiled: Vec<(FuncId, CompiledFunc)>,
}

impl Helpers {
    pub fn declare(
        module: &mut impl Module,
        ctx: &ModuleCtx,
        index: u32,
        is_command: bool,
        export_trampolines: bool,
        host_funcs: &[(FuncId, u32, bool)],
    ) -> ModuleResult<Helpers> {
        let sig = ctx.array_call_signature();
        let init = module.declare_function(&format!("kiln_m{index}_init"), Linkage::Local, &sig)?;
        let start_func = ctx.env.start;
        let start = match start_func {
            Some(_) => Some(module.declare_function(&format!("kiln_m{index}_start"), Linkage::Local, &sig)?),
            None => None,
        };
        let entry_func = if is_command { ctx.env.export_func("_start") } else { None };
        let entry = match entry_func {
            Some(_) => Some(module.declare_function(&format!("kiln_m{index}_entry"), Linkage::Local, &sig)?),
            None => None,
        };
        let mut exports: Vec<(u32, FuncId)> = vec![];
        if export_trampolines {
            for (_, kind, f) in &ctx.env.exports {
                if *kind == wasmparser::ExternalKind::Func && !exports.iter().any(|(g, _)| g == f) {
                    let id = module.declare_function(&format!("kiln_m{index}_export_{f}"), Linkage::Local, &sig)?;
                    exports.push((*f, id));
                }
            }
        }
        let mut adapters = vec![];
        for (i, (c_fn, ty, custom)) in host_funcs.iter().enumerate() {
            let sig = ctx.wasm_signature(&ctx.env.types[*ty as usize]);
            let id = module.declare_function(&format!("kiln_m{index}_host_{i}"), Linkage::Local, &sig)?;
            adapters.push((id, *c_fn, *ty, *custom));
        }
        Ok(Helpers { init, start, entry, start_func, entry_func, exports, adapters, compiled: vec![] })
    }

    pub fn list(&self) -> Vec<(FuncId, HelperKind)> {
        let mut v = vec![(self.init, HelperKind::Init)];
        if let (Some(id), Some(f)) = (self.start, self.start_func) {
            v.push((id, HelperKind::Trampoline(f)));
        }
        if let (Some(id), Some(f)) = (self.entry, self.entry_func) {
            v.push((id, HelperKind::Trampoline(f)));
        }
        v.extend(self.exports.iter().map(|(f, id)| (*id, HelperKind::Trampoline(*f))));
        v.extend(self.adapters.iter().map(|(id, c_fn, ty, custom)| {
            (*id, if *custom { HelperKind::HostImport(*c_fn, *ty) } else { HelperKind::HostAdapter(*c_fn, *ty) })
        }));
        v
    }
}

pub fn build(func: &mut ir::Function, fctx: &mut FunctionBuilderContext, ctx: &ModuleCtx, id: FuncId, kind: HelperKind) {
    func.name = UserFuncName::user(0, id.as_u32());
    if let HelperKind::HostAdapter(c_fn, ty) = kind {
        return build_host_adapter(func, fctx, ctx, c_fn, ty, false);
    }
    if let HelperKind::HostImport(c_fn, ty) = kind {
        return build_host_adapter(func, fctx, ctx, c_fn, ty, true);
    }
    func.signature = ctx.array_call_signature();
    let mut env = FuncEnv::new(ctx);
    env.set_stack_limit(func);
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    env.set_vmctx(b.block_params(entry)[0]);
    let values = b.block_params(entry)[2];
    match kind {
        HelperKind::Init => build_init(&mut b, &mut env),
        HelperKind::Trampoline(f) => build_trampoline(&mut b, &mut env, f, values),
        HelperKind::HostAdapter(..) | HelperKind::HostImport(..) => unreachable!("built above"),
    }
    b.ins().return_(&[]);
    b.finalize(cranelift_codegen::isa::TargetFrontendConfig {
        default_call_conv: ctx.call_conv,
        pointer_width: target_lexicon::PointerWidth::U64,
        page_size_align_log2: 12,
    });
}

/// `tail` function with the import's wasm signature that calls the C host
/// function with the same arguments and returns its results. A WASI
/// function takes the two VMContexts first, as wasm functions do; a
/// host's own import (`custom`) takes the calling instance's
/// `kiln_instance *` (from its VMContext header) instead.
fn build_host_adapter(func: &mut ir::Function, fctx: &mut FunctionBuilderContext, ctx: &ModuleCtx, c_fn: FuncId, ty: u32, custom: bool) {
    let fty = &ctx.env.types[ty as usize];
    func.signature = ctx.wasm_signature(fty);
    let sig = func.import_signature(if custom { ctx.host_import_signature(fty) } else { ctx.host_signature(fty) });
    let name = func.declare_imported_user_function(ir::UserExternalName::new(0, c_fn.as_u32()));
    let callee = func.import_function(ir::ExtFuncData {
        name: ir::ExternalName::user(name),
        signature: sig,
        colocated: false,
        patchable: false,
    });
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let mut params = b.block_params(entry).to_vec();
    if custom {
        // (callee_vmctx, caller_vmctx, args...) -> (instance, args...).
        let caller = params[1];
        let off = kiln_abi::VMCTX_HEADER.offset("instance") as i32;
        let instance = b.ins().load(types::I64, crate::func_env::readonly(), caller, off);
        params.splice(0..2, [instance]);
    }
    let call = b.ins().call(callee, &params);
    let results = b.inst_results(call).to_vec();
    b.ins().return_(&results);
    b.finalize(cranelift_codegen::isa::TargetFrontendConfig {
        default_call_conv: ctx.call_conv,
        pointer_width: target_lexicon::PointerWidth::U64,
        page_size_align_log2: 12,
    });
}

fn build_trampoline(b: &mut FunctionBuilder, env: &mut FuncEnv, f: u32, values: Value) {
    let m = env.m;
    let ty = m.env.func_type(f).clone();
    let mut args = Vec::new();
    for (i, p) in ty.params.iter().enumerate() {
        args.push(b.ins().load(clif_type(*p), mutable(), values, (i * 16) as i32));
    }
    let vm = env.vmctx(b);
    let results = if f < m.env.num_imported_funcs {
        let fr = env.funcref(b, f);
        let code = b.ins().load(types::I64, mutable(), fr, kiln_abi::FUNCREF.offset("code") as i32);
        let callee = b.ins().load(types::I64, mutable(), fr, kiln_abi::FUNCREF.offset("vmctx") as i32);
        let sig = env.sig_ref(b.func, m.env.functions[f as usize]);
        let mut all = vec![callee, vm];
        all.extend(args);
        let call = b.ins().call_indirect(sig, code, &all);
        b.inst_results(call).to_vec()
    } else {
        let fr = env.func_ref(b.func, f);
        let mut all = vec![vm, vm];
        all.extend(args);
        let call = b.ins().call(fr, &all);
        b.inst_results(call).to_vec()
    };
    for (i, r) in results.into_iter().enumerate() {
        b.ins().store(mutable(), r, values, (i * 16) as i32);
    }
}

/// Emits code computing a constant expression.
fn const_expr(b: &mut FunctionBuilder, env: &mut FuncEnv, expr: &ConstExpr) -> Value {
    let mut stack: Vec<Value> = vec![];
    let mut r = expr.get_operators_reader();
    while let Ok(op) = r.read() {
        let v = match op {
            Operator::I32Const { value } => b.ins().iconst(types::I32, value as i64),
            Operator::I64Const { value } => b.ins().iconst(types::I64, value),
            Operator::F32Const { value } => b.ins().f32const(f32::from_bits(value.bits())),
            Operator::F64Const { value } => b.ins().f64const(f64::from_bits(value.bits())),
            Operator::V128Const { value } => {
                let c = b.func.dfg.constants.insert(value.bytes().to_vec().into());
                b.ins().vconst(types::I8X16, c)
            }
            Operator::RefNull { .. } => b.ins().iconst(types::I64, 0),
            Operator::RefFunc { function_index } => env.funcref(b, function_index),
            Operator::GlobalGet { global_index } => {
                let ty = clif_type(env.m.env.globals[global_index as usize].ty.content_type);
                let addr = env.global_addr(b, global_index);
                b.ins().load(ty, mutable(), addr, 0)
            }
            // Extended constant expressions.
            Operator::I32Add | Operator::I64Add | Operator::I32Sub | Operator::I64Sub | Operator::I32Mul | Operator::I64Mul => {
                let y = stack.pop().expect("validated");
                let x = stack.pop().expect("validated");
                match op {
                    Operator::I32Add | Operator::I64Add => b.ins().iadd(x, y),
                    Operator::I32Sub | Operator::I64Sub => b.ins().isub(x, y),
                    _ => b.ins().imul(x, y),
                }
            }
            Operator::End => break,
            // Validation admits no other operator in a constant expression.
            other => unreachable!("constant expression operator {other:?}"),
        };
        stack.push(v);
    }
    stack.pop().expect("validated: a constant expression yields one value")
}

fn build_init(b: &mut FunctionBuilder, env: &mut FuncEnv) {
    let m = env.m;
    let wenv = m.env;
    // Globals.
    for (i, g) in wenv.globals.iter().enumerate().skip(wenv.num_imported_globals as usize) {
        let init = g.init.as_ref().expect("defined globals have initializers");
        let v = const_expr(b, env, init);
        let addr = env.global_addr(b, i as u32);
        b.ins().store(mutable(), v, addr, 0);
    }
    // Table initialisers (`(table N (ref $t) EXPR)`): the value of EXPR
    // fills every element, after the globals it may read and before the
    // element segments that overwrite some elements.
    for (i, init) in wenv.table_inits.iter().enumerate() {
        if let Some(init) = init {
            let v = const_expr(b, env, init);
            let table = env.table_ptr(b, i as u32);
            let size = env.table_size(b, table);
            let zero = b.ins().iconst(types::I32, 0);
            let id = m.runtime.table_fill;
            env.call_checked(b, id, &[table, zero, v, size], TrapKind::TableOutOfBounds);
        }
    }
    // Element items that depend on the instance, then active segments.
    let mut at = 0usize;
    for (i, e) in wenv.elems.iter().enumerate() {
        let n = match &e.items {
            ElemItems::Functions(fs) => {
                for (j, f) in fs.iter().enumerate() {
                    if *f < wenv.num_imported_funcs {
                        let v = env.funcref(b, *f);
                        let slot = env.elem_item(b, (at + j) as u32);
                        b.ins().store(mutable(), v, slot, 0);
                    }
                }
                fs.len()
            }
            ElemItems::Exprs(xs) => {
                for (j, x) in xs.iter().enumerate() {
                    if static_const(m, x).is_none() {
                        let v = const_expr(b, env, x);
                        let slot = env.elem_item(b, (at + j) as u32);
                        b.ins().store(mutable(), v, slot, 0);
                    }
                }
                xs.len()
            }
        };
        if let SegmentMode::Active { index, offset } = &e.kind {
            b.set_srcloc(ir::SourceLoc::new(e.offset as u32));
            let dst = const_expr(b, env, offset);
            let dst = crate::func_env::table_operand(b, dst);
            let table = env.table_ptr(b, *index);
            let seg = env.elem_segment(b, i as u32);
            let zero = b.ins().iconst(types::I32, 0);
            let len = b.ins().iconst(types::I32, n as i64);
            let id = m.runtime.table_init;
            env.call_checked(b, id, &[table, seg, dst, zero, len], TrapKind::TableOutOfBounds);
            drop_segment(b, seg);
        }
        at += n;
    }
    for (i, d) in wenv.datas.iter().enumerate() {
        if let SegmentMode::Active { index, offset } = &d.kind {
            b.set_srcloc(ir::SourceLoc::new(d.offset as u32));
            let dst = const_expr(b, env, offset);
            // memory.init takes a 64-bit destination (see kiln_abi::symbols).
            let dst = if m.memories[*index as usize].is64 { dst } else { b.ins().uextend(types::I64, dst) };
            let mem = env.memory_ptr(b, *index);
            let seg = env.data_segment(b, i as u32);
            let zero = b.ins().iconst(types::I32, 0);
            let len = b.ins().iconst(types::I32, d.data.len() as i64);
            let id = m.runtime.memory_init;
            env.call_checked(b, id, &[mem, seg, dst, zero, len], TrapKind::MemoryOutOfBounds);
            drop_segment(b, seg);
        }
    }
}

fn drop_segment(b: &mut FunctionBuilder, seg: Value) {
    let zero = b.ins().iconst(types::I64, 0);
    b.ins().store(mutable(), zero, seg, SEGMENT.offset("length") as i32);
}
