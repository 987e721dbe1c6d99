//! Linear-memory addressing.
//!
//! SANDBOX-CRITICAL. This file decides which wasm memory accesses need an
//! explicit bounds check. Read it with `runtime-lib/c/memory.c` and
//! `kiln_abi::MEMORY_RESERVATION`.
//!
//! The runtime reserves R = 8 GiB + 64 KiB of address space per 32-bit
//! memory (`kiln_abi::MEMORY_RESERVATION`),
//! PROT_NONE except for the first `length` bytes. A wasm access computes
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
//!
//! The address arithmetic is done in 64 bits on the zero-extended index, so
//! `index + offset` cannot wrap around to a small in-bounds address.
//!
//! An access that straddles `length` (starts in bounds, ends past it)
//! faults as a whole on x86-64; see issue notes for other targets.

use super::FuncTranslator;
use crate::func_env::trap;
use cranelift_codegen::ir::{types, Endianness, InstBuilder, MemFlagsData, Value};
use kiln_abi::TrapKind;
use wasmparser::MemArg;

/// The flags of a wasm memory access: little-endian on every target, and
/// trapping with "out of bounds memory access" when it faults.
pub fn heap_flags() -> MemFlagsData {
    MemFlagsData::new()
        .with_endianness(Endianness::Little)
        .with_trap_code(Some(trap(TrapKind::MemoryOutOfBounds)))
}

impl FuncTranslator<'_, '_, '_> {
    /// Returns `(address, immediate offset)` for a wasm access: the native
    /// address is `address + immediate`. Offsets that fit the load/store
    /// immediate stay there; larger ones (up to 2^32 - 1) are added.
    pub(super) fn heap_addr(&mut self, memarg: &MemArg, index: Value) -> (Value, i32) {
        let wasmparser::MemArgTarget::Memory(memory) = memarg.target else {
            unreachable!("validation without GC admits only memory targets")
        };
        let base = self.env.memory_base(&mut self.b, memory);
        let idx = self.b.ins().uextend(types::I64, index);
        let addr = self.b.ins().iadd(base, idx);
        debug_assert!(memarg.offset <= u32::MAX as u64, "validation bounds wasm32 offsets");
        match i32::try_from(memarg.offset) {
            Ok(imm) => (addr, imm),
            Err(_) => (self.b.ins().iadd_imm_s(addr, memarg.offset as i64), 0),
        }
    }
}
