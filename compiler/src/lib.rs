//! Kiln: an ahead-of-time compiler from WebAssembly to static native
//! executables.
//!
//! The pipeline, one direction of flow:
//! 1. [`environ`]: validate the module with wasmparser, then collect its
//!    types, imports, functions, tables, memories, globals, exports,
//!    segments and names. Nothing later re-validates.
//! 2. [`imports`]: check every import against WASI preview1.
//! 3. [`translate`]: our wasm-to-CLIF translator, one function at a time,
//!    reaching the VMContext and the runtime only through [`func_env`].
//! 4. [`codegen`]: compile all functions in parallel with Cranelift and
//!    write one relocatable object with the module's static instance, trap
//!    table and descriptor.
//! 5. [`link`]: lld links the objects with the embedded C runtime into a
//!    static ELF executable, written atomically.
//!
//! Library code does no printing; the `kiln` binary (`main.rs`, `cli/`)
//! turns [`error::CompileError`] into messages.

pub mod build;
pub mod codegen;
pub mod debug;
pub mod embed;
pub mod environ;
pub mod error;
pub mod func_env;
pub mod imports;
pub mod inspect;
pub mod isa;
pub mod jit;
pub mod link;
pub mod translate;

pub use build::Build;
pub use error::CompileError;
pub use isa::OptLevel;
pub use translate::heap::BoundsChecks;
pub use kiln_targets::Target;

use std::path::{Path, PathBuf};

/// What `kiln compile` produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emit {
    /// A static executable.
    Exe,
    /// The relocatable object of the module (plus the executable tables).
    Obj,
    /// The Cranelift IR of every function, as text.
    Clif,
    /// A static library (`ar` archive) and its C header, for embedding
    /// (see [`embed`]).
    Lib,
    /// Only the C header: the interface `--emit lib` would have, and the
    /// declarations a `--link` object implements.
    Header,
}

/// Everything `kiln compile` can be told.
#[derive(Clone, Debug)]
pub struct Options {
    pub target: &'static Target,
    pub cpu: Option<String>,
    pub opt_level: OptLevel,
    pub emit: Emit,
    /// `KEY=VALUE` environment variables granted to the program.
    pub env: Vec<String>,
    /// Whether the program sees the whole environment it is started with.
    pub inherit_env: bool,
    /// Directory grants: (host path, guest path, read-only).
    pub dirs: Vec<DirGrant>,
    /// Whether the person running the executable may add grants (KILN_DIRS).
    pub runtime_dirs: bool,
    /// Wasm stack size of each thread a program spawns (wasi-threads),
    /// bytes; `None`: the runtime's default (`kiln_abi` has none to share:
    /// runtime-lib/c/threads.c, 1 MiB).
    pub thread_stack: Option<u64>,
    /// `-g`: translate the module's DWARF into the executable.
    pub debug: bool,
    /// Inline small wasm functions at their direct calls (default). Done
    /// only when optimising (`opt_level` above `None`) and not under
    /// `debug`; see `codegen/inline.rs`.
    pub inline: bool,
    /// How 32-bit memories with 64 KiB pages are kept in bounds (64-bit
    /// memories and 1-byte pages are always checked explicitly).
    pub bounds_checks: BoundsChecks,
    pub linker: Option<PathBuf>,
    /// Prefix of the C names of an embedding library or of host imports
    /// (default: from the module's file name); see [`embed::prefix_for`].
    pub prefix: Option<String>,
    /// Where `Emit::Lib` writes the C header (default: `PREFIX.h` next to
    /// the library).
    pub header: Option<PathBuf>,
    /// Objects and archives linked into an executable: they define the
    /// module's non-WASI function imports (`PREFIX_import_*`).
    pub link_inputs: Vec<PathBuf>,
    /// Told how a compilation advances (the CLI's progress bar).
    pub progress: Option<Progress>,
}

/// A compilation's progress, as [`Options::progress`] hears it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressEvent {
    /// A module's functions are about to be translated and compiled.
    Functions(u64),
    /// One more function translated and compiled (on any thread).
    Compiled,
    /// Linking the executable or library.
    Linking,
}

/// A callback for [`ProgressEvent`]s, called from compiling threads.
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(ProgressEvent) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

impl Progress {
    fn tell(p: &Option<Progress>, e: ProgressEvent) {
        if let Some(p) = p {
            (p.0)(e)
        }
    }
}

/// A directory the program may use, as `kiln compile --dir` grants it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirGrant {
    /// Host path, resolved when the executable starts.
    pub host: String,
    /// The path the program sees.
    pub guest: String,
    pub read_only: bool,
}

impl DirGrant {
    /// Parses `HOST[::GUEST]`; the guest path defaults to the host path.
    /// Errors: an empty part, a NUL or other control character (the build
    /// settings are NUL-separated, and flags start with `\u{1}`), or a
    /// second `::` (a mode such as `::ro` belongs in `--dir-ro`, and
    /// must never silently become part of a read-write guest name).
    pub fn parse(spec: &str, read_only: bool) -> Result<DirGrant, CompileError> {
        let (host, guest) = spec.split_once("::").unwrap_or((spec, spec));
        let bad = |s: &str| s.is_empty() || s.chars().any(|c| c.is_control());
        if bad(host) || bad(guest) {
            return Err(CompileError::Target(format!("--dir takes HOST[::GUEST], got `{spec}`")));
        }
        if guest.contains("::") {
            return Err(CompileError::Target(format!(
                "--dir takes HOST[::GUEST], got `{spec}` (a read-only grant is `--dir-ro HOST[::GUEST]`)"
            )));
        }
        Ok(DirGrant { host: host.to_string(), guest: guest.to_string(), read_only })
    }
}

impl Options {
    pub fn new(target: &'static Target) -> Options {
        Options {
            target,
            cpu: None,
            opt_level: OptLevel::SpeedAndSize,
            emit: Emit::Exe,
            env: vec![],
            inherit_env: false,
            dirs: vec![],
            runtime_dirs: false,
            thread_stack: None,
            debug: false,
            inline: true,
            bounds_checks: BoundsChecks::Guard,
            linker: None,
            prefix: None,
            header: None,
            link_inputs: vec![],
            progress: None,
        }
    }

    /// Whether compiling with these options inlines: asked for, optimising,
    /// and not under `-g` (whose DWARF describes each function's own frame).
    pub fn inlines(&self) -> bool {
        self.inline && self.opt_level != OptLevel::None && !self.debug
    }

    /// How each module is compiled with these options: linked as `link`
    /// says (a WASI command, or a test driver's module whose exports get
    /// trampolines). The callers set what only they know (CLIF text, host
    /// imports, `-g`'s text source).
    pub(crate) fn module_options<'o>(&self, isa: &'o cranelift_codegen::isa::OwnedTargetIsa, link: codegen::LinkMode) -> codegen::ModuleOptions<'o> {
        codegen::ModuleOptions {
            isa,
            extend_i32: self.target.extend_i32_args,
            probe_stores: self.target.partial_store_faults,
            clean_cas32: self.target.cas32_compares_whole_register,
            keep_clif: false,
            is_command: link == codegen::LinkMode::Wasi,
            link,
            host_imports: vec![],
            export_trampolines: link == codegen::LinkMode::Dynamic,
            debug: self.debug,
            inline: self.inlines(),
            fp_dwarf_register: self.target.dwarf_fp_register,
            bounds_checks: self.bounds_checks,
            fixed_memory: false,
            text_source: None,
            progress: self.progress.clone(),
        }
    }

    /// The configuration blob baked into the executable (see
    /// `kiln_abi::config`). The grants are checked again here, where the
    /// blob is written, whoever built the `Options`.
    pub(crate) fn config_blob(&self) -> Result<Vec<u8>, CompileError> {
        check_env(&self.env)?;
        for d in &self.dirs {
            DirGrant::parse(&format!("{}::{}", d.host, d.guest), d.read_only)?;
        }
        let mut b = Vec::new();
        let features = self.target.cpu_features(self.cpu.as_deref()).map_err(CompileError::Target)?;
        if !features.is_empty() {
            let list: Vec<&str> = features.iter().map(|f| f.name).collect();
            b.extend_from_slice(format!("{}{}", kiln_abi::config::CPU_PREFIX, list.join(",")).as_bytes());
            b.push(0);
        }
        if self.inherit_env {
            b.extend_from_slice(kiln_abi::config::INHERIT_ENV.as_bytes());
            b.push(0);
        }
        for d in &self.dirs {
            let mode = if d.read_only { "ro" } else { "rw" };
            b.extend_from_slice(format!("{}{mode}:{}::{}", kiln_abi::config::DIR_PREFIX, d.host, d.guest).as_bytes());
            b.push(0);
        }
        if self.debug {
            b.extend_from_slice(kiln_abi::config::DEBUG_MIRROR.as_bytes());
            b.push(0);
        }
        if self.runtime_dirs {
            b.extend_from_slice(kiln_abi::config::RUNTIME_DIRS.as_bytes());
            b.push(0);
        }
        if let Some(n) = self.thread_stack {
            b.extend_from_slice(format!("{}{n}", kiln_abi::config::THREAD_STACK_PREFIX).as_bytes());
            b.push(0);
        }
        if self.bounds_checks == BoundsChecks::Explicit {
            b.extend_from_slice(kiln_abi::config::BOUNDS_CHECKS_EXPLICIT.as_bytes());
            b.push(0);
        }
        let inlining = if self.inlines() { "inlining" } else { "no inlining" };
        let built = format!("kiln {}, -O{}, {inlining}", env!("CARGO_PKG_VERSION"), self.opt_level.number());
        b.extend_from_slice(format!("{}{built}", kiln_abi::config::BUILT_PREFIX).as_bytes());
        b.push(0);
        for kv in &self.env {
            b.extend_from_slice(kv.as_bytes());
            b.push(0);
        }
        b.push(0);
        Ok(b)
    }
}

/// Checks `--env KEY=VALUE` grants. SANDBOX-CRITICAL: they are baked into
/// the executable's NUL-separated build settings, where an entry starting
/// with `\u{1}` is a flag (a directory grant, say), so a KEY must be a
/// plain name (no `=`, no control character) and no part may hold a NUL.
fn check_env(env: &[String]) -> Result<(), CompileError> {
    for kv in env {
        let ok = match kv.split_once('=') {
            Some((k, v)) => !k.is_empty() && !k.chars().any(|c| c.is_control()) && !v.contains('\0'),
            None => false,
        };
        if !ok {
            return Err(CompileError::Target(format!(
                "--env takes KEY=VALUE with a non-empty KEY free of control characters, got `{}`",
                kv.escape_debug()
            )));
        }
    }
    Ok(())
}

/// The input file a module name given to [`compile_bytes`] refers to (the
/// name is the path as given, for messages).
fn input_path(name: &str) -> &Path {
    Path::new(name)
}

/// Reads a module from `path`: binary wasm, or the text format (`.wat`, or
/// any file that does not start with the wasm magic number).
pub fn read_module(path: &Path) -> Result<Vec<u8>, CompileError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| CompileError::Read { path: shown.clone(), source: e })?;
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes);
    }
    if bytes.is_empty() {
        return Err(CompileError::NotWasm { path: shown, message: "the file is empty".into() });
    }
    // Not the binary format, and not text either: say where.
    if let Err(e) = std::str::from_utf8(&bytes) {
        return Err(CompileError::Text {
            path: shown,
            message: format!(
                "invalid UTF-8 at byte offset {:#x} (and no `\\0asm` header, so not a wasm binary either)",
                e.valid_up_to()
            ),
        });
    }
    wat::parse_bytes(&bytes).map(|b| b.into_owned()).map_err(|mut e| {
        // The error's `--> FILE:LINE:COL` names the file, not `<anon>`.
        e.set_path(path);
        // A `.wasm` name promises the binary format: say first that the file
        // is not that, then why it is not the text format either.
        if path.extension().is_some_and(|x| x == "wasm") {
            CompileError::NotWasm { path: shown, message: e.to_string() }
        } else {
            CompileError::Text { path: shown, message: e.to_string() }
        }
    })
}

/// Compiles the module in `input` and writes `output` as `opts.emit` says.
pub fn compile_file(input: &Path, output: &Path, opts: &Options) -> Result<(), CompileError> {
    let shown = input.display().to_string();
    let bytes = read_module(input)?;
    compile_bytes(&shown, &bytes, output, opts)
}

/// Whether a module that passed validation uses SIMD: it would not
/// validate without the SIMD features (a `v128` type anywhere, or a SIMD
/// operator).
fn uses_simd(bytes: &[u8]) -> bool {
    let without = environ::validation_features() & !(wasmparser::WasmFeatures::SIMD | wasmparser::WasmFeatures::RELAXED_SIMD);
    wasmparser::Validator::new_with_features(without).validate_all(bytes).is_err()
}

/// Refuses a SIMD module for a CPU the target cannot compile SIMD for
/// (riscv64 without V), with the target's advice on `--cpu`, instead of
/// letting Cranelift fail on the first vector.
fn check_simd_support(name: &str, bytes: &[u8], opts: &Options) -> Result<(), CompileError> {
    let features = opts.target.cpu_features(opts.cpu.as_deref()).map_err(CompileError::Target)?;
    match opts.target.simd_support(&features) {
        Err(why) if uses_simd(bytes) => Err(CompileError::Target(format!("{name}: {why}"))),
        _ => Ok(()),
    }
}

/// Compiles a module already in memory; `name` is used in messages.
pub fn compile_bytes(name: &str, bytes: &[u8], output: &Path, opts: &Options) -> Result<(), CompileError> {
    // Host imports: an embedding library's, or an executable's whose
    // imports the `--link` inputs define.
    let hosted = matches!(opts.emit, Emit::Lib | Emit::Header) || !opts.link_inputs.is_empty();
    let env = match environ::ModuleEnv::parse(name, bytes) {
        // An executable's error names everything that stands in the way.
        Err(CompileError::NotBuildable { features, .. }) if opts.emit == Emit::Exe && !hosted => {
            imports::check_executable(name, bytes, features)?;
            unreachable!("check_executable fails when proposals are unsupported")
        }
        r => r?,
    };
    check_simd_support(name, bytes, opts)?;
    let prefix = embed::prefix_for(opts.prefix.as_deref(), None, name)?;
    if opts.emit == Emit::Header {
        imports::check_wasi_imports(name, bytes)?;
        let host = embed::host_imports(name, &env, &prefix)?;
        return link::write_atomic(output, embed::header(&env, &prefix, name, &host)?.as_bytes());
    }
    let host_imports = if hosted {
        imports::check_wasi_imports(name, bytes)?;
        embed::host_imports(name, &env, &prefix)?
    } else {
        vec![]
    };
    if opts.emit == Emit::Exe {
        if !hosted {
            imports::check_executable(name, bytes, vec![])?;
        } else if imports::is_reactor(bytes) {
            return Err(CompileError::NotBuildable { path: name.to_string(), features: vec![], imports: vec![], reactor: true });
        }
        imports::check_command_entry(name, &env)?;
        check_env(&opts.env)?;
    }
    // Find the linker before the (possibly long) compile, so a missing one
    // is reported at once.
    let linker = if matches!(opts.emit, Emit::Exe | Emit::Lib) { Some(link::find_linker(opts.linker.as_deref())?) } else { None };
    let isa = isa::build_isa(opts.target, opts.cpu.as_deref(), opts.opt_level, opts.emit == Emit::Lib)?;
    let mut interner = codegen::TypeInterner::default();
    // `-g` without DWARF in the module: its text form is the source.
    let text = if opts.debug && !debug::dwarf_sections(bytes).contains_key(".debug_info") {
        Some(debug::wat_source(bytes).map_err(|e| CompileError::Target(format!("{name}: {e}")))?)
    } else {
        None
    };
    // `OUTPUT.kiln.wat`, never `OUTPUT.wat`: with the default output name
    // that would be the user's own source (`kiln compile -g app.wat`).
    let wat_path = output.with_file_name(format!("{}.kiln.wat", output.file_name().unwrap_or_default().to_string_lossy()));
    if std::fs::canonicalize(&wat_path).ok().is_some_and(|w| std::fs::canonicalize(input_path(name)).ok() == Some(w)) {
        return Err(CompileError::Target(format!("{name}: -g would overwrite the input with its text form")));
    }
    let wat_dir = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let wat_dir = std::fs::canonicalize(&wat_dir).unwrap_or(wat_dir).display().to_string();
    let wat_name = wat_path.file_name().unwrap_or_default().to_string_lossy().to_string();
    let mopts = codegen::ModuleOptions {
        keep_clif: opts.emit == Emit::Clif,
        is_command: opts.emit != Emit::Lib,
        host_imports: host_imports.clone(),
        export_trampolines: hosted,
        // A plain command executable (or its object or CLIF) has one
        // instance; a hosted one's C code may make more. Under -g the
        // debug mirror needs native addresses below 4 GiB for itself.
        fixed_memory: !hosted && !opts.debug,
        text_source: text.as_ref().map(|t| (t, wat_name.clone(), wat_dir.clone())),
        ..opts.module_options(&isa, codegen::LinkMode::Wasi)
    };
    let out = codegen::compile_module(name, &env, 0, &mopts, &mut interner)?;
    match opts.emit {
        Emit::Clif => link::write_atomic(output, out.clif.as_bytes()),
        Emit::Obj => link::write_atomic(output, &out.object),
        Emit::Header => unreachable!("written above"),
        Emit::Lib => {
            Progress::tell(&opts.progress, ProgressEvent::Linking);
            let tables = codegen::executable_object(&isa, 1, &[0])?;
            let linker = linker.as_ref().expect("found above");
            let archive = embed::build_archive(linker, opts.target, &[out.object, tables], &prefix)?;
            let header = embed::header(&env, &prefix, name, &host_imports)?;
            let header_path = opts.header.clone().unwrap_or_else(|| output.with_file_name(format!("{prefix}.h")));
            link::write_atomic(output, &archive)?;
            link::write_atomic(&header_path, header.as_bytes())
        }
        Emit::Exe => {
            Progress::tell(&opts.progress, ProgressEvent::Linking);
            let tables = codegen::executable_object(&isa, 1, &opts.config_blob()?)?;
            let api = if hosted { embed::exe_api_aliases(&prefix) } else { vec![] };
            link::link(linker.as_ref().expect("found above"), opts.target, &[out.object, tables], output, opts.debug, &opts.link_inputs, &api)?;
            if let Some(t) = &text {
                link::write_atomic(&wat_path, t.text.as_bytes())?;
            }
            Ok(())
        }
    }
}

/// Builds a *test-driver* executable from several modules: module `i` of the
/// executable is `modules[i]`, imports are resolved by name when a module is
/// instantiated, and instead of running a command the executable answers
/// requests on stdin (see `runtime-lib/c/driver.c`). This is how the spec
/// suite runs real executables on every target.
pub fn build_driver(modules: &[(String, Vec<u8>)], output: &Path, opts: &Options) -> Result<(), CompileError> {
    let linker = link::find_linker(opts.linker.as_deref())?;
    let isa = isa::build_isa(opts.target, opts.cpu.as_deref(), opts.opt_level, false)?;
    let mut interner = codegen::TypeInterner::default();
    let mut objects = Vec::with_capacity(modules.len() + 1);
    for (i, (name, bytes)) in modules.iter().enumerate() {
        let env = environ::ModuleEnv::parse(name, bytes)?;
        check_simd_support(name, bytes, opts)?;
        // The driver instantiates each module at most once (driver.c), so
        // module 0's memory 0 may be the process's one fixed memory: the
        // spec suite and the fuzzer then test that addressing too.
        let mopts = codegen::ModuleOptions { fixed_memory: i == 0, ..opts.module_options(&isa, codegen::LinkMode::Dynamic) };
        objects.push(codegen::compile_module(name, &env, i as u32, &mopts, &mut interner)?.object);
    }
    objects.push(codegen::executable_object(&isa, modules.len() as u32, &driver_config())?);
    link::link(&linker, opts.target, &objects, output, false, &[], &[])
}

/// The configuration blob of a test driver (see `kiln_abi::config`).
fn driver_config() -> Vec<u8> {
    let mut config = kiln_abi::config::DRIVER.as_bytes().to_vec();
    config.extend_from_slice(&[0, 0]);
    config
}
