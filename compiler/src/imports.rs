//! Import resolution for a WASI command.
//!
//! Kiln links a command against WASI preview1 only: every import must be a
//! function of `wasi_snapshot_preview1` with exactly the signature in
//! `kiln_abi::WASI_FUNCTIONS`. Anything else is collected, and all of it is
//! reported at once.

use crate::environ::{ImportKind, ModuleEnv};
use crate::error::CompileError;
use kiln_abi::{WASI_FUNCTIONS, WASI_MODULE};
use wasmparser::ValType;

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
    Ok(())
}

pub fn check_wasi_imports(path: &str, env: &ModuleEnv) -> Result<(), CompileError> {
    let mut bad = Vec::new();
    for imp in &env.imports {
        let what = format!("  {}::{} (at wasm offset {:#x})", imp.module, imp.name, imp.offset);
        match &imp.kind {
            ImportKind::Func(ty) if imp.module == WASI_MODULE => {
                match WASI_FUNCTIONS.iter().find(|(n, _, _)| *n == imp.name) {
                    None => bad.push(format!("{what}: not a WASI preview1 function")),
                    Some((_, params, returns)) => {
                        let want_params: Vec<ValType> =
                            params.chars().map(|c| if c == 'I' { ValType::I64 } else { ValType::I32 }).collect();
                        let want_results = if *returns { vec![ValType::I32] } else { vec![] };
                        let t = &env.types[*ty as usize];
                        if t.params != want_params || t.results != want_results {
                            bad.push(format!(
                                "{what}: signature {} does not match WASI's {}",
                                signature(&t.params, &t.results),
                                signature(&want_params, &want_results)
                            ));
                        }
                    }
                }
            }
            ImportKind::Func(_) => bad.push(format!("{what}: function from unknown module `{}`", imp.module)),
            ImportKind::Memory(_) => bad.push(format!("{what}: memory imports are not provided")),
            ImportKind::Table(_) => bad.push(format!("{what}: table imports are not provided")),
            ImportKind::Global(_) => bad.push(format!("{what}: global imports are not provided")),
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(CompileError::UnresolvedImports { path: path.to_string(), list: bad })
    }
}

/// `(i32, i64) -> i32` style rendering of a signature.
fn signature(params: &[ValType], results: &[ValType]) -> String {
    let list = |v: &[ValType]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
    format!("({}) -> ({})", list(params), list(results))
}
