//! Errors at the compiler library's boundary. Each carries the context a
//! user needs to find the problem: the file, the function (index and name),
//! and the wasm byte offset.

use std::fmt;

/// A wasm function, as named in messages.
#[derive(Debug, Clone)]
pub struct FuncRef(pub u32, pub Option<String>);

impl fmt::Display for FuncRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.1 {
            Some(n) => write!(f, "function {} ({n})", self.0),
            None => write!(f, "function {}", self.0),
        }
    }
}

fn in_func(func: &Option<(u32, Option<String>)>) -> String {
    match func {
        Some((i, n)) => format!(" in {}", FuncRef(*i, n.clone())),
        None => String::new(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("{path}: cannot read: {source}")]
    Read { path: String, source: std::io::Error },

    #[error("{path}: cannot parse the text format: {message}")]
    Text { path: String, message: String },

    #[error("{path}: invalid module{}, at wasm offset {offset:#x}: {message}", in_func(func))]
    Invalid { path: String, func: Option<(u32, Option<String>)>, offset: usize, message: String },

    #[error("{path}: unsupported{}, at wasm offset {offset:#x}: {message}", in_func(func))]
    Unsupported { path: String, func: Option<(u32, Option<String>)>, offset: usize, message: String },

    #[error("{path}: {} unresolved import{}; Kiln provides only WASI preview1 (`wasi_snapshot_preview1`):\n{}",
        list.len(), if list.len() == 1 { "" } else { "s" }, list.join("\n"))]
    UnresolvedImports { path: String, list: Vec<String> },

    #[error("{path}: code generation failed in {func}: {message}")]
    Codegen { path: String, func: FuncRef, message: String },

    #[error("{0}")]
    Target(String),

    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },

    #[error("{0}")]
    Link(String),
}
