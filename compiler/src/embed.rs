//! Embedding: a module as a static library with a C header
//! (`kiln compile --emit lib`), and host imports for executables
//! (`--link`).
//!
//! The library is one relocatable object in an `ar` archive: the module's
//! code and instance image, the one-module executable tables, and the
//! embedding flavour of the runtime (`runtime-lib/c/embed.c`), linked
//! together by lld (`-r`). Then every symbol is made local except the
//! host-facing API, which is renamed from `kiln_api_*` to `PREFIX_*`, and
//! the host imports `PREFIX_import_*` the module calls. So the runtime's
//! own `memcpy`, math routines and syscall wrappers can never clash with
//! or replace the host's, or a second Kiln library's. The header
//! ([`header`]) is the library's whole interface; `docs/embedding.md`
//! states the ABI.

use crate::environ::{ImportKind, ModuleEnv};
use crate::error::CompileError;
use crate::link::Linker;
use kiln_abi::{MEMORY, TABLE, WASI_MODULE};
use kiln_targets::Target;
use std::path::Path;
use wasmparser::{ExternalKind, ValType};

/// Version of the embedding ABI the header states (`KILN_EMBED_ABI`).
pub const EMBED_ABI: u32 = 1;

/// The runtime's host-facing functions, before renaming to `PREFIX_`.
const API: &[&str] = &["new", "free", "call", "export", "message", "trap_kind", "exit_code", "user_data"];

/// `s` as a C identifier fragment: every byte outside `[A-Za-z0-9_]`
/// becomes `_`.
pub fn c_ident(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b == b'_' { b as char } else { '_' }).collect()
}

/// The prefix for a module: `--prefix`, else the module's name from the
/// name section, else the file name without extension; always a valid C
/// identifier.
pub fn prefix_for(explicit: Option<&str>, module_name: Option<&str>, path: &str) -> Result<String, CompileError> {
    if let Some(p) = explicit {
        let ok = !p.is_empty() && !p.starts_with(|c: char| c.is_ascii_digit()) && c_ident(p) == p;
        if !ok {
            return Err(CompileError::Target(format!("--prefix must be a C identifier, got `{p}`")));
        }
        return Ok(p.to_string());
    }
    let stem = module_name.map(str::to_string).unwrap_or_else(|| {
        Path::new(path).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "module".into())
    });
    let mut p = c_ident(&stem);
    if p.is_empty() || p.starts_with(|c: char| c.is_ascii_digit()) {
        p.insert(0, 'm');
    }
    Ok(p)
}

/// The C symbol the host defines for function import `module`.`name`.
pub fn import_symbol(prefix: &str, module: &str, name: &str) -> String {
    format!("{prefix}_import_{}_{}", c_ident(module), c_ident(name))
}

fn c_type(t: ValType) -> Option<&'static str> {
    match t {
        ValType::I32 => Some("int32_t"),
        ValType::I64 => Some("int64_t"),
        ValType::F32 => Some("float"),
        ValType::F64 => Some("double"),
        ValType::Ref(_) => Some("void *"),
        ValType::V128 => None,
    }
}

/// The union member of `kiln_slot` that holds a value of type `t`.
fn slot_field(t: ValType) -> &'static str {
    match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        _ => "ref",
    }
}

/// Every non-WASI import, checked for what the embedding ABI carries:
/// functions with at most one result and no `v128`. Returns the host
/// imports as (import index among functions, C symbol); errors name each
/// import that cannot be provided, all at once.
pub fn host_imports(path: &str, env: &ModuleEnv, prefix: &str) -> Result<Vec<(u32, String)>, CompileError> {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    let mut seen = std::collections::HashMap::new();
    let mut func_index = 0u32;
    for imp in &env.imports {
        let what = format!("  {}::{} (at wasm offset {:#x})", imp.module, imp.name, imp.offset);
        match &imp.kind {
            ImportKind::Func(_) if imp.module == WASI_MODULE => {}
            ImportKind::Func(ty) => {
                let t = &env.types[*ty as usize];
                let sym = import_symbol(prefix, imp.module, imp.name);
                if t.results.len() > 1 {
                    bad.push(format!("{what}: returns {} values; a host import returns at most one", t.results.len()));
                } else if t.params.iter().chain(&t.results).any(|v| c_type(*v).is_none()) {
                    bad.push(format!("{what}: v128 values cannot cross the embedding ABI"));
                } else if let Some(other) = seen.insert(sym.clone(), (imp.module, imp.name)) {
                    bad.push(format!("{what}: its C name `{sym}` is also {}::{}'s", other.0, other.1));
                } else {
                    out.push((func_index, sym));
                }
            }
            ImportKind::Memory(_) => bad.push(format!("{what}: memory imports are not provided (export the memory instead)")),
            ImportKind::Table(_) => bad.push(format!("{what}: table imports are not provided")),
            ImportKind::Global(_) => bad.push(format!("{what}: global imports are not provided")),
            ImportKind::Tag(_) => bad.push(format!("{what}: tag imports are not provided")),
        }
        if matches!(imp.kind, ImportKind::Func(_)) {
            func_index += 1;
        }
    }
    if !bad.is_empty() {
        return Err(CompileError::NotBuildable { path: path.to_string(), features: vec![], imports: bad, reactor: false });
    }
    Ok(out)
}

fn signature_comment(params: &[ValType], results: &[ValType]) -> String {
    let list = |v: &[ValType]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
    format!("({}) -> ({})", list(params), list(results))
}

/// The C name (after `PREFIX_`) of every export that has one in the
/// embedding API, by export index; `None` for exports without accessors
/// (`_initialize`, which `PREFIX_new` runs; functions and globals with
/// `v128` values; tags). Functions keep their name, memories, globals and
/// tables get a `memory_`, `global_` or `table_` in front (unless the name
/// is just that word); bytes outside `[A-Za-z0-9_]` become `_`; a name
/// that is taken (by the API or an earlier export) or starts with
/// `import_` gets an `export_` in front, and so does one whose other
/// symbols (a mutable global's `set_NAME`, a table's `NAME_size`) are
/// taken; a collision after that is an error. The C header ([`header`])
/// and the Rust bindings ([`rust_bindings`]) both name exports from this.
pub fn export_c_names(env: &ModuleEnv, prefix: &str) -> Result<Vec<Option<String>>, CompileError> {
    let mut used: std::collections::HashSet<String> = API.iter().map(|a| a.to_string()).collect();
    // `symbols(base)`: the C functions the header defines for the export
    // besides `base` itself (a mutable global's setter, a table's size);
    // they must be free as well.
    let mut name_for = |kind: &str, name: &str, symbols: &dyn Fn(&str) -> Vec<String>| -> Result<String, CompileError> {
        let base = match kind {
            "func" => c_ident(name),
            _ if c_ident(name) == kind => kind.to_string(),
            _ => format!("{kind}_{}", c_ident(name)),
        };
        let taken = |b: &str, used: &std::collections::HashSet<String>| used.contains(b) || symbols(b).iter().any(|s| used.contains(s));
        let base = if taken(&base, &used) || base.starts_with("import_") { format!("export_{base}") } else { base };
        if taken(&base, &used) {
            return Err(CompileError::Target(format!(
                "export `{name}`: its C name `{prefix}_{base}` is taken by another export; rename one of them"
            )));
        }
        used.extend(symbols(&base));
        used.insert(base.clone());
        Ok(base)
    };
    let none = |_: &str| Vec::new();
    let mut out = Vec::with_capacity(env.exports.len());
    for (name, kind, idx) in &env.exports {
        let c = match kind {
            ExternalKind::Func => {
                let t = env.func_type(*idx);
                if *name == "_initialize" || t.params.iter().chain(&t.results).any(|v| c_type(*v).is_none()) {
                    None
                } else {
                    Some(name_for("func", name, &none)?)
                }
            }
            ExternalKind::Memory => Some(name_for("memory", name, &none)?),
            ExternalKind::Global => {
                let g = &env.globals[*idx as usize].ty;
                match c_type(g.content_type) {
                    Some(_) if g.mutable => Some(name_for("global", name, &|b| vec![format!("set_{b}")])?),
                    Some(_) => Some(name_for("global", name, &none)?),
                    None => None,
                }
            }
            ExternalKind::Table => Some(name_for("table", name, &|b| vec![format!("{b}_size")])?),
            ExternalKind::Tag | ExternalKind::FuncExact => None,
        };
        out.push(c);
    }
    Ok(out)
}

/// The C header of a library: its whole interface (see the module docs and
/// `docs/embedding.md`).
pub fn header(env: &ModuleEnv, prefix: &str, source: &str, host: &[(u32, String)]) -> Result<String, CompileError> {
    use std::fmt::Write;
    let p = prefix;
    let guard = format!("{}_H", p.to_uppercase());
    let mut h = String::new();
    let w = &mut h;
    let _ = writeln!(w, "/* {p}.h: the interface of a WebAssembly module compiled by Kiln {} (from {}).", env!("CARGO_PKG_VERSION"), source.replace("*/", "* /"));
    let _ = writeln!(w, " * Generated; do not edit. Embedding ABI {EMBED_ABI}: see docs/embedding.md.");
    let _ = writeln!(w, " *");
    let _ = writeln!(w, " * Link lib{p}.a into your program. Instances are independent sandboxes:");
    let _ = writeln!(w, " * each has its own memory, tables, globals and WASI context, and different");
    let _ = writeln!(w, " * instances may run on different threads at once (one thread per instance");
    let _ = writeln!(w, " * at a time). A trap returns KILN_TRAP from the call that trapped; the");
    let _ = writeln!(w, " * instance stays usable. The library installs handlers for SIGSEGV, SIGBUS,");
    let _ = writeln!(w, " * SIGILL, SIGFPE and SIGTRAP when the first instance is created; faults");
    let _ = writeln!(w, " * outside its wasm code go to the handlers installed before it. */");
    let _ = writeln!(w, "#ifndef {guard}\n#define {guard}\n\n#include <stddef.h>\n#include <stdint.h>\n");
    let _ = writeln!(w, "#ifdef __cplusplus\nextern \"C\" {{\n#endif\n");
    let _ = writeln!(w, "#ifndef KILN_EMBED_ABI\n#define KILN_EMBED_ABI {EMBED_ABI}");
    let _ = writeln!(
        w,
        "/* What a call returns. */\ntypedef enum kiln_status {{\n    KILN_OK = {},    /* returned normally */\n    KILN_TRAP = {},  /* trapped: PREFIX_message() has the trap and its wasm backtrace */\n    KILN_EXIT = {},  /* called WASI proc_exit: PREFIX_exit_code() */\n    KILN_ERROR = {}, /* refused: PREFIX_message() says why */\n}} kiln_status;",
        kiln_abi::embed::OK,
        kiln_abi::embed::TRAP,
        kiln_abi::embed::EXIT,
        kiln_abi::embed::ERROR
    );
    let _ = writeln!(w, "/* A preopened directory: the host path, the path the module sees. */");
    let _ = writeln!(w, "typedef struct kiln_dir {{ const char *host; const char *guest; int read_only; }} kiln_dir;");
    let _ = writeln!(w, "/* What an instance may reach. Strings are copied by PREFIX_new. */");
    let _ = writeln!(w, "typedef struct kiln_config {{");
    let _ = writeln!(w, "    int argc; const char *const *argv;   /* WASI arguments, argv[0] included */");
    let _ = writeln!(w, "    size_t envc; const char *const *env; /* \"KEY=VALUE\" entries the module sees */");
    let _ = writeln!(w, "    size_t n_dirs; const kiln_dir *dirs; /* preopens, as fds 3, 4, ... */");
    let _ = writeln!(w, "    int stdin_fd, stdout_fd, stderr_fd;  /* host fds behind wasm fds 0-2; -1: none */");
    let _ = writeln!(w, "    size_t stack_size;                   /* bytes of wasm stack; 0: {} */", kiln_abi::embed::DEFAULT_STACK_SIZE);
    let _ = writeln!(w, "    void *user_data;                     /* returned by PREFIX_user_data() */");
    let _ = writeln!(w, "}} kiln_config;");
    let _ = writeln!(w, "/* A config that grants nothing: no arguments, environment, directories or stdio. */");
    let _ = writeln!(w, "static inline kiln_config kiln_config_default(void) {{\n    kiln_config c = {{0, 0, 0, 0, 0, 0, -1, -1, -1, 0, 0}};\n    return c;\n}}");
    let _ = writeln!(w, "/* A wasm value in the 16-byte slots export calls pass (internal). */");
    let _ = writeln!(w, "typedef struct kiln_slot {{ union {{ int32_t i32; int64_t i64; float f32; double f64; void *ref; uint64_t bits[2]; }} v; }} kiln_slot;");
    let _ = writeln!(w, "#elif KILN_EMBED_ABI != {EMBED_ABI}\n#error \"headers from Kiln versions with different embedding ABIs\"\n#endif\n");

    let _ = writeln!(w, "typedef struct {p}_instance {p}_instance;\n");
    let _ = writeln!(w, "/* Creates an instance: sets up its memories and tables, runs the module's");
    let _ = writeln!(w, " * start function and, for a reactor, `_initialize`. config may be NULL (grants");
    let _ = writeln!(w, " * nothing). *out is set whenever memory allows, even on failure, so that");
    let _ = writeln!(w, " * {p}_message() can say why; free it with {p}_free. */");
    let _ = writeln!(w, "kiln_status {p}_new(const kiln_config *config, {p}_instance **out);");
    let _ = writeln!(w, "/* Frees an instance and everything it holds (memories, tables, descriptors it opened). */");
    let _ = writeln!(w, "void {p}_free({p}_instance *instance);");
    let _ = writeln!(w, "/* Why the last call trapped or was refused: a NUL-terminated message, the");
    let _ = writeln!(w, " * trap's wasm backtrace included; valid until the next call. */");
    let _ = writeln!(w, "const char *{p}_message(const {p}_instance *instance);");
    let _ = writeln!(w, "/* The kind of the last trap (kiln-abi's TrapKind numbering; 256: an uncaught exception). */");
    let _ = writeln!(w, "uint32_t {p}_trap_kind(const {p}_instance *instance);");
    let _ = writeln!(w, "/* The code the module passed to proc_exit, after a call returned KILN_EXIT. */");
    let _ = writeln!(w, "int {p}_exit_code(const {p}_instance *instance);");
    let _ = writeln!(w, "/* The config's user_data. */");
    let _ = writeln!(w, "void *{p}_user_data(const {p}_instance *instance);");
    let _ = writeln!(w, "/* Internal: what the wrappers below call. */");
    let _ = writeln!(w, "kiln_status {p}_call({p}_instance *instance, uint32_t export_index, kiln_slot *values);");
    let _ = writeln!(w, "void *{p}_export({p}_instance *instance, uint32_t export_index);\n");

    let names = export_c_names(env, p)?;
    let _ = writeln!(w, "/* ---- Exports ---- */\n");
    for (index, (name, kind, idx)) in env.exports.iter().enumerate() {
        match kind {
            ExternalKind::Func => {
                if *name == "_initialize" {
                    continue; // run by {p}_new
                }
                let t = env.func_type(*idx);
                let sig = signature_comment(&t.params, &t.results);
                if t.params.iter().chain(&t.results).any(|v| c_type(*v).is_none()) {
                    let _ = writeln!(w, "/* export \"{}\" {sig}: v128 values cannot cross the embedding ABI. */\n", name.escape_default());
                    continue;
                }
                let c = names[index].as_deref().expect("named");
                let mut args = vec![format!("{p}_instance *instance")];
                for (i, t) in t.params.iter().enumerate() {
                    args.push(format!("{} a{i}", c_type(*t).expect("checked")));
                }
                for (i, t) in t.results.iter().enumerate() {
                    args.push(format!("{} *r{i}", c_type(*t).expect("checked").trim_end()));
                }
                let n = t.params.len().max(t.results.len()).max(1);
                let note = if t.results.is_empty() { "" } else { "; results are written where r* point (NULL: dropped)" };
                let _ = writeln!(w, "/* export \"{}\" {sig}{note}. */", name.escape_default());
                let _ = writeln!(w, "static inline kiln_status {p}_{c}({}) {{", args.join(", "));
                let _ = writeln!(w, "    kiln_slot v[{n}] = {{{{{{0}}}}}};");
                for (i, t) in t.params.iter().enumerate() {
                    let _ = writeln!(w, "    v[{i}].v.{} = a{i};", slot_field(*t));
                }
                let _ = writeln!(w, "    kiln_status s = {p}_call(instance, {index}u, v);");
                if !t.results.is_empty() {
                    let _ = writeln!(w, "    if (s == KILN_OK) {{");
                    for (i, t) in t.results.iter().enumerate() {
                        let _ = writeln!(w, "        if (r{i}) *r{i} = v[{i}].v.{};", slot_field(*t));
                    }
                    let _ = writeln!(w, "    }}");
                }
                let _ = writeln!(w, "    return s;\n}}\n");
            }
            ExternalKind::Memory => {
                let c = names[index].as_deref().expect("named");
                let _ = writeln!(w, "/* export \"{}\" (memory): its bytes and length; valid until the next call into the instance. */", name.escape_default());
                let _ = writeln!(w, "static inline uint8_t *{p}_{c}({p}_instance *instance, uint64_t *length) {{");
                let _ = writeln!(w, "    char *m = (char *){p}_export(instance, {index}u);");
                let _ = writeln!(w, "    if (length) *length = *(uint64_t *)(m + {});", MEMORY.offset("length"));
                let _ = writeln!(w, "    return *(uint8_t **)(m + {});\n}}\n", MEMORY.offset("base"));
            }
            ExternalKind::Global => {
                let g = &env.globals[*idx as usize].ty;
                let Some(ct) = c_type(g.content_type) else {
                    let _ = writeln!(w, "/* export \"{}\" (global v128): not accessible through the embedding ABI. */\n", name.escape_default());
                    continue;
                };
                let c = names[index].as_deref().expect("named");
                let _ = writeln!(w, "/* export \"{}\" (global {}{}). */", name.escape_default(), if g.mutable { "mut " } else { "" }, g.content_type);
                let _ = writeln!(w, "static inline {ct} {p}_{c}({p}_instance *instance) {{");
                let _ = writeln!(w, "    return *({ct} *){p}_export(instance, {index}u);\n}}\n");
                if g.mutable {
                    let _ = writeln!(w, "static inline void {p}_set_{c}({p}_instance *instance, {ct} value) {{");
                    let _ = writeln!(w, "    *({ct} *){p}_export(instance, {index}u) = value;\n}}\n");
                }
            }
            ExternalKind::Table => {
                let c = names[index].as_deref().expect("named");
                let _ = writeln!(w, "/* export \"{}\" (table): its current number of elements. */", name.escape_default());
                let _ = writeln!(w, "static inline uint32_t {p}_{c}_size({p}_instance *instance) {{");
                let _ = writeln!(w, "    return *(uint32_t *)((char *){p}_export(instance, {index}u) + {});\n}}\n", TABLE.offset("size"));
            }
            ExternalKind::Tag => {
                let _ = writeln!(w, "/* export \"{}\" (tag): not accessible through the embedding ABI. */\n", name.escape_default());
            }
            ExternalKind::FuncExact => {}
        }
    }
    if !host.is_empty() {
        let _ = writeln!(w, "/* ---- Imports: the host defines these ---- */\n");
        let _ = writeln!(w, "/* Each is called on the instance's wasm stack, which keeps at least");
        let _ = writeln!(w, " * {} bytes free for it; it may call the instance's exports again. */\n", kiln_abi::embed::HOST_STACK_RESERVE);
        let mut fi = 0u32;
        for imp in &env.imports {
            let ImportKind::Func(ty) = imp.kind else { continue };
            if let Some((_, sym)) = host.iter().find(|(i, _)| *i == fi) {
                let t = &env.types[ty as usize];
                let ret = t.results.first().map(|r| c_type(*r).expect("checked")).unwrap_or("void");
                let mut args = vec![format!("{p}_instance *instance")];
                for (i, t) in t.params.iter().enumerate() {
                    args.push(format!("{} a{i}", c_type(*t).expect("checked")));
                }
                let _ = writeln!(w, "/* import \"{}\" \"{}\" {} */", imp.module.escape_default(), imp.name.escape_default(), signature_comment(&t.params, &t.results));
                let _ = writeln!(w, "{ret} {sym}({});\n", args.join(", "));
            }
            fi += 1;
        }
    }
    let _ = writeln!(w, "#ifdef __cplusplus\n}}\n#endif\n#endif");
    Ok(h)
}

// ---- Rust bindings ----

/// Words a Rust identifier cannot be (strict and reserved keywords of
/// every edition); the bindings write them as raw identifiers.
const RUST_KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "else", "enum", "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop",
    "match", "mod", "move", "mut", "pub", "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use",
    "where", "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
    "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Methods the Rust bindings' `Instance` and `Caller` have besides the
/// exports (`new` and `user_data` are reserved in C already).
const RUST_METHODS: &[&str] = &["new", "user_data", "user_data_mut"];

/// The Rust identifier for C name `c` (an export's name from
/// [`export_c_names`], or an import's symbol after `PREFIX_import_`): the
/// same, except that a keyword becomes a raw identifier (`r#type`; `self_`
/// for the four that cannot be raw), a leading digit gets a `_` in front,
/// and `_`, the empty name and the bindings' own method names
/// ([`RUST_METHODS`]) get `export_` in front.
pub fn rust_ident(c: &str) -> String {
    let mut s = c.to_string();
    if s.is_empty() || s == "_" || RUST_METHODS.contains(&s.as_str()) {
        s.insert_str(0, "export_");
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    rust_unkeyword(s)
}

/// `s`, or the raw identifier `r#s` if `s` is a keyword (`s_` for the
/// four that cannot be raw).
pub(crate) fn rust_unkeyword(mut s: String) -> String {
    if matches!(s.as_str(), "self" | "Self" | "super" | "crate") {
        s.push('_');
    } else if RUST_KEYWORDS.contains(&s.as_str()) {
        s.insert_str(0, "r#");
    }
    s
}

/// The Rust type of a wasm value in the bindings (`Ref`: an opaque
/// reference).
fn rust_type(t: ValType) -> &'static str {
    match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        _ => "Ref",
    }
}

/// The type of a wasm value in the C signatures the bindings declare.
fn rust_c_type(t: ValType) -> &'static str {
    match t {
        ValType::Ref(_) => "*mut c_void",
        t => rust_type(t),
    }
}

/// Whether a reference of type `t` that the host hands to wasm could make
/// wasm jump or read through it: anything but `externref` and the bottom
/// types (which hold only null). Functions that take such values from
/// the host are `unsafe` in the bindings.
fn ref_is_dangerous(t: ValType) -> bool {
    use wasmparser::{AbstractHeapType as A, HeapType};
    match t {
        ValType::Ref(r) => !matches!(
            r.heap_type(),
            HeapType::Abstract { ty: A::Extern | A::NoExtern | A::NoFunc | A::None | A::NoExn | A::NoCont, .. }
        ),
        _ => false,
    }
}

/// `v[i].FIELD = a` for a Rust-side value `a` of type `t`.
fn rust_slot_store(t: ValType, i: usize, a: &str) -> String {
    match t {
        ValType::Ref(_) => format!("v[{i}].r = {a}.0;"),
        t => format!("v[{i}].{} = {a};", slot_field(t)),
    }
}

/// The Rust-side value of type `t` in `v[i]` (inside `unsafe`).
fn rust_slot_load(t: ValType, i: usize) -> String {
    match t {
        ValType::Ref(_) => format!("Ref(v[{i}].r)"),
        t => format!("v[{i}].{}", slot_field(t)),
    }
}

/// `()`, `T` or `(T, U, ...)`.
fn rust_tuple(types: &[ValType]) -> String {
    match types {
        [] => "()".to_string(),
        [t] => rust_type(*t).to_string(),
        ts => format!("({})", ts.iter().map(|t| rust_type(*t)).collect::<Vec<_>>().join(", ")),
    }
}

/// The part of the bindings that does not depend on the module: the C
/// declarations, `Status`, `Trap`, `Ref`, `Config` and the helpers.
/// `@P@` is the prefix.
const RUST_COMMON: &str = r#"use ::std::ffi::{c_char, c_int, c_void, CStr, CString};
use ::std::marker::PhantomData;
use ::std::ptr::{self, NonNull};

/// The embedding ABI these bindings were generated for (`KILN_EMBED_ABI` in `@P@.h`).
pub const EMBED_ABI: u32 = @ABI@;

/// The C interface of `lib@P@.a` (see `@P@.h`), which the safe types wrap.
mod ffi {
    use super::*;
    #[repr(C)]
    pub struct Raw {
        _opaque: [u8; 0],
        _not_send_or_sync: PhantomData<*mut u8>,
    }
    #[repr(C)]
    pub struct Dir {
        pub host: *const c_char,
        pub guest: *const c_char,
        pub read_only: c_int,
    }
    #[repr(C)]
    pub struct Config {
        pub argc: c_int,
        pub argv: *const *const c_char,
        pub envc: usize,
        pub env: *const *const c_char,
        pub n_dirs: usize,
        pub dirs: *const Dir,
        pub stdin_fd: c_int,
        pub stdout_fd: c_int,
        pub stderr_fd: c_int,
        pub stack_size: usize,
        pub user_data: *mut c_void,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    pub union Slot {
        pub i32: i32,
        pub i64: i64,
        pub f32: f32,
        pub f64: f64,
        pub r: *mut c_void,
        pub bits: [u64; 2],
    }
    unsafe extern "C" {
        #[link_name = "@P@_new"]
        pub fn new(config: *const Config, out: *mut *mut Raw) -> u32;
        #[link_name = "@P@_free"]
        pub fn free(instance: *mut Raw);
        #[link_name = "@P@_message"]
        pub fn message(instance: *const Raw) -> *const c_char;
        #[link_name = "@P@_trap_kind"]
        pub fn trap_kind(instance: *const Raw) -> u32;
        #[link_name = "@P@_exit_code"]
        pub fn exit_code(instance: *const Raw) -> c_int;
        #[link_name = "@P@_user_data"]
        pub fn user_data(instance: *const Raw) -> *mut c_void;
        #[link_name = "@P@_call"]
        pub fn call(instance: *mut Raw, export_index: u32, values: *mut Slot) -> u32;
        #[link_name = "@P@_export"]
        pub fn export(instance: *mut Raw, export_index: u32) -> *mut c_void;
    }
}

/// How a call into an instance, or its creation, ended (`kiln_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Returned normally (never in a [`Trap`]).
    Ok,
    /// Trapped, or threw an exception nobody caught: [`Trap::kind`] and
    /// [`Trap::message`] (the trap and its wasm backtrace) say which.
    Trap,
    /// Called WASI `proc_exit`: [`Trap::exit_code`] has the code.
    Exit,
    /// Refused: an unusable instance (its instantiation failed), a
    /// resource the runtime could not get, a [`Config`] that cannot be
    /// passed on; [`Trap::message`] says which.
    Error,
}

impl Status {
    fn from_raw(status: u32) -> Status {
        match status {
            @OK@ => Status::Ok,
            @TRAP@ => Status::Trap,
            @EXIT@ => Status::Exit,
            _ => Status::Error,
        }
    }
}

/// Why a call into an instance, or [`Instance::new`], did not return
/// normally. After a trap or an exit the instance stays usable, with
/// whatever state the failed call left (as in wasmtime); an instance
/// whose creation failed is never returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    /// [`Status::Trap`], [`Status::Exit`] or [`Status::Error`].
    pub status: Status,
    /// For [`Status::Trap`]: the kind of trap, in Kiln's numbering
    /// (`kiln_abi::TrapKind`), or [`Trap::UNCAUGHT_EXCEPTION`].
    pub kind: u32,
    /// The runtime's message: for a trap, the text a Kiln executable
    /// prints for it, wasm backtrace included.
    pub message: String,
    /// For [`Status::Exit`]: the code the module passed to `proc_exit`.
    pub exit_code: i32,
}

impl Trap {
    /// [`Trap::kind`] of an exception that no wasm handler caught.
    pub const UNCAUGHT_EXCEPTION: u32 = @UNCAUGHT@;

    fn error(message: String) -> Trap {
        Trap { status: Status::Error, kind: 0, message, exit_code: 0 }
    }

    /// The failure `status` of a call into `raw`, with its message.
    unsafe fn of(raw: *mut ffi::Raw, status: u32) -> Trap {
        let status = match Status::from_raw(status) {
            Status::Ok => Status::Error,
            s => s,
        };
        unsafe {
            let m = ffi::message(raw);
            let message = if m.is_null() { String::new() } else { CStr::from_ptr(m).to_string_lossy().into_owned() };
            Trap { status, kind: ffi::trap_kind(raw), message, exit_code: ffi::exit_code(raw) }
        }
    }
}

impl ::std::fmt::Display for Trap {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        match self.status {
            Status::Exit => write!(f, "the module exited with code {}", self.exit_code),
            _ if self.message.trim().is_empty() => write!(f, "the call failed ({:?})", self.status),
            _ => f.write_str(self.message.trim_end()),
        }
    }
}

impl ::std::error::Error for Trap {}

/// A wasm reference (`funcref`, `externref`, ...): opaque to the host,
/// which gets one from the module and may hand it back to the same
/// instance.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ref(*mut c_void);

impl Ref {
    /// The null reference.
    pub const NULL: Ref = Ref(ptr::null_mut());

    pub fn is_null(self) -> bool {
        self.0.is_null()
    }

    /// The pointer the C interface carries.
    pub fn as_ptr(self) -> *mut c_void {
        self.0
    }

    /// # Safety
    /// For an `externref`, any pointer will do (wasm only carries it). For
    /// any other reference type, `p` must be a reference of that type that
    /// the same instance handed out, and must still be valid.
    pub unsafe fn from_ptr(p: *mut c_void) -> Ref {
        Ref(p)
    }
}

/// What an instance may reach. [`Config::new`] grants nothing: no
/// arguments, no environment variables, no directories, and wasm's
/// descriptors 0-2 closed. A module that imports no WASI function needs
/// nothing else. Strings are copied when the instance is created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    args: Vec<String>,
    env: Vec<(String, String)>,
    dirs: Vec<(::std::path::PathBuf, String, bool)>,
    stdio: [c_int; 3],
    stack_size: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

impl Config {
    /// A config that grants nothing.
    pub fn new() -> Config {
        Config { args: Vec::new(), env: Vec::new(), dirs: Vec::new(), stdio: [-1; 3], stack_size: 0 }
    }

    /// Adds a WASI argument (the first is the program's name, `argv[0]`).
    pub fn arg(mut self, arg: impl Into<String>) -> Config {
        self.args.push(arg.into());
        self
    }

    /// Adds WASI arguments.
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Config {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds an environment variable the module sees.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Config {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Preopens host directory `host` read-write, as `guest` in the
    /// module (the first directory is wasm fd 3, the next 4, ...). Paths
    /// are resolved beneath it, symlinks included.
    pub fn preopened_dir(mut self, host: impl Into<::std::path::PathBuf>, guest: impl Into<String>) -> Config {
        self.dirs.push((host.into(), guest.into(), false));
        self
    }

    /// Preopens host directory `host` read-only, as `guest`: every write
    /// through it is refused.
    pub fn preopened_dir_ro(mut self, host: impl Into<::std::path::PathBuf>, guest: impl Into<String>) -> Config {
        self.dirs.push((host.into(), guest.into(), true));
        self
    }

    /// The host descriptor behind wasm's fd 0 (-1: none, the default). It
    /// must stay open while the instance lives.
    pub fn stdin(mut self, fd: ::std::os::fd::RawFd) -> Config {
        self.stdio[0] = fd;
        self
    }

    /// The host descriptor behind wasm's fd 1 (-1: none, the default).
    pub fn stdout(mut self, fd: ::std::os::fd::RawFd) -> Config {
        self.stdio[1] = fd;
        self
    }

    /// The host descriptor behind wasm's fd 2 (-1: none, the default).
    pub fn stderr(mut self, fd: ::std::os::fd::RawFd) -> Config {
        self.stdio[2] = fd;
        self
    }

    /// The host's own stdin, stdout and stderr behind wasm's fds 0-2.
    pub fn inherit_stdio(self) -> Config {
        self.stdin(0).stdout(1).stderr(2)
    }

    /// Bytes of wasm stack (0, the default: @STACK@). A part of it (at
    /// most half) stays free for host imports.
    pub fn stack_size(mut self, bytes: usize) -> Config {
        self.stack_size = bytes;
        self
    }

    /// The C config, with everything it points to.
    fn to_raw(&self, user_data: *mut c_void) -> Result<RawConfig, Trap> {
        use ::std::os::unix::ffi::OsStrExt;
        fn c(what: &str, s: &[u8]) -> Result<CString, Trap> {
            CString::new(s).map_err(|_| Trap::error(format!("Config: {what} `{}` contains a NUL byte", String::from_utf8_lossy(s).escape_debug())))
        }
        let mut strings = Vec::new();
        for a in &self.args {
            strings.push(c("argument", a.as_bytes())?);
        }
        for (k, v) in &self.env {
            if k.is_empty() || k.contains('=') {
                return Err(Trap::error(format!("Config: environment variable name `{}` is empty or contains `=`", k.escape_debug())));
            }
            strings.push(c("environment variable", format!("{k}={v}").as_bytes())?);
        }
        for (host, guest, _) in &self.dirs {
            strings.push(c("directory", host.as_os_str().as_bytes())?);
            strings.push(c("directory", guest.as_bytes())?);
        }
        let pointers: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        let (argv, rest) = pointers.split_at(self.args.len());
        let (env, dirs) = rest.split_at(self.env.len());
        let argv = argv.to_vec();
        let env = env.to_vec();
        let dirs: Vec<ffi::Dir> = dirs
            .chunks(2)
            .zip(&self.dirs)
            .map(|(p, (_, _, ro))| ffi::Dir { host: p[0], guest: p[1], read_only: *ro as c_int })
            .collect();
        let argc = c_int::try_from(argv.len()).map_err(|_| Trap::error("Config: too many arguments".to_string()))?;
        let config = ffi::Config {
            argc,
            argv: argv.as_ptr(),
            envc: env.len(),
            env: env.as_ptr(),
            n_dirs: dirs.len(),
            dirs: dirs.as_ptr(),
            stdin_fd: self.stdio[0],
            stdout_fd: self.stdio[1],
            stderr_fd: self.stdio[2],
            stack_size: self.stack_size,
            user_data,
        };
        Ok(RawConfig { config, _strings: strings, _argv: argv, _env: env, _dirs: dirs })
    }
}

/// A C config and the memory it points to (moving the vectors keeps
/// their buffers where they are).
struct RawConfig {
    config: ffi::Config,
    _strings: Vec<CString>,
    _argv: Vec<*const c_char>,
    _env: Vec<*const c_char>,
    _dirs: Vec<ffi::Dir>,
}

/// What `user_data` of an instance points to: the import table first
/// (the C shims find it there), then the host's [`Imports`].
#[repr(C)]
struct State<I> {
    vtable: Vtable,
    data: I,
}

unsafe fn __kiln_call(raw: NonNull<ffi::Raw>, index: u32, values: &mut [ffi::Slot]) -> Result<(), Trap> {
    unsafe {
        match ffi::call(raw.as_ptr(), index, values.as_mut_ptr()) {
            @OK@ => Ok(()),
            s => Err(Trap::of(raw.as_ptr(), s)),
        }
    }
}

/// The bytes of exported memory `index`, for as long as the caller's
/// borrow of the instance lasts.
unsafe fn __kiln_memory<'a>(raw: NonNull<ffi::Raw>, index: u32) -> &'a mut [u8] {
    unsafe {
        let m = ffi::export(raw.as_ptr(), index) as *const u8;
        let base = ptr::read(m.add(@MEM_BASE@) as *const *mut u8);
        let length = ptr::read(m.add(@MEM_LENGTH@) as *const u64) as usize;
        if base.is_null() || length == 0 { &mut [] } else { ::std::slice::from_raw_parts_mut(base, length) }
    }
}

/// The 16-byte cell of exported global `index`.
unsafe fn __kiln_global<T>(raw: NonNull<ffi::Raw>, index: u32) -> *mut T {
    unsafe { ffi::export(raw.as_ptr(), index).cast() }
}

/// The current number of elements of exported table `index`.
unsafe fn __kiln_table_size(raw: NonNull<ffi::Raw>, index: u32) -> u32 {
    unsafe { ptr::read((ffi::export(raw.as_ptr(), index) as *const u8).add(@TABLE_SIZE@) as *const u32) }
}
"#;

/// The Rust bindings of a library: the body of a module (items only) that
/// wraps the C interface [`header`] describes in safe Rust. The build-script
/// API ([`crate::build::Build`]) writes it into `OUT_DIR`, inside
/// `pub mod NAME { ... }`, for the host crate to `include!`. It has:
///
/// - `Instance<I: Imports>`: one instance (owning the C instance, freed on
///   drop; `Send` when `I` is, never `Sync`), created by
///   `Instance::new(imports, &config)`, with one method per export named
///   as in the C header ([`export_c_names`], made Rust identifiers by
///   [`rust_ident`]): typed export calls returning `Result<_, Trap>`
///   (several results: a tuple), memory accessors returning `&mut [u8]`,
///   global getters and setters, table sizes; and `user_data()` /
///   `user_data_mut()` for the host's `I`.
/// - `Imports`: one associated function per host import,
///   `fn MODULE_NAME(caller: &mut Caller<'_, Self>, args...) -> result`;
///   `Caller` has the instance's export methods (calling one re-enters the
///   instance) and `user_data()` / `user_data_mut()`. A module without host
///   imports has an empty `Imports` that every type implements (pass `()`).
///   The `#[no_mangle]` C functions `PREFIX_import_*` the library calls find
///   the `Imports` through the instance's `user_data`; a panic in an import
///   aborts the process with a message (it must not unwind into wasm).
/// - `Config`, `Status`, `Trap` and `Ref` (an opaque reference).
///
/// Functions through which the host would hand wasm a reference it could
/// call or read through (anything but `externref`) are `unsafe`, and so is
/// the `Imports` trait when an import returns one.
pub fn rust_bindings(env: &ModuleEnv, prefix: &str, host: &[(u32, String)]) -> Result<String, CompileError> {
    use std::fmt::Write;
    let p = prefix;
    let names = export_c_names(env, p)?;
    let mut used: std::collections::HashSet<String> = RUST_METHODS.iter().map(|m| m.to_string()).collect();
    let mut rust_name = |c: &str, what: &str| -> Result<String, CompileError> {
        let r = rust_ident(c);
        if !used.insert(r.clone()) {
            return Err(CompileError::Target(format!("{what}: its Rust name `{r}` is taken by another export; rename one of them")));
        }
        Ok(r)
    };

    // The export methods, the same for `Instance` and `Caller`.
    let mut methods = String::new();
    let m = &mut methods;
    for (index, (name, kind, idx)) in env.exports.iter().enumerate() {
        let Some(c) = names[index].as_deref() else { continue };
        let what = format!("export `{name}`");
        let shown = name.escape_default();
        match kind {
            ExternalKind::Func => {
                let t = env.func_type(*idx);
                let r = rust_name(c, &what)?;
                let sig = signature_comment(&t.params, &t.results);
                let params: Vec<String> = t.params.iter().enumerate().map(|(i, t)| format!("a{i}: {}", rust_type(*t))).collect();
                let dangerous = t.params.iter().any(|t| ref_is_dangerous(*t));
                let _ = writeln!(m, "    /// Calls export \"{shown}\" {sig}.");
                if dangerous {
                    let _ = writeln!(m, "    ///\n    /// # Safety\n    /// Every reference argument must have come from this instance and still be valid.");
                }
                let _ = writeln!(
                    m,
                    "    pub {}fn {r}(&mut self{}) -> Result<{}, Trap> {{",
                    if dangerous { "unsafe " } else { "" },
                    params.iter().map(|a| format!(", {a}")).collect::<String>(),
                    rust_tuple(&t.results)
                );
                let n = t.params.len().max(t.results.len()).max(1);
                let _ = writeln!(m, "        let mut v = [ffi::Slot {{ bits: [0; 2] }}; {n}];");
                for (i, t) in t.params.iter().enumerate() {
                    let _ = writeln!(m, "        {}", rust_slot_store(*t, i, &format!("a{i}")));
                }
                let results: Vec<String> = t.results.iter().enumerate().map(|(i, t)| rust_slot_load(*t, i)).collect();
                let value = match results.len() {
                    1 => results[0].clone(),
                    _ => format!("({})", results.join(", ")),
                };
                let _ = writeln!(m, "        unsafe {{\n            __kiln_call(self.raw, {index}, &mut v)?;\n            Ok({value})\n        }}\n    }}\n");
            }
            ExternalKind::Memory => {
                let r = rust_name(c, &what)?;
                let _ = writeln!(m, "    /// The bytes of exported memory \"{shown}\" (its current length).");
                let _ = writeln!(m, "    pub fn {r}(&mut self) -> &mut [u8] {{\n        unsafe {{ __kiln_memory(self.raw, {index}) }}\n    }}\n");
            }
            ExternalKind::Global => {
                let g = &env.globals[*idx as usize].ty;
                let ty = rust_type(g.content_type);
                let r = rust_name(c, &what)?;
                let _ = writeln!(m, "    /// The value of exported global \"{shown}\" ({}{}).", if g.mutable { "mut " } else { "" }, g.content_type);
                let _ = writeln!(m, "    pub fn {r}(&self) -> {ty} {{\n        unsafe {{ ptr::read(__kiln_global::<{ty}>(self.raw, {index})) }}\n    }}\n");
                if g.mutable {
                    let set = rust_name(&format!("set_{c}"), &what)?;
                    let dangerous = ref_is_dangerous(g.content_type);
                    let _ = writeln!(m, "    /// Sets exported global \"{shown}\".");
                    if dangerous {
                        let _ = writeln!(m, "    ///\n    /// # Safety\n    /// `value` must have come from this instance and still be valid.");
                    }
                    let _ = writeln!(
                        m,
                        "    pub {}fn {set}(&mut self, value: {ty}) {{\n        unsafe {{ ptr::write(__kiln_global::<{ty}>(self.raw, {index}), value) }}\n    }}\n",
                        if dangerous { "unsafe " } else { "" }
                    );
                }
            }
            ExternalKind::Table => {
                let r = rust_name(&format!("{c}_size"), &what)?;
                let _ = writeln!(m, "    /// The current number of elements of exported table \"{shown}\".");
                let _ = writeln!(m, "    pub fn {r}(&self) -> u32 {{\n        unsafe {{ __kiln_table_size(self.raw, {index}) }}\n    }}\n");
            }
            ExternalKind::Tag | ExternalKind::FuncExact => {}
        }
    }

    // The host imports: trait methods, table entries, thunks and C shims.
    struct HostImport {
        method: String,
        symbol: String,
        module: String,
        name: String,
        params: Vec<ValType>,
        result: Option<ValType>,
    }
    let mut imports = Vec::new();
    let mut import_names = std::collections::HashSet::new();
    let mut fi = 0u32;
    for imp in &env.imports {
        let ImportKind::Func(ty) = imp.kind else { continue };
        if let Some((_, sym)) = host.iter().find(|(i, _)| *i == fi) {
            let t = &env.types[ty as usize];
            let method = rust_ident(sym.strip_prefix(&format!("{p}_import_")).unwrap_or(sym));
            if !import_names.insert(method.clone()) {
                return Err(CompileError::Target(format!(
                    "import {}::{}: its Rust name `{method}` is also another import's; rename one of them",
                    imp.module, imp.name
                )));
            }
            imports.push(HostImport {
                method,
                symbol: sym.clone(),
                module: imp.module.to_string(),
                name: imp.name.to_string(),
                params: t.params.to_vec(),
                result: t.results.first().copied(),
            });
        }
        fi += 1;
    }

    let mut b = String::new();
    let w = &mut b;
    let _ = writeln!(w, "// Rust bindings of lib{p}.a, generated by Kiln {} (embedding ABI {EMBED_ABI}). Do not edit.", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(w, "// Every item is documented; `docs/embedding.md` states the ABI underneath.\n");
    let common = RUST_COMMON
        .replace("@P@", p)
        .replace("@ABI@", &EMBED_ABI.to_string())
        .replace("@OK@", &kiln_abi::embed::OK.to_string())
        .replace("@TRAP@", &kiln_abi::embed::TRAP.to_string())
        .replace("@EXIT@", &kiln_abi::embed::EXIT.to_string())
        .replace("@UNCAUGHT@", &format!("{:#x}", kiln_abi::UNCAUGHT_EXCEPTION))
        .replace("@STACK@", &format!("{} KiB", kiln_abi::embed::DEFAULT_STACK_SIZE >> 10))
        .replace("@MEM_BASE@", &MEMORY.offset("base").to_string())
        .replace("@MEM_LENGTH@", &MEMORY.offset("length").to_string())
        .replace("@TABLE_SIZE@", &TABLE.offset("size").to_string());
    w.push_str(&common);

    // The Imports trait.
    let _ = writeln!(w);
    if imports.is_empty() {
        let _ = writeln!(w, "/// The host imports of the module: it has none, so every type implements");
        let _ = writeln!(w, "/// this; pass `()` (or any data the host wants to keep with the instance).");
        let _ = writeln!(w, "pub trait Imports: Sized {{}}\n\nimpl<T> Imports for T {{}}\n");
    } else {
        let unsafe_trait = imports.iter().any(|i| i.result.is_some_and(ref_is_dangerous));
        let _ = writeln!(w, "/// The host imports of the module, which the host implements, one function");
        let _ = writeln!(w, "/// per import. Each gets the [`Caller`] first: the instance it was called on,");
        let _ = writeln!(w, "/// with its memory, globals and exports (calling one re-enters the instance)");
        let _ = writeln!(w, "/// and the host's own data, `Self` ([`Caller::user_data_mut`]).");
        let _ = writeln!(w, "///");
        let _ = writeln!(w, "/// An import must return normally: a panic in one prints a message and");
        let _ = writeln!(w, "/// aborts the process, since it cannot unwind through the wasm frames.");
        if unsafe_trait {
            let _ = writeln!(w, "///\n/// # Safety\n/// A reference an import returns (other than an `externref`) must have come");
            let _ = writeln!(w, "/// from the same instance and still be valid: wasm may call or read through it.");
        }
        let _ = writeln!(w, "pub {}trait Imports: Sized {{", if unsafe_trait { "unsafe " } else { "" });
        for i in &imports {
            let ret = i.result.map(|r| format!(" -> {}", rust_type(r))).unwrap_or_default();
            let params: String = i.params.iter().enumerate().map(|(k, t)| format!(", a{k}: {}", rust_type(*t))).collect();
            let _ = writeln!(
                w,
                "    /// Import \"{}\" \"{}\" {}.",
                i.module.escape_default(),
                i.name.escape_default(),
                signature_comment(&i.params, i.result.as_slice())
            );
            let _ = writeln!(w, "    fn {}(caller: &mut Caller<'_, Self>{params}){ret};", i.method);
        }
        let _ = writeln!(w, "}}\n");
    }

    // The table the C shims dispatch through, and the generic thunks it holds.
    let thunk_sig = |i: &HostImport| -> String {
        let params: String = i.params.iter().map(|t| format!(", {}", rust_c_type(*t))).collect();
        let ret = i.result.map(|r| format!(" -> {}", rust_c_type(r))).unwrap_or_default();
        format!("unsafe fn(*mut ffi::Raw, *mut c_void{params}){ret}")
    };
    let _ = writeln!(w, "/// The host's [`Imports`], monomorphised: what the C shims call.");
    let _ = writeln!(w, "#[repr(C)]\nstruct Vtable {{");
    for i in &imports {
        let _ = writeln!(w, "    {}: {},", i.method, thunk_sig(i));
    }
    let _ = writeln!(w, "}}\n");
    for i in &imports {
        let params: String = i.params.iter().enumerate().map(|(k, t)| format!(", a{k}: {}", rust_c_type(*t))).collect();
        let args: String = i
            .params
            .iter()
            .enumerate()
            .map(|(k, t)| if matches!(t, ValType::Ref(_)) { format!(", Ref(a{k})") } else { format!(", a{k}") })
            .collect();
        let ret = i.result.map(|r| format!(" -> {}", rust_c_type(r))).unwrap_or_default();
        let unwrap = if matches!(i.result, Some(ValType::Ref(_))) { ".0" } else { "" };
        let _ = writeln!(w, "unsafe fn __kiln_thunk_{}<I: Imports>(raw: *mut ffi::Raw, state: *mut c_void{params}){ret} {{", i.method.trim_start_matches("r#"));
        let _ = writeln!(w, "    let mut caller = Caller::<I> {{");
        let _ = writeln!(w, "        raw: unsafe {{ NonNull::new_unchecked(raw) }},");
        let _ = writeln!(w, "        state: unsafe {{ NonNull::new_unchecked(state.cast()) }},");
        let _ = writeln!(w, "        _borrow: PhantomData,\n    }};");
        let _ = writeln!(w, "    I::{}(&mut caller{args}){unwrap}\n}}\n", i.method);
    }
    for i in &imports {
        let params: String = i.params.iter().enumerate().map(|(k, t)| format!(", a{k}: {}", rust_c_type(*t))).collect();
        let args: String = (0..i.params.len()).map(|k| format!(", a{k}")).collect();
        let ret = i.result.map(|r| format!(" -> {}", rust_c_type(r))).unwrap_or_default();
        let (module, name) = (i.module.escape_default().to_string(), i.name.escape_default().to_string());
        let _ = writeln!(w, "/// Import \"{module}\" \"{name}\", as `lib{p}.a` calls it: on to the instance's [`Imports`].");
        let _ = writeln!(w, "#[unsafe(no_mangle)]");
        let _ = writeln!(w, "unsafe extern \"C\" fn {}(instance: *mut ffi::Raw{params}){ret} {{", i.symbol);
        let _ = writeln!(w, "    __kiln_guard(\"{module}\", \"{name}\", || unsafe {{");
        let _ = writeln!(w, "        let state = __kiln_state(instance, \"{module}\", \"{name}\");");
        let _ = writeln!(w, "        ((*(state as *const Vtable)).{})(instance, state{args})", i.method);
        let _ = writeln!(w, "    }})\n}}\n");
    }
    if !imports.is_empty() {
        let _ = writeln!(w, "{}", RUST_GUARD);
    }

    // Instance and Caller.
    let vtable: String =
        imports.iter().map(|i| format!("\n            {}: __kiln_thunk_{}::<I>,", i.method, i.method.trim_start_matches("r#"))).collect();
    let vtable = if imports.is_empty() { "Vtable {}".to_string() } else { format!("Vtable {{{vtable}\n        }}") };
    let keep: Vec<String> = imports.iter().map(|i| format!("{} as *const ()", i.symbol)).collect();
    let instance = RUST_INSTANCE
        .replace("@VTABLE@", &vtable)
        .replace("@KEEP@", &keep.join(", "))
        .replace("@OK@", &kiln_abi::embed::OK.to_string())
        .replace("@METHODS@", methods.trim_end_matches('\n'));
    w.push_str(&instance);
    Ok(b)
}

/// The C shims' helpers (only with host imports).
const RUST_GUARD: &str = r#"/// The instance's [`State`], from its user data.
unsafe fn __kiln_state(instance: *mut ffi::Raw, module: &str, name: &str) -> *mut c_void {
    let state = unsafe { ffi::user_data(instance) };
    if state.is_null() {
        __kiln_abort(module, name, "called on an instance these bindings did not create");
    }
    state
}

/// Runs an import; a panic in it aborts the process (it must not unwind
/// into wasm code).
fn __kiln_guard<R>(module: &str, name: &str, f: impl FnOnce() -> R) -> R {
    match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("a panic")
                .to_string();
            ::std::mem::forget(payload);
            __kiln_abort(module, name, &format!("panicked ({what}); a panic must not unwind into wasm code"))
        }
    }
}

fn __kiln_abort(module: &str, name: &str, why: &str) -> ! {
    use ::std::io::Write;
    let _ = writeln!(::std::io::stderr(), "kiln: host import \"{module}\" \"{name}\" {why}: aborting");
    ::std::process::abort()
}
"#;

/// `Instance` and `Caller`; `@VTABLE@` builds the table for `I`, `@KEEP@`
/// lists the C shims, `@METHODS@` are the export methods.
const RUST_INSTANCE: &str = r#"/// An instance of the module: its own memories, tables, globals and WASI
/// context, and the host's [`Imports`] `I`. Dropping it frees everything it
/// holds. It may move to another thread (when `I` may), but it is used by
/// one thread at a time (`Send`, not `Sync`); different instances run on
/// different threads at once.
pub struct Instance<I: Imports> {
    raw: NonNull<ffi::Raw>,
    state: NonNull<State<I>>,
}

unsafe impl<I: Imports + Send> Send for Instance<I> {}

impl<I: Imports> Instance<I> {
    /// Creates an instance: sets up its memories and tables, runs the
    /// module's start function and, for a reactor, `_initialize` (imports
    /// called meanwhile get `imports`). Fails if any of that trapped, or
    /// the runtime or `config` refused.
    pub fn new(imports: I, config: &Config) -> Result<Instance<I>, Trap> {
        // The C shims must be linked whenever an instance can exist, even
        // from an rlib that nothing else in pulls in.
        ::std::hint::black_box::<&[*const ()]>(&[@KEEP@]);
        let vtable = @VTABLE@;
        let state = Box::into_raw(Box::new(State { vtable, data: imports }));
        // SAFETY: from Box::into_raw.
        let state = unsafe { NonNull::new_unchecked(state) };
        let raw_config = match config.to_raw(state.as_ptr().cast()) {
            Ok(c) => c,
            Err(e) => {
                drop(unsafe { Box::from_raw(state.as_ptr()) });
                return Err(e);
            }
        };
        let mut raw = ptr::null_mut();
        let status = unsafe { ffi::new(&raw_config.config, &mut raw) };
        drop(raw_config);
        match NonNull::new(raw) {
            Some(raw) => {
                let instance = Instance { raw, state };
                match status {
                    @OK@ => Ok(instance),
                    // Dropping the instance frees it.
                    s => Err(unsafe { Trap::of(raw.as_ptr(), s) }),
                }
            }
            None => {
                drop(unsafe { Box::from_raw(state.as_ptr()) });
                Err(Trap::error(
                    "cannot create an instance: the runtime could not map it (out of memory or address space, \
                     or a stack_size too large)"
                        .to_string(),
                ))
            }
        }
    }

    /// The host's data, as passed to [`Instance::new`].
    pub fn user_data(&self) -> &I {
        unsafe { &(*self.state.as_ptr()).data }
    }

    /// The host's data, as passed to [`Instance::new`].
    pub fn user_data_mut(&mut self) -> &mut I {
        unsafe { &mut (*self.state.as_ptr()).data }
    }

@METHODS@
}

impl<I: Imports> Drop for Instance<I> {
    fn drop(&mut self) {
        unsafe {
            ffi::free(self.raw.as_ptr());
            drop(Box::from_raw(self.state.as_ptr()));
        }
    }
}

impl<I: Imports> ::std::fmt::Debug for Instance<I> {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        f.debug_struct("Instance").field("raw", &self.raw).finish_non_exhaustive()
    }
}

/// The instance a host import was called on, for the duration of the
/// import: its memories, globals and exports (calling one re-enters the
/// instance, as the C API allows), and the host's data.
pub struct Caller<'a, I: Imports> {
    raw: NonNull<ffi::Raw>,
    state: NonNull<State<I>>,
    _borrow: PhantomData<&'a mut I>,
}

impl<'a, I: Imports> Caller<'a, I> {
    /// The host's data, as passed to [`Instance::new`].
    pub fn user_data(&self) -> &I {
        unsafe { &(*self.state.as_ptr()).data }
    }

    /// The host's data, as passed to [`Instance::new`].
    pub fn user_data_mut(&mut self) -> &mut I {
        unsafe { &mut (*self.state.as_ptr()).data }
    }

@METHODS@
}
"#;

/// The embedding API under the prefix's names, for an executable whose
/// `--link` objects call back into the module (`runtime-lib/c/instance.c`
/// has the executable's versions).
pub fn exe_api_aliases(prefix: &str) -> Vec<(String, String)> {
    API.iter().map(|a| (format!("{prefix}_{a}"), format!("kiln_api_{a}"))).collect()
}

/// Links `objects` with the embedding runtime for `target` into one
/// relocatable object, then hides every symbol but the API (renamed to
/// `prefix_`) and the host imports, and wraps it in an archive.
pub fn build_archive(linker: &Linker, target: &Target, objects: &[Vec<u8>], prefix: &str) -> Result<Vec<u8>, CompileError> {
    let runtime = kiln_runtime_lib::embed_archive(target.name)
        .ok_or_else(|| CompileError::Link(format!("no embedding runtime for target {}", target.name)))?;
    let staged = crate::link::Staged::new(objects, runtime)?;
    let combined = staged.dir.path().join("combined.o");
    let mut cmd = linker.command(target);
    cmd.arg("-r");
    for a in API {
        cmd.args(["-u", &format!("kiln_api_{a}")]);
    }
    cmd.arg("-o").arg(&combined).args(&staged.objects).arg(&staged.runtime);
    linker.run(cmd)?;
    let bytes = std::fs::read(&combined).map_err(|e| CompileError::Read { path: combined.display().to_string(), source: e })?;
    let object = localize(&bytes, prefix)?;
    Ok(ar_archive("kiln.o", &object, &exported_symbols(&object)?))
}

/// Renames `kiln_api_X` to `prefix_X`, makes every other defined symbol
/// local and hidden, and checks that the only undefined symbols left are
/// the host imports (`prefix_import_*`).
fn localize(bytes: &[u8], prefix: &str) -> Result<Vec<u8>, CompileError> {
    use object::elf;
    let err = |e: object::build::Error| CompileError::Link(format!("rewriting the library's symbols: {e}"));
    let mut b = object::build::elf::Builder::read(bytes).map_err(err)?;
    let import_prefix = format!("{prefix}_import_");
    let mut undefined = Vec::new();
    for sym in b.symbols.iter_mut() {
        let name = String::from_utf8_lossy(&sym.name).into_owned();
        let bind = sym.st_bind();
        if bind == elf::STB_LOCAL {
            continue;
        }
        let defined = sym.section.is_some() || (sym.st_shndx != elf::SHN_UNDEF);
        if !defined {
            if !name.starts_with(&import_prefix) {
                undefined.push(name);
            }
            continue;
        }
        if let Some(api) = name.strip_prefix("kiln_api_") {
            sym.name = format!("{prefix}_{api}").into_bytes().into();
            sym.st_other = elf::STV_DEFAULT.into();
        } else {
            let ty = sym.st_type();
            sym.set_st_info(elf::STB_LOCAL, ty);
            sym.st_other = elf::STV_HIDDEN.into();
        }
    }
    if !undefined.is_empty() {
        undefined.sort();
        return Err(CompileError::Link(format!("the library would need symbols nothing defines: {}", undefined.join(", "))));
    }
    let mut out = Vec::new();
    b.write(&mut out).map_err(err)?;
    Ok(out)
}

/// The global symbols an object defines (for the archive's index).
fn exported_symbols(bytes: &[u8]) -> Result<Vec<String>, CompileError> {
    use object::{Object, ObjectSymbol};
    let file = object::File::parse(bytes).map_err(|e| CompileError::Link(format!("reading back the library: {e}")))?;
    Ok(file
        .symbols()
        .filter(|s| s.is_global() && s.is_definition())
        .filter_map(|s| s.name().ok().map(str::to_string))
        .collect())
}

/// A System V `ar` archive with one member and a symbol index (which lld
/// and GNU ld require).
fn ar_archive(member: &str, data: &[u8], symbols: &[String]) -> Vec<u8> {
    fn header(out: &mut Vec<u8>, name: &str, size: usize) {
        let h = format!("{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n", name, 0, 0, 0, 644, size);
        debug_assert_eq!(h.len(), 60);
        out.extend_from_slice(h.as_bytes());
    }
    let mut index = Vec::new();
    let names_len: usize = symbols.iter().map(|s| s.len() + 1).sum();
    let index_size = 4 + 4 * symbols.len() + names_len;
    let index_padded = index_size + index_size % 2;
    // The one member starts after the magic, the index header and the index.
    let member_at = 8 + 60 + index_padded;
    index.extend_from_slice(&(symbols.len() as u32).to_be_bytes());
    for _ in symbols {
        index.extend_from_slice(&(member_at as u32).to_be_bytes());
    }
    for s in symbols {
        index.extend_from_slice(s.as_bytes());
        index.push(0);
    }
    let mut out = b"!<arch>\n".to_vec();
    header(&mut out, "/", index_size);
    out.extend_from_slice(&index);
    if index_size % 2 == 1 {
        out.push(b'\n');
    }
    header(&mut out, &format!("{member}/"), data.len());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(b'\n');
    }
    out
}
