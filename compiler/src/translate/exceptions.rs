//! Exception handling: `throw`, `throw_ref`, `try_table` (Wasm 3.0) and the
//! legacy `try`/`catch`/`catch_all`/`rethrow`/`delegate` encoding.
//!
//! The design is zero-cost, table-driven unwinding, as native C++ has:
//!
//! - A call made while handlers are active (inside a `try_table`, or the
//!   body of a legacy `try`) becomes a Cranelift `try_call` whose exception
//!   table lists those handlers, innermost first, in the order wasm tries
//!   them (see [`FuncTranslator::active_handlers`]). Cranelift records them
//!   per call site; `codegen/data.rs` writes them next to the call-site
//!   table. A call outside any handler stays a plain `call`: code that
//!   never throws pays nothing.
//! - `throw` allocates an exception object (`kiln_rt_exn_new`), stores the
//!   payload into its 16-byte cells and calls `kiln_rt_throw`; `throw_ref`
//!   and `rethrow` call `kiln_rt_throw` on an existing object. Those calls
//!   are `try_call`s too, so a handler in the same function catches them.
//! - The runtime (`runtime-lib/c/unwind.c`) walks frame pointers from the
//!   throw, finds the first call site with a matching handler, restores SP
//!   and FP and jumps to the handler with the exception pointer in the
//!   first payload register (Cranelift's exception ABI: all registers are
//!   clobbered on the exceptional edge, so nothing else is restored).
//! - A handler block receives that pointer, loads what its clause delivers
//!   (payload values, and the `exnref` itself for `*_ref` clauses) and
//!   branches to the clause's label.
//!
//! Exception objects are freed only where no reference to them can exist:
//! a `catch` or `catch_all` handler (which delivers no `exnref`) frees the
//! object after reading its payload, unless it was marked escaped: a
//! `catch_ref`/`catch_all_ref` clause marks it before handing the `exnref`
//! to wasm, and so does a legacy `catch` (its `rethrow` needs the object for
//! the whole clause). An escaped object is never freed: wasm may keep it in
//! any local, global or table, and the runtime does not trace those.
//!
//! Cranelift matches tags only as metadata: the runtime does the matching,
//! by tag identity, trying handlers in the emitted order. Clauses after a
//! catch-all can never match, so they are not emitted (Cranelift's own
//! reading of a catch-all is "only when nothing else matches").

use super::{args, Frame, FrameKind, FuncTranslator};
use crate::func_env::{clif_type, mutable, trap};
use cranelift_codegen::ir::{
    self, types, BlockArg, ExceptionTableData, ExceptionTableItem, InstBuilder, Type, Value,
};
use cranelift_frontend::Variable;
use kiln_abi::{TrapKind, EXN, EXN_ESCAPED, EXN_VALUES_OFFSET, GLOBAL_CELL_SIZE};
use std::collections::HashMap;
use wasmparser::{Catch, FunctionBody, Operator};

/// One clause of a `try_table`, and the handler block that implements it.
pub(super) struct Clause {
    /// `None` for `catch_all` / `catch_all_ref`.
    pub tag: Option<u32>,
    /// Whether the clause also delivers the `exnref` (`catch_ref`, `catch_all_ref`).
    pub with_ref: bool,
    /// The label, relative to the context *outside* the `try_table`.
    pub label: u32,
    pub block: ir::Block,
    /// Whether some call site targets the handler (else it is not emitted).
    pub used: bool,
}

/// What a legacy `try` has, found by a pre-scan of the function body
/// because its calls need their handlers before the `catch` clauses are
/// reached.
#[derive(Default, Clone)]
pub(super) struct LegacyTryInfo {
    /// Tag of each `catch` in order; `None` for `catch_all`.
    pub catches: Vec<Option<u32>>,
    /// `delegate` label, when the `try` ends with one.
    pub delegate: Option<u32>,
}

/// Where translation is inside a legacy `try`.
pub(super) enum LegacyRegion {
    /// The protected body: its handlers are active.
    Body,
    /// Catch clause number `index`; `exn` holds the caught exception for
    /// `rethrow`.
    Catch { index: usize, exn: Variable },
}

/// The callee of a call that may throw.
pub(super) enum Callee {
    Direct(ir::FuncRef),
    Indirect(ir::SigRef, Value),
}

/// Pre-scans a function body for legacy `try` blocks, keyed by the byte
/// offset of each `try` operator. Empty when the body has none.
pub(super) fn scan_legacy_tries(body: &FunctionBody) -> wasmparser::Result<HashMap<usize, LegacyTryInfo>> {
    let mut found = HashMap::new();
    // One entry per open block: the offset of a `try`, else None.
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset()?;
        let offset = offset as usize;
        match op {
            Operator::Try { .. } => {
                found.insert(offset, LegacyTryInfo::default());
                open.push(Some(offset));
            }
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } | Operator::TryTable { .. } => {
                open.push(None)
            }
            Operator::Catch { tag_index } => {
                if let Some(Some(at)) = open.last() {
                    found.get_mut(at).expect("recorded").catches.push(Some(tag_index));
                }
            }
            Operator::CatchAll => {
                if let Some(Some(at)) = open.last() {
                    found.get_mut(at).expect("recorded").catches.push(None);
                }
            }
            Operator::Delegate { relative_depth } => {
                if let Some(Some(at)) = open.pop() {
                    found.get_mut(&at).expect("recorded").delegate = Some(relative_depth);
                }
            }
            Operator::End => {
                open.pop();
            }
            _ => {}
        }
    }
    Ok(found)
}

impl FuncTranslator<'_, '_, '_> {
    /// The handlers active at this point, innermost first, as (module tag
    /// index or `None` for catch-all, handler block). Marks each as used.
    fn active_handlers(&mut self) -> Vec<(Option<u32>, ir::Block)> {
        let mut out: Vec<(Option<u32>, ir::Block)> = Vec::new();
        let mut i = self.control.len();
        'frames: while i > 0 {
            i -= 1;
            match &mut self.control[i].kind {
                FrameKind::TryTable { clauses } => {
                    for c in clauses.iter_mut() {
                        // A tag already handled further in wins; wasm never
                        // reaches the second clause for it.
                        if c.tag.is_some() && out.iter().any(|(t, _)| *t == c.tag) {
                            continue;
                        }
                        c.used = true;
                        out.push((c.tag, c.block));
                        if c.tag.is_none() {
                            break 'frames;
                        }
                    }
                }
                FrameKind::LegacyTry { info, handlers, region: LegacyRegion::Body, .. } => {
                    if let Some(depth) = info.delegate {
                        // `delegate L`: the body's exceptions go on as if
                        // thrown at label L, i.e. from frame i - 1 - L
                        // outwards (the loop's decrement does the 1).
                        i -= depth as usize;
                        continue;
                    }
                    for (tag, block) in handlers.iter() {
                        if tag.is_some() && out.iter().any(|(t, _)| t == tag) {
                            continue;
                        }
                        out.push((*tag, *block));
                        if tag.is_none() {
                            break 'frames;
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Emits a call that may throw: a plain `call` when no handler is
    /// active, else a `try_call` whose exceptional edges lead to the active
    /// handlers. Returns the call's results (translation continues in the
    /// normal-return block).
    pub(super) fn wasm_call(&mut self, callee: Callee, call_args: &[Value]) -> Vec<Value> {
        let handlers = self.active_handlers();
        if handlers.is_empty() {
            let call = match callee {
                Callee::Direct(f) => self.b.ins().call(f, call_args),
                Callee::Indirect(sig, code) => self.b.ins().call_indirect(sig, code, call_args),
            };
            return self.b.inst_results(call).to_vec();
        }
        let sig = match callee {
            Callee::Direct(f) => self.b.func.dfg.ext_funcs[f].signature,
            Callee::Indirect(sig, _) => sig,
        };
        let result_types: Vec<Type> = self.b.func.dfg.signatures[sig].returns.iter().map(|r| r.value_type).collect();
        let cont = self.b.create_block();
        for t in &result_types {
            self.b.append_block_param(cont, *t);
        }
        let rets: Vec<BlockArg> = (0..result_types.len() as u32).map(BlockArg::TryCallRet).collect();
        let normal = self.b.func.dfg.block_call(cont, &rets);
        let items: Vec<ExceptionTableItem> = handlers
            .iter()
            .map(|(tag, block)| {
                let call = self.b.func.dfg.block_call(*block, &[BlockArg::TryCallExn(0)]);
                match tag {
                    Some(t) => ExceptionTableItem::Tag(ir::ExceptionTag::from_u32(*t), call),
                    None => ExceptionTableItem::Default(call),
                }
            })
            .collect();
        let table = self.b.func.dfg.exception_tables.push(ExceptionTableData::new(sig, normal, items));
        match callee {
            Callee::Direct(f) => self.b.ins().try_call(f, call_args, table),
            Callee::Indirect(_, code) => self.b.ins().try_call_indirect(code, call_args, table),
        };
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
        self.b.block_params(cont).to_vec()
    }

    /// Throws the exception object `exn` from here: a call to the runtime
    /// that does not return.
    fn throw_exn(&mut self, exn: Value) {
        let vm = self.env.vmctx(&mut self.b);
        let f = self.env.runtime_ref(self.b.func, self.env.m.runtime.throw);
        self.wasm_call(Callee::Direct(f), &[vm, exn]);
        // kiln_rt_throw never returns; this only closes the block.
        self.b.ins().trap(trap(TrapKind::Unreachable));
        self.reachable = false;
    }

    /// Loads payload cell `i` of an exception object as type `ty`.
    fn payload(&mut self, exn: Value, i: usize, ty: Type) -> Value {
        let off = EXN_VALUES_OFFSET + i as u32 * GLOBAL_CELL_SIZE;
        self.b.ins().load(ty, mutable(), exn, off as i32)
    }

    /// Marks `exn` as held by wasm (see the module comment): never freed.
    fn mark_escaped(&mut self, exn: Value) {
        let v = self.b.ins().iconst(types::I32, EXN_ESCAPED as i64);
        self.b.ins().store(mutable(), v, exn, EXN.offset("mark") as i32);
    }

    /// The payload values of tag `tag` in `exn`, in order.
    fn payload_values(&mut self, exn: Value, tag: u32) -> Vec<Value> {
        let tys: Vec<Type> = self.env.m.env.tag_type(tag).params.iter().map(|t| clif_type(*t)).collect();
        tys.iter().enumerate().map(|(i, t)| self.payload(exn, i, *t)).collect()
    }

    /// The exception-handling operators. Returns `false` for any other.
    pub(super) fn exception_operator(&mut self, op: &Operator) -> Result<bool, String> {
        match *op {
            Operator::Throw { tag_index } => {
                let tag = self.env.tag_ptr(&mut self.b, tag_index);
                let id = self.env.m.runtime.exn_new;
                let exn = self.env.call_runtime(&mut self.b, id, &[tag]);
                let n = self.env.m.env.tag_type(tag_index).params.len();
                let vals = self.popn(n);
                for (i, v) in vals.into_iter().enumerate() {
                    let off = EXN_VALUES_OFFSET + i as u32 * GLOBAL_CELL_SIZE;
                    self.b.ins().store(mutable(), v, exn, off as i32);
                }
                self.throw_exn(exn);
            }
            Operator::ThrowRef => {
                let exn = self.pop1();
                self.b.ins().trapz(exn, trap(TrapKind::NullExceptionReference));
                self.throw_exn(exn);
            }
            Operator::TryTable { ref try_table } => {
                let (params, results) = self.block_type(try_table.ty);
                let mut clauses = Vec::with_capacity(try_table.catches.len());
                for c in &try_table.catches {
                    let (tag, with_ref, label) = match *c {
                        Catch::One { tag, label } => (Some(tag), false, label),
                        Catch::OneRef { tag, label } => (Some(tag), true, label),
                        Catch::All { label } => (None, false, label),
                        Catch::AllRef { label } => (None, true, label),
                    };
                    let block = self.b.create_block();
                    self.b.append_block_param(block, types::I64);
                    let all = tag.is_none();
                    clauses.push(Clause { tag, with_ref, label, block, used: false });
                    if all {
                        break; // later clauses are unreachable
                    }
                }
                let dest = self.block_with_params(&results);
                let height = self.stack.len() - params.len();
                self.control.push(Frame {
                    kind: FrameKind::TryTable { clauses },
                    destination: dest,
                    height,
                    params,
                    results,
                    branched_to: false,
                });
            }
            Operator::Try { blockty } => {
                let info = self.legacy_try_info()?;
                let (params, results) = self.block_type(blockty);
                let handlers: Vec<(Option<u32>, ir::Block)> = info
                    .catches
                    .iter()
                    .map(|tag| {
                        let block = self.b.create_block();
                        self.b.append_block_param(block, types::I64);
                        (*tag, block)
                    })
                    .collect();
                let dest = self.block_with_params(&results);
                let height = self.stack.len() - params.len();
                self.control.push(Frame {
                    kind: FrameKind::LegacyTry { info, handlers, region: LegacyRegion::Body },
                    destination: dest,
                    height,
                    params,
                    results,
                    branched_to: false,
                });
            }
            Operator::Catch { .. } | Operator::CatchAll => self.translate_catch(true),
            Operator::Delegate { .. } => self.translate_end(true),
            Operator::Rethrow { relative_depth } => {
                let i = self.control.len() - 1 - relative_depth as usize;
                let FrameKind::LegacyTry { region: LegacyRegion::Catch { exn, .. }, .. } = &self.control[i].kind else {
                    unreachable!("validated: rethrow names a catch clause")
                };
                let exn = self.b.use_var(*exn);
                self.throw_exn(exn);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The pre-scanned description of the legacy `try` at the current
    /// operator, scanning the body the first time one is met.
    fn legacy_try_info(&mut self) -> Result<LegacyTryInfo, String> {
        if self.legacy_tries.is_none() {
            self.legacy_tries = Some(scan_legacy_tries(&self.body).map_err(|e| e.message().to_string())?);
        }
        Ok(self.legacy_tries.as_ref().and_then(|m| m.get(&self.offset)).cloned().unwrap_or_default())
    }

    /// `catch` / `catch_all` of a legacy `try`: ends the body (or the
    /// previous clause) like `else` ends `then`, and starts the next
    /// clause in its handler block, with the payload on the stack.
    pub(super) fn translate_catch(&mut self, reachable: bool) {
        let frame = self.control.last_mut().expect("validated: catch inside try");
        let FrameKind::LegacyTry { handlers, region, info, .. } = &mut frame.kind else {
            unreachable!("validated: catch follows try")
        };
        if reachable {
            let n = frame.results.len();
            let vals = self.stack[self.stack.len() - n..].to_vec();
            self.b.ins().jump(frame.destination, &args(&vals));
            frame.branched_to = true;
        }
        let index = match region {
            LegacyRegion::Body => {
                // The body is done: no more call sites can reach the
                // handlers.
                for (_, block) in handlers.iter() {
                    self.b.seal_block(*block);
                }
                0
            }
            LegacyRegion::Catch { index, .. } => *index + 1,
        };
        let _ = info;
        let (tag, block) = handlers[index];
        let height = frame.height;
        let exn_var = match region {
            LegacyRegion::Catch { exn, .. } => *exn,
            LegacyRegion::Body => self.b.declare_var(types::I64),
        };
        *region = LegacyRegion::Catch { index, exn: exn_var };
        self.stack.truncate(height);
        self.b.switch_to_block(block);
        let exn = self.b.block_params(block)[0];
        self.mark_escaped(exn);
        self.b.def_var(exn_var, exn);
        if let Some(t) = tag {
            let vals = self.payload_values(exn, t);
            self.stack.extend(vals);
        }
        self.reachable = true;
    }

    /// At the `end` of a `try_table`, after its frame is popped: fills in
    /// the handler block of every clause some call site reaches. Labels are
    /// resolved here, where the control stack is the try_table's outside.
    pub(super) fn finish_try_table(&mut self, clauses: Vec<Clause>) {
        for c in clauses.into_iter().filter(|c| c.used) {
            self.b.switch_to_block(c.block);
            self.b.seal_block(c.block);
            let exn = self.b.block_params(c.block)[0];
            let mut vals = match c.tag {
                Some(t) => self.payload_values(exn, t),
                None => vec![],
            };
            if c.with_ref {
                self.mark_escaped(exn);
                vals.push(exn);
            } else {
                // The handler's parameter was the only reference.
                let id = self.env.m.runtime.exn_free;
                let f = self.env.runtime_ref(self.b.func, id);
                self.b.ins().call(f, &[exn]);
            }
            let (target, _) = self.branch_target(c.label);
            self.b.ins().jump(target, &args(&vals));
        }
    }
}
