//! Translating the module's DWARF (clang `-g`, rustc debuginfo) into native
//! DWARF for the compiled code, so gdb and lldb debug at the source level.
//!
//! Wasm DWARF describes code by *code-section offsets*; Cranelift tells us,
//! for every native instruction range, the wasm byte offset it came from
//! (the source locations the translator sets). The translation:
//!
//! - Line tables are rebuilt: for each compiled function, one sequence whose
//!   rows are the native ranges, each carrying the file/line/column of the
//!   wasm row that covers its wasm offset. Native code is not in wasm order,
//!   so rows are generated per native range rather than by shifting.
//! - DIEs are copied. Address attributes are rewritten: a range that is a
//!   whole function becomes that function's native symbol and size; any
//!   other range (lexical blocks, inlined code, the CU) becomes the native
//!   ranges whose wasm offsets fall inside it.
//! - Variable locations are translated. Wasm DWARF says where a value lives
//!   in wasm terms: a wasm local or global (`DW_OP_WASM_location`), an
//!   offset from a frame base that is itself a local or global holding a
//!   linear-memory address (clang's shadow stack), or a linear-memory
//!   address. Under `-g` the translator mirrors every wasm local into a
//!   stack slot at a fixed offset from the frame pointer (optimised code
//!   would otherwise keep a local's value alive only briefly). So a local
//!   is that slot; a frame base or address becomes "memory base +
//!   zero-extended 32-bit wasm address", where the memory base is read at
//!   run time from the module's static `kiln_memory` (a symbol, so the
//!   expression needs no register); a global is read from the module's
//!   static VMContext. Expressions in other forms are left out (gdb then
//!   shows `<optimized out>`).
//! - Pointers stay 32-bit wasm addresses: gdb shows their values, but
//!   following one (`*p`) reads native memory at that address, which is
//!   not where linear memory lives. See ARCHITECTURE.md.
//!
//! Nothing here reads the host; every address is a relocation against a
//! function symbol, resolved by the linker.

use super::Section;
use gimli::write::{
    Address, AttributeValue, ConvertUnitSection, Dwarf, Expression, LineRow, Range, RangeList, RelocationTarget,
    Sections,
};
use gimli::{constants, LittleEndian, SectionId};
use object::write::{Object, Relocation as ObjReloc, SectionKind, SymbolId};
use object::{RelocationEncoding, RelocationFlags, RelocationKind};
use std::collections::HashMap;

/// What the translation needs to know about one compiled function.
pub struct FuncDebug {
    pub symbol: SymbolId,
    /// Body range in the module, as absolute byte offsets.
    pub wasm_start: u64,
    pub wasm_end: u64,
    pub native_size: u64,
    /// (native start, native end, absolute wasm offset), in native order.
    pub srclocs: Vec<(u32, u32, u32)>,
    /// Offset from the frame pointer of each wasm local's debug slot.
    pub local_slots: Vec<i64>,
}

/// The module's static instance, for expressions that read it.
pub struct InstanceSymbols {
    /// VMContext offset of memory 0's `kiln_memory` (when the module defines it).
    pub memory: Option<u32>,
    /// The VMContext.
    pub vmctx: SymbolId,
    /// VMContext offset of each wasm global's cell (None when imported).
    pub globals: Vec<Option<u32>>,
}

type R<'a> = gimli::EndianSlice<'a, LittleEndian>;

/// Maps wasm code-section addresses to native addresses.
struct AddressMap<'f> {
    /// Functions sorted by wasm start, in code-section addresses.
    funcs: Vec<(u64, u64, usize)>,
    all: &'f [FuncDebug],
    code_start: u64,
    instance: &'f InstanceSymbols,
    /// The frame-pointer register, which addresses the debug slots.
    fp: gimli::Register,
}

/// The symbol index past the functions names the instance's VMContext.
fn vmctx_symbol(map: &AddressMap) -> usize {
    map.all.len()
}

impl AddressMap<'_> {
    fn func_at(&self, addr: u64) -> Option<usize> {
        let i = self.funcs.partition_point(|(s, _, _)| *s <= addr);
        let (s, e, f) = *self.funcs.get(i.checked_sub(1)?)?;
        (addr >= s && addr < e).then_some(f)
    }

    /// Native ranges (symbol index, start, end) of the code whose wasm
    /// offsets fall in [begin, end), merged when adjacent.
    fn native_ranges(&self, begin: u64, end: u64) -> Vec<(usize, u64, u64)> {
        let mut out: Vec<(usize, u64, u64)> = Vec::new();
        let first = self.funcs.partition_point(|(_, e, _)| *e <= begin);
        for &(fs, fe, f) in &self.funcs[first..] {
            if fs >= end {
                break;
            }
            let func = &self.all[f];
            if begin <= fs && fe <= end {
                out.push((f, 0, func.native_size));
                continue;
            }
            for &(ns, ne, w) in &func.srclocs {
                let w = (w as u64).wrapping_sub(self.code_start);
                if w >= begin && w < end {
                    match out.last_mut() {
                        Some((lf, _, le)) if *lf == f && *le == ns as u64 => *le = ne as u64,
                        _ => out.push((f, ns as u64, ne as u64)),
                    }
                }
            }
        }
        out
    }

    /// A single address: the native code for the first wasm instruction at
    /// or after it, within its function.
    fn address(&self, addr: u64) -> Option<Address> {
        let f = self.func_at(addr)?;
        let func = &self.all[f];
        let (fs, _, _) = self.funcs.iter().find(|x| x.2 == f).copied()?;
        if addr == fs {
            return Some(Address::Symbol { symbol: f, addend: 0 });
        }
        let best = func
            .srclocs
            .iter()
            .filter(|(_, _, w)| (*w as u64).wrapping_sub(self.code_start) >= addr)
            .min_by_key(|(_, _, w)| *w)
            .map(|(ns, _, _)| *ns as i64)
            .unwrap_or(0);
        Some(Address::Symbol { symbol: f, addend: best })
    }
}

/// The module's DWARF custom sections, by name.
pub fn dwarf_sections(bytes: &[u8]) -> HashMap<String, &[u8]> {
    let mut out = HashMap::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let Ok(wasmparser::Payload::CustomSection(c)) = payload {
            if c.name().starts_with(".debug_") {
                out.insert(c.name().to_string(), c.data());
            }
        }
    }
    out
}

/// Translates the DWARF in `sections` for `funcs` and adds the native
/// `.debug_*` sections to `obj`. `code_start` is the module offset of the
/// code section's contents (wasm DWARF addresses are relative to it).
pub fn write_dwarf(
    obj: &mut Object<'static>,
    sections: &HashMap<String, &[u8]>,
    code_start: u64,
    funcs: &[FuncDebug],
    instance: &InstanceSymbols,
    fp_register: u16,
) -> Result<(), String> {
    let load = |id: SectionId| -> Result<R, gimli::Error> {
        Ok(gimli::EndianSlice::new(sections.get(id.name()).copied().unwrap_or(&[]), LittleEndian))
    };
    let read = gimli::read::Dwarf::load(load).map_err(|e| format!("reading DWARF: {e}"))?;
    let mut map_funcs: Vec<(u64, u64, usize)> = funcs
        .iter()
        .enumerate()
        .map(|(i, f)| (f.wasm_start - code_start, f.wasm_end - code_start, i))
        .collect();
    map_funcs.sort();
    let map = AddressMap { funcs: map_funcs, all: funcs, code_start, instance, fp: gimli::Register(fp_register) };

    let mut dwarf = Dwarf::default();
    let err = |e: gimli::write::ConvertError| format!("translating DWARF: {e}");
    {
        let mut convert: ConvertUnitSection<R> = dwarf.convert(&read).map_err(err)?;
        while let Some((mut unit, root)) = convert.read_unit().map_err(err)? {
            // Wasm DWARF has 4-byte addresses; native code needs 8.
            let encoding = gimli::Encoding { address_size: 8, ..unit.unit.encoding() };
            unit.unit.set_encoding(encoding);
            // The line program, rebuilt per native function.
            let mut rows: Vec<(u64, LineRow)> = Vec::new();
            if let Some(mut program) = unit.read_line_program(Some(encoding), None).map_err(err)? {
                while let Some(seq) = program.read_sequence().map_err(err)? {
                    let Some(start) = seq.start else { continue };
                    rows.extend(seq.rows.into_iter().map(|r| (start + r.address_offset, r)));
                }
                rows.sort_by_key(|(a, _)| *a);
                for &(fs, fe, f) in &map.funcs {
                    let lo = rows.partition_point(|(a, _)| *a < fs);
                    if lo >= rows.len() || rows[lo].0 >= fe {
                        continue; // this function belongs to another unit
                    }
                    let func = &funcs[f];
                    program.begin_sequence(Some(Address::Symbol { symbol: f, addend: 0 }));
                    // The prologue (before the first instruction with a wasm
                    // offset) belongs to the function's first row, its
                    // opening line, as in native code; debuggers skip it by
                    // looking for the next line.
                    let first = rows[lo].1.clone();
                    let mut last: Option<(gimli::write::FileId, u64, u64)> = Some((first.file, first.line, first.column));
                    if func.srclocs.first().is_none_or(|s| s.0 != 0) {
                        let mut r = first;
                        r.address_offset = 0;
                        r.is_statement = true;
                        program.generate_row(r);
                    } else {
                        last = None;
                    }
                    for &(ns, _, w) in &func.srclocs {
                        let w = (w as u64).wrapping_sub(code_start);
                        if w < fs || w >= fe {
                            continue;
                        }
                        let i = rows.partition_point(|(a, _)| *a <= w);
                        let Some((_, row)) = rows.get(i.saturating_sub(1).max(lo)) else { continue };
                        let key = (row.file, row.line, row.column);
                        if last == Some(key) {
                            continue;
                        }
                        // Entering a new line starts a statement: the wasm
                        // row that carried is_stmt may have produced no
                        // native code of its own.
                        let new_line = last.is_none_or(|(f, l, _)| f != key.0 || l != key.1);
                        last = Some(key);
                        let mut r = row.clone();
                        r.address_offset = ns as u64;
                        r.is_statement = r.is_statement || new_line;
                        program.generate_row(r);
                    }
                    program.end_sequence(func.native_size);
                }
                let (p, files) = program.program();
                unit.set_line_program(p, files);
            }

            // DIEs, with addresses rewritten. Each DIE inside a function
            // knows that function, for its variables' locations.
            let mut entry = root;
            let root_id = unit.unit.root();
            let mut func_of: HashMap<gimli::write::UnitEntryId, usize> = HashMap::new();
            convert_entry(&mut unit, root_id, &entry, &map, None)?;
            while let Some(id) = unit.read_entry(&mut entry).map_err(err)? {
                let Some(id) = id else { continue };
                let id = unit.add_entry(Some(id), &entry);
                let parent_func = entry.parent.and_then(|p| func_of.get(&p).copied());
                if let Some(f) = convert_entry(&mut unit, id, &entry, &map, parent_func)? {
                    func_of.insert(id, f);
                }
            }
        }
    }

    let resolve = |i: usize| -> Option<SymbolId> {
        if i < funcs.len() {
            Some(funcs[i].symbol)
        } else {
            Some(instance.vmctx)
        }
    };
    emit(obj, &mut dwarf, &resolve)
}

/// Writes `dwarf` into `.debug_*` sections of `obj`. `Address::Symbol`
/// indices are turned into object symbols by `resolve`; a reference to a
/// symbol that does not exist is left unrelocated (zero).
pub fn emit(obj: &mut Object<'static>, dwarf: &mut Dwarf, resolve: &dyn Fn(usize) -> Option<SymbolId>) -> Result<(), String> {
    let mut out = Sections::new(Section::new());
    dwarf.write(&mut out).map_err(|e| format!("writing DWARF: {e}"))?;

    // Add the sections, then their relocations (which may refer to other
    // debug sections, so all must exist first).
    let mut ids = HashMap::new();
    out.for_each(|id, s| -> Result<(), String> {
        if !s.writer.slice().is_empty() {
            let sid = obj.add_section(vec![], id.name().as_bytes().to_vec(), SectionKind::Debug);
            obj.append_section_data(sid, s.writer.slice(), 1);
            ids.insert(id, sid);
        }
        Ok(())
    })?;
    out.for_each(|id, s| -> Result<(), String> {
        let Some(&sid) = ids.get(&id) else { return Ok(()) };
        for r in &s.relocs {
            let (symbol, addend) = match r.target {
                RelocationTarget::Symbol(i) => match resolve(i) {
                    Some(sym) => (sym, r.addend),
                    None => continue,
                },
                RelocationTarget::Section(target) => match ids.get(&target) {
                    Some(t) => (obj.section_symbol(*t), r.addend),
                    None => continue,
                },
            };
            let flags = RelocationFlags::Generic {
                kind: RelocationKind::Absolute,
                encoding: RelocationEncoding::Generic,
                size: r.size * 8,
            };
            obj.add_relocation(sid, ObjReloc { offset: r.offset as u64, symbol, addend, flags })
                .map_err(|e| format!("relocating {}: {e}", id.name()))?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Copies one DIE's attributes, translating address ranges and location
/// expressions. Returns the function this DIE is in (for its children).
fn convert_entry<'a>(
    unit: &mut gimli::write::ConvertUnit<'_, R<'a>>,
    id: gimli::write::UnitEntryId,
    entry: &gimli::write::ConvertUnitEntry<'_, R<'a>>,
    map: &AddressMap,
    parent_func: Option<usize>,
) -> Result<Option<usize>, String> {
    let read_unit = entry.read_unit;
    let encoding = read_unit.encoding();
    // Address range first: it decides which function the DIE belongs to.
    let mut low = None;
    let mut high = None;
    let mut high_is_len = false;
    for attr in entry.read_entry.attrs() {
        match attr.name() {
            constants::DW_AT_low_pc => {
                if let gimli::AttributeValue::Addr(a) = attr.value() {
                    low = Some(a);
                } else if let Ok(Some(a)) = read_unit.attr_address(attr.value()) {
                    low = Some(a);
                }
            }
            constants::DW_AT_high_pc => match attr.value() {
                gimli::AttributeValue::Addr(a) => high = Some(a),
                v => {
                    if let Some(len) = v.udata_value() {
                        high = Some(len);
                        high_is_len = true;
                    } else if let Ok(Some(a)) = read_unit.attr_address(v) {
                        high = Some(a);
                    }
                }
            },
            _ => {}
        }
    }
    let is_cu = entry.read_entry.tag() == constants::DW_TAG_compile_unit;
    // Wasm pointers are 4 bytes, but pointer types often omit their size
    // and rely on the unit's address size, which is now 8: say it.
    let tag = entry.read_entry.tag();
    if matches!(tag, constants::DW_TAG_pointer_type | constants::DW_TAG_reference_type | constants::DW_TAG_rvalue_reference_type)
        && entry.read_entry.attr(constants::DW_AT_byte_size).is_none()
    {
        unit.unit.get_mut(id).set(constants::DW_AT_byte_size, AttributeValue::Udata(4));
    }
    let mut func = parent_func;
    if let Some(lo) = low {
        let hi = match high {
            Some(h) if high_is_len => lo + h,
            Some(h) => h,
            None => lo + 1,
        };
        // A subprogram covering one function's code (LLVM's low_pc may be a
        // few bytes past the body's start, after the locals) is that whole
        // function, in the low_pc/high_pc form gdb likes best.
        let whole = match map.func_at(lo) {
            Some(f) if tag == constants::DW_TAG_subprogram => {
                let (_, fe, _) = *map.funcs.iter().find(|x| x.2 == f).expect("listed");
                (hi <= fe).then_some(f)
            }
            _ => map.funcs.iter().find(|(s, e, _)| *s == lo && *e == hi).map(|x| x.2),
        };
        match whole {
            Some(f) if !is_cu => {
                func = Some(f);
                let die = unit.unit.get_mut(id);
                die.set(constants::DW_AT_low_pc, AttributeValue::Address(Address::Symbol { symbol: f, addend: 0 }));
                die.set(constants::DW_AT_high_pc, AttributeValue::Udata(map.all[f].native_size));
            }
            _ if high.is_some() => set_ranges(unit, id, map, &[(lo, hi)]),
            _ => {
                if let Some(a) = map.address(lo) {
                    unit.unit.get_mut(id).set(constants::DW_AT_low_pc, AttributeValue::Address(a));
                }
            }
        }
    }
    for attr in entry.read_entry.attrs() {
        match attr.name() {
            constants::DW_AT_low_pc | constants::DW_AT_high_pc | constants::DW_AT_GNU_locviews => {}
            constants::DW_AT_ranges => {
                let Ok(Some(offset)) = read_unit.attr_ranges_offset(attr.value()) else { continue };
                let mut wasm = Vec::new();
                if let Ok(mut it) = read_unit.ranges(offset) {
                    while let Ok(Some(r)) = it.next() {
                        wasm.push((r.begin, r.end));
                    }
                }
                set_ranges(unit, id, map, &wasm);
            }
            name @ (constants::DW_AT_location | constants::DW_AT_frame_base) => {
                let gimli::AttributeValue::Exprloc(expr) = attr.value() else { continue };
                let Some(f) = func else { continue };
                let ops: Vec<gimli::Operation<R<'a>>> = {
                    let mut it = expr.operations(encoding);
                    let mut v = Vec::new();
                    while let Ok(Some(op)) = it.next() {
                        v.push(op);
                    }
                    v
                };
                let value = location(map, f, &ops, name == constants::DW_AT_frame_base);
                if let Some(v) = value {
                    unit.unit.get_mut(id).set(name, v);
                }
            }
            name => {
                let value = match unit.convert_attribute_value(read_unit, &attr, &|a| map.address(a)) {
                    Ok(v) => v,
                    // An attribute that cannot be translated is left out
                    // rather than failing the whole module.
                    Err(_) => continue,
                };
                unit.unit.get_mut(id).set(name, value);
            }
        }
    }
    if is_cu {
        // Base address 0 for the CU (after DW_AT_ranges is rewritten, which
        // drops low_pc): every range in it is an absolute address.
        unit.unit.get_mut(id).set(constants::DW_AT_low_pc, AttributeValue::Address(Address::Constant(0)));
    }
    Ok(func)
}

/// Pushes the native address of linear memory byte 0 (read at run time from
/// the module's static `kiln_memory`).
fn push_memory_base(e: &mut Expression, map: &AddressMap) {
    let memory = map.instance.memory.expect("callers check has_memory");
    e.op_addr(Address::Symbol { symbol: vmctx_symbol(map), addend: (memory + kiln_abi::MEMORY.offset("base")) as i64 });
    e.op_deref();
}

/// Pushes the address of wasm local `index`'s debug slot.
fn push_slot(e: &mut Expression, map: &AddressMap, f: usize, index: u32) -> Option<()> {
    let off = *map.all[f].local_slots.get(index as usize)?;
    e.op_breg(map.fp, off);
    Some(())
}

/// Translates a wasm location expression of function `f`.
fn location<'a>(
    map: &AddressMap,
    f: usize,
    ops: &[gimli::Operation<R<'a>>],
    frame_base: bool,
) -> Option<AttributeValue> {
    use gimli::Operation as Op;
    let has_memory = map.instance.memory.is_some();
    match ops {
        // The frame base is a wasm local holding a linear-memory address
        // (clang at -O0): memory base + that address.
        [Op::WasmLocal { index }] | [Op::WasmLocal { index }, Op::StackValue] if frame_base && has_memory => {
            let mut e = Expression::new();
            push_memory_base(&mut e, map);
            push_slot(&mut e, map, f, *index)?;
            e.op_deref_size(4);
            e.op(constants::DW_OP_plus);
            Some(AttributeValue::Exprloc(e))
        }
        // The frame base is a wasm global (the shadow-stack pointer).
        [Op::WasmGlobal { index }] | [Op::WasmGlobal { index }, Op::StackValue] if frame_base && has_memory => {
            let off = (*map.instance.globals.get(*index as usize)?)?;
            let mut e = Expression::new();
            push_memory_base(&mut e, map);
            e.op_addr(Address::Symbol { symbol: vmctx_symbol(map), addend: off as i64 });
            e.op_deref_size(4);
            e.op(constants::DW_OP_plus);
            Some(AttributeValue::Exprloc(e))
        }
        // A variable that is a wasm local: its debug slot.
        [Op::WasmLocal { index }] | [Op::WasmLocal { index }, Op::StackValue] if !frame_base => {
            let mut e = Expression::new();
            push_slot(&mut e, map, f, *index)?;
            Some(AttributeValue::Exprloc(e))
        }
        // Relative to the frame base: unchanged, the frame base is native.
        [Op::FrameOffset { offset }, rest @ ..] if !frame_base => {
            let mut e = Expression::new();
            e.op_fbreg(*offset);
            for op in rest {
                match op {
                    Op::Deref { size, .. } => e.op_deref_size(*size),
                    Op::PlusConstant { value } => e.op_plus_uconst(*value),
                    _ => return None,
                }
            }
            Some(AttributeValue::Exprloc(e))
        }
        // A variable in linear memory at a fixed wasm address.
        [Op::Address { address }] if !frame_base && has_memory => {
            let mut e = Expression::new();
            push_memory_base(&mut e, map);
            e.op_plus_uconst(*address);
            Some(AttributeValue::Exprloc(e))
        }
        _ => None,
    }
}

fn set_ranges(unit: &mut gimli::write::ConvertUnit<'_, R<'_>>, id: gimli::write::UnitEntryId, map: &AddressMap, wasm: &[(u64, u64)]) {
    let mut native = Vec::new();
    for &(b, e) in wasm {
        for (f, s, e) in map.native_ranges(b, e) {
            native.push(Range::StartEnd {
                begin: Address::Symbol { symbol: f, addend: s as i64 },
                end: Address::Symbol { symbol: f, addend: e as i64 },
            });
        }
    }
    let die_unit = &mut *unit.unit;
    let list = die_unit.ranges.add(RangeList(native));
    let die = die_unit.get_mut(id);
    die.delete(constants::DW_AT_low_pc);
    die.delete(constants::DW_AT_high_pc);
    die.set(constants::DW_AT_ranges, AttributeValue::RangeListRef(list));
}

/// The module's own line table, flattened: (absolute wasm offset, file
/// name, line), sorted by offset. For naming source locations in trap
/// backtraces; empty when the module has no usable DWARF.
pub fn wasm_lines(sections: &HashMap<String, &[u8]>, code_start: u64) -> Vec<(u64, String, u32)> {
    let load = |id: SectionId| -> Result<R, gimli::Error> {
        Ok(gimli::EndianSlice::new(sections.get(id.name()).copied().unwrap_or(&[]), LittleEndian))
    };
    let Ok(dwarf) = gimli::read::Dwarf::load(load) else { return vec![] };
    let mut out = Vec::new();
    let mut units = dwarf.units();
    while let Ok(Some(header)) = units.next() {
        let Ok(unit) = dwarf.unit(header) else { continue };
        let Some(program) = unit.line_program.clone() else { continue };
        let mut rows = program.rows();
        while let Ok(Some((header, row))) = rows.next_row() {
            if row.end_sequence() {
                // A marker with no file: code after a sequence (in no
                // unit's line table) has no source location.
                out.push((row.address() + code_start, String::new(), 0));
                continue;
            }
            let Some(line) = row.line() else { continue };
            let file = row
                .file(header)
                .and_then(|f| dwarf.attr_string(&unit, f.path_name()).ok())
                .map(|s| String::from_utf8_lossy(s.slice()).into_owned())
                .unwrap_or_default();
            out.push((row.address() + code_start, file, line.get() as u32));
        }
    }
    // At equal offsets an end marker sorts first, so a sequence starting
    // where another ends keeps its first row.
    out.sort_by_key(|r| (r.0, !r.1.is_empty()));
    out
}
