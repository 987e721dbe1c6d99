//! Debugging support in the native object: unwind tables so that debuggers,
//! profilers and the runtime can walk wasm frames, and (with `-g`) DWARF
//! translated from the module's own.
//!
//! This module works on the finished `object::write::Object` that
//! cranelift-object produced, adding sections with relocations against the
//! function symbols it defined.

mod dwarf;
mod unwind;
mod wat;

pub use dwarf::{dwarf_sections, wasm_lines, write_dwarf, FuncDebug, InstanceSymbols};
pub use unwind::write_eh_frame;
pub use wat::{wat_source, write_wat_dwarf, WatSource};
