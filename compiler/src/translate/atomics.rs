//! Atomic memory operators (the threads proposal), on shared memories and
//! on memories that are not shared (single-threaded C++ and C built with
//! `std::atomic` or `-pthread` emit them even when no thread is ever
//! spawned).
//!
//! SANDBOX-CRITICAL. Unlike plain loads and stores (`heap.rs`), an atomic
//! access is checked explicitly before it is made:
//!   - first, for `wait` and `notify` on a 32-bit memory, `ea = zext(index)
//!     + offset` must fit in 32 bits, else "out of bounds memory access"
//!     (wasmtime's order: it adds their offset in the index type);
//!   - alignment: the wasm effective address `ea`
//!     must be a multiple of the access size, else "unaligned atomic", as
//!     the spec requires (plain accesses may be misaligned);
//!   - bounds: `ea + size <= length`, else "out of bounds memory access",
//!     with `heap.rs`'s `bounds_check` (64-bit sums that wrap trap). A
//!     shared memory's length is read afresh (`FuncEnv::memory_length`);
//!     memories only grow, so a length read before another thread's grow
//!     can only refuse an access the grow made valid, never allow one
//!     past the end.
//! So the atomic instruction itself never faults: backends may expand an
//! atomic into a load-linked/store-conditional loop whose instructions the
//! trap table does not name, and the guard-page argument is not needed.
//! The access then goes through the same `heap_addr` as every other access.
//!
//! `memory.atomic.wait32/64` and `memory.atomic.notify` on a shared memory
//! call the runtime (`runtime-lib/c/threads.c`) with the checked native
//! address of the cell: a shared memory never moves, so the address is the
//! cell's identity for every thread. On an unshared memory `notify` wakes
//! nobody (it returns 0 after the checks) and `wait` traps with "expected
//! shared memory" after the checks, as the spec says.

use super::FuncTranslator;
use crate::func_env::{in_heap, mutable, trap};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, AtomicRmwOp, BlockArg, InstBuilder, MemFlagsData, Type, Value};
use kiln_abi::TrapKind;
use wasmparser::{MemArg, Operator};

/// What an atomic operator does: `ty` is the wasm value type, `mem` the
/// width in memory (narrower accesses zero-extend).
enum Atomic {
    Load,
    Store,
    Rmw(AtomicRmwOp),
    Cmpxchg,
}

fn classify(op: &Operator) -> Option<(Atomic, Type, Type, MemArg)> {
    use types::{I16, I32, I64, I8};
    use AtomicRmwOp::*;
    use Operator::*;
    let r = |rmw: AtomicRmwOp| Atomic::Rmw(rmw);
    Some(match *op {
        I32AtomicLoad { memarg } => (Atomic::Load, I32, I32, memarg),
        I64AtomicLoad { memarg } => (Atomic::Load, I64, I64, memarg),
        I32AtomicLoad8U { memarg } => (Atomic::Load, I32, I8, memarg),
        I32AtomicLoad16U { memarg } => (Atomic::Load, I32, I16, memarg),
        I64AtomicLoad8U { memarg } => (Atomic::Load, I64, I8, memarg),
        I64AtomicLoad16U { memarg } => (Atomic::Load, I64, I16, memarg),
        I64AtomicLoad32U { memarg } => (Atomic::Load, I64, I32, memarg),
        I32AtomicStore { memarg } => (Atomic::Store, I32, I32, memarg),
        I64AtomicStore { memarg } => (Atomic::Store, I64, I64, memarg),
        I32AtomicStore8 { memarg } => (Atomic::Store, I32, I8, memarg),
        I32AtomicStore16 { memarg } => (Atomic::Store, I32, I16, memarg),
        I64AtomicStore8 { memarg } => (Atomic::Store, I64, I8, memarg),
        I64AtomicStore16 { memarg } => (Atomic::Store, I64, I16, memarg),
        I64AtomicStore32 { memarg } => (Atomic::Store, I64, I32, memarg),
        I32AtomicRmwAdd { memarg } => (r(Add), I32, I32, memarg),
        I64AtomicRmwAdd { memarg } => (r(Add), I64, I64, memarg),
        I32AtomicRmw8AddU { memarg } => (r(Add), I32, I8, memarg),
        I32AtomicRmw16AddU { memarg } => (r(Add), I32, I16, memarg),
        I64AtomicRmw8AddU { memarg } => (r(Add), I64, I8, memarg),
        I64AtomicRmw16AddU { memarg } => (r(Add), I64, I16, memarg),
        I64AtomicRmw32AddU { memarg } => (r(Add), I64, I32, memarg),
        I32AtomicRmwSub { memarg } => (r(Sub), I32, I32, memarg),
        I64AtomicRmwSub { memarg } => (r(Sub), I64, I64, memarg),
        I32AtomicRmw8SubU { memarg } => (r(Sub), I32, I8, memarg),
        I32AtomicRmw16SubU { memarg } => (r(Sub), I32, I16, memarg),
        I64AtomicRmw8SubU { memarg } => (r(Sub), I64, I8, memarg),
        I64AtomicRmw16SubU { memarg } => (r(Sub), I64, I16, memarg),
        I64AtomicRmw32SubU { memarg } => (r(Sub), I64, I32, memarg),
        I32AtomicRmwAnd { memarg } => (r(And), I32, I32, memarg),
        I64AtomicRmwAnd { memarg } => (r(And), I64, I64, memarg),
        I32AtomicRmw8AndU { memarg } => (r(And), I32, I8, memarg),
        I32AtomicRmw16AndU { memarg } => (r(And), I32, I16, memarg),
        I64AtomicRmw8AndU { memarg } => (r(And), I64, I8, memarg),
        I64AtomicRmw16AndU { memarg } => (r(And), I64, I16, memarg),
        I64AtomicRmw32AndU { memarg } => (r(And), I64, I32, memarg),
        I32AtomicRmwOr { memarg } => (r(Or), I32, I32, memarg),
        I64AtomicRmwOr { memarg } => (r(Or), I64, I64, memarg),
        I32AtomicRmw8OrU { memarg } => (r(Or), I32, I8, memarg),
        I32AtomicRmw16OrU { memarg } => (r(Or), I32, I16, memarg),
        I64AtomicRmw8OrU { memarg } => (r(Or), I64, I8, memarg),
        I64AtomicRmw16OrU { memarg } => (r(Or), I64, I16, memarg),
        I64AtomicRmw32OrU { memarg } => (r(Or), I64, I32, memarg),
        I32AtomicRmwXor { memarg } => (r(Xor), I32, I32, memarg),
        I64AtomicRmwXor { memarg } => (r(Xor), I64, I64, memarg),
        I32AtomicRmw8XorU { memarg } => (r(Xor), I32, I8, memarg),
        I32AtomicRmw16XorU { memarg } => (r(Xor), I32, I16, memarg),
        I64AtomicRmw8XorU { memarg } => (r(Xor), I64, I8, memarg),
        I64AtomicRmw16XorU { memarg } => (r(Xor), I64, I16, memarg),
        I64AtomicRmw32XorU { memarg } => (r(Xor), I64, I32, memarg),
        I32AtomicRmwXchg { memarg } => (r(Xchg), I32, I32, memarg),
        I64AtomicRmwXchg { memarg } => (r(Xchg), I64, I64, memarg),
        I32AtomicRmw8XchgU { memarg } => (r(Xchg), I32, I8, memarg),
        I32AtomicRmw16XchgU { memarg } => (r(Xchg), I32, I16, memarg),
        I64AtomicRmw8XchgU { memarg } => (r(Xchg), I64, I8, memarg),
        I64AtomicRmw16XchgU { memarg } => (r(Xchg), I64, I16, memarg),
        I64AtomicRmw32XchgU { memarg } => (r(Xchg), I64, I32, memarg),
        I32AtomicRmwCmpxchg { memarg } => (Atomic::Cmpxchg, I32, I32, memarg),
        I64AtomicRmwCmpxchg { memarg } => (Atomic::Cmpxchg, I64, I64, memarg),
        I32AtomicRmw8CmpxchgU { memarg } => (Atomic::Cmpxchg, I32, I8, memarg),
        I32AtomicRmw16CmpxchgU { memarg } => (Atomic::Cmpxchg, I32, I16, memarg),
        I64AtomicRmw8CmpxchgU { memarg } => (Atomic::Cmpxchg, I64, I8, memarg),
        I64AtomicRmw16CmpxchgU { memarg } => (Atomic::Cmpxchg, I64, I16, memarg),
        I64AtomicRmw32CmpxchgU { memarg } => (Atomic::Cmpxchg, I64, I32, memarg),
        _ => return None,
    })
}

impl FuncTranslator<'_, '_, '_> {
    /// The native address of an atomic access of `size` bytes at wasm
    /// address `index`, after the checks (see the module comment), in
    /// wasmtime's order, the reference the fuzzer compares with: alignment
    /// ("unaligned atomic"), then bounds; for `memory.atomic.wait*` and
    /// `notify` (`wait_or_notify`), an effective address `index + offset`
    /// that does not fit a 32-bit memory's index type is out of bounds
    /// before either.
    fn atomic_addr(&mut self, memarg: &MemArg, index: Value, size: u32, wait_or_notify: bool) -> Value {
        let memory = super::heap::memory_of(memarg);
        let idx = self.heap_index64(memory, index);
        let plan = self.env.m.memories[memory as usize];
        // ea = idx + offset, for the tests below (unused, it is dropped by
        // Cranelift). The sum may wrap (memory64), which leaves its low
        // bits, the only ones alignment reads, right.
        let ea = self.b.ins().iadd_imm_u(idx, memarg.offset as i64);
        if wait_or_notify && !plan.is64 && memarg.offset > 0 {
            // idx < 2^32 and offset < 2^32: the sum fits in 64 bits.
            let wide = self.b.ins().ushr_imm_u(ea, 32);
            self.b.ins().trapnz(wide, trap(TrapKind::MemoryOutOfBounds));
        }
        if size > 1 {
            let misaligned = self.b.ins().band_imm_u(ea, size as i64 - 1);
            self.b.ins().trapnz(misaligned, trap(TrapKind::UnalignedAtomic));
        }
        // Every atomic access is bounds-checked, whatever the memory's kind
        // (`heap_addr` itself checks explicit memories).
        if !plan.explicit {
            self.bounds_check(memory, idx, memarg.offset, size);
        }
        let (addr, off) = self.heap_addr(memarg, index, size);
        if off == 0 {
            addr
        } else {
            self.b.ins().iadd_imm_s(addr, off as i64)
        }
    }

    fn shared(&self, memarg: &MemArg) -> bool {
        self.env.m.memories[super::heap::memory_of(memarg) as usize].shared
    }

    /// A 32-bit compare-and-exchange, `{i32,i64}.atomic.rmw{,32}.cmpxchg`:
    /// returns the value read at `addr` and stores `replacement` there when
    /// it equals `expected` (all `I32`; spec 4.4.7.6, atomic.rmw.cmpxchg).
    ///
    /// Used where one `atomic_cas` is wrong (`Target::
    /// cas32_compares_whole_register`): Cranelift's aarch64 LL/SC loop
    /// (0.135 and 0.137; the baseline has no LSE `cas`) compares the
    /// zero-extended word it loaded with all 64 bits of the expected
    /// value's register, and an `I32` value's upper half is unspecified (an
    /// `ireduce` from i64 is a plain register reuse), so
    /// `i64.atomic.rmw32.cmpxchg_u` with expected 0x8000_0000_0000_0000
    /// never stored (found by the differential fuzzer). Here the value
    /// handed to `atomic_cas` as expected is always one an `atomic_load`
    /// produced, which the backend zero-extends (`ldar w`), and the wasm
    /// comparison is an `icmp` at 32 bits:
    ///
    /// ```text
    /// head: cur = atomic_load addr; if cur != expected -> done(cur)
    /// swap: seen = atomic_cas addr, cur, replacement
    ///       if seen == cur -> done(seen) (stored) else -> head (raced)
    /// ```
    ///
    /// Linearizable as the spec's single read-modify-write: a mismatch is
    /// an atomic read of `cur`; a match stores only through the CAS, which
    /// succeeds only if the cell still holds `cur` (== expected).
    fn cmpxchg32(&mut self, flags: MemFlagsData, addr: Value, expected: Value, replacement: Value) -> Value {
        let head = self.b.create_block();
        let swap = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, types::I32);
        self.b.ins().jump(head, &[]);

        self.b.switch_to_block(head);
        let cur = self.b.ins().atomic_load(types::I32, flags, addr);
        let differs = self.b.ins().icmp(IntCC::NotEqual, cur, expected);
        self.b.ins().brif(differs, done, &[BlockArg::Value(cur)], swap, &[]);

        self.b.switch_to_block(swap);
        self.b.seal_block(swap);
        let seen = self.b.ins().atomic_cas(flags, addr, cur, replacement);
        let stored = self.b.ins().icmp(IntCC::Equal, seen, cur);
        self.b.ins().brif(stored, done, &[BlockArg::Value(seen)], head, &[]);
        self.b.seal_block(head);

        self.b.switch_to_block(done);
        self.b.seal_block(done);
        self.b.block_params(done)[0]
    }

    /// The atomic operators. Returns `false` for any other.
    pub(super) fn atomic_operator(&mut self, op: &Operator) -> Result<bool, String> {
        // Checked in bounds and aligned, so the access cannot trap.
        let flags = in_heap(self.b.func, mutable().with_endianness(cranelift_codegen::ir::Endianness::Little));
        match op {
            Operator::AtomicFence { .. } => {
                self.b.ins().fence();
                return Ok(true);
            }
            Operator::MemoryAtomicNotify { memarg } => {
                let count = self.pop1();
                let index = self.pop1();
                let addr = self.atomic_addr(memarg, index, 4, true);
                let woken = if self.shared(memarg) {
                    let id = self.env.m.runtime.atomic_notify;
                    self.env.call_runtime(&mut self.b, id, &[addr, count])
                } else {
                    // Nobody can wait on an unshared memory.
                    self.b.ins().iconst(types::I32, 0)
                };
                self.push(woken);
                return Ok(true);
            }
            Operator::MemoryAtomicWait32 { memarg } | Operator::MemoryAtomicWait64 { memarg } => {
                let size = if matches!(op, Operator::MemoryAtomicWait32 { .. }) { 4 } else { 8 };
                let (index, expected, timeout) = self.pop3();
                // The address checks come first, then sharing, as the
                // spec's interpreter (and wasmtime) order them.
                let addr = self.atomic_addr(memarg, index, size, true);
                if !self.shared(memarg) {
                    self.b.ins().trap(trap(TrapKind::ExpectedSharedMemory));
                    self.reachable = false;
                    return Ok(true);
                }
                let r = &self.env.m.runtime;
                let id = if size == 4 { r.atomic_wait32 } else { r.atomic_wait64 };
                let v = self.env.call_runtime(&mut self.b, id, &[addr, expected, timeout]);
                self.push(v);
                return Ok(true);
            }
            _ => {}
        }
        let Some((kind, ty, mem, memarg)) = classify(op) else { return Ok(false) };
        let size = mem.bytes();
        let narrow = |t: &mut Self, v: Value| if mem == ty { v } else { t.b.ins().ireduce(mem, v) };
        let widen = |t: &mut Self, v: Value| if mem == ty { v } else { t.b.ins().uextend(ty, v) };
        match kind {
            Atomic::Load => {
                let index = self.pop1();
                let addr = self.atomic_addr(&memarg, index, size, false);
                let v = self.b.ins().atomic_load(mem, flags, addr);
                let v = widen(self, v);
                self.push(v);
            }
            Atomic::Store => {
                let (index, val) = self.pop2();
                let addr = self.atomic_addr(&memarg, index, size, false);
                let v = narrow(self, val);
                self.b.ins().atomic_store(flags, v, addr);
            }
            Atomic::Rmw(rmw) => {
                let (index, val) = self.pop2();
                let addr = self.atomic_addr(&memarg, index, size, false);
                let v = narrow(self, val);
                let old = self.b.ins().atomic_rmw(mem, flags, rmw, addr, v);
                let old = widen(self, old);
                self.push(old);
            }
            Atomic::Cmpxchg => {
                let (index, expected, replacement) = self.pop3();
                let addr = self.atomic_addr(&memarg, index, size, false);
                // Narrow forms compare with the expected value wrapped to
                // the access width, as the spec says.
                let e = narrow(self, expected);
                let r = narrow(self, replacement);
                let old = if mem == types::I32 && self.env.m.clean_cas32 {
                    self.cmpxchg32(flags, addr, e, r)
                } else {
                    self.b.ins().atomic_cas(flags, addr, e, r)
                };
                let old = widen(self, old);
                self.push(old);
            }
        }
        Ok(true)
    }
}
