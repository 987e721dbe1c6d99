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

use super::FuncTranslator;
use crate::func_env::{in_heap, trap};
use cranelift_codegen::ir::{condcodes::IntCC, types, Endianness, InstBuilder, MemFlagsData, Value};
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

impl FuncTranslator<'_, '_, '_> {
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
