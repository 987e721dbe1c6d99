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
    let mopts = module_options(&isa, &opts, LinkMode::Wasi, true);
    let module = define(name, &env, 0, &mopts, &mut TypeInterner::default())?;
    Ok(Program { descriptors: vec![module.1], _modules: vec![module.0], config })
}

/// Compiles a test driver (see [`crate::build_driver`]) for
/// [`Program::run`]: module `i` is `modules[i]`.
pub fn compile_driver(modules: &[(String, Vec<u8>)], opts: &Options) -> Result<Program, CompileError> {
    let target = target().ok_or_else(no_target)?;
    let opts = Options { target, debug: false, ..opts.clone() };
    let isa = isa::build_isa(target, opts.cpu.as_deref(), opts.opt_level, false)?;
    let mopts = module_options(&isa, &opts, LinkMode::Dynamic, false);
    let mut interner = TypeInterner::default();
    let mut program = Program { _modules: vec![], descriptors: vec![], config: crate::driver_config() };
    for (i, (name, bytes)) in modules.iter().enumerate() {
        let env = environ::ModuleEnv::parse(name, bytes)?;
        crate::check_simd_support(name, bytes, &opts)?;
        let (m, d) = define(name, &env, i as u32, &mopts, &mut interner)?;
        program._modules.push(m);
        program.descriptors.push(d);
    }
    Ok(program)
}

fn module_options<'o>(isa: &'o cranelift_codegen::isa::OwnedTargetIsa, opts: &Options, link: LinkMode, is_command: bool) -> ModuleOptions<'o> {
    ModuleOptions {
        isa,
        extend_i32: opts.target.extend_i32_args,
        probe_stores: opts.target.partial_store_faults,
        keep_clif: false,
        is_command,
        link,
        host_imports: vec![],
        export_trampolines: link == LinkMode::Dynamic,
        debug: false,
        inline: opts.inlines(),
        fp_dwarf_register: opts.target.dwarf_fp_register,
        bounds_checks: opts.bounds_checks,
        text_source: None,
    }
}

/// Compiles one module into its own JIT module and returns it with the
/// address of its descriptor.
fn define(
    name: &str,
    env: &environ::ModuleEnv,
    index: u32,
    mopts: &ModuleOptions,
    interner: &mut TypeInterner,
) -> Result<(JITModule, *const u8), CompileError> {
    let mut builder = JITBuilder::with_isa(mopts.isa.clone(), default_libcall_names());
    let arena = NearArena::new().map_err(|e| CompileError::Target(format!("{name}: cannot reserve memory for the code: {e}")))?;
    builder.memory_provider(Box::new(arena));
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
        let cstr = |s: &[u8]| CString::new(s.to_vec()).unwrap_or_else(|_| CString::new(s.split(|b| *b == 0).next().unwrap_or_default()).expect("no NUL"));
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

/// Code and data memory for one module, reserved near the runtime.
///
/// One reservation of [`NearArena::BYTES`] split into three regions, one per
/// kind (code, read-only data, writable data), each a bump allocator: code
/// is laid out in the order it is defined. The reservation is placed within
/// ±2 GiB of the runtime inside the kiln binary, the reach of x86-64's and
/// riscv64's PC-relative calls (aarch64's shorter `bl` gets veneers from
/// cranelift-jit), by asking for addresses just below the binary's image;
/// the reservation is PROT_NONE and pages become read-write as they are
/// handed out, then get their final protection in `finalize`.
struct NearArena {
    base: *mut u8,
    /// Per kind: (region start offset, bytes used, bytes made accessible).
    regions: [(usize, usize, usize); 3],
}

// SAFETY: the arena is only a description of memory it owns; cranelift-jit
// asks for `Send`.
unsafe impl Send for NearArena {}

impl NearArena {
    /// Code, read-only data, writable data: region sizes (address space only).
    const SIZES: [usize; 3] = [640 << 20, 256 << 20, 128 << 20];
    const BYTES: usize = Self::SIZES[0] + Self::SIZES[1] + Self::SIZES[2];
    const PAGE: usize = 64 << 10;

    fn new() -> std::io::Result<NearArena> {
        let anchor = kiln_runtime_lib::jit::symbol("kiln_jit_start").map(|p| p as usize).unwrap_or(0);
        // Candidates end 256 MiB below the runtime (room for the rest of the
        // kiln binary's image below it), then further down, then above.
        let gib = 1usize << 30;
        let below = |gap: usize| anchor.checked_sub(gap + Self::BYTES).map(|a| a & !(Self::PAGE - 1));
        let candidates = [below(gib / 4), below(gib / 2), below(3 * gib / 4), Some((anchor + gib / 2) & !(Self::PAGE - 1))];
        for hint in candidates.into_iter().flatten() {
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
            let regions = [(0, 0, 0), (Self::SIZES[0], 0, 0), (Self::SIZES[0] + Self::SIZES[1], 0, 0)];
            return Ok(NearArena { base: p as *mut u8, regions });
        }
        Err(std::io::Error::other("no free address range within 2 GiB of the runtime"))
    }
}

impl JITMemoryProvider for NearArena {
    fn allocate(&mut self, size: usize, align: u64, kind: JITMemoryKind) -> std::io::Result<*mut u8> {
        let k = match kind {
            JITMemoryKind::Executable => 0,
            JITMemoryKind::ReadOnly => 1,
            JITMemoryKind::Writable => 2,
        };
        let (start, used, ready) = &mut self.regions[k];
        let align = (align as usize).max(1);
        let at = used.next_multiple_of(align);
        let end = at + size;
        if end > Self::SIZES[k] {
            return Err(std::io::Error::other("the module's code or data exceeds the JIT's address space"));
        }
        if end > *ready {
            let new_ready = end.next_multiple_of(Self::PAGE).min(Self::SIZES[k]);
            // SAFETY: the range lies inside the reservation.
            let r = unsafe {
                libc::mprotect(self.base.add(*start + *ready) as *mut libc::c_void, new_ready - *ready, libc::PROT_READ | libc::PROT_WRITE)
            };
            if r != 0 {
                return Err(std::io::Error::last_os_error());
            }
            *ready = new_ready;
        }
        *used = end;
        // SAFETY: inside the reservation, as checked above.
        Ok(unsafe { self.base.add(*start + at) })
    }

    unsafe fn free_memory(&mut self) {
        // The program runs until the process exits; nothing is freed.
    }

    fn finalize(&mut self, _: BranchProtection) -> cranelift_module::ModuleResult<()> {
        let fail = |what: &str| cranelift_module::ModuleError::Backend(anyhow::anyhow!("{what}: {}", std::io::Error::last_os_error()));
        let (start, _, ready) = self.regions[0];
        // SAFETY: the ranges were made accessible by `allocate`.
        unsafe {
            let code = self.base.add(start);
            wasmtime_internal_jit_icache_coherence::clear_cache(code as *const libc::c_void, ready).map_err(|_| fail("cannot clear the instruction cache"))?;
            if libc::mprotect(code as *mut libc::c_void, ready, libc::PROT_READ | libc::PROT_EXEC) != 0 {
                return Err(fail("cannot make code executable"));
            }
            let (start, _, ready) = self.regions[1];
            if libc::mprotect(self.base.add(start) as *mut libc::c_void, ready, libc::PROT_READ) != 0 {
                return Err(fail("cannot make data read-only"));
            }
        }
        wasmtime_internal_jit_icache_coherence::pipeline_flush_mt().map_err(|_| fail("cannot flush the pipeline"))?;
        Ok(())
    }
}
