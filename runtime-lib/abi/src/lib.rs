//! The contract between Kiln's compiler and its C runtime, defined once.
//!
//! Everything that crosses the boundary between generated code and
//! `runtime-lib/` lives here: trap kinds and their messages, the layout of
//! the structures both sides read (VMContext header, memories, tables,
//! funcrefs, the module descriptor, trap-table entries), and the names of
//! runtime symbols the compiler calls.
//!
//! The C side never restates these facts by hand. `runtime-lib/build.rs`
//! calls [`c_header`] to generate `kiln_abi.h`, which holds the C struct
//! definitions *and* `_Static_assert`s that the C compiler's layout equals
//! the offsets computed here. If the two ever disagree, the runtime does not
//! build.
//!
//! Assumptions: every supported target is a little-endian LP64 Linux target
//! (x86-64, aarch64, riscv64), so a pointer is 8 bytes. Offsets are still
//! computed from [`POINTER_SIZE`] rather than from the host, so the compiler
//! never asks what machine it runs on.

/// Size in bytes of a pointer on every Kiln target.
pub const POINTER_SIZE: u32 = 8;

/// Version stamp written into every module descriptor; the runtime refuses a
/// descriptor from a different ABI version.
pub const ABI_VERSION: u32 = 8;

/// Exit status of a process that stopped on a trap (the same as wasmtime's).
pub const TRAP_EXIT_STATUS: i32 = 134;

macro_rules! trap_kinds {
    ($($name:ident = $val:literal, $msg:literal;)*) => {
        /// Every way generated code can trap. The discriminant is the byte
        /// stored in the trap table and passed to `kiln_trap`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum TrapKind { $($name = $val,)* }

        impl TrapKind {
            /// All trap kinds, in discriminant order.
            pub const ALL: &'static [TrapKind] = &[$(TrapKind::$name,)*];

            /// The message, in the wording of the WebAssembly spec tests.
            pub fn message(self) -> &'static str {
                match self { $(TrapKind::$name => $msg,)* }
            }

            /// The C enumerator name used in `kiln_abi.h`.
            pub fn c_name(self) -> &'static str {
                match self { $(TrapKind::$name => concat!("KILN_TRAP_", stringify!($name)),)* }
            }

            pub fn from_u8(v: u8) -> Option<TrapKind> {
                match v { $($val => Some(TrapKind::$name),)* _ => None }
            }
        }
    };
}

trap_kinds! {
    Unreachable = 1, "unreachable";
    MemoryOutOfBounds = 2, "out of bounds memory access";
    TableOutOfBounds = 3, "out of bounds table access";
    UninitializedElement = 4, "uninitialized element";
    IndirectCallTypeMismatch = 5, "indirect call type mismatch";
    IntegerDivideByZero = 6, "integer divide by zero";
    IntegerOverflow = 7, "integer overflow";
    InvalidConversionToInteger = 8, "invalid conversion to integer";
    CallStackExhausted = 9, "call stack exhausted";
    NullExceptionReference = 10, "null exception reference";
    UnalignedAtomic = 11, "unaligned atomic";
    ExpectedSharedMemory = 12, "expected shared memory";
    NullFunctionReference = 13, "null function reference";
    NullReference = 14, "null reference";
}

/// What the runtime reports, where a trap kind would go, for an exception
/// that no wasm frame caught (the test driver's recovery point receives it
/// from the unwinder; it is never in a trap table).
pub const UNCAUGHT_EXCEPTION: u32 = 0x100;

/// The tag index of a catch-all handler in a [`HANDLER`] entry.
pub const CATCH_ALL: u32 = u32::MAX;

/// The C type of one field of a shared structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CType {
    U32,
    U64,
    /// Any data pointer; the string is the C pointee type, e.g. `"uint8_t"`.
    Ptr(&'static str),
}

impl CType {
    pub fn size(self) -> u32 {
        match self {
            CType::U32 => 4,
            CType::U64 => 8,
            CType::Ptr(_) => POINTER_SIZE,
        }
    }
}

/// A structure shared by generated code and the runtime. Fields are laid out
/// in order with natural alignment, as C does on every Kiln target.
pub struct Struct {
    pub c_name: &'static str,
    pub doc: &'static str,
    pub fields: &'static [(&'static str, CType, &'static str)],
}

impl Struct {
    /// Byte offset of `field`. Panics on an unknown field name: that is a
    /// bug in the compiler, found by any test that emits the structure.
    pub fn offset(&self, field: &str) -> u32 {
        let mut off = 0;
        for (name, ty, _) in self.fields {
            off = align(off, ty.size());
            if *name == field {
                return off;
            }
            off += ty.size();
        }
        panic!("{} has no field {field}", self.c_name)
    }

    pub fn size(&self) -> u32 {
        let mut off = 0;
        let mut max_align = 1;
        for (_, ty, _) in self.fields {
            off = align(off, ty.size()) + ty.size();
            max_align = max_align.max(ty.size());
        }
        align(off, max_align)
    }

    pub fn field_type(&self, field: &str) -> CType {
        self.fields.iter().find(|f| f.0 == field).map(|f| f.1).expect("unknown field")
    }
}

const fn align(v: u32, a: u32) -> u32 {
    (v + a - 1) / a * a
}

/// The fixed header at the start of every instance's VMContext. The arrays
/// that follow it depend on the module; [`VmOffsets`] computes them.
pub const VMCTX_HEADER: Struct = Struct {
    c_name: "kiln_vmctx_header",
    doc: "Fixed start of every VMContext.",
    fields: &[
        ("stack_limit", CType::U64, "Lowest stack address wasm code may use; checked in every prologue."),
        ("module", CType::Ptr("const struct kiln_module"), "The descriptor of the module this instance belongs to."),
        ("instance", CType::Ptr("struct kiln_instance"), "The runtime's side of the instance (WASI context, trap state); generated code passes it to host imports and never reads it otherwise."),
    ],
};

/// A linear memory. Generated code reads `base` and `length`.
///
/// A *guarded* memory (the default for 32-bit memories with 64 KiB pages)
/// owns a [`MEMORY_RESERVATION`]-byte reservation made up front: `base`
/// never changes and generated code checks no bounds. An *explicit* memory
/// ([`MEMORY_FLAG_EXPLICIT`]: `--bounds-checks=explicit`, every 64-bit
/// memory, every memory with 1-byte pages) maps only what it uses, may move
/// when it grows, and generated code compares every access with `length`.
pub const MEMORY: Struct = Struct {
    c_name: "kiln_memory",
    doc: "One linear memory and its mapping.",
    fields: &[
        ("base", CType::Ptr("uint8_t"), "Start of the memory. Fixed for guarded memories; explicit ones may move on grow."),
        ("length", CType::U64, "Current accessible size in bytes (a whole number of pages)."),
        ("min_pages", CType::U64, "Declared minimum, in pages."),
        ("max_pages", CType::U64, "Declared maximum in pages, capped by the index type (and a guarded reservation)."),
        ("declared_max", CType::U64, "Declared maximum in pages, or UINT64_MAX when none (for import matching)."),
        ("mapped", CType::U64, "Explicit memories: bytes mapped read-write at base (>= length). Guarded: unused."),
        ("page_size_log2", CType::U32, "log2 of the page size: 16 (64 KiB), or 0 (custom-page-sizes' 1-byte pages)."),
        ("flags", CType::U32, "KILN_MEMORY_FLAG_*."),
    ],
};

/// [`MEMORY`] flag: a 64-bit memory (memory64): addresses are i64.
pub const MEMORY_FLAG_64: u32 = 1;
/// [`MEMORY`] flag: accesses are bounds-checked by generated code against
/// `length`; the runtime maps no guard region and may move the memory.
pub const MEMORY_FLAG_EXPLICIT: u32 = 2;

/// [`MEMORY`] flag: a shared memory (threads): one mapping used by every
/// thread's instance. It never moves, even when explicitly checked (the
/// runtime reserves its declared maximum up front), growing it is
/// serialised, and generated code reads its `length` afresh at every use.
pub const MEMORY_FLAG_SHARED: u32 = 4;

/// [`MEMORY`] flag: a guarded memory at the fixed address
/// [`FIXED_MEMORY_BASE`]. Generated code uses that address as a constant
/// instead of loading `base`, so the runtime must reserve the memory exactly
/// there, or stop before any wasm code runs. Only a plain command
/// executable's memory 0 (or the test driver's module 0's, which is
/// instantiated at most once) is fixed: the one instance the process will
/// ever have of it (not another driver module's, an embedding's, `kiln run`'s, a
/// shared one, one of a module that spawns threads, whose threads are new
/// instances with memories of their own, or one of a `-g` build, whose
/// debug mirror needs the addresses below 4 GiB).
pub const MEMORY_FLAG_FIXED: u32 = 8;

/// Where a [`MEMORY_FLAG_FIXED`] memory's reservation starts: 1.5 GiB,
/// above any executable's image (static executables are linked at 2 MiB
/// or below) and valgrind's tool image (at 0x5800_0000, so Kiln
/// executables still run under valgrind), and below the kernel's mmap and
/// stack areas near the top of the address space. The reservation
/// (8 GiB + 64 KiB) ends below 10 GiB, far under 2^38 (RISC-V Sv39's 256
/// GiB user space, the smallest of the three targets). Being below 2^31,
/// the constant folds into an x86-64 addressing mode's 32-bit displacement
/// together with an access's offset (when their sum stays below 2^31), so
/// such a wasm load is one instruction and holds no base register.
pub const FIXED_MEMORY_BASE: u64 = 0x6000_0000;

/// Added to a table's element type code in the `type` word of its
/// [`IMPORT`] and [`EXPORT`] records when it is a 64-bit table (memory64):
/// imports must match it exactly.
pub const TABLE_TYPE_64: u32 = 0x1_0000;

/// The `type` word of a memory's [`IMPORT`] and [`EXPORT`] records: what an
/// import must match exactly besides limits (index type, sharing and page
/// size).
pub fn memory_type_word(is64: bool, shared: bool, page_size_log2: u32) -> u32 {
    (if is64 { MEMORY_FLAG_64 } else { 0 }) | (if shared { MEMORY_FLAG_SHARED } else { 0 }) | page_size_log2 << 8
}

/// A table of references. Each element is a pointer-sized reference:
/// a `kiln_funcref *` for funcref tables, an opaque host value for externref.
pub const TABLE: Struct = Struct {
    c_name: "kiln_table",
    doc: "One table of references.",
    fields: &[
        ("elements", CType::Ptr("uint64_t"), "Element storage; may move when the table grows."),
        ("size", CType::U32, "Current number of elements."),
        ("max", CType::U32, "Effective maximum (0xffffffff when none declared)."),
        ("min", CType::U32, "Declared minimum."),
        ("capacity", CType::U32, "Allocated element slots."),
        ("declared_max", CType::U64, "Declared maximum, or UINT64_MAX when none (for import matching)."),
    ],
};

/// A function reference: what `ref.func` yields and what a funcref table
/// holds a pointer to. `type_id` is the canonical signature id, interned by
/// the compiler across every module linked into one executable.
pub const FUNCREF: Struct = Struct {
    c_name: "kiln_funcref",
    doc: "A callable function: code, canonical signature id, and the instance it closes over.",
    fields: &[
        ("code", CType::Ptr("void"), "Native code, wasm calling convention."),
        ("type_id", CType::U64, "Canonical signature id."),
        ("vmctx", CType::Ptr("void"), "VMContext passed as the callee's first argument."),
    ],
};

/// A data or element segment as `memory.init` / `table.init` see it.
/// Dropping a segment sets `length` to zero.
pub const SEGMENT: Struct = Struct {
    c_name: "kiln_segment",
    doc: "A passive (or already applied) data or element segment.",
    fields: &[
        ("data", CType::Ptr("const uint8_t"), "Bytes (data) or 8-byte references (elements)."),
        ("length", CType::U64, "Length in bytes (data) or elements; 0 once dropped."),
    ],
};

/// The trap table of one compiled function (a wasm function or a
/// generated helper): the functions' groups are sorted by `start`, and each
/// group's entries, in code order, are encoded in the module's `trap_data`
/// bytes at offset `data`, as [`encode_trap_group`] writes them. The table
/// is read only when something faults, so it is compact rather than fast:
/// a few bytes per trapping instruction, and one relocation per function.
pub const TRAP_GROUP: Struct = Struct {
    c_name: "kiln_trap_group",
    doc: "Where one function's trap entries are, in the module's trap_data.",
    fields: &[
        ("start", CType::Ptr("const void"), "First instruction of the function."),
        ("data", CType::U32, "Byte offset of the group's entries in trap_data."),
        ("func_index", CType::U32, "Wasm function index, or UINT32_MAX for generated instantiation code."),
    ],
};

/// A source position (from the module's DWARF) named by trap entries.
pub const SOURCE_LINE: Struct = Struct {
    c_name: "kiln_source_line",
    doc: "A source file and line, shared by every trap entry on that line.",
    fields: &[
        ("file", CType::Ptr("const char"), "Source file name, NUL-terminated."),
        ("line", CType::U32, "Line number."),
        ("pad", CType::U32, "Unused."),
    ],
};

/// One level of inlining (see [`encode_trap_group`]): the code at this
/// level is wasm function `func`'s, and it was inlined at the call at wasm
/// offset `call_offset` (with source position `call_source`, an index of
/// [`SOURCE_LINE`]) of the function one level further out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InlinedAt {
    pub func: u32,
    pub call_offset: u32,
    pub call_source: Option<u32>,
}

/// One trapping instruction, as the compiler records it and the runtime
/// decodes it: byte offset of the instruction from its function's start,
/// the trap kind, the wasm offset of the instruction, the index of its
/// [`SOURCE_LINE`] if it has one, and, if the instruction was inlined from
/// other functions, the inlining levels, innermost first (empty if not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrapSite {
    pub code_offset: u32,
    pub kind: TrapKind,
    pub wasm_offset: u32,
    pub source: Option<u32>,
    pub inlined: Vec<InlinedAt>,
}

/// A call made by inlined code: the return address's offset from the
/// function's start and the inlining levels, innermost first. The call's
/// own wasm offset is in its [`CALL_SITE`] entry, as for any call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlinedCall {
    pub code_offset: u32,
    pub inlined: Vec<InlinedAt>,
}

/// The flag in an entry's kind byte saying that inlining levels follow.
pub const TRAP_KIND_INLINED: u8 = 0x80;

/// Appends one function's trap entries (sorted by `code_offset`) and the
/// inlining levels of its calls from inlined code (sorted likewise) to
/// `out`:
///
/// ```text
/// group  := count:uleb128 entry{count} ncalls:uleb128 call{ncalls}
/// entry  := pc_delta:uleb128 wasm_delta:sleb128 kind:u8 source:uleb128 [levels]
/// call   := pc_delta:uleb128 levels
/// levels := n:uleb128 (func:uleb128 call_offset:uleb128 call_source:uleb128){n}
/// ```
///
/// `pc_delta` is the code offset minus the previous entry's (the first
/// entry's minus 0), `wasm_delta` likewise for wasm offsets, `source` and
/// `call_source` are 0 for none or 1 + the [`SOURCE_LINE`] index. An entry
/// has `levels` exactly when its kind byte carries [`TRAP_KIND_INLINED`].
/// Level i names the function whose code is at that level and the call
/// that was inlined, which is in level i+1's function, the last level's
/// being in the group's own function: a trap in `g`, inlined into `f` at
/// `f`'s offset 0x40, is `wasm_offset` in `g`, then level 0 = (g, 0x40).
/// Code that was not inlined costs nothing (no flag, and `ncalls` is one
/// 0 byte per function). `runtime-lib/c/trap.c` (`lookup_in`,
/// `inlined_call`) is the reader; [`decode_trap_group`] mirrors it for
/// tests.
pub fn encode_trap_group(sites: &[TrapSite], calls: &[InlinedCall], out: &mut Vec<u8>) {
    fn uleb(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    fn sleb(out: &mut Vec<u8>, mut v: i64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0) {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    fn levels(out: &mut Vec<u8>, inlined: &[InlinedAt]) {
        uleb(out, inlined.len() as u64);
        for l in inlined {
            uleb(out, l.func as u64);
            uleb(out, l.call_offset as u64);
            uleb(out, l.call_source.map_or(0, |i| i as u64 + 1));
        }
    }
    uleb(out, sites.len() as u64);
    let (mut pc, mut wasm) = (0u32, 0u32);
    for s in sites {
        debug_assert!(s.code_offset >= pc, "trap sites are sorted by code offset");
        debug_assert!((s.kind as u8) < TRAP_KIND_INLINED, "the kind byte has a free flag bit");
        uleb(out, (s.code_offset - pc) as u64);
        sleb(out, s.wasm_offset as i64 - wasm as i64);
        out.push(s.kind as u8 | if s.inlined.is_empty() { 0 } else { TRAP_KIND_INLINED });
        uleb(out, s.source.map_or(0, |i| i as u64 + 1));
        if !s.inlined.is_empty() {
            levels(out, &s.inlined);
        }
        pc = s.code_offset;
        wasm = s.wasm_offset;
    }
    uleb(out, calls.len() as u64);
    let mut pc = 0u32;
    for c in calls {
        debug_assert!(c.code_offset >= pc && !c.inlined.is_empty(), "inlined calls are sorted and inlined");
        uleb(out, (c.code_offset - pc) as u64);
        levels(out, &c.inlined);
        pc = c.code_offset;
    }
}

/// Reads back one group written by [`encode_trap_group`] (as the runtime
/// does); `None` if the bytes are not such a group.
pub fn decode_trap_group(bytes: &[u8]) -> Option<(Vec<TrapSite>, Vec<InlinedCall>)> {
    struct Reader<'b>(&'b [u8], usize);
    impl Reader<'_> {
        fn byte(&mut self) -> Option<u8> {
            let b = *self.0.get(self.1)?;
            self.1 += 1;
            Some(b)
        }
        fn leb(&mut self, signed: bool) -> Option<i64> {
            let (mut v, mut shift) = (0i64, 0u32);
            loop {
                let b = self.byte()?;
                v |= ((b & 0x7f) as i64) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    if signed && shift < 64 && b & 0x40 != 0 {
                        v |= -1i64 << shift;
                    }
                    return Some(v);
                }
                if shift >= 64 {
                    return None;
                }
            }
        }
        fn index(&mut self) -> Option<Option<u32>> {
            let v = self.leb(false)?;
            Some((v > 0).then(|| v as u32 - 1))
        }
        fn levels(&mut self) -> Option<Vec<InlinedAt>> {
            let n = self.leb(false)?;
            let mut levels = Vec::new();
            for _ in 0..n {
                let func = self.leb(false)? as u32;
                let call_offset = self.leb(false)? as u32;
                let call_source = self.index()?;
                levels.push(InlinedAt { func, call_offset, call_source });
            }
            Some(levels)
        }
    }
    let mut r = Reader(bytes, 0);
    let n = r.leb(false)?;
    let (mut pc, mut wasm) = (0i64, 0i64);
    let mut sites = Vec::new();
    for _ in 0..n {
        pc += r.leb(false)?;
        wasm += r.leb(true)?;
        let byte = r.byte()?;
        let kind = TrapKind::from_u8(byte & !TRAP_KIND_INLINED)?;
        let source = r.index()?;
        let inlined = if byte & TRAP_KIND_INLINED != 0 { r.levels()? } else { vec![] };
        sites.push(TrapSite { code_offset: pc as u32, kind, wasm_offset: wasm as u32, source, inlined });
    }
    let n = r.leb(false)?;
    let mut pc = 0i64;
    let mut calls = Vec::new();
    for _ in 0..n {
        pc += r.leb(false)?;
        calls.push(InlinedCall { code_offset: pc as u32, inlined: r.levels()? });
    }
    Some((sites, calls))
}


/// One call site: the return address of a call in generated code, sorted
/// by address, so a trap can print a wasm backtrace with offsets, and the
/// exception unwinder can find the handlers of a call inside `try_table`
/// (or a legacy `try`). Each function's call sites are a run of the
/// module's array, named by its [`FUNC_INFO`]; a lookup is a binary search
/// of the functions, then of the run. Entries hold offsets, not pointers:
/// 8 bytes and no relocation per call. What only some calls have (a
/// source position under `-g`, exception handlers) is in a
/// [`CALL_EXTRA`] record, found by the call's index.
pub const CALL_SITE: Struct = Struct {
    c_name: "kiln_call_site",
    doc: "Maps a return address to the wasm call instruction.",
    fields: &[
        ("pc_offset", CType::U32, "Return address of the call minus its function's start."),
        ("wasm_offset", CType::U32, "Byte offset in the module of the wasm call."),
    ],
};

/// What a [`CALL_SITE`] has besides its offsets, for the calls that have
/// any of it: one record per such call, sorted by `call`, the call's index
/// in the module's call sites (a binary search finds it; a call without
/// a record has no source position and no handlers).
pub const CALL_EXTRA: Struct = Struct {
    c_name: "kiln_call_extra",
    doc: "Source position and exception handlers of one call site.",
    fields: &[
        ("call", CType::U32, "Index of the call in the module's calls."),
        ("source", CType::U32, "0, or 1 + the index in source_lines of the call's source position."),
        ("frame_offset", CType::U32, "FP minus SP at the call: a handler runs with SP = FP - frame_offset."),
        ("handlers", CType::U32, "Index in the module's handlers of this call's first handler (innermost first)."),
        ("n_handlers", CType::U32, "Number of handlers (0: none)."),
    ],
};

/// One exception handler of a call site, in the order wasm tries them: the
/// first whose tag is the thrown exception's tag (compared by identity:
/// the module's tag `tag`, read through its VMContext), or a catch-all,
/// receives the exception.
pub const HANDLER: Struct = Struct {
    c_name: "kiln_handler",
    doc: "One catch clause active at a call site.",
    fields: &[
        ("pc", CType::Ptr("const void"), "Handler code, entered with the kiln_exn pointer in the first payload register."),
        ("tag", CType::U32, "Module tag index, or KILN_CATCH_ALL."),
        ("pad", CType::U32, "Unused."),
    ],
};

/// An exception tag. Its identity is its address: a tag imported under
/// another name, or by another module, is the same `kiln_tag`.
pub const TAG: Struct = Struct {
    c_name: "kiln_tag",
    doc: "An exception tag: identity by address.",
    fields: &[
        ("name", CType::Ptr("const char"), "Display name (name section, else export name), or NULL."),
        ("type_id", CType::U64, "Canonical signature id of the tag's type (for import matching)."),
        ("n_values", CType::U32, "Number of payload values."),
        ("module", CType::U32, "Index of the defining module in the executable."),
    ],
};

/// An exception in flight (or held as an `exnref`): its tag and payload.
/// Created by [`symbols::EXN_NEW`], filled in by generated code, thrown by
/// [`symbols::THROW`]. The header is followed by `n_values` 16-byte value
/// cells (`EXN_VALUES_OFFSET`), laid out like globals.
pub const EXN: Struct = Struct {
    c_name: "kiln_exn",
    doc: "An exception object: tag, then the payload cells.",
    fields: &[
        ("tag", CType::Ptr("const struct kiln_tag"), "The tag thrown."),
        ("n_values", CType::U32, "Number of 16-byte payload cells that follow."),
        ("mark", CType::U32, "KILN_EXN_ESCAPED once wasm may hold an exnref to it (see unwind.c)."),
    ],
};

/// Offset of the first payload cell in a [`EXN`] object.
pub const EXN_VALUES_OFFSET: u32 = 16;

/// [`EXN`]'s `mark` once a reference to the object may live in wasm state
/// (delivered by `catch_ref`/`catch_all_ref`, or held by a legacy `catch`
/// for `rethrow`): such an object is never freed.
pub const EXN_ESCAPED: u32 = 1;

/// Kinds of imports and exports, as in the binary format.
pub const EXTERN_FUNC: u32 = 0;
pub const EXTERN_TABLE: u32 = 1;
pub const EXTERN_MEMORY: u32 = 2;
pub const EXTERN_GLOBAL: u32 = 3;
pub const EXTERN_TAG: u32 = 4;

/// No declared maximum (memories, tables) in import and export records.
pub const NO_MAX: u64 = u64::MAX;

/// Reference types in the `type` of import and export records (globals,
/// tables): the low byte is the heap type's binary code (`0x70` func,
/// `0x6f` extern, `0x69` exn, `0x73` nofunc, `0x72` noextern, `0x74`
/// noexn), or [`HEAP_CONCRETE`] for a concrete function type, whose
/// canonical id is then the record's `type_id`; [`REF_NON_NULL`] is set
/// for a non-nullable reference. `funcref` and `externref` keep their
/// Wasm 2.0 codes.
pub const HEAP_CONCRETE: u32 = 0x60;
/// See [`HEAP_CONCRETE`].
pub const REF_NON_NULL: u32 = 0x200;

/// One import the runtime resolves by name at instantiation (executables
/// linked from several modules). `type` is the value type code of a global
/// (binary-format byte, | 0x100 when mutable) or the element type code of a
/// table, or [`memory_type_word`] of a memory; `type_id` the canonical
/// signature id of a function.
pub const IMPORT: Struct = Struct {
    c_name: "kiln_import",
    doc: "An import resolved by name at instantiation.",
    fields: &[
        ("module", CType::Ptr("const char"), "Module name, NUL-terminated."),
        ("name", CType::Ptr("const char"), "Field name, NUL-terminated."),
        ("module_len", CType::U32, "Length of module in bytes (names may contain NUL)."),
        ("name_len", CType::U32, "Length of name in bytes."),
        ("kind", CType::U32, "KILN_EXTERN_*."),
        ("type", CType::U32, "Global value type (| 0x100 if mutable), table element type, or memory type word."),
        ("slot", CType::U32, "Byte offset in the VMContext of the pointer to fill in."),
        ("type_id", CType::U64, "Canonical type id: functions and tags; globals and tables of a concrete reference type."),
        ("min", CType::U64, "Minimum size (memories: pages, tables: elements)."),
        ("max", CType::U64, "Maximum size, or KILN_NO_MAX."),
    ],
};

/// One export. `offset` is where its entity lives in the VMContext (a
/// `kiln_funcref`, `kiln_table`, `kiln_memory`, `kiln_tag` or a global's
/// 16-byte cell); when `indirect` is set it is instead the offset of the
/// VMContext slot holding a pointer to the entity (an import re-exported),
/// to be read after instantiation. Offsets make the record valid for every
/// instance of the module.
pub const EXPORT: Struct = Struct {
    c_name: "kiln_export",
    doc: "An export, for linking, the test driver and embedding.",
    fields: &[
        ("name", CType::Ptr("const char"), "Export name, NUL-terminated."),
        ("trampoline", CType::Ptr("void"), "Array-call trampoline (functions), or NULL."),
        ("signature", CType::Ptr("const char"), "Functions: parameter then result type codes, as `ii:f`."),
        ("kind", CType::U32, "KILN_EXTERN_*."),
        ("type", CType::U32, "Global value type (| 0x100 if mutable), table element type, or memory type word."),
        ("indirect", CType::U32, "Whether offset names a slot to read."),
        ("name_len", CType::U32, "Length of name in bytes (names may contain NUL)."),
        ("type_id", CType::U64, "Canonical type id of a global's or table's concrete reference type, else 0."),
        ("offset", CType::U32, "Byte offset in the VMContext of the entity, or of the slot holding it when indirect."),
        ("index", CType::U32, "Index of the entity in the module's space of its kind."),
    ],
};

/// Descriptor of one function, for names in trap messages and backtraces.
pub const FUNC_INFO: Struct = Struct {
    c_name: "kiln_func_info",
    doc: "Native address range and name of one wasm function.",
    fields: &[
        ("start", CType::Ptr("const void"), "First instruction."),
        ("name", CType::Ptr("const char"), "NUL-terminated display name."),
        ("size", CType::U32, "Length of the native code in bytes."),
        ("index", CType::U32, "Wasm function index."),
        ("calls", CType::U32, "Index in the module's call sites of the function's first one."),
        ("n_calls", CType::U32, "Number of call sites in the function."),
    ],
};

/// Everything the runtime needs to know about one compiled module.
pub const MODULE: Struct = Struct {
    c_name: "kiln_module",
    doc: "Emitted by the compiler for each module; read by the runtime at instantiation.",
    fields: &[
        ("abi_version", CType::U32, "Must equal KILN_ABI_VERSION."),
        ("index", CType::U32, "Index of this module in the executable."),
        ("name", CType::Ptr("const char"), "File name of the module, for messages."),
        ("vmctx", CType::Ptr("uint8_t"), "The VMContext block emitted by the compiler: an executable's instance, and the image further instances are copied from."),
        ("init", CType::Ptr("void"), "Generated: evaluate globals, apply element and data segments. Array-call ABI."),
        ("start", CType::Ptr("void"), "Array-call trampoline of the start function, or NULL."),
        ("entry", CType::Ptr("void"), "Array-call trampoline of the `_start` export, or NULL."),
        ("fixups", CType::Ptr("const uint32_t"), "VMContext offsets of the pointers that point into the VMContext itself (rebased in a copy)."),
        ("funcs", CType::Ptr("const struct kiln_func_info"), "Defined functions, in index order."),
        ("trap_groups", CType::Ptr("const struct kiln_trap_group"), "Trap table: one group per function, sorted by start."),
        ("trap_data", CType::Ptr("const uint8_t"), "The groups' entries (see kiln_abi::encode_trap_group)."),
        ("source_lines", CType::Ptr("const struct kiln_source_line"), "Source positions the trap entries name."),
        ("calls", CType::Ptr("const struct kiln_call_site"), "Call sites, sorted by return address."),
        ("call_extras", CType::Ptr("const struct kiln_call_extra"), "Source positions and handlers of the calls that have them, sorted by call index."),
        ("handlers", CType::Ptr("const struct kiln_handler"), "Exception handlers of the call sites."),
        ("imports", CType::Ptr("const struct kiln_import"), "Imports resolved at instantiation (empty when bound at compile time)."),
        ("exports", CType::Ptr("const struct kiln_export"), "Exports."),
        ("host_memories", CType::Ptr("struct kiln_memory"), "Memories a command imports, which the runtime provides (threads: the shared `env.memory`); every instance's import slot points here."),
        ("n_imports", CType::U32, "Number of entries in imports."),
        ("n_exports", CType::U32, "Number of entries in exports."),
        ("n_memories", CType::U32, "Number of defined memories."),
        ("n_tables", CType::U32, "Number of defined tables."),
        ("n_funcs", CType::U32, "Number of defined functions."),
        ("n_trap_groups", CType::U32, "Number of trap groups."),
        ("n_calls", CType::U32, "Number of call sites."),
        ("n_call_extras", CType::U32, "Number of entries in call_extras."),
        ("tags_offset", CType::U32, "Byte offset in the VMContext of the tag pointer array."),
        ("memories_offset", CType::U32, "Byte offset in the VMContext of the defined memories (kiln_memory[n_memories])."),
        ("tables_offset", CType::U32, "Byte offset in the VMContext of the defined tables (kiln_table[n_tables])."),
        ("vmctx_size", CType::U32, "Size of the VMContext block in bytes (a multiple of 16)."),
        ("n_fixups", CType::U32, "Number of entries in fixups."),
        ("n_host_memories", CType::U32, "Number of entries in host_memories."),
    ],
};

/// Structures generated into `kiln_abi.h`, in dependency order.
pub const STRUCTS: &[&Struct] = &[
    &VMCTX_HEADER,
    &MEMORY,
    &TABLE,
    &FUNCREF,
    &SEGMENT,
    &TRAP_GROUP,
    &SOURCE_LINE,
    &HANDLER,
    &CALL_SITE,
    &CALL_EXTRA,
    &TAG,
    &EXN,
    &IMPORT,
    &EXPORT,
    &FUNC_INFO,
    &MODULE,
];

/// Wasm page size.
pub const WASM_PAGE_SIZE: u64 = 65536;

/// Bytes reserved for each 32-bit linear memory: 4 GiB of addressable space,
/// a 4 GiB guard, and 64 KiB more. The last byte any access can touch is
/// `base + (2^32 - 1) + (2^32 - 1) + (size - 1)` with `size <= 16`, which is
/// below `base + 2^33 + 15`; the extra 64 KiB keeps that inside the
/// reservation with room to spare (and is a whole number of pages on every
/// page size Linux uses). So generated code needs no bounds check at all:
/// an access past `length` hits PROT_NONE pages of this reservation and
/// faults, and the fault is turned into a trap via the trap table.
pub const MEMORY_RESERVATION: u64 = (8 << 30) + (64 << 10);

/// How much of the native stack is kept free below `stack_limit` for the
/// runtime itself (signal handling, WASI calls) once wasm has used its share.
pub const STACK_RED_ZONE: u64 = 64 << 10;

/// Signature ids: the compiler interns every function type and hands out
/// dense ids starting at 1, so 0 never matches a real function (a null
/// funcref has no type).
pub const FIRST_TYPE_ID: u64 = 1;

/// Runtime entry points that generated code calls. Each is a C function in
/// `runtime-lib/` taking the caller's VMContext first; names are listed here
/// once so the compiler and `kiln_abi.h` cannot drift.
pub mod symbols {
    // Memory operations take addresses and lengths as uint64_t whatever the
    // memory's index type: generated code zero-extends 32-bit operands.
    /// `uint64_t (kiln_memory *m, uint64_t delta_pages)`: memory.grow; returns the old size in pages or UINT64_MAX.
    pub const MEMORY_GROW: &str = "kiln_rt_memory_grow";
    /// `uint32_t (kiln_memory *m, uint64_t dst, uint32_t val, uint64_t len)`: 0, or a trap kind.
    pub const MEMORY_FILL: &str = "kiln_rt_memory_fill";
    /// `uint32_t (kiln_memory *dst_m, kiln_memory *src_m, uint64_t dst, uint64_t src, uint64_t len)`.
    pub const MEMORY_COPY: &str = "kiln_rt_memory_copy";
    /// `uint32_t (kiln_memory *m, const kiln_segment *seg, uint64_t dst, uint32_t src, uint32_t len)`.
    pub const MEMORY_INIT: &str = "kiln_rt_memory_init";
    /// `uint32_t (kiln_table *t, uint64_t init, uint32_t delta)`: table.grow; the old size or -1.
    pub const TABLE_GROW: &str = "kiln_rt_table_grow";
    /// `uint32_t (kiln_table *t, uint32_t dst, uint64_t val, uint32_t len)`: 0, or a trap kind.
    pub const TABLE_FILL: &str = "kiln_rt_table_fill";
    /// `uint32_t (kiln_table *dst_t, kiln_table *src_t, uint32_t dst, uint32_t src, uint32_t len)`.
    pub const TABLE_COPY: &str = "kiln_rt_table_copy";
    /// `uint32_t (kiln_table *t, const kiln_segment *seg, uint32_t dst, uint32_t src, uint32_t len)`.
    pub const TABLE_INIT: &str = "kiln_rt_table_init";
    /// `kiln_exn *(const kiln_tag *tag)`: a new exception object of that tag,
    /// its payload cells to be filled in by the caller.
    pub const EXN_NEW: &str = "kiln_rt_exn_new";
    /// `_Noreturn void (void *vmctx, kiln_exn *exn)`: throws `exn` from the
    /// calling wasm frame: unwinds to the first handler that takes it, or
    /// reports it as uncaught. Called (as a `try_call` inside handlers) by
    /// `throw`, `throw_ref` and `rethrow`.
    pub const THROW: &str = "kiln_rt_throw";
    /// `void (kiln_exn *exn)`: called by a `catch`/`catch_all` handler once
    /// it has read the payload: frees the object unless it is marked
    /// [`super::EXN_ESCAPED`].
    pub const EXN_FREE: &str = "kiln_rt_exn_free";
    /// `int32_t (uint32_t *addr, uint32_t expected, int64_t timeout_ns)`:
    /// memory.atomic.wait32 on a shared memory, at the native address of
    /// the cell, after generated code checked alignment and bounds (shared
    /// memories never move): 0 woken, 1 not equal, 2 timed out (a negative
    /// timeout waits forever).
    pub const ATOMIC_WAIT32: &str = "kiln_rt_atomic_wait32";
    /// `int32_t (uint64_t *addr, uint64_t expected, int64_t timeout_ns)`: wait64.
    pub const ATOMIC_WAIT64: &str = "kiln_rt_atomic_wait64";
    /// `uint32_t (void *addr, uint32_t count)`: memory.atomic.notify on a
    /// shared memory; the number of waiters woken (at most `count`).
    pub const ATOMIC_NOTIFY: &str = "kiln_rt_atomic_notify";
    /// wasi-threads' `thread-spawn(start_arg: i32) -> i32`, a host function
    /// with the WASI calling convention (`int32_t (void *callee_vmctx, void
    /// *caller_vmctx, int32_t start_arg)`): a new thread with a new instance
    /// of the module runs `wasi_thread_start(tid, start_arg)`; returns the
    /// thread id (1..2^29) or a negative value.
    pub const THREAD_SPAWN: &str = "kiln_wasi_thread_spawn";
    /// Runtime's list of module descriptors in an executable, emitted by the compiler.
    pub const MODULE_LIST: &str = "kiln_modules";
    /// Number of entries in [`MODULE_LIST`] (a `uint32_t`).
    pub const MODULE_COUNT: &str = "kiln_module_count";
    /// Build-time configuration blob (environment grants), emitted by the compiler.
    pub const CONFIG: &str = "kiln_config";
    /// Prefix of the WASI preview1 host functions that take the process's
    /// WASI lock around the call (`runtime-lib/c/threads.c`), which a
    /// module that spawns threads calls instead: `kiln_wasi_locked_<name>`
    /// (proc_exit has none: it takes no lock).
    pub const WASI_LOCKED_PREFIX: &str = "kiln_wasi_locked_";
    /// Prefix of WASI preview1 host functions: `kiln_wasi_<name>`.
    pub const WASI_PREFIX: &str = "kiln_wasi_";
}

/// What an embedded instance's export call (and instantiation) returns to
/// the host: the `kiln_status` values of the generated header
/// (docs/embedding.md).
pub mod embed {
    /// The call returned normally.
    pub const OK: u32 = 0;
    /// The call trapped (or threw an exception nobody caught); the
    /// instance's message holds the trap and its wasm backtrace.
    pub const TRAP: u32 = 1;
    /// The module called WASI `proc_exit`; the exit code is kept.
    pub const EXIT: u32 = 2;
    /// The runtime refused to go on (an out-of-range exit code, a resource
    /// that could not be had, an instance that failed to instantiate).
    pub const ERROR: u32 = 3;
    /// Bytes of wasm stack an instance gets unless its config says otherwise.
    pub const DEFAULT_STACK_SIZE: u64 = 1 << 20;
    /// Bytes of that stack kept free for host imports and the runtime
    /// (generated code's stack limit sits this far above the bottom), at
    /// most half the stack.
    pub const HOST_STACK_RESERVE: u64 = 256 << 10;
}

/// The configuration the compiler bakes into an executable, read by the
/// runtime at start-up: a sequence of NUL-terminated strings, ended by an
/// empty string. Each is `KEY=VALUE` for a granted environment variable, or
/// one of the flags below.
pub mod config {
    /// Present when the executable inherits the whole host environment.
    pub const INHERIT_ENV: &str = "\u{1}inherit-env";
    /// Present when the executable is a test driver: instead of running a
    /// command it reads instantiate/register/invoke/get requests on stdin
    /// (see runtime-lib/c/driver.c).
    pub const DRIVER: &str = "\u{1}driver";
    /// Prefix of the entry listing the CPU features generated code uses,
    /// comma-separated (`kiln_targets::Feature` names); the runtime checks
    /// them at start-up.
    pub const CPU_PREFIX: &str = "\u{1}cpu=";
    /// Present in `-g` builds: memory 0 of the command is also mapped
    /// read-only at native addresses equal to wasm addresses, so debuggers
    /// can follow wasm pointers (see runtime-lib/c/memory.c).
    pub const DEBUG_MIRROR: &str = "\u{1}debug-mirror";
    /// Prefix of a directory grant: `\u{1}dir=` then `ro:` or `rw:`, the
    /// host path, `::`, and the guest path. Host paths are resolved when
    /// the executable starts (so `.` is its working directory then).
    pub const DIR_PREFIX: &str = "\u{1}dir=";
    /// Prefix of the entry giving the wasm stack size of spawned threads,
    /// in bytes (decimal; `kiln compile --thread-stack`).
    pub const THREAD_STACK_PREFIX: &str = "\u{1}thread-stack=";
    /// Present when the person running the executable may add directory
    /// grants through the `KILN_DIRS` environment variable.
    pub const RUNTIME_DIRS: &str = "\u{1}runtime-dirs";
    /// The environment variable read for run-time grants (only with
    /// [`RUNTIME_DIRS`]): `HOST::GUEST` entries separated by `;`, each
    /// optionally suffixed `::ro`.
    pub const RUNTIME_DIRS_ENV: &str = "KILN_DIRS";
    /// Present when the executable was compiled with
    /// `--bounds-checks=explicit` (shown by `kiln inspect`).
    pub const BOUNDS_CHECKS_EXPLICIT: &str = "\u{1}bounds-checks=explicit";
    /// Prefix of the entry saying how the code was built, for `kiln
    /// inspect` only (the runtime skips it, as every `\u{1}` entry it does
    /// not know): the Kiln version, the optimisation level and whether wasm
    /// functions were inlined, e.g. `kiln 0.1.0, -O2, inlining`.
    pub const BUILT_PREFIX: &str = "\u{1}built=";
}


/// WASI preview1 (`wasi_snapshot_preview1`): every function, its wasm
/// parameter types (`i` = i32, `I` = i64) and whether it returns an errno.
/// The compiler checks imports against this list, and `kiln_abi.h` declares
/// the C implementations from it, so a signature cannot drift.
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";
/// wasi-threads: the module and name of its one import, `thread-spawn`
/// (`(param i32) (result i32)`; see [`symbols::THREAD_SPAWN`]), and the
/// export a spawned thread runs, `wasi_thread_start(tid: i32, arg: i32)`.
pub const WASI_THREADS_MODULE: &str = "wasi";
pub const WASI_THREAD_SPAWN: &str = "thread-spawn";
pub const WASI_THREAD_START: &str = "wasi_thread_start";
pub const WASI_FUNCTIONS: &[(&str, &str, bool)] = &[
    ("args_get", "ii", true),
    ("args_sizes_get", "ii", true),
    ("environ_get", "ii", true),
    ("environ_sizes_get", "ii", true),
    ("clock_res_get", "ii", true),
    ("clock_time_get", "iIi", true),
    ("fd_advise", "iIIi", true),
    ("fd_allocate", "iII", true),
    ("fd_close", "i", true),
    ("fd_datasync", "i", true),
    ("fd_fdstat_get", "ii", true),
    ("fd_fdstat_set_flags", "ii", true),
    ("fd_fdstat_set_rights", "iII", true),
    ("fd_filestat_get", "ii", true),
    ("fd_filestat_set_size", "iI", true),
    ("fd_filestat_set_times", "iIIi", true),
    ("fd_pread", "iiiIi", true),
    ("fd_prestat_get", "ii", true),
    ("fd_prestat_dir_name", "iii", true),
    ("fd_pwrite", "iiiIi", true),
    ("fd_read", "iiii", true),
    ("fd_readdir", "iiiIi", true),
    ("fd_renumber", "ii", true),
    ("fd_seek", "iIii", true),
    ("fd_sync", "i", true),
    ("fd_tell", "ii", true),
    ("fd_write", "iiii", true),
    ("path_create_directory", "iii", true),
    ("path_filestat_get", "iiiii", true),
    ("path_filestat_set_times", "iiiiIIi", true),
    ("path_link", "iiiiiii", true),
    ("path_open", "iiiiiIIii", true),
    ("path_readlink", "iiiiii", true),
    ("path_remove_directory", "iii", true),
    ("path_rename", "iiiiii", true),
    ("path_symlink", "iiiii", true),
    ("path_unlink_file", "iii", true),
    ("poll_oneoff", "iiii", true),
    ("proc_exit", "i", false),
    ("proc_raise", "i", true),
    ("sched_yield", "", true),
    ("random_get", "ii", true),
    ("sock_accept", "iii", true),
    ("sock_recv", "iiiiii", true),
    ("sock_send", "iiiii", true),
    ("sock_shutdown", "ii", true),
];

/// The C prototype of a WASI host function: the callee and caller VMContexts
/// come first, as for every function with the wasm calling convention.
pub fn wasi_c_prototype(name: &str, params: &str, returns: bool) -> String {
    let mut s = format!(
        "{} {}{}(void *callee_vmctx, void *caller_vmctx",
        if returns { "int32_t" } else { "_Noreturn void" },
        symbols::WASI_PREFIX,
        name
    );
    for (i, c) in params.chars().enumerate() {
        s.push_str(if c == 'I' { ", int64_t" } else { ", int32_t" });
        s.push_str(&format!(" a{i}"));
    }
    s.push(')');
    s
}

/// Byte offsets inside a VMContext for one module, computed from its counts.
///
/// The VMContext is the whole of an instance's state that generated code
/// reaches: the pointer arrays it loads through, and, after them, the
/// instance's own memories, tables, tags, funcrefs and segments, inline.
/// So one contiguous block *is* an instance: an executable uses the
/// compiler-emitted block as its single instance, and an embedding creates
/// more by copying that block and rebasing the pointers in it that point
/// into it (the module's [`MODULE`] `fixups`).
///
/// ```text
/// struct vmctx {
///     kiln_vmctx_header header;          // stack_limit, module, instance
///     kiln_memory      *memories[M];     // defined and imported alike
///     kiln_table       *tables[T];
///     kiln_tag         *tags[X];         // defined and imported alike
///     kiln_funcref     *imported_funcs[F];
///     uint8_t          *imported_globals[GI];   // points at a 16-byte cell
///     uint8_t           globals[GD][16];        // defined globals, inline
///     kiln_memory       defined_memories[MD];   // what memories[] points at
///     kiln_table        defined_tables[TD];
///     kiln_tag          defined_tags[XD];
///     kiln_funcref      funcrefs[FD];           // ref.func of defined functions
///     kiln_segment      data_segments[D];
///     kiln_segment      elem_segments[E];
///     uint64_t          elem_items[N];          // every element segment's items
/// };
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct VmOffsets {
    pub num_memories: u32,
    pub num_tables: u32,
    pub num_tags: u32,
    pub num_imported_funcs: u32,
    pub num_imported_globals: u32,
    pub num_defined_globals: u32,
    pub num_defined_memories: u32,
    pub num_defined_tables: u32,
    pub num_defined_tags: u32,
    pub num_defined_funcs: u32,
    pub num_data_segments: u32,
    pub num_elem_segments: u32,
    /// Items of all element segments together.
    pub num_elem_items: u32,
}

/// Size of one global's storage cell (large enough for v128).
pub const GLOBAL_CELL_SIZE: u32 = 16;

impl VmOffsets {
    pub fn memories(&self) -> u32 {
        VMCTX_HEADER.size()
    }
    pub fn memory(&self, i: u32) -> u32 {
        self.memories() + i * POINTER_SIZE
    }
    pub fn tables(&self) -> u32 {
        self.memory(self.num_memories)
    }
    pub fn table(&self, i: u32) -> u32 {
        self.tables() + i * POINTER_SIZE
    }
    pub fn tags(&self) -> u32 {
        self.table(self.num_tables)
    }
    pub fn tag(&self, i: u32) -> u32 {
        self.tags() + i * POINTER_SIZE
    }
    pub fn imported_func(&self, i: u32) -> u32 {
        self.tag(self.num_tags) + i * POINTER_SIZE
    }
    pub fn imported_global(&self, i: u32) -> u32 {
        self.imported_func(self.num_imported_funcs) + i * POINTER_SIZE
    }
    pub fn defined_global(&self, i: u32) -> u32 {
        align(self.imported_global(self.num_imported_globals), GLOBAL_CELL_SIZE) + i * GLOBAL_CELL_SIZE
    }
    /// The `kiln_memory` of defined memory `i` (counting defined ones only).
    pub fn defined_memory(&self, i: u32) -> u32 {
        self.defined_global(self.num_defined_globals) + i * MEMORY.size()
    }
    pub fn defined_table(&self, i: u32) -> u32 {
        align(self.defined_memory(self.num_defined_memories), POINTER_SIZE) + i * TABLE.size()
    }
    pub fn defined_tag(&self, i: u32) -> u32 {
        align(self.defined_table(self.num_defined_tables), POINTER_SIZE) + i * TAG.size()
    }
    /// The `kiln_funcref` of defined function `i` (counting defined ones only).
    pub fn funcref(&self, i: u32) -> u32 {
        align(self.defined_tag(self.num_defined_tags), POINTER_SIZE) + i * FUNCREF.size()
    }
    pub fn data_segment(&self, i: u32) -> u32 {
        align(self.funcref(self.num_defined_funcs), POINTER_SIZE) + i * SEGMENT.size()
    }
    pub fn elem_segment(&self, i: u32) -> u32 {
        self.data_segment(self.num_data_segments) + i * SEGMENT.size()
    }
    pub fn elem_item(&self, i: u32) -> u32 {
        self.elem_segment(self.num_elem_segments) + i * POINTER_SIZE
    }
    /// Bytes of the whole instance, a multiple of 16.
    pub fn size(&self) -> u32 {
        align(self.elem_item(self.num_elem_items), 16)
    }
}

/// The text of `kiln_abi.h`. Generated; never edited by hand.
pub fn c_header() -> String {
    use std::fmt::Write;
    let mut h = String::new();
    h.push_str("/* kiln_abi.h: GENERATED from runtime-lib/abi/src/lib.rs by runtime-lib/build.rs.\n");
    h.push_str(" * Do not edit. The static asserts at the end check that the C layout of every\n");
    h.push_str(" * shared structure equals the offsets the compiler uses. */\n");
    h.push_str("#ifndef KILN_ABI_H\n#define KILN_ABI_H\n#include <stdint.h>\n#include <stddef.h>\n\n");
    writeln!(h, "#define KILN_ABI_VERSION {ABI_VERSION}u").unwrap();
    writeln!(h, "#define KILN_TRAP_EXIT_STATUS {TRAP_EXIT_STATUS}").unwrap();
    writeln!(h, "#define KILN_TRAP_KIND_INLINED {TRAP_KIND_INLINED}u").unwrap();
    writeln!(h, "#define KILN_WASM_PAGE_SIZE {WASM_PAGE_SIZE}ull").unwrap();
    writeln!(h, "#define KILN_MEMORY_RESERVATION {MEMORY_RESERVATION}ull").unwrap();
    writeln!(h, "#define KILN_MEMORY_FLAG_64 {MEMORY_FLAG_64}u\n#define KILN_MEMORY_FLAG_EXPLICIT {MEMORY_FLAG_EXPLICIT}u").unwrap();
    writeln!(h, "#define KILN_UNCAUGHT_EXCEPTION {UNCAUGHT_EXCEPTION}u").unwrap();
    writeln!(h, "#define KILN_CATCH_ALL {CATCH_ALL}u").unwrap();
    writeln!(h, "#define KILN_EXN_VALUES_OFFSET {EXN_VALUES_OFFSET}u").unwrap();
    writeln!(h, "#define KILN_EXN_ESCAPED {EXN_ESCAPED}u").unwrap();
    writeln!(h, "#define KILN_STACK_RED_ZONE {STACK_RED_ZONE}ull").unwrap();
    writeln!(h, "#define KILN_GLOBAL_CELL_SIZE {GLOBAL_CELL_SIZE}u").unwrap();
    writeln!(h, "#define KILN_EMBED_OK {}u\n#define KILN_EMBED_TRAP {}u\n#define KILN_EMBED_EXIT {}u\n#define KILN_EMBED_ERROR {}u", embed::OK, embed::TRAP, embed::EXIT, embed::ERROR).unwrap();
    writeln!(h, "#define KILN_EMBED_DEFAULT_STACK_SIZE {}ull\n#define KILN_EMBED_HOST_STACK_RESERVE {}ull", embed::DEFAULT_STACK_SIZE, embed::HOST_STACK_RESERVE).unwrap();
    writeln!(h, "#define KILN_CONFIG_INHERIT_ENV \"\\001inherit-env\"").unwrap();
    writeln!(h, "#define KILN_CONFIG_DRIVER \"\\001driver\"").unwrap();
    writeln!(h, "#define KILN_CONFIG_CPU_PREFIX \"\\001cpu=\"").unwrap();
    writeln!(h, "#define KILN_CONFIG_DIR_PREFIX \"\\001dir=\"").unwrap();
    writeln!(h, "#define KILN_CONFIG_THREAD_STACK_PREFIX \"\\001thread-stack=\"").unwrap();
    writeln!(h, "#define KILN_MEMORY_FLAG_SHARED {MEMORY_FLAG_SHARED}u").unwrap();
    writeln!(h, "#define KILN_MEMORY_FLAG_FIXED {MEMORY_FLAG_FIXED}u\n#define KILN_FIXED_MEMORY_BASE {FIXED_MEMORY_BASE:#x}ull").unwrap();
    writeln!(h, "#define KILN_CONFIG_DEBUG_MIRROR \"\\001debug-mirror\"").unwrap();
    writeln!(h, "#define KILN_CONFIG_RUNTIME_DIRS \"\\001runtime-dirs\"").unwrap();
    writeln!(h, "#define KILN_RUNTIME_DIRS_ENV \"{}\"", config::RUNTIME_DIRS_ENV).unwrap();
    writeln!(h, "#define KILN_EXTERN_FUNC {EXTERN_FUNC}u\n#define KILN_EXTERN_TABLE {EXTERN_TABLE}u").unwrap();
    writeln!(h, "#define KILN_EXTERN_MEMORY {EXTERN_MEMORY}u\n#define KILN_EXTERN_GLOBAL {EXTERN_GLOBAL}u").unwrap();
    writeln!(h, "#define KILN_EXTERN_TAG {EXTERN_TAG}u").unwrap();
    writeln!(h, "#define KILN_HEAP_CONCRETE {HEAP_CONCRETE:#x}u\n#define KILN_REF_NON_NULL {REF_NON_NULL:#x}u").unwrap();
    writeln!(h, "#define KILN_NO_MAX UINT64_MAX\n").unwrap();
    h.push_str("/* Trap kinds: the byte in each trap-table entry. */\nenum kiln_trap_kind {\n    KILN_TRAP_NONE = 0,\n");
    for t in TrapKind::ALL {
        writeln!(h, "    {} = {}, /* {} */", t.c_name(), *t as u8, t.message()).unwrap();
    }
    writeln!(h, "    KILN_TRAP_KIND_COUNT = {}\n}};\n", TrapKind::ALL.len() + 1).unwrap();
    h.push_str("static const char *const kiln_trap_messages[KILN_TRAP_KIND_COUNT] = {\n    \"unknown trap\",\n");
    for t in TrapKind::ALL {
        writeln!(h, "    \"{}\",", t.message()).unwrap();
    }
    h.push_str("};\n\n");
    for s in STRUCTS {
        writeln!(h, "/* {} */\nstruct {} {{", s.doc, s.c_name).unwrap();
        for (name, ty, doc) in s.fields {
            let cty = match ty {
                CType::U32 => "uint32_t".to_string(),
                CType::U64 => "uint64_t".to_string(),
                CType::Ptr(p) => format!("{p} *"),
            };
            writeln!(h, "    {cty} {name}; /* {doc} */").unwrap();
        }
        h.push_str("};\n\n");
    }
    for s in STRUCTS {
        writeln!(h, "_Static_assert(sizeof(struct {}) == {}, \"layout of {} drifted from kiln-abi\");", s.c_name, s.size(), s.c_name).unwrap();
        for (name, _, _) in s.fields {
            writeln!(
                h,
                "_Static_assert(offsetof(struct {0}, {1}) == {2}, \"{0}.{1} drifted from kiln-abi\");",
                s.c_name,
                name,
                s.offset(name)
            )
            .unwrap();
        }
    }
    h.push_str("\n/* Runtime entry points called by generated code. */\n");
    for (k, v) in [
        ("MEMORY_GROW", symbols::MEMORY_GROW),
        ("MEMORY_FILL", symbols::MEMORY_FILL),
        ("MEMORY_COPY", symbols::MEMORY_COPY),
        ("MEMORY_INIT", symbols::MEMORY_INIT),
        ("TABLE_GROW", symbols::TABLE_GROW),
        ("TABLE_FILL", symbols::TABLE_FILL),
        ("TABLE_COPY", symbols::TABLE_COPY),
        ("TABLE_INIT", symbols::TABLE_INIT),
        ("EXN_NEW", symbols::EXN_NEW),
        ("THROW", symbols::THROW),
        ("EXN_FREE", symbols::EXN_FREE),
        ("ATOMIC_WAIT32", symbols::ATOMIC_WAIT32),
        ("ATOMIC_WAIT64", symbols::ATOMIC_WAIT64),
        ("ATOMIC_NOTIFY", symbols::ATOMIC_NOTIFY),
        ("THREAD_SPAWN", symbols::THREAD_SPAWN),
        ("MODULE_LIST", symbols::MODULE_LIST),
        ("MODULE_COUNT", symbols::MODULE_COUNT),
        ("CONFIG", symbols::CONFIG),
    ] {
        writeln!(h, "#define KILN_SYM_{k} {v}").unwrap();
    }
    h.push_str("\n/* WASI preview1 host functions (wasm calling convention). */\n");
    for (name, params, returns) in WASI_FUNCTIONS {
        writeln!(h, "{};", wasi_c_prototype(name, params, *returns)).unwrap();
    }
    // The same functions serialised by the WASI lock, for modules that
    // spawn threads: X(name, (parameters), (arguments)) for each function
    // that returns (proc_exit ends the process and takes no lock).
    h.push_str("#define KILN_WASI_RETURNING(X) \\\n");
    for (name, params, returns) in WASI_FUNCTIONS.iter().filter(|f| f.2) {
        let _ = returns;
        let mut ps = String::from("void *callee_vmctx, void *caller_vmctx");
        let mut args = String::from("callee_vmctx, caller_vmctx");
        for (i, c) in params.chars().enumerate() {
            ps.push_str(if c == 'I' { ", int64_t" } else { ", int32_t" });
            ps.push_str(&format!(" a{i}"));
            args.push_str(&format!(", a{i}"));
        }
        writeln!(h, "    X({name}, ({ps}), ({args})) \\").unwrap();
    }
    h.push_str("\n");
    writeln!(h, "int32_t {}(void *callee_vmctx, void *caller_vmctx, int32_t start_arg);", symbols::THREAD_SPAWN).unwrap();
    writeln!(h, "#define KILN_WASI_THREAD_START \"{WASI_THREAD_START}\"").unwrap();
    h.push_str("\n#endif\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_natural() {
        assert_eq!(FUNCREF.size(), 24);
        assert_eq!(TABLE.offset("size"), 8);
        assert_eq!(TRAP_GROUP.size(), 16);
        assert_eq!(MEMORY.offset("length"), 8);
    }

    #[test]
    fn vmoffsets_are_ordered_and_aligned() {
        let o = VmOffsets {
            num_memories: 1,
            num_tables: 2,
            num_tags: 0,
            num_imported_funcs: 3,
            num_imported_globals: 1,
            num_defined_globals: 2,
            num_defined_memories: 1,
            num_defined_tables: 2,
            num_defined_funcs: 1,
            num_elem_segments: 1,
            num_elem_items: 3,
            ..VmOffsets::default()
        };
        assert_eq!(o.memory(0), 24);
        assert_eq!(o.table(0), 32);
        assert_eq!(o.imported_func(0), 48);
        assert_eq!(o.imported_global(0), 72);
        assert_eq!(o.defined_global(0), 80);
        assert_eq!(o.defined_memory(0), 112);
        assert_eq!(o.defined_table(0), 168);
        assert_eq!(o.funcref(0), 232);
        assert_eq!(o.elem_segment(0), 256);
        assert_eq!(o.elem_item(0), 272);
        assert_eq!(o.size(), 304);
    }

    #[test]
    fn exception_payload_follows_the_header() {
        assert_eq!(EXN.size(), EXN_VALUES_OFFSET);
        assert_eq!(EXN_VALUES_OFFSET % 16, 0, "v128 payload cells stay 16-byte aligned");
    }

    #[test]
    fn trap_kinds_round_trip() {
        for t in TrapKind::ALL {
            assert_eq!(TrapKind::from_u8(*t as u8), Some(*t));
        }
        assert_eq!(TrapKind::from_u8(0), None);
    }

    #[test]
    fn trap_groups_round_trip() {
        let sites = [
            TrapSite { code_offset: 0, kind: TrapKind::Unreachable, wasm_offset: 0x40_0000, source: None, inlined: vec![] },
            TrapSite { code_offset: 3, kind: TrapKind::MemoryOutOfBounds, wasm_offset: 0x3f_fff0, source: Some(0), inlined: vec![] },
            TrapSite { code_offset: 300, kind: TrapKind::IntegerDivideByZero, wasm_offset: 0x40_0100, source: Some(200), inlined: vec![] },
        ];
        let mut out = vec![];
        encode_trap_group(&sites, &[], &mut out);
        encode_trap_group(&[], &[], &mut out);
        // count 1 + first entry 7 (1 + 4-byte sleb + 1 + 1) + 4 + 7
        // (2-byte deltas and source) + no inlined calls 1, then the empty
        // group's two counts.
        assert_eq!(out.len(), 22);
        assert_eq!(decode_trap_group(&out).unwrap(), (sites.to_vec(), vec![]));
        assert_eq!(decode_trap_group(&out[20..]).unwrap(), (vec![], vec![]));
    }

    #[test]
    fn inlined_trap_groups_round_trip() {
        // A trap in #7, inlined into #5 at 0x120, itself inlined at 0x80
        // into the group's function; a plain trap; a call in #5's code.
        let levels = vec![
            InlinedAt { func: 7, call_offset: 0x120, call_source: Some(3) },
            InlinedAt { func: 5, call_offset: 0x80, call_source: None },
        ];
        let sites = [
            TrapSite { code_offset: 10, kind: TrapKind::IntegerOverflow, wasm_offset: 0x200, source: Some(1), inlined: levels.clone() },
            TrapSite { code_offset: 12, kind: TrapKind::IntegerOverflow, wasm_offset: 0x90, source: None, inlined: vec![] },
        ];
        let calls = [InlinedCall { code_offset: 40, inlined: levels[1..].to_vec() }];
        let mut out = vec![];
        encode_trap_group(&sites, &calls, &mut out);
        // The inlined entry's kind byte is flagged; the plain one's is not.
        assert_eq!(out[4], TrapKind::IntegerOverflow as u8 | TRAP_KIND_INLINED);
        assert_eq!(decode_trap_group(&out).unwrap(), (sites.to_vec(), calls.to_vec()));
        assert_eq!(TrapKind::ALL.iter().map(|k| *k as u8).max().unwrap() & TRAP_KIND_INLINED, 0);
    }
}
