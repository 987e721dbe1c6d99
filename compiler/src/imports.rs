//! Import resolution for a WASI command.
//!
//! Kiln links a command against WASI preview1 only: every import must be a
//! function of `wasi_snapshot_preview1` with exactly the signature in
//! `kiln_abi::WASI_FUNCTIONS`. Anything else is collected, and all of it is
//! reported at once, together with any unsupported proposals the module
//! uses and whether it is a reactor (`check_executable`).

use crate::environ::ModuleEnv;
use crate::error::CompileError;
use kiln_abi::{WASI_FUNCTIONS, WASI_MODULE, WASI_THREADS_MODULE, WASI_THREAD_SPAWN, WASI_THREAD_START};
use wasmparser::{CompositeInnerType, ExternalKind, Parser, Payload, TypeRef, ValType};

/// A command's `_start`, if exported, must take and return nothing (as
/// wasmtime requires): the runtime calls it with no argument slots.
pub fn check_command_entry(path: &str, env: &ModuleEnv) -> Result<(), CompileError> {
    if let Some(f) = env.export_func("_start") {
        let t = env.func_type(f);
        if !t.params.is_empty() || !t.results.is_empty() {
            return Err(CompileError::Invalid {
                path: path.to_string(),
                func: Some((f, env.func_display_name(f).map(str::to_string))),
                offset: 0,
                message: format!(
                    "the `_start` export must have type () -> (), not {}",
                    signature(&t.params, &t.results)
                ),
            });
        }
    }
    // wasi-threads: a module that spawns threads must export what they run,
    // and import the memory they share (each thread is a new instance, and
    // only an imported memory is the same in all of them).
    if env.spawns_threads() {
        let ok = env.export_func(WASI_THREAD_START).map(|f| env.func_type(f)).is_some_and(|t| {
            t.params == [wasmparser::ValType::I32, wasmparser::ValType::I32] && t.results.is_empty()
        });
        let problem = if !ok {
            Some(format!("does not export `{WASI_THREAD_START}` with type (i32, i32) -> (), which spawned threads run"))
        } else if env.num_imported_memories == 0 {
            Some("does not import its memory: the threads share an imported shared memory (link with --import-memory)".to_string())
        } else {
            None
        };
        if let Some(p) = problem {
            return Err(CompileError::Invalid {
                path: path.to_string(),
                func: None,
                offset: 0,
                message: format!("the module imports `{WASI_THREADS_MODULE}::{WASI_THREAD_SPAWN}` but {p}"),
            });
        }
    }
    Ok(())
}

/// Every import of the module in `bytes` that Kiln cannot provide, one
/// line each (`  module::name (at wasm offset 0x..): why`), in module
/// order. Reads the type and import sections directly, without needing the
/// module to validate under Kiln's features, so that a module which also
/// uses unsupported proposals still gets its imports checked.
pub fn unresolved_imports(bytes: &[u8]) -> Vec<String> {
    let mut types: Vec<Option<(Vec<ValType>, Vec<ValType>)>> = Vec::new();
    let mut bad = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else { break };
        match payload {
            Payload::TypeSection(r) => {
                for rec in r.into_iter().flatten() {
                    for sub in rec.into_types() {
                        types.push(match &sub.composite_type.inner {
                            CompositeInnerType::Func(f) => Some((f.params().to_vec(), f.results().to_vec())),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(r) => {
                for (offset, imp) in r.into_imports_with_offsets().flatten() {
                    let what = format!("  {}::{} (at wasm offset {:#x})", imp.module, imp.name, offset);
                    let problem = match imp.ty {
                        TypeRef::Func(t) if imp.module == WASI_MODULE => {
                            match WASI_FUNCTIONS.iter().find(|(n, _, _)| *n == imp.name) {
                                None => Some("not a WASI preview1 function".to_string()),
                                Some((_, params, returns)) => {
                                    let want_params: Vec<ValType> = params
                                        .chars()
                                        .map(|c| if c == 'I' { ValType::I64 } else { ValType::I32 })
                                        .collect();
                                    let want_results = if *returns { vec![ValType::I32] } else { vec![] };
                                    match types.get(t as usize) {
                                        Some(Some((p, r))) if *p == want_params && *r == want_results => None,
                                        Some(Some((p, r))) => Some(format!(
                                            "signature {} does not match WASI's {}",
                                            signature(p, r),
                                            signature(&want_params, &want_results)
                                        )),
                                        _ => Some("not a function type".to_string()),
                                    }
                                }
                            }
                        }
                        TypeRef::Func(t) if imp.module == WASI_THREADS_MODULE && imp.name == WASI_THREAD_SPAWN => {
                            let want = (vec![ValType::I32], vec![ValType::I32]);
                            match types.get(t as usize) {
                                Some(Some(sig)) if *sig == want => None,
                                Some(Some((p, r))) => Some(format!(
                                    "signature {} does not match wasi-threads' {}",
                                    signature(p, r),
                                    signature(&want.0, &want.1)
                                )),
                                _ => Some("not a function type".to_string()),
                            }
                        }
                        TypeRef::Func(_) | TypeRef::FuncExact(_) if imp.module == WASI_THREADS_MODULE => {
                            Some(format!("not a wasi-threads function (only `{WASI_THREAD_SPAWN}`)"))
                        }
                        TypeRef::Func(_) | TypeRef::FuncExact(_) => {
                            // Not WASI, so the user's to provide: say how.
                            Some(format!(
                                "function from module `{}`, which is not WASI: define it in C and pass `--link` \
                                 (`--emit header` declares it)",
                                imp.module
                            ))
                        }
                        // A shared memory import is the wasi-threads
                        // convention (`env.memory`): the runtime provides
                        // it, shared by every thread's instance.
                        TypeRef::Memory(m) if m.shared => None,
                        TypeRef::Memory(_) => Some("memory imports are not provided (only shared ones, for threads)".to_string()),
                        TypeRef::Table(_) => Some("table imports are not provided".to_string()),
                        TypeRef::Global(_) => Some("global imports are not provided".to_string()),
                        TypeRef::Tag(_) => Some("tag imports are not provided".to_string()),
                    };
                    if let Some(p) = problem {
                        bad.push(format!("{what}: {p}"));
                    }
                }
            }
            _ => {}
        }
    }
    bad
}

/// Whether the module is a WASI *reactor*: it exports `_initialize` and no
/// `_start`, so it is a library to call into, not a program to run.
pub fn is_reactor(bytes: &[u8]) -> bool {
    let (mut start, mut initialize) = (false, false);
    for payload in Parser::new(0).parse_all(bytes) {
        if let Ok(Payload::ExportSection(r)) = payload {
            for e in r.into_iter().flatten() {
                if e.kind == ExternalKind::Func {
                    start |= e.name == "_start";
                    initialize |= e.name == "_initialize";
                }
            }
        }
    }
    initialize && !start
}

/// Every WASI import must be a WASI preview1 function with its signature
/// (for modules whose other imports the host provides: see `crate::embed`).
pub fn check_wasi_imports(path: &str, bytes: &[u8]) -> Result<(), CompileError> {
    let wasi = format!("  {WASI_MODULE}::");
    let imports: Vec<String> = unresolved_imports(bytes).into_iter().filter(|l| l.starts_with(&wasi)).collect();
    if imports.is_empty() {
        return Ok(());
    }
    Err(CompileError::NotBuildable { path: path.to_string(), features: vec![], imports, reactor: false })
}

/// For an executable: every reason the module cannot become one (imports
/// Kiln cannot provide, being a reactor), in one
/// [`CompileError::NotBuildable`]; `features` carries the unsupported
/// proposals already found, if any.
pub fn check_executable(path: &str, bytes: &[u8], features: Vec<(&'static str, usize)>) -> Result<(), CompileError> {
    let imports = unresolved_imports(bytes);
    let reactor = is_reactor(bytes);
    if features.is_empty() && imports.is_empty() && !reactor {
        return Ok(());
    }
    Err(CompileError::NotBuildable { path: path.to_string(), features, imports, reactor })
}

/// `(i32, i64) -> i32` style rendering of a signature.
fn signature(params: &[ValType], results: &[ValType]) -> String {
    let list = |v: &[ValType]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
    format!("({}) -> ({})", list(params), list(results))
}
