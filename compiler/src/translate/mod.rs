//! Translation of wasm function bodies into Cranelift IR.
//!
//! One pass, operator by operator, with an explicit value stack and control
//! stack, in a single `match` grouped by banner comments. Assumes the module
//! was validated (see `environ.rs`): operand counts and types, branch depths
//! and indices are trusted, so mistakes there are Kiln bugs, not user
//! errors.
//!
//! Subtle points:
//! - Code after `br`, `return`, `unreachable` etc. is dead until the end of
//!   the enclosing block. It is skipped, but block nesting inside it is
//!   still counted (`unreachable_depth`) so the right `end` revives
//!   translation.
//! - `if` without `else` still gets an else block, which forwards the
//!   block's parameters as its results.
//! - Every instruction carries the wasm byte offset of its operator as its
//!   source location; the trap table and DWARF are built from those.
//! - The native signature is `(vmctx, caller_vmctx, params...)`; wasm
//!   local 0 is the third native parameter.

mod atomics;
mod exceptions;
pub mod heap;
mod simd;

use crate::environ::FuncType;
use crate::func_env::{clif_type, mutable, readonly_checked, trap, FuncEnv};
use cranelift_codegen::ir::{
    self, condcodes::FloatCC, condcodes::IntCC, types, Block, BlockArg, InstBuilder, JumpTableData,
    MemFlagsData, SourceLoc, Type, Value,
};
use cranelift_frontend::{FunctionBuilder, Variable};
use exceptions::{Callee, Clause, LegacyRegion, LegacyTryInfo};
use std::collections::HashMap;
use kiln_abi::{TrapKind, FUNCREF, SEGMENT};
use wasmparser::{BlockType, FunctionBody, Operator};

/// A block on the control stack.
struct Frame {
    kind: FrameKind,
    /// Where `end` (and, except for loops, `br`) continues.
    destination: Block,
    /// Stack height below this block's parameters.
    height: usize,
    params: Vec<Type>,
    results: Vec<Type>,
    /// Whether some branch targets `destination`.
    branched_to: bool,
}

enum FrameKind {
    Block,
    Loop { header: Block },
    If { else_block: Block, else_seen: bool, then_end_reachable: bool, param_values: Vec<Value> },
    /// A `try_table` and its catch clauses (see `exceptions.rs`).
    TryTable { clauses: Vec<Clause> },
    /// A legacy `try`: one handler block per `catch`/`catch_all`.
    LegacyTry { info: LegacyTryInfo, handlers: Vec<(Option<u32>, Block)>, region: LegacyRegion },
}

pub struct FuncTranslator<'b, 'm, 'a> {
    b: FunctionBuilder<'b>,
    env: FuncEnv<'m, 'a>,
    stack: Vec<Value>,
    control: Vec<Frame>,
    locals: Vec<Variable>,
    reachable: bool,
    /// Blocks opened inside dead code, not yet closed.
    unreachable_depth: u32,
    /// Under `-g`, a stack slot per wasm local that every assignment also
    /// stores to, so debuggers find each local at a fixed frame offset for
    /// the whole function (as in unoptimised native code).
    debug_slots: Vec<ir::StackSlot>,
    /// The body being translated (re-read for the legacy `try` pre-scan).
    body: FunctionBody<'a>,
    /// Byte offset of the operator being translated.
    offset: usize,
    /// Legacy `try` blocks of the body, scanned when the first is met.
    legacy_tries: Option<HashMap<usize, LegacyTryInfo>>,
}

fn args(vals: &[Value]) -> Vec<BlockArg> {
    vals.iter().map(|v| BlockArg::Value(*v)).collect()
}

/// Translates one function body into `func`, which must already have its
/// signature. Returns the debug stack slot of each wasm local (empty unless
/// `-g`), or an error for an unreadable body (validation makes that
/// impossible in practice) or an unsupported operator.
pub fn translate_function<'a>(
    func: &mut ir::Function,
    fctx: &mut cranelift_frontend::FunctionBuilderContext,
    env: FuncEnv<'_, 'a>,
    ty: &FuncType,
    body: &FunctionBody<'a>,
) -> Result<Vec<ir::StackSlot>, (usize, String)> {
    let b = FunctionBuilder::new(func, fctx);
    let mut t = FuncTranslator {
        b,
        env,
        stack: vec![],
        control: vec![],
        locals: vec![],
        reachable: true,
        unreachable_depth: 0,
        debug_slots: vec![],
        body: body.clone(),
        offset: 0,
        legacy_tries: None,
    };
    t.env.set_stack_limit(t.b.func);
    t.b.set_srcloc(SourceLoc::new(body.range().start as u32));
    let entry = t.b.create_block();
    t.b.append_block_params_for_function_params(entry);
    t.b.switch_to_block(entry);
    t.b.seal_block(entry);

    // Locals: parameters, then declared locals (zero-initialized).
    let vmctx = t.b.block_params(entry)[0];
    t.env.set_vmctx(vmctx);
    let params: Vec<Value> = t.b.block_params(entry)[2..].to_vec();
    for (p, v) in ty.params.iter().zip(params) {
        let var = t.b.declare_var(clif_type(*p));
        t.b.def_var(var, v);
        t.label_local(t.locals.len() as u32, v);
        t.locals.push(var);
    }
    let mut locals = body.get_locals_reader().map_err(|e| (e.offset() as usize, e.message().to_string()))?;
    for _ in 0..locals.get_count() {
        let (count, vt) = locals.read().map_err(|e| (e.offset() as usize, e.message().to_string()))?;
        let ct = clif_type(vt);
        for _ in 0..count {
            let var = t.b.declare_var(ct);
            let zero = t.zero(ct);
            t.b.def_var(var, zero);
            t.label_local(t.locals.len() as u32, zero);
            t.locals.push(var);
        }
    }

    let results: Vec<Type> = ty.results.iter().map(|r| clif_type(*r)).collect();
    let exit = t.b.create_block();
    for r in &results {
        t.b.append_block_param(exit, *r);
    }
    t.control.push(Frame { kind: FrameKind::Block, destination: exit, height: 0, params: vec![], results, branched_to: false });

    let mut ops = body.get_operators_reader().map_err(|e| (e.offset() as usize, e.message().to_string()))?;
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset().map_err(|e| (e.offset() as usize, e.message().to_string()))?;
        t.b.set_srcloc(SourceLoc::new(offset as u32));
        t.offset = offset as usize;
        t.operator(&op).map_err(|m| (offset as usize, m))?;
    }
    // The final `end` switched to the exit block; return its parameters.
    if t.reachable {
        let vals = std::mem::take(&mut t.stack);
        t.b.ins().return_(&vals);
    }
    let slots = std::mem::take(&mut t.debug_slots);
    t.b.finalize(cranelift_codegen::isa::TargetFrontendConfig {
        default_call_conv: t.env.m.call_conv,
        pointer_width: target_lexicon::PointerWidth::U64,
        page_size_align_log2: 12,
    });
    Ok(slots)
}

impl<'b, 'm, 'a> FuncTranslator<'b, 'm, 'a> {
    /// Under `-g`, mirrors an assignment to wasm local `index` into its
    /// debug stack slot.
    fn label_local(&mut self, index: u32, v: Value) {
        if !self.env.m.debug {
            return;
        }
        while self.debug_slots.len() <= index as usize {
            let slot = self.b.create_sized_stack_slot(ir::StackSlotData::new(ir::StackSlotKind::ExplicitSlot, 16, 4));
            self.debug_slots.push(slot);
        }
        self.b.ins().stack_store(types::I64, v, self.debug_slots[index as usize], 0);
    }

    fn zero(&mut self, t: Type) -> Value {
        match t {
            types::F32 => self.b.ins().f32const(0.0),
            types::F64 => self.b.ins().f64const(0.0),
            types::I8X16 => {
                let c = self.b.func.dfg.constants.insert(vec![0u8; 16].into());
                self.b.ins().vconst(types::I8X16, c)
            }
            _ => self.b.ins().iconst(t, 0),
        }
    }

    fn pop1(&mut self) -> Value {
        self.stack.pop().expect("validated stack")
    }
    fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop1();
        let a = self.pop1();
        (a, b)
    }
    fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop1();
        let (a, b) = self.pop2();
        (a, b, c)
    }
    fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }
    fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }
    fn push(&mut self, v: Value) {
        self.stack.push(v)
    }

    fn block_type(&self, bt: BlockType) -> (Vec<Type>, Vec<Type>) {
        match bt {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (vec![], vec![clif_type(t)]),
            BlockType::FuncType(i) => {
                let ft = &self.env.m.env.types[i as usize];
                (ft.params.iter().map(|t| clif_type(*t)).collect(), ft.results.iter().map(|t| clif_type(*t)).collect())
            }
        }
    }

    fn block_with_params(&mut self, tys: &[Type]) -> Block {
        let blk = self.b.create_block();
        for t in tys {
            self.b.append_block_param(blk, *t);
        }
        blk
    }

    /// Branch target and argument count for a branch of relative `depth`.
    fn branch_target(&mut self, depth: u32) -> (Block, usize) {
        let i = self.control.len() - 1 - depth as usize;
        let f = &mut self.control[i];
        match f.kind {
            FrameKind::Loop { header } => (header, f.params.len()),
            _ => {
                f.branched_to = true;
                (f.destination, f.results.len())
            }
        }
    }

    fn bool_to_i32(&mut self, c: Value) -> Value {
        self.b.ins().uextend(types::I32, c)
    }

    fn icmp(&mut self, cc: IntCC) {
        let (a, b) = self.pop2();
        let c = self.b.ins().icmp(cc, a, b);
        let v = self.bool_to_i32(c);
        self.push(v);
    }

    fn fcmp(&mut self, cc: FloatCC) {
        let (a, b) = self.pop2();
        let c = self.b.ins().fcmp(cc, a, b);
        let v = self.bool_to_i32(c);
        self.push(v);
    }

    fn binop(&mut self, f: impl FnOnce(&mut FunctionBuilder<'b>, Value, Value) -> Value) {
        let (a, b) = self.pop2();
        let v = f(&mut self.b, a, b);
        self.push(v);
    }

    fn unop(&mut self, f: impl FnOnce(&mut FunctionBuilder<'b>, Value) -> Value) {
        let a = self.pop1();
        let v = f(&mut self.b, a);
        self.push(v);
    }

    /// Integer division and remainder with wasm's traps made explicit:
    /// division by zero, and (signed division only) INT_MIN / -1.
    fn divrem(&mut self, signed: bool, rem: bool) {
        let (a, b) = self.pop2();
        let ty = self.b.func.dfg.value_type(a);
        self.b.ins().trapz(b, trap(TrapKind::IntegerDivideByZero));
        let v = match (signed, rem) {
            (false, false) => self.b.ins().udiv(a, b),
            (false, true) => self.b.ins().urem(a, b),
            (true, false) => {
                let min = if ty == types::I32 { i32::MIN as i64 } else { i64::MIN };
                let is_min = self.b.ins().icmp_imm_s(IntCC::Equal, a, min);
                let is_neg1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
                let ovf = self.b.ins().band(is_min, is_neg1);
                self.b.ins().trapnz(ovf, trap(TrapKind::IntegerOverflow));
                self.b.ins().sdiv(a, b)
            }
            (true, true) => {
                // INT_MIN % -1 is 0 in wasm; divide by 1 instead of -1 so no
                // target's remainder instruction can fault on it.
                let is_neg1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
                let one = self.b.ins().iconst(ty, 1);
                let d = self.b.ins().select(is_neg1, one, b);
                self.b.ins().srem(a, d)
            }
        };
        self.push(v);
    }

    fn load(&mut self, memarg: &wasmparser::MemArg, ty: Type, kind: LoadKind) {
        let index = self.pop1();
        let size = match kind {
            LoadKind::Full => ty.bytes(),
            LoadKind::U8 | LoadKind::S8 => 1,
            LoadKind::U16 | LoadKind::S16 => 2,
            LoadKind::U32 | LoadKind::S32 => 4,
        };
        let (addr, off) = self.heap_addr(memarg, index, size);
        let f = self.heap_flags();
        let v = match kind {
            LoadKind::Full => self.b.ins().load(ty, f, addr, off),
            LoadKind::U8 => self.b.ins().uload8(ty, f, addr, off),
            LoadKind::S8 => self.b.ins().sload8(ty, f, addr, off),
            LoadKind::U16 => self.b.ins().uload16(ty, f, addr, off),
            LoadKind::S16 => self.b.ins().sload16(ty, f, addr, off),
            LoadKind::U32 => self.b.ins().uload32(f, addr, off),
            LoadKind::S32 => self.b.ins().sload32(f, addr, off),
        };
        self.push(v);
    }

    fn store(&mut self, memarg: &wasmparser::MemArg, width: u8) {
        let (index, val) = self.pop2();
        let size = if width == 0 { self.b.func.dfg.value_type(val).bytes() } else { width as u32 / 8 };
        let (addr, off) = self.store_addr(memarg, index, size);
        let f = self.heap_flags();
        match width {
            8 => self.b.ins().istore8(f, val, addr, off),
            16 => self.b.ins().istore16(f, val, addr, off),
            32 if self.b.func.dfg.value_type(val) == types::I64 => self.b.ins().istore32(f, val, addr, off),
            _ => self.b.ins().store(f, val, addr, off),
        };
    }

    /// The signature, code pointer and native arguments of a call through
    /// a `kiln_funcref *` known to be non-null and of type `ty`; pops the
    /// wasm arguments.
    fn funcref_call_parts(&mut self, funcref: Value, ty: u32) -> (ir::SigRef, Value, Vec<Value>) {
        let n = self.env.m.env.types[ty as usize].params.len();
        let args = self.popn(n);
        let code = self.b.ins().load(types::I64, readonly_checked(), funcref, FUNCREF.offset("code") as i32);
        let callee_vmctx = self.b.ins().load(types::I64, readonly_checked(), funcref, FUNCREF.offset("vmctx") as i32);
        let caller = self.env.vmctx(&mut self.b);
        let sig = self.env.sig_ref(self.b.func, ty);
        let mut all = vec![callee_vmctx, caller];
        all.extend(args);
        (sig, code, all)
    }

    /// Calls through a `kiln_funcref *` that is known to be non-null and of
    /// the right type.
    fn call_funcref(&mut self, funcref: Value, ty: u32) {
        let (sig, code, all) = self.funcref_call_parts(funcref, ty);
        let results = self.wasm_call(Callee::Indirect(sig, code), &all);
        self.stack.extend(results);
    }

    /// How to call function `index`: an import through its funcref (with
    /// its type), a defined function directly (with the native arguments;
    /// the wasm ones are popped).
    fn call_target(&mut self, index: u32) -> CallTarget {
        let env = self.env.m.env;
        let ty = env.functions[index as usize];
        if index < env.num_imported_funcs {
            return CallTarget::Import(self.env.funcref(&mut self.b, index), ty);
        }
        let args = self.popn(env.types[ty as usize].params.len());
        let f = self.env.func_ref(self.b.func, index);
        let vm = self.env.vmctx(&mut self.b);
        let mut all = vec![vm, vm];
        all.extend(args);
        CallTarget::Direct(f, all)
    }

    /// `return_call` through a `kiln_funcref *` (non-null, of type `ty`):
    /// Cranelift's `return_call_indirect` replaces this frame, so any
    /// depth of tail calls runs in constant stack.
    fn return_call_funcref(&mut self, funcref: Value, ty: u32) {
        let (sig, code, all) = self.funcref_call_parts(funcref, ty);
        self.b.ins().return_call_indirect(sig, code, &all);
        self.reachable = false;
    }

    /// A table index, size or count as the i32 the runtime and
    /// `table_elem_addr` work with (see [`crate::func_env::table_operand`]).
    fn table_operand(&mut self, v: Value) -> Value {
        crate::func_env::table_operand(&mut self.b, v)
    }

    /// The `kiln_funcref *` of table `table_index`'s element `index`,
    /// after `call_indirect`'s checks: in bounds, not null, of type `ty`.
    fn checked_table_funcref(&mut self, table_index: u32, index: Value, ty: u32) -> Value {
        let addr = self.env.table_elem_addr(&mut self.b, table_index, index);
        let fr = self.b.ins().load(types::I64, mutable(), addr, 0);
        self.b.ins().trapz(fr, trap(TrapKind::UninitializedElement));
        let id = self.b.ins().load(types::I64, readonly_checked(), fr, FUNCREF.offset("type_id") as i32);
        let want = self.env.m.type_ids[ty as usize];
        let bad = self.b.ins().icmp_imm_u(IntCC::NotEqual, id, want as i64);
        self.b.ins().trapnz(bad, trap(TrapKind::IndirectCallTypeMismatch));
        fr
    }

    /// `call_ref`'s check: a null reference traps with "null function
    /// reference". Nothing else is checked at run time, and nothing else
    /// needs to be: validation gave the operand the type `(ref null $t)`
    /// of the instruction's immediate, every non-null value of that type
    /// is a `kiln_funcref` of exactly type `$t` (Kiln admits no declared
    /// subtypes, see `TypeInterner`), and a `kiln_funcref` is immutable
    /// static data, so its `code` and `vmctx` loads after the check cannot
    /// fault. Those loads are `readonly_checked`: never hoisted above the
    /// trap.
    fn non_null_funcref(&mut self, fr: Value) -> Value {
        self.b.ins().trapz(fr, trap(TrapKind::NullFunctionReference));
        fr
    }

    fn global_type(&self, index: u32) -> Type {
        clif_type(self.env.m.env.globals[index as usize].ty.content_type)
    }

    fn operator(&mut self, op: &Operator) -> Result<(), String> {
        if !self.reachable {
            return self.dead_operator(op);
        }
        use Operator::*;
        match *op {
            // ---------------------------------------------------------------
            // Control flow
            // ---------------------------------------------------------------
            Nop => {}
            Unreachable => {
                self.b.ins().trap(trap(TrapKind::Unreachable));
                self.reachable = false;
            }
            Block { blockty } => {
                let (params, results) = self.block_type(blockty);
                let dest = self.block_with_params(&results);
                let height = self.stack.len() - params.len();
                self.control.push(Frame { kind: FrameKind::Block, destination: dest, height, params, results, branched_to: false });
            }
            Loop { blockty } => {
                let (params, results) = self.block_type(blockty);
                let header = self.block_with_params(&params);
                let dest = self.block_with_params(&results);
                let vals = self.popn(params.len());
                self.b.ins().jump(header, &args(&vals));
                self.b.switch_to_block(header);
                let hp = self.b.block_params(header).to_vec();
                let height = self.stack.len();
                self.stack.extend(hp);
                self.control.push(Frame { kind: FrameKind::Loop { header }, destination: dest, height, params, results, branched_to: false });
            }
            If { blockty } => {
                let cond = self.pop1();
                let (params, results) = self.block_type(blockty);
                let dest = self.block_with_params(&results);
                let then_block = self.b.create_block();
                let else_block = self.b.create_block();
                self.b.ins().brif(cond, then_block, &[], else_block, &[]);
                self.b.seal_block(then_block);
                self.b.seal_block(else_block);
                self.b.switch_to_block(then_block);
                let height = self.stack.len() - params.len();
                let param_values = self.peekn(params.len()).to_vec();
                self.control.push(Frame {
                    kind: FrameKind::If { else_block, else_seen: false, then_end_reachable: false, param_values },
                    destination: dest,
                    height,
                    params,
                    results,
                    branched_to: false,
                });
            }
            Else => self.translate_else(true),
            End => self.translate_end(true),
            Br { relative_depth } => {
                let (target, n) = self.branch_target(relative_depth);
                let vals = self.peekn(n).to_vec();
                self.b.ins().jump(target, &args(&vals));
                self.reachable = false;
            }
            BrIf { relative_depth } => {
                let cond = self.pop1();
                let (target, n) = self.branch_target(relative_depth);
                let vals = self.peekn(n).to_vec();
                let next = self.b.create_block();
                self.b.ins().brif(cond, target, &args(&vals), next, &[]);
                self.b.seal_block(next);
                self.b.switch_to_block(next);
            }
            BrTable { ref targets } => {
                let index = self.pop1();
                let depths: Vec<u32> = targets.targets().collect::<Result<_, _>>().map_err(|e| e.to_string())?;
                let default = targets.default();
                // Every target gets an edge block that passes the branch
                // arguments, so the jump table itself carries none.
                let mut edges = std::collections::HashMap::new();
                let mut edge_for = |t: &mut Self, depth: u32| -> ir::Block {
                    *edges.entry(depth).or_insert_with(|| {
                        let e = t.b.create_block();
                        e
                    })
                };
                let table: Vec<ir::Block> = depths.iter().map(|d| edge_for(self, *d)).collect();
                let def = edge_for(self, default);
                let jt_calls: Vec<_> = table.iter().map(|blk| self.b.func.dfg.block_call(*blk, &[])).collect();
                let def_call = self.b.func.dfg.block_call(def, &[]);
                let jt = self.b.create_jump_table(JumpTableData::new(def_call, &jt_calls));
                self.b.ins().br_table(index, jt);
                let mut pairs: Vec<(u32, ir::Block)> = edges.into_iter().collect();
                pairs.sort_by_key(|(d, _)| *d);
                for (depth, edge) in pairs {
                    self.b.seal_block(edge);
                    self.b.switch_to_block(edge);
                    let (target, n) = self.branch_target(depth);
                    let vals = self.peekn(n).to_vec();
                    self.b.ins().jump(target, &args(&vals));
                }
                self.reachable = false;
            }
            Return => {
                let n = self.control[0].results.len();
                let vals = self.peekn(n).to_vec();
                self.b.ins().return_(&vals);
                self.reachable = false;
            }
            Call { function_index } => match self.call_target(function_index) {
                CallTarget::Import(fr, ty) => self.call_funcref(fr, ty),
                CallTarget::Direct(f, all) => {
                    let results = self.wasm_call(Callee::Direct(f), &all);
                    self.stack.extend(results);
                }
            },
            CallIndirect { type_index, table_index } => {
                let index = self.pop1();
                let index = self.table_operand(index);
                let fr = self.checked_table_funcref(table_index, index, type_index);
                self.call_funcref(fr, type_index);
            }
            // Tail calls: the callee replaces this frame (wasm functions use
            // Cranelift's `tail` convention). Handlers of an enclosing
            // try_table do not apply to the callee, as wasm specifies.
            ReturnCall { function_index } => match self.call_target(function_index) {
                CallTarget::Import(fr, ty) => self.return_call_funcref(fr, ty),
                CallTarget::Direct(f, all) => {
                    self.b.ins().return_call(f, &all);
                    self.reachable = false;
                }
            },
            ReturnCallIndirect { type_index, table_index } => {
                let index = self.pop1();
                let index = self.table_operand(index);
                let fr = self.checked_table_funcref(table_index, index, type_index);
                self.return_call_funcref(fr, type_index);
            }

            // ---------------------------------------------------------------
            // Typed function references
            // ---------------------------------------------------------------
            CallRef { type_index } => {
                let fr = self.pop1();
                let fr = self.non_null_funcref(fr);
                self.call_funcref(fr, type_index);
            }
            ReturnCallRef { type_index } => {
                let fr = self.pop1();
                let fr = self.non_null_funcref(fr);
                self.return_call_funcref(fr, type_index);
            }
            RefAsNonNull => {
                let r = self.pop1();
                self.b.ins().trapz(r, trap(TrapKind::NullReference));
                self.push(r);
            }
            BrOnNull { relative_depth } => {
                // Null: branch with the operands below the reference (the
                // reference is dropped). Non-null: fall through with it.
                let r = self.pop1();
                let (target, n) = self.branch_target(relative_depth);
                let vals = self.peekn(n).to_vec();
                let next = self.b.create_block();
                self.b.ins().brif(r, next, &[], target, &args(&vals));
                self.b.seal_block(next);
                self.b.switch_to_block(next);
                self.push(r);
            }
            BrOnNonNull { relative_depth } => {
                // Non-null: branch with the operands and the reference, the
                // label's last value. Null: fall through without it.
                let r = self.pop1();
                let (target, n) = self.branch_target(relative_depth);
                let mut vals = self.peekn(n - 1).to_vec();
                vals.push(r);
                let next = self.b.create_block();
                self.b.ins().brif(r, target, &args(&vals), next, &[]);
                self.b.seal_block(next);
                self.b.switch_to_block(next);
            }

            // ---------------------------------------------------------------
            // Exceptions (exceptions.rs): Wasm 3.0 and the legacy encoding
            // ---------------------------------------------------------------
            Throw { .. }
            | ThrowRef
            | TryTable { .. }
            | Try { .. }
            | Catch { .. }
            | CatchAll
            | Delegate { .. }
            | Rethrow { .. } => {
                self.exception_operator(op)?;
            }

            // ---------------------------------------------------------------
            // Parametric
            // ---------------------------------------------------------------
            Drop => {
                self.pop1();
            }
            Select | TypedSelect { .. } => {
                let (a, b, c) = self.pop3();
                let v = self.b.ins().select(c, a, b);
                self.push(v);
            }

            // ---------------------------------------------------------------
            // Locals and globals
            // ---------------------------------------------------------------
            LocalGet { local_index } => {
                let v = self.b.use_var(self.locals[local_index as usize]);
                self.push(v);
            }
            LocalSet { local_index } => {
                let v = self.pop1();
                self.b.def_var(self.locals[local_index as usize], v);
                self.label_local(local_index, v);
            }
            LocalTee { local_index } => {
                let v = *self.stack.last().expect("validated stack");
                self.b.def_var(self.locals[local_index as usize], v);
                self.label_local(local_index, v);
            }
            GlobalGet { global_index } => {
                let v = match self.env.m.constant_global(global_index) {
                    Some(I32Const { value }) => self.b.ins().iconst(types::I32, value as i64),
                    Some(I64Const { value }) => self.b.ins().iconst(types::I64, value),
                    Some(F32Const { value }) => self.b.ins().f32const(f32::from_bits(value.bits())),
                    Some(F64Const { value }) => self.b.ins().f64const(f64::from_bits(value.bits())),
                    Some(V128Const { value }) => self.v128_const(value.bytes()),
                    _ => {
                        let ty = self.global_type(global_index);
                        let addr = self.env.global_addr(&mut self.b, global_index);
                        self.b.ins().load(ty, mutable(), addr, 0)
                    }
                };
                self.push(v);
            }
            GlobalSet { global_index } => {
                let v = self.pop1();
                let addr = self.env.global_addr(&mut self.b, global_index);
                self.b.ins().store(mutable(), v, addr, 0);
            }

            // ---------------------------------------------------------------
            // Memory
            // ---------------------------------------------------------------
            I32Load { ref memarg } => self.load(memarg, types::I32, LoadKind::Full),
            I64Load { ref memarg } => self.load(memarg, types::I64, LoadKind::Full),
            F32Load { ref memarg } => self.load(memarg, types::F32, LoadKind::Full),
            F64Load { ref memarg } => self.load(memarg, types::F64, LoadKind::Full),
            I32Load8S { ref memarg } => self.load(memarg, types::I32, LoadKind::S8),
            I32Load8U { ref memarg } => self.load(memarg, types::I32, LoadKind::U8),
            I32Load16S { ref memarg } => self.load(memarg, types::I32, LoadKind::S16),
            I32Load16U { ref memarg } => self.load(memarg, types::I32, LoadKind::U16),
            I64Load8S { ref memarg } => self.load(memarg, types::I64, LoadKind::S8),
            I64Load8U { ref memarg } => self.load(memarg, types::I64, LoadKind::U8),
            I64Load16S { ref memarg } => self.load(memarg, types::I64, LoadKind::S16),
            I64Load16U { ref memarg } => self.load(memarg, types::I64, LoadKind::U16),
            I64Load32S { ref memarg } => self.load(memarg, types::I64, LoadKind::S32),
            I64Load32U { ref memarg } => self.load(memarg, types::I64, LoadKind::U32),
            I32Store { ref memarg } | I64Store { ref memarg } | F32Store { ref memarg } | F64Store { ref memarg } => {
                self.store(memarg, 0)
            }
            I32Store8 { ref memarg } | I64Store8 { ref memarg } => self.store(memarg, 8),
            I32Store16 { ref memarg } | I64Store16 { ref memarg } => self.store(memarg, 16),
            I64Store32 { ref memarg } => self.store(memarg, 32),
            MemorySize { mem } => {
                let plan = self.env.m.memories[mem as usize];
                let len = self.env.memory_length(&mut self.b, mem);
                let pages = self.b.ins().ushr_imm_u(len, plan.page_size_log2 as i64);
                let v = if plan.is64 { pages } else { self.b.ins().ireduce(types::I32, pages) };
                self.push(v);
            }
            MemoryGrow { mem } => {
                // The runtime takes and returns 64-bit page counts (-1 as
                // UINT64_MAX), which truncate to i32 -1 for 32-bit memories.
                let plan = self.env.m.memories[mem as usize];
                let delta = self.pop1();
                let delta = self.heap_index64(mem, delta);
                let m = self.env.memory_ptr(&mut self.b, mem);
                let id = self.env.m.runtime.memory_grow;
                let v = self.env.call_runtime(&mut self.b, id, &[m, delta]);
                let v = if plan.is64 { v } else { self.b.ins().ireduce(types::I32, v) };
                self.push(v);
            }
            MemoryFill { mem } => {
                let (dst, val, len) = self.pop3();
                let (dst, len) = (self.heap_index64(mem, dst), self.heap_index64(mem, len));
                self.memory_fill(mem, dst, val, len);
            }
            MemoryCopy { dst_mem, src_mem } => {
                // Operands have the index types of their memories; `len`
                // is 64-bit only when both are (memory64's rule).
                let (dst, src, len) = self.pop3();
                let dst = self.heap_index64(dst_mem, dst);
                let src = self.heap_index64(src_mem, src);
                let len = if self.b.func.dfg.value_type(len) == types::I64 { len } else { self.b.ins().uextend(types::I64, len) };
                self.memory_copy(dst_mem, src_mem, dst, src, len);
            }
            MemoryInit { data_index, mem } => {
                let (dst, src, len) = self.pop3();
                let dst = self.heap_index64(mem, dst);
                let m = self.env.memory_ptr(&mut self.b, mem);
                let seg = self.env.data_segment(&mut self.b, data_index);
                let id = self.env.m.runtime.memory_init;
                self.env.call_checked(&mut self.b, id, &[m, seg, dst, src, len], TrapKind::MemoryOutOfBounds);
            }
            DataDrop { data_index } => {
                let seg = self.env.data_segment(&mut self.b, data_index);
                let zero = self.b.ins().iconst(types::I64, 0);
                self.b.ins().store(mutable(), zero, seg, SEGMENT.offset("length") as i32);
            }

            // ---------------------------------------------------------------
            // Tables and references
            // ---------------------------------------------------------------
            TableGet { table } => {
                let index = self.pop1();
                let index = self.table_operand(index);
                let addr = self.env.table_elem_addr(&mut self.b, table, index);
                let v = self.b.ins().load(types::I64, mutable(), addr, 0);
                self.push(v);
            }
            TableSet { table } => {
                let (index, val) = self.pop2();
                let index = self.table_operand(index);
                let addr = self.env.table_elem_addr(&mut self.b, table, index);
                self.b.ins().store(mutable(), val, addr, 0);
            }
            TableSize { table } => {
                let t = self.env.table_ptr(&mut self.b, table);
                let v = self.env.table_size(&mut self.b, t);
                let v = if self.env.m.env.tables[table as usize].table64 { self.b.ins().uextend(types::I64, v) } else { v };
                self.push(v);
            }
            TableGrow { table } => {
                let (init, delta) = self.pop2();
                let delta = self.table_operand(delta);
                let t = self.env.table_ptr(&mut self.b, table);
                let id = self.env.m.runtime.table_grow;
                let v = self.env.call_runtime(&mut self.b, id, &[t, init, delta]);
                let v = if self.env.m.env.tables[table as usize].table64 {
                    // The old size (< 2^32), or -1 as a 64-bit -1.
                    let failed = self.b.ins().icmp_imm_s(IntCC::Equal, v, -1);
                    let minus1 = self.b.ins().iconst(types::I64, -1);
                    let old = self.b.ins().uextend(types::I64, v);
                    self.b.ins().select(failed, minus1, old)
                } else {
                    v
                };
                self.push(v);
            }
            TableFill { table } => {
                let (dst, val, len) = self.pop3();
                let (dst, len) = (self.table_operand(dst), self.table_operand(len));
                let t = self.env.table_ptr(&mut self.b, table);
                let id = self.env.m.runtime.table_fill;
                self.env.call_checked(&mut self.b, id, &[t, dst, val, len], TrapKind::TableOutOfBounds);
            }
            TableCopy { dst_table, src_table } => {
                let (dst, src, len) = self.pop3();
                let (dst, src, len) = (self.table_operand(dst), self.table_operand(src), self.table_operand(len));
                let dt = self.env.table_ptr(&mut self.b, dst_table);
                let st = self.env.table_ptr(&mut self.b, src_table);
                let id = self.env.m.runtime.table_copy;
                self.env.call_checked(&mut self.b, id, &[dt, st, dst, src, len], TrapKind::TableOutOfBounds);
            }
            TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                let dst = self.table_operand(dst);
                let t = self.env.table_ptr(&mut self.b, table);
                let seg = self.env.elem_segment(&mut self.b, elem_index);
                let id = self.env.m.runtime.table_init;
                self.env.call_checked(&mut self.b, id, &[t, seg, dst, src, len], TrapKind::TableOutOfBounds);
            }
            ElemDrop { elem_index } => {
                let seg = self.env.elem_segment(&mut self.b, elem_index);
                let zero = self.b.ins().iconst(types::I64, 0);
                self.b.ins().store(mutable(), zero, seg, SEGMENT.offset("length") as i32);
            }
            RefNull { .. } => {
                let v = self.b.ins().iconst(types::I64, 0);
                self.push(v);
            }
            RefIsNull => {
                let r = self.pop1();
                let c = self.b.ins().icmp_imm_u(IntCC::Equal, r, 0);
                let v = self.bool_to_i32(c);
                self.push(v);
            }
            RefFunc { function_index } => {
                let v = self.env.funcref(&mut self.b, function_index);
                self.push(v);
            }

            // ---------------------------------------------------------------
            // Constants
            // ---------------------------------------------------------------
            I32Const { value } => {
                let v = self.b.ins().iconst(types::I32, value as i64);
                self.push(v);
            }
            I64Const { value } => {
                let v = self.b.ins().iconst(types::I64, value);
                self.push(v);
            }
            F32Const { value } => {
                let v = self.b.ins().f32const(f32::from_bits(value.bits()));
                self.push(v);
            }
            F64Const { value } => {
                let v = self.b.ins().f64const(f64::from_bits(value.bits()));
                self.push(v);
            }

            // ---------------------------------------------------------------
            // Integer arithmetic
            // ---------------------------------------------------------------
            I32Eqz | I64Eqz => {
                let a = self.pop1();
                let c = self.b.ins().icmp_imm_u(IntCC::Equal, a, 0);
                let v = self.bool_to_i32(c);
                self.push(v);
            }
            I32Eq | I64Eq => self.icmp(IntCC::Equal),
            I32Ne | I64Ne => self.icmp(IntCC::NotEqual),
            I32LtS | I64LtS => self.icmp(IntCC::SignedLessThan),
            I32LtU | I64LtU => self.icmp(IntCC::UnsignedLessThan),
            I32GtS | I64GtS => self.icmp(IntCC::SignedGreaterThan),
            I32GtU | I64GtU => self.icmp(IntCC::UnsignedGreaterThan),
            I32LeS | I64LeS => self.icmp(IntCC::SignedLessThanOrEqual),
            I32LeU | I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual),
            I32GeS | I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual),
            I32GeU | I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual),
            I32Clz | I64Clz => self.unop(|b, a| b.ins().clz(a)),
            I32Ctz | I64Ctz => self.unop(|b, a| b.ins().ctz(a)),
            I32Popcnt | I64Popcnt => self.unop(|b, a| b.ins().popcnt(a)),
            I32Add | I64Add => self.binop(|b, x, y| b.ins().iadd(x, y)),
            I32Sub | I64Sub => self.binop(|b, x, y| b.ins().isub(x, y)),
            I32Mul | I64Mul => self.binop(|b, x, y| b.ins().imul(x, y)),
            I32DivS | I64DivS => self.divrem(true, false),
            I32DivU | I64DivU => self.divrem(false, false),
            I32RemS | I64RemS => self.divrem(true, true),
            I32RemU | I64RemU => self.divrem(false, true),
            I32And | I64And => self.binop(|b, x, y| b.ins().band(x, y)),
            I32Or | I64Or => self.binop(|b, x, y| b.ins().bor(x, y)),
            I32Xor | I64Xor => self.binop(|b, x, y| b.ins().bxor(x, y)),
            // Cranelift takes shift and rotate amounts modulo the bit width,
            // exactly as wasm does.
            I32Shl | I64Shl => self.binop(|b, x, y| b.ins().ishl(x, y)),
            I32ShrS | I64ShrS => self.binop(|b, x, y| b.ins().sshr(x, y)),
            I32ShrU | I64ShrU => self.binop(|b, x, y| b.ins().ushr(x, y)),
            I32Rotl | I64Rotl => self.binop(|b, x, y| b.ins().rotl(x, y)),
            I32Rotr | I64Rotr => self.binop(|b, x, y| b.ins().rotr(x, y)),

            // Wide arithmetic: 128-bit results as (low, high) i64 pairs,
            // through Cranelift's i128 operations.
            I64Add128 | I64Sub128 => {
                let (a_hi, b_lo, b_hi) = self.pop3();
                let a_lo = self.pop1();
                let a = self.b.ins().iconcat(a_lo, a_hi);
                let b = self.b.ins().iconcat(b_lo, b_hi);
                let r = if matches!(op, I64Add128) { self.b.ins().iadd(a, b) } else { self.b.ins().isub(a, b) };
                let (lo, hi) = self.b.ins().isplit(r);
                self.push(lo);
                self.push(hi);
            }
            I64MulWideS | I64MulWideU => {
                let (a, b) = self.pop2();
                let (a, b) = if matches!(op, I64MulWideS) {
                    (self.b.ins().sextend(types::I128, a), self.b.ins().sextend(types::I128, b))
                } else {
                    (self.b.ins().uextend(types::I128, a), self.b.ins().uextend(types::I128, b))
                };
                let r = self.b.ins().imul(a, b);
                let (lo, hi) = self.b.ins().isplit(r);
                self.push(lo);
                self.push(hi);
            }

            // ---------------------------------------------------------------
            // Floating point
            // ---------------------------------------------------------------
            F32Eq | F64Eq => self.fcmp(FloatCC::Equal),
            F32Ne | F64Ne => self.fcmp(FloatCC::NotEqual),
            F32Lt | F64Lt => self.fcmp(FloatCC::LessThan),
            F32Gt | F64Gt => self.fcmp(FloatCC::GreaterThan),
            F32Le | F64Le => self.fcmp(FloatCC::LessThanOrEqual),
            F32Ge | F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual),
            F32Abs | F64Abs => self.unop(|b, a| b.ins().fabs(a)),
            F32Neg | F64Neg => self.unop(|b, a| b.ins().fneg(a)),
            F32Ceil | F64Ceil => self.unop(|b, a| b.ins().ceil(a)),
            F32Floor | F64Floor => self.unop(|b, a| b.ins().floor(a)),
            F32Trunc | F64Trunc => self.unop(|b, a| b.ins().trunc(a)),
            F32Nearest | F64Nearest => self.unop(|b, a| b.ins().nearest(a)),
            F32Sqrt | F64Sqrt => self.unop(|b, a| b.ins().sqrt(a)),
            F32Add | F64Add => self.binop(|b, x, y| b.ins().fadd(x, y)),
            F32Sub | F64Sub => self.binop(|b, x, y| b.ins().fsub(x, y)),
            F32Mul | F64Mul => self.binop(|b, x, y| b.ins().fmul(x, y)),
            F32Div | F64Div => self.binop(|b, x, y| b.ins().fdiv(x, y)),
            F32Min | F64Min => self.binop(|b, x, y| b.ins().fmin(x, y)),
            F32Max | F64Max => self.binop(|b, x, y| b.ins().fmax(x, y)),
            F32Copysign | F64Copysign => self.binop(|b, x, y| b.ins().fcopysign(x, y)),

            // ---------------------------------------------------------------
            // Conversions
            // ---------------------------------------------------------------
            I32WrapI64 => self.unop(|b, a| b.ins().ireduce(types::I32, a)),
            I64ExtendI32S => self.unop(|b, a| b.ins().sextend(types::I64, a)),
            I64ExtendI32U => self.unop(|b, a| b.ins().uextend(types::I64, a)),
            // fcvt_to_*int traps "invalid conversion to integer" on NaN and
            // "integer overflow" out of range, as wasm requires.
            I32TruncF32S | I32TruncF64S => self.unop(|b, a| b.ins().fcvt_to_sint(types::I32, a)),
            I32TruncF32U | I32TruncF64U => self.unop(|b, a| b.ins().fcvt_to_uint(types::I32, a)),
            I64TruncF32S | I64TruncF64S => self.unop(|b, a| b.ins().fcvt_to_sint(types::I64, a)),
            I64TruncF32U | I64TruncF64U => self.unop(|b, a| b.ins().fcvt_to_uint(types::I64, a)),
            I32TruncSatF32S | I32TruncSatF64S => self.unop(|b, a| b.ins().fcvt_to_sint_sat(types::I32, a)),
            I32TruncSatF32U | I32TruncSatF64U => self.unop(|b, a| b.ins().fcvt_to_uint_sat(types::I32, a)),
            I64TruncSatF32S | I64TruncSatF64S => self.unop(|b, a| b.ins().fcvt_to_sint_sat(types::I64, a)),
            I64TruncSatF32U | I64TruncSatF64U => self.unop(|b, a| b.ins().fcvt_to_uint_sat(types::I64, a)),
            F32ConvertI32S | F32ConvertI64S => self.unop(|b, a| b.ins().fcvt_from_sint(types::F32, a)),
            F32ConvertI32U | F32ConvertI64U => self.unop(|b, a| b.ins().fcvt_from_uint(types::F32, a)),
            F64ConvertI32S | F64ConvertI64S => self.unop(|b, a| b.ins().fcvt_from_sint(types::F64, a)),
            F64ConvertI32U | F64ConvertI64U => self.unop(|b, a| b.ins().fcvt_from_uint(types::F64, a)),
            F32DemoteF64 => self.unop(|b, a| b.ins().fdemote(types::F32, a)),
            F64PromoteF32 => self.unop(|b, a| b.ins().fpromote(types::F64, a)),
            I32ReinterpretF32 => self.unop(|b, a| b.ins().bitcast(types::I32, MemFlagsData::new(), a)),
            I64ReinterpretF64 => self.unop(|b, a| b.ins().bitcast(types::I64, MemFlagsData::new(), a)),
            F32ReinterpretI32 => self.unop(|b, a| b.ins().bitcast(types::F32, MemFlagsData::new(), a)),
            F64ReinterpretI64 => self.unop(|b, a| b.ins().bitcast(types::F64, MemFlagsData::new(), a)),
            I32Extend8S => self.unop(|b, a| {
                let n = b.ins().ireduce(types::I8, a);
                b.ins().sextend(types::I32, n)
            }),
            I32Extend16S => self.unop(|b, a| {
                let n = b.ins().ireduce(types::I16, a);
                b.ins().sextend(types::I32, n)
            }),
            I64Extend8S => self.unop(|b, a| {
                let n = b.ins().ireduce(types::I8, a);
                b.ins().sextend(types::I64, n)
            }),
            I64Extend16S => self.unop(|b, a| {
                let n = b.ins().ireduce(types::I16, a);
                b.ins().sextend(types::I64, n)
            }),
            I64Extend32S => self.unop(|b, a| {
                let n = b.ins().ireduce(types::I32, a);
                b.ins().sextend(types::I64, n)
            }),

            // SIMD and relaxed SIMD (`simd.rs`), which also reports any other
            // operator as unsupported.
            // The atomic family (atomics.rs), then the SIMD family (simd.rs),
            // which reports anything else as unsupported.
            ref other => {
                if self.atomic_operator(other)? {
                    return Ok(());
                }
                return self.simd_operator(other);
            }
        }
        Ok(())
    }

    /// Dead code: only nesting matters until the block that made it dead
    /// ends (or reaches its `else`).
    fn dead_operator(&mut self, op: &Operator) -> Result<(), String> {
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. }
            | Operator::Try { .. } => self.unreachable_depth += 1,
            Operator::Else if self.unreachable_depth == 0 => self.translate_else(false),
            Operator::Catch { .. } | Operator::CatchAll if self.unreachable_depth == 0 => self.translate_catch(false),
            Operator::End | Operator::Delegate { .. } if self.unreachable_depth == 0 => self.translate_end(false),
            Operator::End | Operator::Delegate { .. } => self.unreachable_depth -= 1,
            _ => {}
        }
        Ok(())
    }

    fn translate_else(&mut self, reachable: bool) {
        let frame = self.control.last_mut().expect("validated: else inside if");
        let FrameKind::If { else_block, else_seen, then_end_reachable, param_values } = &mut frame.kind else {
            unreachable!("validated: else follows if")
        };
        if reachable {
            let n = frame.results.len();
            let vals = self.stack[self.stack.len() - n..].to_vec();
            self.b.ins().jump(frame.destination, &args(&vals));
            frame.branched_to = true;
        }
        *else_seen = true;
        *then_end_reachable = reachable;
        let else_block = *else_block;
        let params = param_values.clone();
        let height = frame.height;
        self.stack.truncate(height);
        self.stack.extend(params);
        self.b.switch_to_block(else_block);
        self.reachable = true;
    }

    fn translate_end(&mut self, reachable: bool) {
        let frame = self.control.pop().expect("validated: end matches a block");
        if reachable {
            let n = frame.results.len();
            let vals = self.stack[self.stack.len() - n..].to_vec();
            self.b.ins().jump(frame.destination, &args(&vals));
        }
        let mut dest_reachable = reachable || frame.branched_to;
        match frame.kind {
            FrameKind::Loop { header } => self.b.seal_block(header),
            FrameKind::If { else_block, else_seen: false, param_values, .. } => {
                // No else: the false edge forwards the parameters as results.
                self.b.switch_to_block(else_block);
                self.b.ins().jump(frame.destination, &args(&param_values));
                dest_reachable = true;
            }
            FrameKind::TryTable { clauses } => self.finish_try_table(clauses),
            FrameKind::LegacyTry { handlers, region: LegacyRegion::Body, .. } => {
                // A `try` with no catch reached (`try ... end` or
                // `delegate`): its handler blocks, if any, are unused.
                for (_, block) in handlers {
                    self.b.seal_block(block);
                }
            }
            _ => {}
        }
        self.b.seal_block(frame.destination);
        self.b.switch_to_block(frame.destination);
        self.stack.truncate(frame.height);
        let results = self.b.block_params(frame.destination).to_vec();
        self.stack.extend(results);
        self.reachable = dest_reachable;
    }
}

/// See `FuncTranslator::call_target`.
enum CallTarget {
    Import(Value, u32),
    Direct(ir::FuncRef, Vec<Value>),
}

#[derive(Clone, Copy)]
enum LoadKind {
    Full,
    U8,
    S8,
    U16,
    S16,
    U32,
    S32,
}
