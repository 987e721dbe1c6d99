//! The function environment: the only place that knows VMContext offsets,
//! the runtime's entry points and how wasm entities are reached from code.
//!
//! [`ModuleCtx`] is built once per module and shared (read-only) by every
//! function compiled in parallel. [`FuncEnv`] is per function: it creates
//! the CLIF global values, signatures and external function references that
//! the translator asks for, and caches them for the function's lifetime.
//!
//! Every load it creates from the VMContext is `notrap` (the VMContext is
//! always valid). Loads of fields that never change after instantiation and
//! sit behind always-valid pointers (memory bases, table and memory struct
//! pointers) are also `readonly` and `can_move`, so Cranelift may hoist and
//! share them. Fields of a funcref taken from a table are `readonly` but NOT
//! `can_move` (see `readonly_checked`): the pointer is only valid after the
//! null check, and hoisting the load above it would fault outside the trap
//! table.

use crate::environ::{FuncType, ModuleEnv};
use crate::translate::heap::MemoryPlan;
use cranelift_codegen::ir::{
    self, types, AbiParam, ArgumentPurpose, ExtFuncData, ExternalName, FuncRef, Function, GlobalValue,
    GlobalValueData, InstBuilder, MemFlagsData, SigRef, Signature, Type, UserExternalName, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use cranelift_module::FuncId;
use kiln_abi::{TrapKind, VmOffsets, MEMORY, TABLE};
use std::collections::HashMap;
use wasmparser::ValType;

/// Runtime entry points declared in the object (see `kiln_abi::symbols`).
#[derive(Clone, Copy)]
pub struct RuntimeFuncs {
    pub memory_grow: FuncId,
    pub memory_fill: FuncId,
    pub memory_copy: FuncId,
    pub memory_init: FuncId,
    pub table_grow: FuncId,
    pub table_fill: FuncId,
    pub table_copy: FuncId,
    pub table_init: FuncId,
    pub exn_new: FuncId,
    pub exn_free: FuncId,
    pub throw: FuncId,
    pub atomic_wait32: FuncId,
    pub atomic_wait64: FuncId,
    pub atomic_notify: FuncId,
}

/// Per-module facts shared by all functions of the module.
pub struct ModuleCtx<'a> {
    pub env: &'a ModuleEnv<'a>,
    pub offsets: VmOffsets,
    /// Canonical signature id of each module type index.
    pub type_ids: Vec<u64>,
    /// The platform C convention: runtime helpers, WASI host functions and
    /// the array-call trampolines the runtime calls.
    pub call_conv: CallConv,
    /// Whether i32 arguments and results are sign-extended (riscv64).
    pub extend_i32: bool,
    /// Whether guarded stores wider than a byte probe their last byte
    /// before storing (targets whose faulting stores may write partly).
    pub probe_stores: bool,
    /// Whether a 32-bit `atomic_cas` must get an expected value whose
    /// register is zero-extended (aarch64; `translate/atomics.rs`).
    pub clean_cas32: bool,
    /// Whether to record where wasm locals live (value labels), for DWARF.
    pub debug: bool,
    /// How each memory (imported and defined) is addressed.
    pub memories: Vec<MemoryPlan>,
    /// The object symbol of every defined function, by wasm function index
    /// (imported indices map to `None`).
    pub func_ids: Vec<Option<FuncId>>,
    pub runtime: RuntimeFuncs,
}

/// The CLIF type that represents a wasm value type. References are
/// pointer-sized: a `kiln_funcref *` or an externref value, 0 for null.
pub fn clif_type(t: ValType) -> Type {
    match t {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::Ref(_) => types::I64,
    }
}

/// The Cranelift trap code for a Kiln trap kind.
pub fn trap(kind: TrapKind) -> ir::TrapCode {
    ir::TrapCode::user(kind as u8).expect("trap kinds are small non-zero codes")
}

/// The Kiln trap kind of a Cranelift trap code in compiled code.
pub fn trap_kind(code: ir::TrapCode) -> TrapKind {
    match code {
        ir::TrapCode::STACK_OVERFLOW => TrapKind::CallStackExhausted,
        ir::TrapCode::HEAP_OUT_OF_BOUNDS => TrapKind::MemoryOutOfBounds,
        ir::TrapCode::INTEGER_OVERFLOW => TrapKind::IntegerOverflow,
        ir::TrapCode::INTEGER_DIVISION_BY_ZERO => TrapKind::IntegerDivideByZero,
        ir::TrapCode::BAD_CONVERSION_TO_INTEGER => TrapKind::InvalidConversionToInteger,
        // Every other code in generated code is one of Kiln's user codes.
        other => TrapKind::ALL.iter().copied().find(|k| trap(*k) == other).unwrap_or(TrapKind::Unreachable),
    }
}

impl<'a> ModuleCtx<'a> {
    fn param(&self, t: Type) -> AbiParam {
        if t == types::I32 && self.extend_i32 {
            AbiParam::new(t).sext()
        } else {
            AbiParam::new(t)
        }
    }

    /// The native signature of a wasm function type:
    /// `(callee_vmctx, caller_vmctx, params...) -> results`, in Cranelift's
    /// `tail` convention. That is Cranelift's exception ABI: on the
    /// exceptional edge of a `try_call` to a `tail` function every register
    /// counts as clobbered, so the unwinder restores only SP and FP (with
    /// the platform convention it would have to restore callee-saved
    /// registers from unwind tables). It also allows `return_call`.
    pub fn wasm_signature(&self, ty: &FuncType) -> Signature {
        let mut sig = self.host_signature(ty);
        sig.call_conv = CallConv::Tail;
        sig
    }

    /// The signature of a WASI host function in C: a wasm signature in the
    /// platform convention. Wasm code reaches it through a generated
    /// adapter (`codegen/init.rs`), so funcrefs always hold `tail` code.
    pub fn host_signature(&self, ty: &FuncType) -> Signature {
        let vmctx = AbiParam::special(types::I64, ArgumentPurpose::VMContext);
        self.platform_signature(&[vmctx, AbiParam::new(types::I64)], ty)
    }

    /// `first` parameters, then `ty`'s, in the platform convention.
    fn platform_signature(&self, first: &[AbiParam], ty: &FuncType) -> Signature {
        let mut sig = Signature::new(self.call_conv);
        sig.params.extend_from_slice(first);
        sig.params.extend(ty.params.iter().map(|p| self.param(clif_type(*p))));
        sig.returns.extend(ty.results.iter().map(|r| self.param(clif_type(*r))));
        sig
    }

    /// The signature of a function import the host provides in C
    /// (embedding): `(kiln_instance *, params...) -> result`, the platform
    /// convention, as the generated header declares it.
    pub fn host_import_signature(&self, ty: &FuncType) -> Signature {
        self.platform_signature(&[AbiParam::new(types::I64)], ty)
    }

    /// The array-call signature: `(callee_vmctx, caller_vmctx, values *)`.
    pub fn array_call_signature(&self) -> Signature {
        let mut sig = Signature::new(self.call_conv);
        sig.params.push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
        sig.params.push(AbiParam::new(types::I64));
        sig.params.push(AbiParam::new(types::I64));
        sig
    }

    /// A C signature with the given parameter and result types.
    pub fn c_signature(&self, params: &[Type], results: &[Type]) -> Signature {
        let mut sig = Signature::new(self.call_conv);
        sig.params.extend(params.iter().map(|t| self.param(*t)));
        sig.returns.extend(results.iter().map(|t| self.param(*t)));
        sig
    }

    pub fn runtime_signature(&self, f: FuncId) -> Signature {
        use types::{I32, I64};
        let r = &self.runtime;
        let (p, res): (&[Type], &[Type]) = if f == r.memory_grow {
            (&[I64, I64], &[I64])
        } else if f == r.memory_fill {
            (&[I64, I64, I32, I64], &[I32])
        } else if f == r.memory_copy {
            (&[I64, I64, I64, I64, I64], &[I32])
        } else if f == r.memory_init {
            (&[I64, I64, I64, I32, I32], &[I32])
        } else if f == r.table_copy {
            (&[I64, I64, I32, I32, I32], &[I32])
        } else if f == r.table_init {
            (&[I64, I64, I32, I32, I32], &[I32])
        } else if f == r.table_grow {
            (&[I64, I64, I32], &[I32])
        } else if f == r.table_fill {
            (&[I64, I32, I64, I32], &[I32])
        } else if f == r.exn_new {
            (&[I64], &[I64])
        } else if f == r.exn_free {
            (&[I64], &[])
        } else if f == r.atomic_wait32 {
            (&[I64, I32, I64], &[I32])
        } else if f == r.atomic_wait64 {
            (&[I64, I64, I64], &[I32])
        } else if f == r.atomic_notify {
            (&[I64, I32], &[I32])
        } else if f == r.throw {
            return self.throw_signature();
        } else {
            unreachable!("not a runtime function")
        };
        self.c_signature(p, res)
    }

    /// `kiln_rt_throw(vmctx, exn)`: a C function that never returns, called
    /// with `try_call` and declared `preserve_all`, whose exceptional edge
    /// clobbers every register (arguments are passed as in the C
    /// convention). Declared `tail`-like this, the handler in the throwing
    /// function assumes no register survived, which is the truth: the
    /// unwinder jumps there from inside the runtime.
    pub fn throw_signature(&self) -> Signature {
        let mut sig = self.c_signature(&[types::I64, types::I64], &[]);
        sig.call_conv = CallConv::PreserveAll;
        sig
    }

    /// Whether global `index` is an immutable defined global whose
    /// initializer is a numeric constant, and its value if so.
    pub fn constant_global(&self, index: u32) -> Option<wasmparser::Operator<'a>> {
        let g = &self.env.globals[index as usize];
        if g.ty.mutable {
            return None;
        }
        let init = g.init.as_ref()?;
        let mut ops = init.get_operators_reader();
        let op = ops.read().ok()?;
        let end = ops.read().ok()?;
        match (&op, end) {
            (
                wasmparser::Operator::I32Const { .. }
                | wasmparser::Operator::I64Const { .. }
                | wasmparser::Operator::F32Const { .. }
                | wasmparser::Operator::F64Const { .. }
                | wasmparser::Operator::V128Const { .. },
                wasmparser::Operator::End,
            ) => Some(op),
            _ => None,
        }
    }
}

/// Flags for loads of VMContext fields that never change once the instance
/// is set up.
pub fn readonly() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// Flags for loads of immutable fields behind a pointer that is only valid
/// after a check (a funcref loaded from a table, checked for null): they
/// may be shared but never hoisted above the check, so no `can_move`.
pub fn readonly_checked() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly()
}

/// Flags for loads and stores of mutable runtime state (globals, lengths).
pub fn mutable() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// A table operand (index, count or size) as an i32. Operands of 32-bit
/// tables pass unchanged. Those of 64-bit tables (memory64) are i64 and
/// are narrowed *saturating*: a value of 2^32 or more becomes 2^32 - 1.
/// SANDBOX-CRITICAL: that keeps every bounds check right. A table never
/// holds more than the runtime's `TABLE_LIMIT` (10^7, table.c) elements, so
/// an index of 2^32 - 1 is out of bounds as the original was, a start plus
/// a count (summed in 64 bits by the runtime) still exceeds the size, and
/// a `table.grow` by 2^32 - 1 still fails. Truncating instead would turn
/// 2^32 into the valid index 0.
pub fn table_operand(b: &mut FunctionBuilder, v: Value) -> Value {
    if b.func.dfg.value_type(v) != types::I64 {
        return v;
    }
    let big = b.ins().icmp_imm_u(ir::condcodes::IntCC::UnsignedGreaterThan, v, u32::MAX as i64);
    let low = b.ins().ireduce(types::I32, v);
    let max = b.ins().iconst(types::I32, u32::MAX as i64);
    b.ins().select(big, max, low)
}

/// Alias regions (Cranelift's alias analysis treats accesses in different
/// regions as disjoint, and a store with no region as a fence for all).
/// Linear memory is [`HEAP_REGION`]; the `base` and `length` of
/// `kiln_memory`, written only by the runtime, are [`MEMORY_STATE_REGION`];
/// the `size` and `elements` of `kiln_table`, also written only by the
/// runtime (`table.grow`, `table.init`, ... are calls), are
/// [`TABLE_STATE_REGION`]. Every other access has no region.
pub const HEAP_REGION: u32 = 1;
pub const MEMORY_STATE_REGION: u32 = 2;
pub const TABLE_STATE_REGION: u32 = 3;

fn region(func: &mut Function, user_id: u32, description: &'static str) -> ir::AliasRegion {
    func.dfg.alias_regions.insert(ir::AliasRegionData { user_id, description: description.into() })
}

/// Flags for loads of a memory's `base` and `length`: trusted, in
/// [`MEMORY_STATE_REGION`], so heap stores do not force a reload.
pub fn memory_state(func: &mut Function) -> MemFlagsData {
    let r = region(func, MEMORY_STATE_REGION, "memory state");
    MemFlagsData::trusted().with_alias_region(Some(r))
}

/// Flags for loads of a table's `size` and `elements`: trusted, in
/// [`TABLE_STATE_REGION`], so heap stores do not force a reload (a call,
/// which may grow the table, still does).
pub fn table_state(func: &mut Function) -> MemFlagsData {
    let r = region(func, TABLE_STATE_REGION, "table state");
    MemFlagsData::trusted().with_alias_region(Some(r))
}

/// Marks `flags` as an access to linear memory ([`HEAP_REGION`]).
pub fn in_heap(func: &mut Function, flags: MemFlagsData) -> MemFlagsData {
    let r = region(func, HEAP_REGION, "heap");
    flags.with_alias_region(Some(r))
}

/// Per-function environment.
pub struct FuncEnv<'m, 'a> {
    pub m: &'m ModuleCtx<'a>,
    vmctx: Option<GlobalValue>,
    /// The VMContext parameter (defined in the entry block, so it dominates
    /// every use).
    vmctx_value: Option<Value>,
    sigs: HashMap<u32, SigRef>,
    funcs: HashMap<u32, FuncRef>,
    runtime: HashMap<FuncId, FuncRef>,
}

impl<'m, 'a> FuncEnv<'m, 'a> {
    pub fn new(m: &'m ModuleCtx<'a>) -> Self {
        FuncEnv {
            m,
            vmctx: None,
            vmctx_value: None,
            sigs: HashMap::new(),
            funcs: HashMap::new(),
            runtime: HashMap::new(),
        }
    }

    fn vmctx_gv(&mut self, func: &mut Function) -> GlobalValue {
        *self.vmctx.get_or_insert_with(|| func.create_global_value(GlobalValueData::VMContext))
    }

    fn load_gv(func: &mut Function, base: GlobalValue, offset: u32, flags: MemFlagsData) -> GlobalValue {
        let flags = func.dfg.mem_flags.insert_unchecked(flags);
        func.create_global_value(GlobalValueData::Load {
            base,
            offset: (offset as i32).into(),
            global_type: types::I64,
            flags,
        })
    }

    /// Installs the stack-limit check: every prologue compares the stack
    /// pointer against `vmctx->stack_limit` and traps with "call stack
    /// exhausted" before the frame would go below it.
    pub fn set_stack_limit(&mut self, func: &mut Function) {
        let vmctx = self.vmctx_gv(func);
        let off = kiln_abi::VMCTX_HEADER.offset("stack_limit");
        func.stack_limit = Some(Self::load_gv(func, vmctx, off, readonly()));
    }

    /// Records the function's VMContext parameter.
    pub fn set_vmctx(&mut self, v: Value) {
        self.vmctx_value = Some(v);
    }

    /// `vmctx->memories[index]`: the `kiln_memory *` of a memory. A
    /// defined memory's record is inside the VMContext block and its slot
    /// points there (a self-pointer, rebased with the block whenever it is
    /// copied: `codegen/data.rs`), so its address is computed, not loaded.
    pub fn memory_ptr(&mut self, b: &mut FunctionBuilder, index: u32) -> Value {
        let vm = self.vmctx(b);
        let env = self.m.env;
        if index >= env.num_imported_memories {
            let off = self.m.offsets.defined_memory(index - env.num_imported_memories);
            return b.ins().iadd_imm_s(vm, off as i64);
        }
        b.ins().load(types::I64, readonly(), vm, self.m.offsets.memory(index) as i32)
    }

    /// The address of byte 0 of a memory. A guarded memory's base never
    /// moves, so the load is `readonly` and may be hoisted; an explicit
    /// memory's base changes when it grows, which only a call can do, so it
    /// is loaded in the `MEMORY_STATE` alias region, which no store of
    /// generated code writes: Cranelift reuses it until the next call.
    ///
    /// A fixed memory's base is the constant `kiln_abi::FIXED_MEMORY_BASE`,
    /// where the runtime reserved it or refused to run (see "Fixed
    /// memories" in `translate/heap.rs`).
    pub fn memory_base(&mut self, b: &mut FunctionBuilder, index: u32) -> Value {
        if self.m.memories[index as usize].fixed {
            return b.ins().iconst(types::I64, kiln_abi::FIXED_MEMORY_BASE as i64);
        }
        let ptr = self.memory_ptr(b, index);
        let flags = if self.m.memories[index as usize].explicit { memory_state(b.func) } else { readonly() };
        b.ins().load(types::I64, flags, ptr, MEMORY.offset("base") as i32)
    }

    /// Current memory length in bytes (changed only by the runtime, during
    /// a call: see [`Self::memory_base`]). A shared memory's length may
    /// grow at any time on another thread, and an atomic operation may be
    /// what tells this thread so: it is loaded afresh at every use (an
    /// aligned 64-bit load, atomic on every target). It only grows, so a
    /// stale value is never larger than the truth.
    pub fn memory_length(&mut self, b: &mut FunctionBuilder, index: u32) -> Value {
        let ptr = self.memory_ptr(b, index);
        let flags = if self.m.memories[index as usize].shared { mutable() } else { memory_state(b.func) };
        b.ins().load(types::I64, flags, ptr, MEMORY.offset("length") as i32)
    }

    /// `vmctx->tables[index]`: the `kiln_table *` of a table; computed for
    /// a defined table, as for a defined memory ([`Self::memory_ptr`]).
    pub fn table_ptr(&mut self, b: &mut FunctionBuilder, index: u32) -> Value {
        let vm = self.vmctx(b);
        let env = self.m.env;
        if index >= env.num_imported_tables {
            let off = self.m.offsets.defined_table(index - env.num_imported_tables);
            return b.ins().iadd_imm_s(vm, off as i64);
        }
        b.ins().load(types::I64, readonly(), vm, self.m.offsets.table(index) as i32)
    }

    pub fn table_size(&mut self, b: &mut FunctionBuilder, table: Value) -> Value {
        let flags = table_state(b.func);
        b.ins().load(types::I32, flags, table, TABLE.offset("size") as i32)
    }

    /// Address of element `index` of a table, after checking `index < size`
    /// (trapping with "out of bounds table access" otherwise). Tables are
    /// small and may move when grown, so they are bounds-checked explicitly
    /// rather than guarded by pages.
    pub fn table_elem_addr(&mut self, b: &mut FunctionBuilder, table_index: u32, index: Value) -> Value {
        let table = self.table_ptr(b, table_index);
        let size = self.table_size(b, table);
        let oob = b.ins().icmp(ir::condcodes::IntCC::UnsignedGreaterThanOrEqual, index, size);
        b.ins().trapnz(oob, trap(TrapKind::TableOutOfBounds));
        let flags = table_state(b.func);
        let elems = b.ins().load(types::I64, flags, table, TABLE.offset("elements") as i32);
        let idx = b.ins().uextend(types::I64, index);
        let off = b.ins().ishl_imm_u(idx, 3);
        b.ins().iadd(elems, off)
    }

    /// `vmctx->tags[index]`: the `kiln_tag *` of a tag (its identity).
    pub fn tag_ptr(&mut self, b: &mut FunctionBuilder, index: u32) -> Value {
        let vm = self.vmctx(b);
        b.ins().load(types::I64, readonly(), vm, self.m.offsets.tag(index) as i32)
    }

    /// Address of a global's storage cell.
    pub fn global_addr(&mut self, b: &mut FunctionBuilder, index: u32) -> Value {
        let vm = self.vmctx(b);
        let env = self.m.env;
        if index < env.num_imported_globals {
            b.ins().load(types::I64, readonly(), vm, self.m.offsets.imported_global(index) as i32)
        } else {
            let off = self.m.offsets.defined_global(index - env.num_imported_globals);
            b.ins().iadd_imm_s(vm, off as i64)
        }
    }

    pub fn vmctx(&mut self, _b: &mut FunctionBuilder) -> Value {
        self.vmctx_value.expect("set_vmctx is called at function entry")
    }

    /// A signature reference for module type `ty`.
    pub fn sig_ref(&mut self, func: &mut Function, ty: u32) -> SigRef {
        if let Some(s) = self.sigs.get(&ty) {
            return *s;
        }
        let sig = self.m.wasm_signature(&self.m.env.types[ty as usize]);
        let s = func.import_signature(sig);
        self.sigs.insert(ty, s);
        s
    }

    /// A direct reference to a defined function.
    pub fn func_ref(&mut self, func: &mut Function, index: u32) -> FuncRef {
        if let Some(f) = self.funcs.get(&index) {
            return *f;
        }
        let id = self.m.func_ids[index as usize].expect("direct calls go to defined functions");
        let signature = self.sig_ref(func, self.m.env.functions[index as usize]);
        let name = func.declare_imported_user_function(UserExternalName::new(0, id.as_u32()));
        let f = func.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.funcs.insert(index, f);
        f
    }

    pub fn runtime_ref(&mut self, func: &mut Function, id: FuncId) -> FuncRef {
        if let Some(f) = self.runtime.get(&id) {
            return *f;
        }
        let signature = func.import_signature(self.m.runtime_signature(id));
        let name = func.declare_imported_user_function(UserExternalName::new(0, id.as_u32()));
        let f = func.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.runtime.insert(id, f);
        f
    }

    /// The `kiln_funcref *` of function `index` (what `ref.func` yields).
    pub fn funcref(&mut self, b: &mut FunctionBuilder, index: u32) -> Value {
        let env = self.m.env;
        if index < env.num_imported_funcs {
            let vm = self.vmctx(b);
            b.ins().load(types::I64, readonly(), vm, self.m.offsets.imported_func(index) as i32)
        } else {
            let vm = self.vmctx(b);
            let off = self.m.offsets.funcref(index - env.num_imported_funcs);
            b.ins().iadd_imm_s(vm, off as i64)
        }
    }

    /// Address of data segment `index`'s `kiln_segment`.
    pub fn data_segment(&mut self, b: &mut FunctionBuilder, index: u32) -> Value {
        let vm = self.vmctx(b);
        b.ins().iadd_imm_s(vm, self.m.offsets.data_segment(index) as i64)
    }

    /// Address of element segment `index`'s `kiln_segment`.
    pub fn elem_segment(&mut self, b: &mut FunctionBuilder, index: u32) -> Value {
        let vm = self.vmctx(b);
        b.ins().iadd_imm_s(vm, self.m.offsets.elem_segment(index) as i64)
    }

    /// Address of item `index` of all element segments together.
    pub fn elem_item(&mut self, b: &mut FunctionBuilder, index: u32) -> Value {
        let vm = self.vmctx(b);
        b.ins().iadd_imm_s(vm, self.m.offsets.elem_item(index) as i64)
    }

    /// Calls a runtime helper that returns 0 or a trap kind, and raises
    /// `kind` if it returned non-zero. The trap is raised here, in generated
    /// code, so it is found in the trap table with this wasm offset.
    pub fn call_checked(&mut self, b: &mut FunctionBuilder, id: FuncId, args: &[Value], kind: TrapKind) {
        let f = self.runtime_ref(b.func, id);
        let call = b.ins().call(f, args);
        let status = b.inst_results(call)[0];
        b.ins().trapnz(status, trap(kind));
    }

    pub fn call_runtime(&mut self, b: &mut FunctionBuilder, id: FuncId, args: &[Value]) -> Value {
        let f = self.runtime_ref(b.func, id);
        let call = b.ins().call(f, args);
        b.inst_results(call)[0]
    }
}
