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

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn not_buildable(path: &str, features: &[(&str, usize)], imports: &[String], reactor: bool) -> String {
    let mut parts = Vec::new();
    if !features.is_empty() {
        let mut s = format!(
            "{path}: uses {} that Kiln does not support yet (the module is valid):",
            plural(features.len(), "WebAssembly proposal")
        );
        for (name, offset) in features {
            s.push_str(&format!("\n  {name}, first at wasm offset {offset:#x}"));
        }
        parts.push(s);
    }
    if !imports.is_empty() {
        parts.push(format!(
            "{path}: {}; Kiln provides only WASI preview1 (`wasi_snapshot_preview1`):\n{}",
            plural(imports.len(), "unresolved import"),
            imports.join("\n")
        ));
    }
    if reactor {
        parts.push(format!(
            "{path}: a reactor module (it exports `_initialize` and no `_start`), so as an executable it would \
             have nothing to run; build it as a library instead: `--emit lib` writes a static library and a C header \
             to embed it (docs/embedding.md)"
        ));
    }
    parts.join("\n")
}

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("{path}: cannot read: {source}")]
    Read { path: String, source: std::io::Error },

    #[error("{path}: cannot parse the text format: {message}")]
    Text { path: String, message: String },

    /// A `.wasm` file, or an empty one, that is neither format: the binary
    /// format's magic number is missing and the text parser's complaint
    /// follows.
    #[error("{path}: not a wasm binary (it does not start with `\\0asm`), nor a text-format module: {message}")]
    NotWasm { path: String, message: String },

    #[error("{path}: invalid module{}, at wasm offset {offset:#x}: {message}", in_func(func))]
    Invalid { path: String, func: Option<(u32, Option<String>)>, offset: usize, message: String },

    #[error("{path}: unsupported{}, at wasm offset {offset:#x}: {message}", in_func(func))]
    Unsupported { path: String, func: Option<(u32, Option<String>)>, offset: usize, message: String },

    /// A valid module that Kiln cannot turn into an executable, with every
    /// reason at once: the proposals it uses that Kiln does not compile
    /// yet (name, first wasm offset), its imports that nothing provides,
    /// and whether it is a reactor (no `_start` to run).
    #[error("{}", not_buildable(path, features, imports, *reactor))]
    NotBuildable { path: String, features: Vec<(&'static str, usize)>, imports: Vec<String>, reactor: bool },

    #[error("{path}: code generation failed in {func}: {message}")]
    Codegen { path: String, func: FuncRef, message: String },

    #[error("{0}")]
    Target(String),

    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },

    #[error("{0}")]
    Link(String),
}
