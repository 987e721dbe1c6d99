//! `.eh_frame` for compiled functions.
//!
//! Cranelift describes each function's prologue and epilogue as System V
//! unwind info; here the per-function descriptions become one CIE and an
//! FDE per function, written by gimli. Every address gimli writes is a
//! reference to a function symbol, which becomes an ELF relocation: the
//! linker places the code, not us.

use cranelift_codegen::isa::unwind::UnwindInfo;
use cranelift_codegen::isa::TargetIsa;
use super::Section;
use gimli::write::{Address, EhFrame, FrameTable, RelocationTarget};
use object::write::{Object, Relocation as ObjReloc, StandardSection, SymbolId};
use object::{RelocationEncoding, RelocationFlags, RelocationKind};

/// Adds an `.eh_frame` section describing `functions` to `obj`. Functions
/// without System V unwind info are left out (they have no frame).
pub fn write_eh_frame(obj: &mut Object<'static>, isa: &dyn TargetIsa, functions: Vec<(SymbolId, UnwindInfo)>) -> Result<(), String> {
    let Some(mut cie) = isa.create_systemv_cie() else { return Ok(()) };
    // FDEs name their code PC-relatively, as compilers do: no dynamic
    // relocation in a position-independent host (embedding libraries).
    cie.fde_address_encoding = gimli::DwEhPe(gimli::constants::DW_EH_PE_pcrel.0 | gimli::constants::DW_EH_PE_sdata4.0);
    let mut table = FrameTable::default();
    let cie = table.add_cie(cie);
    let mut symbols = Vec::new();
    for (sym, info) in functions {
        if let UnwindInfo::SystemV(info) = info {
            let address = Address::Symbol { symbol: symbols.len(), addend: 0 };
            symbols.push(sym);
            table.add_fde(cie, info.to_fde(address));
        }
    }
    if symbols.is_empty() {
        return Ok(());
    }
    let mut eh = EhFrame(Section::new());
    table.write_eh_frame(&mut eh).map_err(|e| format!("cannot write .eh_frame: {e}"))?;
    let Section { writer, relocs } = eh.0;
    let section = obj.section_id(StandardSection::EhFrame);
    obj.append_section_data(section, &writer.into_vec(), 8);
    for r in relocs {
        let RelocationTarget::Symbol(index) = r.target else {
            return Err("unexpected section-relative relocation in .eh_frame".into());
        };
        let pcrel = r.eh_pe.is_some_and(|pe| pe.application() == gimli::constants::DW_EH_PE_pcrel);
        let flags = RelocationFlags::Generic {
            kind: if pcrel { RelocationKind::Relative } else { RelocationKind::Absolute },
            encoding: RelocationEncoding::Generic,
            size: r.size * 8,
        };
        obj.add_relocation(section, ObjReloc { offset: r.offset as u64, symbol: symbols[index], addend: r.addend, flags })
            .map_err(|e| format!("cannot relocate .eh_frame: {e}"))?;
    }
    Ok(())
}
