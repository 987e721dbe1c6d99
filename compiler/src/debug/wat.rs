//! `-g` for a module without DWARF: the module's text form, written next to
//! the executable as `NAME.kiln.wat`, becomes the source that gdb steps through.
//!
//! wasmprinter prints the module one instruction per line and tells the
//! byte offset each line came from; Cranelift tells the wasm offset of every
//! native instruction range. Together they give a line table from native
//! code to `.wat` lines, plus one subprogram per function, in a single
//! compilation unit named after the `.wat` file.

use super::dwarf::{emit, FuncDebug};
use gimli::write::{Address, AttributeValue, Dwarf, LineProgram, LineString, Range, RangeList, Unit};
use gimli::{constants, Encoding, Format, LineEncoding};
use object::write::Object;

/// The text form of a module and, for each line that has one, the byte
/// offset it was printed from (sorted by offset).
pub struct WatSource {
    pub text: String,
    offsets: Vec<(u64, u64)>,
}

pub fn wat_source(bytes: &[u8]) -> Result<WatSource, String> {
    let mut storage = String::new();
    let mut text = String::new();
    let mut offsets = Vec::new();
    let mut config = wasmprinter::Config::new();
    config.print_offsets(false);
    let lines = config.offsets_and_lines(bytes, &mut storage).map_err(|e| format!("printing the module as text: {e}"))?;
    for (i, (offset, line)) in lines.enumerate() {
        text.push_str(line);
        if !line.ends_with('\n') {
            text.push('\n');
        }
        if let Some(o) = offset {
            offsets.push((o, i as u64 + 1));
        }
    }
    offsets.sort();
    Ok(WatSource { text, offsets })
}

impl WatSource {
    /// The line of the instruction at wasm byte offset `o`, or the closest
    /// line before it.
    fn line_of(&self, o: u64) -> Option<u64> {
        let i = self.offsets.partition_point(|(off, _)| *off <= o);
        self.offsets.get(i.checked_sub(1)?).map(|(_, l)| *l)
    }
}

/// Adds DWARF describing `funcs` in terms of `wat_name`'s lines to `obj`.
pub fn write_wat_dwarf(
    obj: &mut Object<'static>,
    wat_name: &str,
    comp_dir: &str,
    source: &WatSource,
    funcs: &[FuncDebug],
    names: &[String],
) -> Result<(), String> {
    let encoding = Encoding { format: Format::Dwarf32, version: 4, address_size: 8 };
    let mut program = LineProgram::new(
        encoding,
        LineEncoding::default(),
        LineString::String(comp_dir.as_bytes().to_vec()),
        None,
        LineString::String(wat_name.as_bytes().to_vec()),
        None,
    );
    let dir = program.default_directory();
    let file = program.add_file(LineString::String(wat_name.as_bytes().to_vec()), dir, None);
    for (i, f) in funcs.iter().enumerate() {
        program.begin_sequence(Some(Address::Symbol { symbol: i, addend: 0 }));
        let mut last = None;
        let first = source.line_of(f.wasm_start).unwrap_or(1);
        for (ns, line) in std::iter::once((0, first)).chain(f.srclocs.iter().filter_map(|(ns, _, w)| Some((*ns, source.line_of(*w as u64)?)))) {
            if last == Some(line) {
                continue;
            }
            last = Some(line);
            let row = program.row();
            row.address_offset = ns as u64;
            row.file = file;
            row.line = line;
            row.column = 0;
            row.is_statement = true;
            program.generate_row();
        }
        program.end_sequence(f.native_size);
    }

    let mut dwarf = Dwarf::new();
    let unit_id = dwarf.units.add(Unit::new(encoding, program));
    let unit = dwarf.units.get_mut(unit_id);
    let ranges: Vec<Range> = (0..funcs.len())
        .map(|i| Range::StartLength { begin: Address::Symbol { symbol: i, addend: 0 }, length: funcs[i].native_size })
        .collect();
    let ranges = unit.ranges.add(RangeList(ranges));
    let root = unit.root();
    let cu = unit.get_mut(root);
    cu.set(constants::DW_AT_producer, AttributeValue::String(b"kiln (module text)".to_vec()));
    cu.set(constants::DW_AT_name, AttributeValue::String(wat_name.as_bytes().to_vec()));
    cu.set(constants::DW_AT_comp_dir, AttributeValue::String(comp_dir.as_bytes().to_vec()));
    cu.set(constants::DW_AT_low_pc, AttributeValue::Address(Address::Constant(0)));
    cu.set(constants::DW_AT_ranges, AttributeValue::RangeListRef(ranges));
    cu.set(constants::DW_AT_stmt_list, AttributeValue::LineProgramRef);
    for (i, f) in funcs.iter().enumerate() {
        let id = unit.add(root, constants::DW_TAG_subprogram);
        let die = unit.get_mut(id);
        die.set(constants::DW_AT_name, AttributeValue::String(names[i].as_bytes().to_vec()));
        die.set(constants::DW_AT_low_pc, AttributeValue::Address(Address::Symbol { symbol: i, addend: 0 }));
        die.set(constants::DW_AT_high_pc, AttributeValue::Udata(f.native_size));
        die.set(constants::DW_AT_decl_file, AttributeValue::FileIndex(Some(file)));
        die.set(constants::DW_AT_decl_line, AttributeValue::Udata(source.line_of(f.wasm_start).unwrap_or(1)));
        die.set(constants::DW_AT_external, AttributeValue::Flag(true));
    }
    emit(obj, &mut dwarf, &|i| funcs.get(i).map(|f| f.symbol))
}
