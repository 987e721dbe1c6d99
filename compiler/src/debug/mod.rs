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

use gimli::write::{EndianVec, RelocateWriter, Relocation};

/// A section being written by gimli, with the relocations it asks for
/// (turned into object relocations by whoever adds the section).
#[derive(Clone)]
pub(crate) struct Section {
    pub writer: EndianVec<gimli::LittleEndian>,
    pub relocs: Vec<Relocation>,
}

impl Section {
    pub fn new() -> Section {
        Section { writer: EndianVec::new(gimli::LittleEndian), relocs: vec![] }
    }
}

impl RelocateWriter for Section {
    type Writer = EndianVec<gimli::LittleEndian>;
    fn writer(&self) -> &Self::Writer {
        &self.writer
    }
    fn writer_mut(&mut self) -> &mut Self::Writer {
        &mut self.writer
    }
    fn relocate(&mut self, r: Relocation) {
        self.relocs.push(r);
    }
}
