//! The build-script API: a WebAssembly module as a static library for a
//! Rust crate, in the style of the `cc` crate.
//!
//! ```no_run
//! // In `fn main` of build.rs, in a crate that embeds plugin.wasm (its
//! // Cargo.toml has `[build-dependencies] kiln = ...`):
//! kiln::Build::new().file("plugin.wasm").compile("plugin");
//! ```
//!
//! ```ignore
//! // src/main.rs
//! include!(concat!(env!("OUT_DIR"), "/plugin.rs")); // `pub mod plugin { ... }`
//!
//! let mut inst = plugin::Instance::new((), &plugin::Config::new())?;
//! let sum = inst.add(2, 3)?;
//! ```
//!
//! [`Build::compile`] compiles the module with [`crate::compile_file`]
//! (`Emit::Lib`) for the target Cargo builds for, writes `libNAME.a`,
//! `NAME.h` and `NAME.rs` into `OUT_DIR`, and prints the lines that make
//! Cargo link the library and rebuild when the module changes (the one
//! place where the library prints: that is how a build script talks to
//! Cargo). `NAME.rs`
//! is a safe Rust wrapper, [`crate::embed::rust_bindings`] inside
//! `pub mod NAME { ... }`; `docs/embedding.md` shows a complete host.

use crate::{embed, environ, CompileError, Emit, OptLevel, Options, Target};
use std::path::{Path, PathBuf};

/// A module to compile into a static library and Rust bindings; see the
/// [module documentation](self).
#[derive(Clone, Debug, Default)]
pub struct Build {
    files: Vec<PathBuf>,
    target: Option<String>,
    opt_level: Option<OptLevel>,
    prefix: Option<String>,
    out_dir: Option<PathBuf>,
    cargo_metadata: Option<bool>,
}

impl Build {
    pub fn new() -> Build {
        Build::default()
    }

    /// The module to compile: binary wasm or the text format. A library
    /// holds one module, so this is given once.
    pub fn file(&mut self, path: impl AsRef<Path>) -> &mut Build {
        self.files.push(path.as_ref().to_path_buf());
        self
    }

    /// The target: a Kiln target name (`x86_64`, `aarch64`, `riscv64`) or
    /// a target triple. Default: the architecture of Cargo's `TARGET`
    /// (which must be a Linux target), else of the machine running the
    /// build.
    pub fn target(&mut self, target: &str) -> &mut Build {
        self.target = Some(target.to_string());
        self
    }

    /// How hard Cranelift optimises; default: Kiln's default
    /// ([`OptLevel::SpeedAndSize`]) whatever Cargo's profile.
    pub fn opt_level(&mut self, level: OptLevel) -> &mut Build {
        self.opt_level = Some(level);
        self
    }

    /// The prefix of the library's C names (`PREFIX_new`,
    /// `PREFIX_import_MODULE_NAME`, ...); default: the name given to
    /// [`Build::compile`]. Two libraries in one program need different
    /// prefixes.
    pub fn prefix(&mut self, prefix: &str) -> &mut Build {
        self.prefix = Some(prefix.to_string());
        self
    }

    /// Where the library, header and bindings go; default: Cargo's
    /// `OUT_DIR`.
    pub fn out_dir(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Whether to print the `cargo:` lines (link search path, link
    /// library, rerun-if-changed); default: yes.
    pub fn cargo_metadata(&mut self, yes: bool) -> &mut Build {
        self.cargo_metadata = Some(yes);
        self
    }

    /// Compiles the module into `OUT_DIR/libNAME.a` with its C header
    /// `OUT_DIR/NAME.h` and Rust bindings `OUT_DIR/NAME.rs`, and tells
    /// Cargo to link it. Panics with the error's message if anything
    /// fails, as a build script should; [`Build::try_compile`] returns
    /// the error instead.
    pub fn compile(&self, name: &str) {
        if let Err(e) = self.try_compile(name) {
            panic!("\n\nkiln::Build failed:\n{e}\n\n");
        }
    }

    /// [`Build::compile`], returning the error. `name` must be a C
    /// identifier (it names the library, the header, the bindings and
    /// their Rust module, and is the default prefix).
    pub fn try_compile(&self, name: &str) -> Result<(), CompileError> {
        let bad = |m: String| CompileError::Target(format!("kiln::Build: {m}"));
        let ident = |s: &str| !s.is_empty() && !s.starts_with(|c: char| c.is_ascii_digit()) && embed::c_ident(s) == s;
        if !ident(name) {
            return Err(bad(format!("the library name must be a C identifier, got `{name}`")));
        }
        if let Some(p) = self.prefix.as_deref().filter(|p| !ident(p)) {
            return Err(bad(format!("the prefix must be a C identifier, got `{p}`")));
        }
        let input = match self.files.as_slice() {
            [one] => one,
            [] => return Err(bad("no module: call .file(PATH)".into())),
            more => return Err(bad(format!("a library holds one module, got {} files", more.len()))),
        };
        let target = self.resolve_target()?;
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| bad("OUT_DIR is not set: run from a build script, or call .out_dir(DIR)".into()))?,
        };
        std::fs::create_dir_all(&out_dir)
            .map_err(|e| CompileError::Write { path: out_dir.display().to_string(), source: e })?;
        let metadata = self.cargo_metadata.unwrap_or(true);
        if metadata {
            // Printed first: if the module is broken, Cargo still knows to
            // run the build script again once it changes.
            println!("cargo:rerun-if-changed={}", input.display());
        }

        let prefix = embed::prefix_for(Some(self.prefix.as_deref().unwrap_or(name)), None, name)?;
        let mut opts = Options::new(target);
        opts.emit = Emit::Lib;
        opts.prefix = Some(prefix.clone());
        opts.header = Some(out_dir.join(format!("{name}.h")));
        if let Some(o) = self.opt_level {
            opts.opt_level = o;
        }
        let shown = input.display().to_string();
        let bytes = crate::read_module(input)?;
        crate::compile_bytes(&shown, &bytes, &out_dir.join(format!("lib{name}.a")), &opts)?;

        let env = environ::ModuleEnv::parse(&shown, &bytes)?;
        let host = embed::host_imports(&shown, &env, &prefix)?;
        let body = embed::rust_bindings(&env, &prefix, &host)?;
        let module = rust_module(name, &shown, &body);
        crate::link::write_atomic(&out_dir.join(format!("{name}.rs")), module.as_bytes())?;

        if metadata {
            println!("cargo:rustc-link-search=native={}", out_dir.display());
            println!("cargo:rustc-link-lib=static={name}");
        }
        Ok(())
    }

    fn resolve_target(&self) -> Result<&'static Target, CompileError> {
        let name = match &self.target {
            Some(t) => t.clone(),
            None => std::env::var("TARGET").unwrap_or_else(|_| std::env::consts::ARCH.to_string()),
        };
        Target::lookup(&name).map_err(|e| CompileError::Target(format!("kiln::Build: {e}")))
    }
}

/// `NAME.rs`: the bindings inside `pub mod NAME`.
fn rust_module(name: &str, source: &str, body: &str) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "/// Safe Rust bindings of `lib{name}.a`, the WebAssembly module `{}` compiled by Kiln\n",
        source.replace('`', "'")
    ));
    s.push_str("/// (generated by `kiln::Build`; see `docs/embedding.md`).\n");
    s.push_str("#[allow(dead_code, non_snake_case, non_camel_case_types, unused_imports, unused_unsafe, clippy::all)]\n");
    s.push_str(&format!("pub mod {} {{\n", embed::rust_unkeyword(name.to_string())));
    for line in body.lines() {
        if line.is_empty() {
            s.push('\n');
        } else {
            s.push_str("    ");
            s.push_str(line);
            s.push('\n');
        }
    }
    s.push_str("}\n");
    s
}
