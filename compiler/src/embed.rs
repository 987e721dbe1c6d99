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
use std::process::Command;
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

    let reserved: Vec<String> = API.iter().map(|a| a.to_string()).collect();
    let mut used: std::collections::HashSet<String> = reserved.iter().cloned().collect();
    let mut name_for = |kind: &str, name: &str| -> Result<String, CompileError> {
        let base = match kind {
            "func" => c_ident(name),
            _ if c_ident(name) == kind => kind.to_string(),
            _ => format!("{kind}_{}", c_ident(name)),
        };
        let base = if used.contains(&base) || base.starts_with("import_") { format!("export_{base}") } else { base };
        if !used.insert(base.clone()) {
            return Err(CompileError::Target(format!(
                "export `{name}`: its C name `{p}_{base}` is taken by another export; rename one of them"
            )));
        }
        Ok(base)
    };
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
                let c = name_for("func", name)?;
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
                let c = name_for("memory", name)?;
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
                let c = name_for("global", name)?;
                let _ = writeln!(w, "/* export \"{}\" (global {}{}). */", name.escape_default(), if g.mutable { "mut " } else { "" }, g.content_type);
                let _ = writeln!(w, "static inline {ct} {p}_{c}({p}_instance *instance) {{");
                let _ = writeln!(w, "    return *({ct} *){p}_export(instance, {index}u);\n}}\n");
                if g.mutable {
                    let _ = writeln!(w, "static inline void {p}_set_{c}({p}_instance *instance, {ct} value) {{");
                    let _ = writeln!(w, "    *({ct} *){p}_export(instance, {index}u) = value;\n}}\n");
                }
            }
            ExternalKind::Table => {
                let c = name_for("table", name)?;
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
    let tmp = tempfile::tempdir().map_err(|e| CompileError::Link(format!("cannot create a temporary directory: {e}")))?;
    let write = |name: &str, bytes: &[u8]| -> Result<std::path::PathBuf, CompileError> {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).map_err(|e| CompileError::Write { path: p.display().to_string(), source: e })?;
        Ok(p)
    };
    let mut inputs = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        inputs.push(write(&format!("m{i}.o"), o)?);
    }
    let rt = write("libkilnrt_embed.a", runtime)?;
    let combined = tmp.path().join("combined.o");
    let mut cmd = Command::new(&linker.path);
    if linker.needs_flavor {
        cmd.args(["-flavor", "gnu"]);
    }
    cmd.args(["-m", target.lld_emulation, "-r"]);
    for a in API {
        cmd.args(["-u", &format!("kiln_api_{a}")]);
    }
    cmd.arg("-o").arg(&combined).args(&inputs).arg(&rt);
    let out = cmd.output().map_err(|e| CompileError::Link(format!("cannot run {}: {e}", linker.path.display())))?;
    if !out.status.success() {
        return Err(CompileError::Link(format!(
            "{} -r failed:\n{}",
            linker.path.display(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        )));
    }
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
            sym.st_other = elf::STV_DEFAULT;
        } else {
            let ty = sym.st_type();
            sym.set_st_info(elf::STB_LOCAL, ty);
            sym.st_other = elf::STV_HIDDEN;
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
