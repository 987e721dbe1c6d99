//! Linear-memory addressing.
//!
//! SANDBOX-CRITICAL. This file decides which wasm memory accesses need an
//! explicit bounds check, and emits the check. Read it with
//! `runtime-lib/c/memory.c` and `kiln_abi::MEMORY_RESERVATION`.
//!
//! Every memory is one of two kinds, fixed per memory at compile time by
//! [`MemoryPlan::new`] and recorded in its `kiln_memory` flags so the
//! runtime maps it to match:
//!
//! # Guarded memories (32-bit index, 64 KiB pages, `--bounds-checks=guard`)
//!
//! The runtime reserves R = 8 GiB + 64 KiB of address space per memory
//! (`kiln_abi::MEMORY_RESERVATION`), PROT_NONE except for the first
//! `length` bytes. A wasm access computes
//!
//! ```text
//!     ea = zext64(index) + offset          index  < 2^32, offset < 2^32
//!     touches [base + ea, base + ea + size)   size <= 16
//! ```
//!
//! where 16 bytes is the widest access there is: `v128.load` and
//! `v128.store` (SIMD, `simd.rs`, through this same `heap_addr` and
//! `heap_flags`); scalar accesses, and SIMD's lane, splat, zero and
//! extending loads, touch at most 8. So the last byte touched is at most
//!
//! ```text
//!     base + (2^32 - 1) + (2^32 - 1) + (16 - 1) = base + 2^33 + 13 < base + R
//! ```
//!
//! since R = 2^33 + 2^16. Every access therefore lands inside the
//! reservation: either in the accessible prefix (in bounds, as wasm
//! requires, since `length <= 4 GiB`) or in PROT_NONE pages, where it
//! faults. The fault's PC is the load or store instruction, which the
//! trap table maps to "out of bounds memory access". No access can reach
//! memory outside the reservation, so no explicit check is emitted.
//! `length` is a whole number of 64 KiB pages, which is a whole number of
//! OS pages on every Linux page size (4, 16, 64 KiB), so the protection
//! boundary is exactly `length`.
//!
//! The address arithmetic is done in 64 bits on the zero-extended index, so
//! `index + offset` cannot wrap around to a small in-bounds address.
//!
//! # Explicit memories (64-bit index, 1-byte pages, or `--bounds-checks=explicit`)
//!
//! The argument above fails for each of these: a 64-bit index reaches any
//! address, a memory of 1-byte pages ends inside an OS page (the rest of
//! that page would be readable), and `--bounds-checks=explicit` exists for
//! machines where an 8 GiB reservation per memory cannot be had. So before
//! the access, generated code checks
//!
//! ```text
//!     zext64(index) + offset + size <= length
//! ```
//!
//! and traps with "out of bounds memory access" otherwise. For a 32-bit
//! index the sum is below 2^33 + 16 and cannot wrap. For a 64-bit index it
//! can: the additions use `uadd_overflow_trap`, so a wrap traps (as it
//! must: the true sum exceeds any length) instead of producing a small
//! address. The check is one add of a constant, one compare against
//! `length` and one conditional trap; `base` and `length` are loaded in the
//! memory-state alias region (`func_env::memory_state`), so Cranelift loads
//! them once and reuses them until the next call (only a call can grow a
//! memory, and only growing changes them). The runtime maps exactly the
//! accessible prefix (rounded up to 64 KiB) read-write and no guard region;
//! bytes past `length` inside that rounding are unreachable, because every
//! access was checked. A fault in an explicit memory is therefore a Kiln
//! bug, and the signal handler lets it crash (`trap.c`).
//!
//! # Fixed memories
//!
//! A plain command executable holds exactly one instance of its module, so
//! its own (defined, not imported) memory 0, when guarded and unshared, sits
//! at the constant address `kiln_abi::FIXED_MEMORY_BASE` (1.5 GiB;
//! `MEMORY_FLAG_FIXED`). Generated code uses the constant instead of loading
//! `base` through the VMContext: no load chain at function entry and no
//! register held for it (on x86-64 the constant and the access's offset
//! fold into one 32-bit displacement). The guard argument above is
//! unchanged, with `base` = the constant, *provided the reservation really
//! is there*: `kiln_memory_setup` reserves it with `MAP_FIXED_NOREPLACE`
//! and stops the program before any wasm code runs if the kernel places it
//! anywhere else, so generated code can never address memory it does not
//! own. The test driver instantiates each of its modules at most once, so
//! its module 0 gets a fixed memory too (the spec suite and the fuzzer run
//! through it); its other modules, embeddings and `kiln run` (several
//! instances, or a host address space Kiln does not control), shared
//! memories, modules that spawn threads (each thread is an instance of its
//! own) and `-g` builds (whose debug mirror maps linear memory at native
//! address == wasm address, below 4 GiB) keep the loaded base. Should a
//! second instance of a fixed memory ever be made, its reservation fails
//! (`MAP_FIXED_NOREPLACE` finds the first) and the program stops.
//!
//! (No speculation barrier is emitted after the check. Kiln's threat model
//! is the wasm program's own behaviour, as in the spec, not side channels.)
//!
//! An access that straddles `length` (starts in bounds, ends past it)
//! traps as a whole, writing nothing, as wasm requires: explicitly checked
//! accesses test the last byte first. A guarded store faults on x86-64
//! before writing anything, but Arm and RISC-V allow a misaligned store
//! that faults on its second page to have written its first bytes (qemu
//! does, and the fuzzer caught it). On those targets
//! (`Target::partial_store_faults`) a guarded store wider than one byte
//! first *probes* its last byte with a one-byte load through the same
//! trapping flags ([`FuncTranslator::store_addr`]): if any byte is out of
//! bounds the last one is, the probe faults in the guard region, and the
//! trap is raised before the store runs. The probe is never removed:
//! Cranelift keeps loads that may trap.
//!
//! # Short `memory.copy` and `memory.fill`
//!
//! A copy or fill of at most [`INLINE_BULK_MAX`] bytes within one unshared
//! 32-bit memory is made inline ([`FuncTranslator::memory_copy`],
//! [`FuncTranslator::memory_fill`]); longer ones, 64-bit and shared
//! memories and copies between two memories call the runtime
//! (`kiln_rt_memory_copy`/`_fill`, which check the same way). The inline
//! path checks before it touches memory, whatever the memory's kind:
//!
//! ```text
//!     dst + len <= length  and  src + len <= length    (else trap, nothing written)
//! ```
//!
//! where `dst`, `src`, `len` < 2^32 are zero-extended, so neither sum wraps
//! in 64 bits, and `length` is read as for an explicit access. After it
//! every byte moved lies in `[base, base + length)`, so the moves carry no
//! trap code and never fault; partial-store faults cannot arise. A copy
//! moves `len` in two possibly overlapping pieces of the widest size that
//! fits (8, 4, 2 bytes; one byte alone), both loaded before either is
//! stored, so overlapping ranges give `memmove`'s result as the spec says.

use super::FuncTranslator;
use crate::func_env::{in_heap, trap};
use cranelift_codegen::ir::{self, condcodes::IntCC, types, Endianness, InstBuilder, MemFlagsData, Type, Value};
use kiln_abi::TrapKind;
use wasmparser::{MemArg, MemoryType};

/// How memories are kept in bounds (`kiln compile --bounds-checks`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BoundsChecks {
    /// Guard pages: an 8 GiB reservation per 32-bit memory, no checks in
    /// code. The fastest, where address space is plentiful.
    #[default]
    Guard,
    /// A compare before every access; memories map only what they use.
    /// For small address spaces, or systems without overcommit.
    Explicit,
}

/// How one memory is addressed, decided once per module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryPlan {
    /// A 64-bit memory (memory64): indices are i64.
    pub is64: bool,
    /// log2 of the page size: 16, or 0 (custom-page-sizes).
    pub page_size_log2: u32,
    /// Whether generated code checks every access (see the module comment).
    pub explicit: bool,
    /// A shared memory (threads): other threads may grow it at any time,
    /// so its `length` is never cached (`FuncEnv::memory_length`).
    pub shared: bool,
    /// A guarded memory at [`kiln_abi::FIXED_MEMORY_BASE`]: its base is a
    /// constant in generated code (see "Fixed memories" above).
    pub fixed: bool,
}

impl MemoryPlan {
    /// `may_fix`: whether this memory is the only instance of itself the
    /// process will have (see `ModuleOptions::fixed_memory`); it is then
    /// fixed if it is guarded and unshared.
    pub fn new(ty: &MemoryType, mode: BoundsChecks, may_fix: bool) -> MemoryPlan {
        let page_size_log2 = ty.page_size_log2.unwrap_or(16);
        let explicit = mode == BoundsChecks::Explicit || ty.memory64 || page_size_log2 != 16;
        MemoryPlan {
            is64: ty.memory64,
            page_size_log2,
            explicit,
            shared: ty.shared,
            fixed: may_fix && !explicit && !ty.shared,
        }
    }

    /// The CLIF type of an address, size or length in this memory.
    pub fn index_type(&self) -> types::Type {
        if self.is64 {
            types::I64
        } else {
            types::I32
        }
    }

    /// `KILN_MEMORY_FLAG_*` for the memory's runtime record.
    pub fn flags(&self) -> u32 {
        (if self.is64 { kiln_abi::MEMORY_FLAG_64 } else { 0 })
            | if self.explicit { kiln_abi::MEMORY_FLAG_EXPLICIT } else { 0 }
            | if self.shared { kiln_abi::MEMORY_FLAG_SHARED } else { 0 }
            | if self.fixed { kiln_abi::MEMORY_FLAG_FIXED } else { 0 }
    }
}

/// The memory a `MemArg` addresses.
pub(super) fn memory_of(memarg: &MemArg) -> u32 {
    let wasmparser::MemArgTarget::Memory(memory) = memarg.target else {
        unreachable!("validation without GC admits only memory targets")
    };
    memory
}

/// The longest `memory.copy` or `memory.fill`, in bytes, made inline (see
/// the module comment); longer ones call the runtime.
pub const INLINE_BULK_MAX: i64 = 16;

impl FuncTranslator<'_, '_, '_> {
    /// `memory.copy` (spec 4.4.7.11): `len` bytes from `src` in `src_mem`
    /// to `dst` in `dst_mem`, as if through a buffer; all three operands
    /// already i64 ([`Self::heap_index64`]). Traps with "out of bounds
    /// memory access", writing nothing, unless both ranges are in bounds.
    pub(super) fn memory_copy(&mut self, dst_mem: u32, src_mem: u32, dst: Value, src: Value, len: Value) {
        let inline = dst_mem == src_mem && self.inlines_bulk(dst_mem);
        let (short, long, done) = self.split_short(inline, len);
        if let Some(short) = short {
            self.enter(short);
            // dst, src, len < 2^32 (zero-extended): the sums cannot wrap.
            let dst_end = self.b.ins().iadd(dst, len);
            let src_end = self.b.ins().iadd(src, len);
            let end = self.b.ins().umax(dst_end, src_end);
            self.check_end(dst_mem, end);
            let base = self.env.memory_base(&mut self.b, dst_mem);
            let d = self.b.ins().iadd(base, dst);
            let s = self.b.ins().iadd(base, src);
            self.short_moves(len, done, |t, ty, last| {
                // Both pieces are loaded before either is stored.
                let flags = t.bulk_flags();
                let s_last = t.b.ins().iadd(s, last);
                let first = t.b.ins().load(ty, flags, s, 0);
                let second = t.b.ins().load(ty, flags, s_last, 0);
                let d_last = t.b.ins().iadd(d, last);
                t.b.ins().store(flags, first, d, 0);
                t.b.ins().store(flags, second, d_last, 0);
            });
        }
        self.enter(long);
        let dm = self.env.memory_ptr(&mut self.b, dst_mem);
        let sm = self.env.memory_ptr(&mut self.b, src_mem);
        let id = self.env.m.runtime.memory_copy;
        self.env.call_checked(&mut self.b, id, &[dm, sm, dst, src, len], TrapKind::MemoryOutOfBounds);
        self.join_short(done);
    }

    /// `memory.fill` (spec 4.4.7.10): `len` bytes at `dst` set to the low
    /// byte of `val` (i32); `dst` and `len` already i64. Traps with "out of
    /// bounds memory access", writing nothing, unless the range is in
    /// bounds.
    pub(super) fn memory_fill(&mut self, mem: u32, dst: Value, val: Value, len: Value) {
        let (short, long, done) = self.split_short(self.inlines_bulk(mem), len);
        if let Some(short) = short {
            self.enter(short);
            // dst, len < 2^32 (zero-extended): the sum cannot wrap.
            let end = self.b.ins().iadd(dst, len);
            self.check_end(mem, end);
            let base = self.env.memory_base(&mut self.b, mem);
            let d = self.b.ins().iadd(base, dst);
            let byte = self.b.ins().band_imm_u(val, 0xff);
            let byte = self.b.ins().uextend(types::I64, byte);
            let splat = self.b.ins().imul_imm_u(byte, 0x0101_0101_0101_0101);
            self.short_moves(len, done, |t, ty, last| {
                let flags = t.bulk_flags();
                let v = if ty == types::I64 { splat } else { t.b.ins().ireduce(ty, splat) };
                let d_last = t.b.ins().iadd(d, last);
                t.b.ins().store(flags, v, d, 0);
                t.b.ins().store(flags, v, d_last, 0);
            });
        }
        self.enter(long);
        let m = self.env.memory_ptr(&mut self.b, mem);
        let id = self.env.m.runtime.memory_fill;
        self.env.call_checked(&mut self.b, id, &[m, dst, val, len], TrapKind::MemoryOutOfBounds);
        self.join_short(done);
    }

    /// Whether short bulk operations on `mem` are made inline: a 32-bit,
    /// unshared memory (a shared one's length may change under us; a
    /// 64-bit one's sums may wrap).
    fn inlines_bulk(&self, mem: u32) -> bool {
        let plan = &self.env.m.memories[mem as usize];
        !plan.is64 && !plan.shared
    }

    /// In bounds (checked by the caller), never faulting: no trap code.
    fn bulk_flags(&mut self) -> MemFlagsData {
        in_heap(self.b.func, MemFlagsData::new().with_endianness(Endianness::Little).with_trap_code(None))
    }

    /// Branches on `len <= INLINE_BULK_MAX` when `inline`; returns the
    /// short path's block (if any), the runtime call's block and the join
    /// block. Without `inline` it jumps straight to the call's block.
    fn split_short(&mut self, inline: bool, len: Value) -> (Option<ir::Block>, ir::Block, ir::Block) {
        let long = self.b.create_block();
        let done = self.b.create_block();
        if !inline {
            self.b.ins().jump(long, &[]);
            return (None, long, done);
        }
        let short = self.b.create_block();
        let is_short = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThanOrEqual, len, INLINE_BULK_MAX);
        self.b.ins().brif(is_short, short, &[], long, &[]);
        (Some(short), long, done)
    }

    fn join_short(&mut self, done: ir::Block) {
        self.b.ins().jump(done, &[]);
        self.enter(done);
    }

    /// Continues in `block`, whose predecessors are all known.
    fn enter(&mut self, block: ir::Block) {
        self.b.switch_to_block(block);
        self.b.seal_block(block);
    }

    /// Traps with "out of bounds memory access" unless `end <= length`:
    /// the short path's check, before any byte moves. The length is read
    /// as for an explicit access (reloaded after calls).
    fn check_end(&mut self, mem: u32, end: Value) {
        let length = self.env.memory_length(&mut self.b, mem);
        let out = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, length);
        self.b.ins().trapnz(out, trap(TrapKind::MemoryOutOfBounds));
    }

    /// The size tree of a short operation (`len <= INLINE_BULK_MAX`):
    /// `len` in 8..=16 moves two 8-byte pieces, 4..=7 two 4-byte, 2..=3 two
    /// 2-byte, 1 one byte (twice the same), 0 nothing. `emit(t, ty, last)`
    /// moves the pieces at offsets 0 and `last = len - size` and may not
    /// end its block; every leaf then jumps to `done`.
    fn short_moves(&mut self, len: Value, done: ir::Block, emit: impl Fn(&mut Self, Type, Value)) {
        for (ty, size) in [(types::I64, 8i64), (types::I32, 4), (types::I16, 2), (types::I8, 1)] {
            let here = self.b.create_block();
            let smaller = self.b.create_block();
            let fits = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, len, size);
            self.b.ins().brif(fits, here, &[], smaller, &[]);
            self.enter(here);
            let last = self.b.ins().iadd_imm_s(len, -size);
            emit(self, ty, last);
            self.b.ins().jump(done, &[]);
            self.enter(smaller);
        }
        // len == 0: nothing to move.
        self.b.ins().jump(done, &[]);
    }

    /// The flags of a wasm memory access: little-endian on every target, in
    /// the heap alias region, and trapping with "out of bounds memory
    /// access" when it faults (guarded memories).
    pub(super) fn heap_flags(&mut self) -> MemFlagsData {
        let f = MemFlagsData::new()
            .with_endianness(Endianness::Little)
            .with_trap_code(Some(trap(TrapKind::MemoryOutOfBounds)));
        in_heap(self.b.func, f)
    }

    /// An address, size or length operand of `memory` as an i64.
    pub(super) fn heap_index64(&mut self, memory: u32, v: Value) -> Value {
        if self.env.m.memories[memory as usize].is64 {
            v
        } else {
            self.b.ins().uextend(types::I64, v)
        }
    }

    /// Traps with "out of bounds memory access" unless
    /// `ea + offset + size <= length` (see the module comment), where `ea`
    /// is the i64 index. Returns nothing: the caller adds `offset` itself.
    pub(super) fn bounds_check(&mut self, memory: u32, ea: Value, offset: u64, size: u32) {
        let oob = trap(TrapKind::MemoryOutOfBounds);
        let end = if self.env.m.memories[memory as usize].is64 {
            // Both additions may wrap in 64 bits; a wrap is out of bounds.
            match offset.checked_add(size as u64) {
                Some(k) => {
                    let k = self.b.ins().iconst(types::I64, k as i64);
                    self.b.ins().uadd_overflow_trap(ea, k, oob)
                }
                None => {
                    let o = self.b.ins().iconst(types::I64, offset as i64);
                    let e = self.b.ins().uadd_overflow_trap(ea, o, oob);
                    let s = self.b.ins().iconst(types::I64, size as i64);
                    self.b.ins().uadd_overflow_trap(e, s, oob)
                }
            }
        } else {
            // ea < 2^32 and offset < 2^32 (validation), so no wrap.
            debug_assert!(offset <= u32::MAX as u64, "validation bounds wasm32 offsets");
            self.b.ins().iadd_imm_u(ea, (offset + size as u64) as i64)
        };
        let length = self.env.memory_length(&mut self.b, memory);
        let out = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, length);
        self.b.ins().trapnz(out, oob);
    }

    /// `heap_addr` for a store of `size` bytes: on targets whose faulting
    /// stores may write partly, a guarded store wider than a byte first
    /// loads its last byte (see the module comment), so an out-of-bounds
    /// store traps before writing anything.
    pub(super) fn store_addr(&mut self, memarg: &MemArg, index: Value, size: u32) -> (Value, i32) {
        let (addr, off) = self.heap_addr(memarg, index, size);
        let explicit = self.env.m.memories[memory_of(memarg) as usize].explicit;
        if self.env.m.probe_stores && !explicit && size > 1 {
            let flags = self.heap_flags();
            let last = off as i64 + size as i64 - 1;
            match i32::try_from(last) {
                Ok(imm) => self.b.ins().uload8(types::I32, flags, addr, imm),
                Err(_) => {
                    let a = self.b.ins().iadd_imm_s(addr, last);
                    self.b.ins().uload8(types::I32, flags, a, 0)
                }
            };
        }
        (addr, off)
    }

    /// Returns `(address, immediate offset)` for a wasm access of `size`
    /// bytes: the native address is `address + immediate`. Explicit
    /// memories are checked first. Offsets that fit the load/store
    /// immediate stay there; larger ones are added.
    pub(super) fn heap_addr(&mut self, memarg: &MemArg, index: Value, size: u32) -> (Value, i32) {
        let memory = memory_of(memarg);
        let idx = self.heap_index64(memory, index);
        if self.env.m.memories[memory as usize].explicit {
            self.bounds_check(memory, idx, memarg.offset, size);
        }
        let base = self.env.memory_base(&mut self.b, memory);
        let addr = self.b.ins().iadd(base, idx);
        match i32::try_from(memarg.offset) {
            Ok(imm) => (addr, imm),
            // Wrapping is fine here: an explicit memory's check above
            // proved the true sum in bounds, and a guarded memory's offset
            // is below 2^32.
            Err(_) => (self.b.ins().iadd_imm_s(addr, memarg.offset as i64), 0),
        }
    }
}
