//! Whole-module inlining of small wasm functions.
//!
//! Kiln sees every function of the module, so a direct `call` to a small
//! defined function can be replaced by the callee's body, as a C compiler
//! inlines `tolower` or an allocator helper. Cranelift does the splicing
//! (`Context::inline`); this file decides *which* calls, and keeps traps
//! and backtraces truthful afterwards.
//!
//! **What is inlined.** Only a plain `call` to a defined wasm function of
//! the same module (never a `try_call`: its handlers would have to cover the
//! callee's calls; never a `return_call`: it must run in constant stack;
//! never an import, an indirect call or a runtime function), whose callee
//! is a *candidate*: at most [`MAX_CALLEE_INSTS`] CLIF instructions as
//! translated, and no instruction that needs a frame of its own (`try_call`
//! and `try_call_indirect`, whose handlers and FP-relative landing SP are
//! per frame; `return_call` and `return_call_indirect`, which replace the
//! frame). Callees of at most [`ALWAYS_INLINE_INSTS`] are always inlined;
//! larger ones while the caller has grown by less than [`growth_budget`]
//! instructions (in call order). Calls
//! inside inlined code are considered again down to [`MAX_DEPTH`] levels,
//! and a function is never inlined into itself, directly or through the
//! levels above it, so recursion ends. The prologue stack-limit check of
//! the caller covers the inlined code, whose stack slots become the
//! caller's. Under `-g` nothing is inlined: the DWARF and the debug slots of
//! locals describe each wasm function as its own frame.
//!
//! **Source locations.** Cranelift's inliner does not carry the callee's
//! source locations over (every inlined instruction has none), and a
//! trapping instruction's wasm offset is its source location. After
//! inlining, [`inline_calls`] gives each inlined instruction a *synthetic*
//! source location, at or above the module's byte length (so never a real
//! wasm offset), that indexes an [`InlineMap`]: the instruction's wasm
//! offset in its own function, and the inlining it came from (callee index
//! and the call's location in the caller, itself synthetic for a nested
//! level). [`InlineMap::resolve`] turns a location back into the wasm offset
//! and the chain of inlined calls, which the trap table records for the
//! runtime (`kiln_abi::encode_trap_group`), so a trap or a backtrace names
//! the function whose wasm code is running, and every wasm frame that
//! inlining folded into one native frame.
//!
//! Cranelift creates the inlined instructions in a fixed order, the
//! callee's blocks in depth-first pre-order and each block's instructions
//! in layout order, one after the other, and nothing else for a plain
//! `call` to a callee without tail calls (the return becomes a jump in
//! place; the call becomes the jump to the inlined entry in place). So the
//! instructions copied at one call are numbered from the caller's
//! instruction count when the decision was taken, and replaying that walk
//! of the callee pairs each copy with its original. The replay checks
//! every pair's opcode and fails the compilation (as a Kiln bug) on a
//! mismatch, so a future Cranelift that copies differently cannot silently
//! mislabel traps. The same order holds for global values, whose
//! `symbol` names Cranelift does not carry over to the caller (see
//! [`inline_calls`]).

use cranelift_codegen::inline::{Inline, InlineCommand};
use cranelift_codegen::ir::{self, ExternalName, Function, Inst, Opcode, SourceLoc};
use cranelift_codegen::traversals::Dfs;
use std::borrow::Cow;
use std::collections::HashMap;

/// Largest callee, in CLIF instructions as translated (before inlining
/// into it), that is inlined. Chosen by measurement (bench/): see the
/// commit that set it.
pub const MAX_CALLEE_INSTS: usize = 40;

/// A body larger than this many bytes of wasm is not translated ahead to
/// be a candidate: it would need under 1 instruction per 8 bytes to fit
/// [`MAX_CALLEE_INSTS`]. This keeps phase 1's memory to small functions.
pub const MAX_CANDIDATE_BODY_BYTES: usize = 8 * MAX_CALLEE_INSTS;

/// Levels of inlining: calls in code inlined at a call of the caller are
/// considered again, those in code inlined at such a call are not.
pub const MAX_DEPTH: u32 = 2;

/// A callee this small is inlined whatever the caller's budget: its body
/// costs about what the call does (argument moves, the call, and the
/// spills and reloads of the caller-saved values live across it), so
/// inlining it does not grow the code.
pub const ALWAYS_INLINE_INSTS: usize = 12;

/// How many instructions inlining larger callees may add to a caller of
/// `size`: a quarter of it, at least 64 (so small wrappers inline their
/// callees) and at most 1024. Large callers are where growth costs most,
/// in instruction cache and in register pressure over a long body (an
/// interpreter's dispatch loop), and compile time grows faster than
/// linearly with function size, in register allocation.
pub fn growth_budget(size: usize) -> usize {
    (size / 4).clamp(64, 1024)
}

/// Number of instructions in a function's layout.
pub fn size(func: &Function) -> usize {
    func.layout.blocks().map(|b| func.layout.block_insts(b).count()).sum()
}

/// Whether `func` can be inlined at a plain call: nothing in it depends on
/// running in its own frame.
fn frame_independent(func: &Function) -> bool {
    func.layout.blocks().flat_map(|b| func.layout.block_insts(b)).all(|i| {
        !matches!(
            func.dfg.insts[i].opcode(),
            Opcode::TryCall | Opcode::TryCallIndirect | Opcode::ReturnCall | Opcode::ReturnCallIndirect
        )
    })
}

/// One function that calls may be replaced by.
pub struct Candidate<'f> {
    /// Wasm function index.
    pub index: u32,
    pub body: &'f Function,
    pub size: usize,
    /// Wasm offset of the body's start: the location of a callee
    /// instruction that has none.
    pub body_start: u32,
}

/// The candidates of a module, by the `FuncId` number that names them in
/// CLIF (`UserExternalName` namespace 0), plus what resolving needs.
pub struct Candidates<'f> {
    by_id: HashMap<u32, Candidate<'f>>,
    /// The module's byte length: synthetic locations start here.
    base: u32,
}

impl<'f> Candidates<'f> {
    /// `translated` yields (wasm index, FuncId number, body start, CLIF) of
    /// every function translated ahead; those that qualify become
    /// candidates.
    pub fn new(module_len: usize, translated: impl Iterator<Item = (u32, u32, u32, &'f Function)>) -> Candidates<'f> {
        let by_id = translated
            .filter_map(|(index, id, body_start, body)| {
                let size = size(body);
                (size <= MAX_CALLEE_INSTS && frame_independent(body))
                    .then_some((id, Candidate { index, body, size, body_start }))
            })
            .collect();
        Candidates { by_id, base: u32::try_from(module_len).unwrap_or(u32::MAX) }
    }
}

/// One call that was inlined, in the order Cranelift did them.
struct Record<'c, 'f> {
    /// Number of the first instruction copied from the callee.
    first_inst: u32,
    callee: &'c Candidate<'f>,
    /// The call instruction (now the jump into the copy).
    call: Inst,
    /// Number of the first global value copied from the callee.
    first_gv: u32,
    depth: u32,
    /// The record whose copy holds the call, if it is not the caller's own.
    parent: Option<usize>,
}

/// The `Inline` implementation: Cranelift asks it about every direct call.
struct Decider<'c, 'f> {
    candidates: &'c Candidates<'f>,
    caller_index: u32,
    /// Instructions of the caller before inlining.
    original_insts: u32,
    budget: usize,
    records: Vec<Record<'c, 'f>>,
}

impl<'c, 'f> Decider<'c, 'f> {
    /// The record whose copy holds instruction `inst`, if any.
    fn record_of(&self, inst: Inst) -> Option<usize> {
        let n = inst.as_u32();
        if n < self.original_insts {
            return None;
        }
        // Copies are numbered in record order, so the holder is the last
        // record starting at or below `inst`.
        self.records.partition_point(|r| r.first_inst <= n).checked_sub(1)
    }
}

impl<'c, 'f> Inline for Decider<'c, 'f> {
    fn inline(
        &mut self,
        caller: &Function,
        call: Inst,
        opcode: Opcode,
        callee: ir::FuncRef,
        _args: &[ir::Value],
    ) -> InlineCommand<'_> {
        if opcode != Opcode::Call {
            return InlineCommand::KeepCall;
        }
        let ExternalName::User(name) = caller.dfg.ext_funcs[callee].name else {
            return InlineCommand::KeepCall;
        };
        let name = &caller.params.user_named_funcs()[name];
        let Some(candidate) = self.candidates.by_id.get(&name.index).filter(|_| name.namespace == 0) else {
            return InlineCommand::KeepCall;
        };
        let parent = self.record_of(call);
        let depth = parent.map_or(1, |p| self.records[p].depth + 1);
        let free = candidate.size <= ALWAYS_INLINE_INSTS;
        if depth > MAX_DEPTH || (!free && candidate.size > self.budget) {
            return InlineCommand::KeepCall;
        }
        // Never into itself: not the caller, nor a function whose inlined
        // code this call is in.
        let mut level = parent;
        let mut on_chain = candidate.index == self.caller_index;
        while let (Some(p), false) = (level, on_chain) {
            on_chain = self.records[p].callee.index == candidate.index;
            level = self.records[p].parent;
        }
        if on_chain {
            return InlineCommand::KeepCall;
        }
        if !free {
            self.budget -= candidate.size;
        }
        self.records.push(Record {
            first_inst: caller.dfg.num_insts() as u32,
            callee: candidate,
            call,
            first_gv: caller.global_values.len() as u32,
            depth,
            parent,
        });
        InlineCommand::Inline { callee: Cow::Borrowed(candidate.body), visit_callee: depth < MAX_DEPTH }
    }
}

/// Where the inlined instructions of one compiled function came from.
#[derive(Debug, Default)]
pub struct InlineMap {
    /// Synthetic locations are `base + i` for entry `i` of `locs`.
    base: u32,
    /// (wasm offset, index in `calls` of the inlining it came from).
    locs: Vec<(u32, u32)>,
    /// Each inlined call: (callee's wasm index, the call's location in the
    /// function it was in, synthetic if that was inlined code).
    calls: Vec<(u32, u32)>,
}

impl InlineMap {
    /// The wasm offset of location `loc` and its inlining levels, innermost
    /// first: (function whose code it is, wasm offset of the call that was
    /// inlined, in the next level's function or the caller's).
    pub fn resolve(&self, loc: u32) -> (u32, Vec<(u32, u32)>) {
        let Some(&(offset, mut call)) = loc.checked_sub(self.base).and_then(|i| self.locs.get(i as usize)) else {
            return (loc, vec![]);
        };
        let mut levels = Vec::new();
        loop {
            let (func, at) = self.calls[call as usize];
            match at.checked_sub(self.base).and_then(|i| self.locs.get(i as usize)) {
                Some(&(at_offset, outer)) => {
                    levels.push((func, at_offset));
                    call = outer;
                }
                None => {
                    levels.push((func, at));
                    return (offset, levels);
                }
            }
        }
    }
}

/// Inlines the candidate calls of `func` (wasm function `index`, whose
/// body starts at wasm offset `body_start`), then labels every inlined
/// instruction with a synthetic location. Returns the map of those
/// locations, or `None` if nothing was inlined.
pub fn inline_calls(
    cctx: &mut cranelift_codegen::Context,
    candidates: &Candidates<'_>,
    index: u32,
    body_start: u32,
) -> Result<Option<InlineMap>, String> {
    let original_insts = cctx.func.dfg.num_insts() as u32;
    let mut decider = Decider {
        candidates,
        caller_index: index,
        original_insts,
        budget: growth_budget(size(&cctx.func)),
        records: Vec::new(),
    };
    cctx.inline(&mut decider).map_err(|e| format!("inlining: {e:?}"))?;
    let records = decider.records;
    if records.is_empty() {
        return Ok(None);
    }
    let func = &mut cctx.func;
    let base = candidates.base;
    let mut map = InlineMap { base, ..Default::default() };
    let mut interned: HashMap<(u32, u32), u32> = HashMap::new();
    let mut dfs = Dfs::new();
    let end = func.dfg.num_insts() as u32;
    let nested: std::collections::HashSet<Inst> = records.iter().map(|r| r.call).collect();
    for (r, record) in records.iter().enumerate() {
        // The call's location was assigned already if it is inlined code
        // (records are in creation order, so an outer copy comes first).
        let at = func.srcloc(record.call);
        let at = if at.is_default() { body_start } else { at.bits() };
        map.calls.push((record.callee.index, at));
        let callee = record.callee.body;
        let next = records.get(r + 1).map_or(end, |n| n.first_inst);
        let mut copy = record.first_inst;
        for block in dfs.pre_order_iter(callee) {
            for original in callee.layout.block_insts(block) {
                let inlined = Inst::from_u32(copy);
                let (was, is) = (callee.dfg.insts[original].opcode(), func.dfg.insts[inlined].opcode());
                // A return became a jump to the caller's continuation, and
                // a call inlined at a deeper level the jump into its copy.
                let replaced = (was == Opcode::Return || (was == Opcode::Call && nested.contains(&inlined))) && is == Opcode::Jump;
                if copy >= next || !(was == is || replaced) {
                    return Err(format!(
                        "inlining {}: copied instruction {copy} is {is}, expected {was} (Cranelift copies in another order)",
                        record.callee.index
                    ));
                }
                let loc = callee.srcloc(original);
                let offset = if loc.is_default() { record.callee.body_start } else { loc.bits() };
                let n = interned.len() as u32;
                let i = *interned.entry((offset, r as u32)).or_insert_with(|| {
                    map.locs.push((offset, r as u32));
                    n
                });
                let synthetic = base.checked_add(i).filter(|l| *l != u32::MAX).ok_or("inlining: too many locations")?;
                func.set_srcloc(inlined, SourceLoc::new(synthetic));
                copy += 1;
            }
        }
        if copy != next {
            return Err(format!("inlining {}: {} instructions copied, {} expected", record.callee.index, next - record.first_inst, copy - record.first_inst));
        }
        // Cranelift copies the callee's global values (appended, in order)
        // but not the names of `symbol` ones, which still index the
        // callee's table of external names: name them in the caller's
        // (the translator's `symbol_value`s of data such as funcrefs).
        for (gv, data) in callee.global_values.iter() {
            if let ir::GlobalValueData::Symbol { name: ExternalName::User(r), .. } = data {
                let name = func.declare_imported_user_function(callee.params.user_named_funcs()[*r].clone());
                let copied = ir::GlobalValue::from_u32(record.first_gv + gv.as_u32());
                match func.global_values.get_mut(copied) {
                    Some(ir::GlobalValueData::Symbol { name: n, .. }) => *n = ExternalName::User(name),
                    _ => return Err(format!("inlining {}: global value {copied} is not the copy of {gv}", record.callee.index)),
                }
            }
        }
    }
    Ok(Some(map))
}

#[cfg(test)]
mod tests {
    use super::InlineMap;

    #[test]
    fn resolves_nested_levels() {
        // Module of 0x1000 bytes. Call 0: #3 inlined at 0x50 of the caller;
        // call 1: #4 inlined at 0x230 inside #3's copy.
        let base = 0x1000;
        let map = InlineMap {
            base,
            locs: vec![(0x200, 0), (0x230, 0), (0x300, 1)],
            calls: vec![(3, 0x50), (4, base + 1)],
        };
        assert_eq!(map.resolve(0x60), (0x60, vec![]));
        assert_eq!(map.resolve(base), (0x200, vec![(3, 0x50)]));
        assert_eq!(map.resolve(base + 2), (0x300, vec![(4, 0x230), (3, 0x50)]));
    }
}
