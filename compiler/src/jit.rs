//! `kiln run`: modules compiled into this process's memory and run by the
//! runtime linked into the kiln binary, with no object file, linker or
//! executable on disk.
//!
//! Only *where the code lives* differs from an executable:
//! - the same translator and Cranelift settings ([`crate::isa::build_isa`],
//!   [`codegen::define_module`]) produce the same machine code, defined in a
//!   [`JITModule`] instead of an object;
//! - the same runtime C code runs it: `kiln_runtime_lib::jit` is the
//!   executable flavour of `runtime-lib/` built for the architecture the
//!   kiln binary is built for, with its symbols renamed so that it cannot
//!   clash with the C library of the kiln process. Its `kiln_jit_start`
//!   takes the descriptors and the build configuration (the same blob an
//!   executable carries) and then does what `_start` does: the same WASI
//!   context from the same grants, the same trap handler and messages, the
//!   same exit statuses. So the two modes cannot drift: there is one
//!   runtime.
//!
//! Why `cranelift-jit`: it applies Cranelift's relocations for every
//! architecture Kiln targets; Kiln supplies the runtime's symbol addresses
//! and the memory ([`NearArena`]). That memory must satisfy two things an
//! executable gets from its linker: code lies in definition order, which is
//! address order as the runtime's trap and function tables need (see
//! [`codegen::define_module`]), and the runtime is within reach of the
//! direct, PC-relative calls generated code makes to it (runtime entry
//! points are `colocated`, as they are in an executable).

use crate::codegen::{self, LinkMode, ModuleOptions, TypeInterner};
use crate::error::CompileError;
use crate::{environ, isa, Options, Target};
use cranelift_jit::{BranchProtection, JITBuilder, JITMemoryKind, JITMemoryProvider, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;

/// The target `kiln run` compiles for: the one whose runtime the kiln
/// binary carries (the architecture it was built for), if Kiln has it.
pub fn target() -> Option<&'static Target> {
    kiln_runtime_lib::jit::TARGET.and_then(|n| Target::lookup(n).ok())
}

/// Modules compiled into memory, ready to run.
pub struct Program {
    /// Kept alive: their memory holds the code and data.
    _modules: Vec<JITModule>,
    descriptors: Vec<*const u8>,
    config: Vec<u8>,
}

fn no_target() -> CompileError {
    CompileError::Target(format!(
        "kiln run needs a runtime for this machine's architecture ({}); Kiln runs only on {}",
        std::env::consts::ARCH,
        kiln_targets::TARGETS.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
    ))
}

/// Compiles a WASI command for [`Program::run`], as `kiln compile` would
/// (the same checks, errors and options; `opts.target` must be
/// [`target()`], and `opts.emit`, `debug` and linking options are ignored).
pub fn compile_command(name: &str, bytes: &[u8], opts: &Options) -> Result<Program, CompileError> {
    let target = target().ok_or_else(no_target)?;
    let env = match environ::ModuleEnv::parse(name, bytes) {
        Err(CompileError::NotBuildable { features, .. }) => {
            crate::imports::check_executable(name, bytes, features)?;
            unreachable!("check_executable fails when proposals are unsupported")
        }
        r => r?,
    };
    crate::check_simd_support(name, bytes, opts)?;
    crate::imports::check_executable(name, bytes, vec![])?;
    crate::imports::check_command_entry(name, &env)?;
    let opts = Options { target, debug: false, ..opts.clone() };
    let config = opts.config_blob()?;
    let isa = isa::build_isa(target, opts.cpu.as_deref(), opts.opt_level, false)?;
    let mopts = opts.module_options(&isa, LinkMode::Wasi);
    let module = define(&new_arena(name)?, name, &env, 0, &mopts, &mut TypeInterner::default())?;
    Ok(Program { descriptors: vec![module.1], _modules: vec![module.0], config })
}

/// Compiles a test driver (see [`crate::build_driver`]) for
/// [`Program::run`]: module `i` is `modules[i]`.
pub fn compile_driver(modules: &[(String, Vec<u8>)], opts: &Options) -> Result<Program, CompileError> {
    let target = target().ok_or_else(no_target)?;
    let opts = Options { target, debug: false, ..opts.clone() };
    let isa = isa::build_isa(target, opts.cpu.as_deref(), opts.opt_level, false)?;
    let mopts = opts.module_options(&isa, LinkMode::Dynamic);
    let mut interner = TypeInterner::default();
    let mut program = Program { _modules: vec![], descriptors: vec![], config: crate::driver_config() };
    let arena = new_arena("the driver")?;
    for (i, (name, bytes)) in modules.iter().enumerate() {
        let env = environ::ModuleEnv::parse(name, bytes)?;
        crate::check_simd_support(name, bytes, &opts)?;
        let (m, d) = define(&arena, name, &env, i as u32, &mopts, &mut interner)?;
        program._modules.push(m);
        program.descriptors.push(d);
    }
    Ok(program)
}

fn new_arena(name: &str) -> Result<SharedArena, CompileError> {
    let arena = NearArena::new().map_err(|e| CompileError::Target(format!("{name}: cannot reserve memory for the code: {e}")))?;
    Ok(SharedArena(std::sync::Arc::new(std::sync::Mutex::new(arena))))
}

/// Compiles one module into its own JIT module and returns it with the
/// address of its descriptor.
fn define(
    arena: &SharedArena,
    name: &str,
    env: &environ::ModuleEnv,
    index: u32,
    mopts: &ModuleOptions,
    interner: &mut TypeInterner,
) -> Result<(JITModule, *const u8), CompileError> {
    let mut builder = JITBuilder::with_isa(mopts.isa.clone(), default_libcall_names());
    builder.memory_provider(Box::new(arena.clone()));
    // The runtime's symbols are looked up first; `check_imports` makes sure
    // nothing falls through to the C library of the kiln process.
    builder.symbols(kiln_runtime_lib::jit::symbols());
    let mut module = JITModule::new(builder);
    let defined = codegen::define_module(&mut module, name, env, index, mopts, interner)?;
    check_imports(name, &module)?;
    let descriptor = defined.descriptor();
    module.finalize_definitions().map_err(|e| CompileError::Target(format!("{name}: {e}")))?;
    let descriptor = module.get_finalized_data(descriptor).0;
    Ok((module, descriptor))
}

/// Every symbol the code imports is the runtime's (a name the runtime does
/// not define would otherwise be looked up in the kiln process's C library
/// by `cranelift-jit`, silently running code an executable never would).
fn check_imports(name: &str, module: &JITModule) -> Result<(), CompileError> {
    let decls = module.declarations();
    let funcs = decls.get_functions().filter(|(_, d)| d.linkage == Linkage::Import).filter_map(|(_, d)| d.name.clone());
    let data = decls.get_data_objects().filter(|(_, d)| d.linkage == Linkage::Import).filter_map(|(_, d)| d.name.clone());
    let missing: Vec<String> = funcs.chain(data).filter(|n| kiln_runtime_lib::jit::symbol(n).is_none()).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CompileError::Target(format!("{name}: the runtime in this kiln binary lacks {}", missing.join(", "))))
    }
}

impl Program {
    /// Runs the program as its executable would run with arguments `args`
    /// (`args[0]` is the program's name) and the environment of this
    /// process, then exits the process with the program's status: a trap
    /// prints its message and exits with 134, exactly as the executable.
    ///
    /// The runtime takes over the process: it installs its signal handlers
    /// and exits with a raw `exit_group`, so nothing buffered in Rust's
    /// stdout survives unless flushed before.
    pub fn run(self, args: &[OsString]) -> ! {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        // The initial stack the kernel gives `_start`: argc, argv, NULL,
        // envp, NULL, then the auxiliary vector (page size, hardware
        // capabilities for the CPU check), read back from the kernel.
        // (Arguments and environment come from the OS: never a NUL inside.)
        let cstr = |s: &[u8]| CString::new(s.to_vec()).expect("no NUL in argv or environ");
        let argv: Vec<CString> = args.iter().map(|a| cstr(a.as_bytes())).collect();
        let envp: Vec<CString> = std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k.as_bytes().to_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                cstr(&kv)
            })
            .collect();
        let mut sp: Vec<usize> = Vec::new();
        sp.push(argv.len());
        sp.extend(argv.iter().map(|a| a.as_ptr() as usize));
        sp.push(0);
        sp.extend(envp.iter().map(|e| e.as_ptr() as usize));
        sp.push(0);
        sp.extend(auxv());
        let start = kiln_runtime_lib::jit::symbol("kiln_jit_start").expect("the JIT runtime has kiln_jit_start");
        // SAFETY: `kiln_jit_start` is `void (uintptr_t *, const struct
        // kiln_module *const *, uint32_t, const char *)`, noreturn; every
        // pointer handed over stays valid because nothing here is dropped
        // before the process exits.
        let start: extern "C" fn(*const usize, *const *const u8, u32, *const u8) -> ! = unsafe { std::mem::transmute(start) };
        start(sp.as_ptr(), self.descriptors.as_ptr(), self.descriptors.len() as u32, self.config.as_ptr())
    }
}

/// The process's auxiliary vector as (type, value) words ending with
/// AT_NULL; just the page size if the kernel does not show it.
fn auxv() -> Vec<usize> {
    let mut words: Vec<usize> = std::fs::read("/proc/self/auxv")
        .map(|b| b.chunks_exact(std::mem::size_of::<usize>()).map(|c| usize::from_ne_bytes(c.try_into().expect("word"))).collect())
        .unwrap_or_default();
    while words.len() >= 2 && words[words.len() - 2] == 0 {
        words.truncate(words.len() - 2);
    }
    if words.len() % 2 != 0 || words.is_empty() {
        words = vec![6 /* AT_PAGESZ */, 4096];
    }
    words.extend([0, 0]);
    words
}

/// Code and data memory for a program's modules, reserved near the runtime.
///
/// One reservation of [`NearArena::BYTES`] split into three regions, one per
/// kind (code, read-only data, writable data), each a bump allocator: code
/// is laid out in the order it is defined. The reservation is placed within
/// ±2 GiB of the runtime inside the kiln binary, the reach of x86-64's and
/// riscv64's PC-relative calls (aarch64's shorter `bl` gets veneers from
/// cranelift-jit), by asking for addresses near the binary's image. It is
/// PROT_NONE; pages become read-write as they are handed out and get their
/// final protection when a module is finalized, after which that module's
/// pages are never handed out again (the next module starts on a fresh
/// page). Every module of a program shares the arena through a
/// [`SharedArena`] handle, so a driver of many modules needs one
/// reservation.
struct NearArena {
    base: *mut u8,
    /// Per kind: region start offset, bytes used, bytes made accessible,
    /// bytes finalized.
    regions: [Region; 3],
}

#[derive(Clone, Copy, Default)]
struct Region {
    start: usize,
    used: usize,
    ready: usize,
    finalized: usize,
}

impl NearArena {
    /// Code, read-only data, writable data: region sizes (address space only).
    const SIZES: [usize; 3] = [512 << 20, 160 << 20, 96 << 20];
    const BYTES: usize = Self::SIZES[0] + Self::SIZES[1] + Self::SIZES[2];
    const PAGE: usize = 64 << 10;

    fn new() -> std::io::Result<NearArena> {
        let anchor = kiln_runtime_lib::jit::symbol("kiln_jit_start").map(|p| p as usize).unwrap_or(0);
        // Candidates below the runtime, leaving 256 MiB for the rest of the
        // kiln binary's image below it, down to where the arena's far end
        // would be 1.75 GiB away; then the same distances above (past the
        // image and its heap). Every candidate keeps the whole arena and the
        // runtime within 2 GiB of each other.
        let mib = 1usize << 20;
        let gaps = (256..=1024 + 768 - Self::BYTES / mib).step_by(64).map(|g| g * mib);
        let below = gaps.clone().filter_map(|g| anchor.checked_sub(g + Self::BYTES));
        let above = gaps.map(|g| anchor + g);
        for hint in below.chain(above).map(|a| a & !(Self::PAGE - 1)) {
            // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping.
            let p = unsafe {
                libc::mmap(
                    hint as *mut libc::c_void,
                    Self::BYTES,
                    libc::PROT_NONE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED_NOREPLACE,
                    -1,
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                continue;
            }
            // Kernels before 4.17 treat the flag as a hint only.
            if p as usize != hint {
                unsafe { libc::munmap(p, Self::BYTES) };
                continue;
            }
            let mut regions = [Region::default(); 3];
            regions[1].start = Self::SIZES[0];
            regions[2].start = Self::SIZES[0] + Self::SIZES[1];
            return Ok(NearArena { base: p as *mut u8, regions });
        }
        Err(std::io::Error::other("no free address range within 2 GiB of the runtime"))
    }

    fn allocate(&mut self, size: usize, align: u64, kind: JITMemoryKind) -> std::io::Result<*mut u8> {
        let k = match kind {
            JITMemoryKind::Executable => 0,
            JITMemoryKind::ReadOnly => 1,
            JITMemoryKind::Writable => 2,
        };
        let r = &mut self.regions[k];
        let at = r.used.next_multiple_of((align as usize).max(1));
        let end = at + size;
        if end > Self::SIZES[k] {
            return Err(std::io::Error::other("the program's code or data exceeds the JIT's address space"));
        }
        if end > r.ready {
            let ready = end.next_multiple_of(Self::PAGE).min(Self::SIZES[k]);
            // SAFETY: the range lies inside the reservation and was never
            // finalized (`used` starts past every finalized page).
            let ok = unsafe {
                libc::mprotect(self.base.add(r.start + r.ready) as *mut libc::c_void, ready - r.ready, libc::PROT_READ | libc::PROT_WRITE)
            };
            if ok != 0 {
                return Err(std::io::Error::last_os_error());
            }
            r.ready = ready;
        }
        r.used = end;
        // SAFETY: inside the reservation, as checked above.
        Ok(unsafe { self.base.add(r.start + at) })
    }

    /// Gives the pages handed out since the last call their final
    /// protection: code read+execute (after making the instruction cache
    /// see it), read-only data read-only.
    fn finalize(&mut self) -> cranelift_module::ModuleResult<()> {
        let fail = |what: &str| cranelift_module::ModuleError::Backend(anyhow::anyhow!("{what}: {}", std::io::Error::last_os_error()));
        for (k, prot) in [(0, libc::PROT_READ | libc::PROT_EXEC), (1, libc::PROT_READ)] {
            let r = &mut self.regions[k];
            let (from, len) = (r.start + r.finalized, r.ready - r.finalized);
            if len == 0 {
                continue;
            }
            // SAFETY: pages `allocate` made accessible and nothing finalized yet.
            unsafe {
                let p = self.base.add(from) as *mut libc::c_void;
                if k == 0 {
                    wasmtime_internal_jit_icache_coherence::clear_cache(p, len).map_err(|_| fail("cannot clear the instruction cache"))?;
                }
                if libc::mprotect(p, len, prot) != 0 {
                    return Err(fail("cannot protect JIT memory"));
                }
            }
            r.finalized = r.ready;
            r.used = r.ready;
        }
        wasmtime_internal_jit_icache_coherence::pipeline_flush_mt().map_err(|_| fail("cannot flush the pipeline"))?;
        Ok(())
    }
}

/// A program that ran never returns (the process exits), so the arena is
/// dropped only when compiled code will not run: a compilation that
/// failed, or one only checked (the spec suite's JIT pass).
impl Drop for NearArena {
    fn drop(&mut self) {
        // SAFETY: the reservation made in `new`; see above.
        unsafe { libc::munmap(self.base as *mut libc::c_void, Self::BYTES) };
    }
}

/// One module's handle on its program's arena.
#[derive(Clone)]
struct SharedArena(std::sync::Arc<std::sync::Mutex<NearArena>>);

// SAFETY: the arena only describes memory it owns, behind a mutex;
// cranelift-jit asks for `Send`.
unsafe impl Send for SharedArena {}

impl JITMemoryProvider for SharedArena {
    fn allocate(&mut self, size: usize, align: u64, kind: JITMemoryKind) -> std::io::Result<*mut u8> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).allocate(size, align, kind)
    }

    unsafe fn free_memory(&mut self) {
        // The arena goes when the last module holding it does.
    }

    fn finalize(&mut self, _: BranchProtection) -> cranelift_module::ModuleResult<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).finalize()
    }
}
