//! `kiln inspect`: reading back the build settings baked into an executable
//! (target, CPU features, bounds-check mode, directory and environment grants) from its
//! `kiln_config` symbol.

use crate::error::CompileError;
use object::{Object, ObjectSection, ObjectSymbol};
use std::path::Path;

/// What an executable was built with.
#[derive(Debug, Default)]
pub struct Inspection {
    pub target: String,
    pub cpu_features: Vec<String>,
    /// (mode, host, guest)
    pub dirs: Vec<(String, String, String)>,
    pub runtime_dirs: bool,
    pub inherit_env: bool,
    pub env: Vec<String>,
    pub driver: bool,
    /// Built with `-g` (linear memory mirrored for debuggers).
    pub debug_mirror: bool,
    /// Built with `--bounds-checks=explicit`.
    pub explicit_bounds_checks: bool,
    /// `--thread-stack`: spawned threads' wasm stack size in bytes.
    pub thread_stack: Option<u64>,
    /// Kiln version, `-O` level and inlining (`kiln 0.1.0, -O2, inlining`);
    /// `None` for executables of a Kiln that did not record it.
    pub built: Option<String>,
}

pub fn inspect(path: &Path) -> Result<Inspection, CompileError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| CompileError::Read { path: shown.clone(), source: e })?;
    let not_kiln = |why: &str| CompileError::Target(format!("{shown}: not a Kiln executable ({why})"));
    if bytes.starts_with(b"\0asm") {
        return Err(not_kiln("it is a wasm module: `kiln compile` it, then inspect the executable"));
    }
    let elf = object::File::parse(&*bytes).map_err(|e| not_kiln(&e.to_string()))?;
    let sym = elf
        .symbols()
        .find(|s| s.name() == Ok(kiln_abi::symbols::CONFIG))
        .ok_or_else(|| not_kiln("no kiln_config symbol"))?;
    let section = elf
        .section_by_index(sym.section_index().ok_or_else(|| not_kiln("kiln_config has no section"))?)
        .map_err(|e| not_kiln(&e.to_string()))?;
    let data = section.data().map_err(|e| not_kiln(&e.to_string()))?;
    let start = (sym.address() - section.address()) as usize;
    let blob = data.get(start..).ok_or_else(|| not_kiln("kiln_config out of range"))?;

    let mut out = Inspection {
        target: match elf.architecture() {
            object::Architecture::X86_64 => "x86_64",
            object::Architecture::Aarch64 => "aarch64",
            object::Architecture::Riscv64 => "riscv64",
            _ => "unknown",
        }
        .to_string(),
        ..Default::default()
    };
    use kiln_abi::config;
    for entry in blob.split(|b| *b == 0).take_while(|e| !e.is_empty()) {
        let e = String::from_utf8_lossy(entry).into_owned();
        if let Some(list) = e.strip_prefix(config::CPU_PREFIX) {
            out.cpu_features = list.split(',').map(str::to_string).collect();
        } else if let Some(d) = e.strip_prefix(config::DIR_PREFIX) {
            let (mode, rest) = d.split_once(':').unwrap_or(("rw", d));
            let (host, guest) = rest.split_once("::").unwrap_or((rest, rest));
            out.dirs.push((mode.to_string(), host.to_string(), guest.to_string()));
        } else if e == config::RUNTIME_DIRS {
            out.runtime_dirs = true;
        } else if e == config::INHERIT_ENV {
            out.inherit_env = true;
        } else if e == config::DRIVER {
            out.driver = true;
        } else if e == config::DEBUG_MIRROR {
            out.debug_mirror = true;
        } else if e == config::BOUNDS_CHECKS_EXPLICIT {
            out.explicit_bounds_checks = true;
        } else if let Some(n) = e.strip_prefix(config::THREAD_STACK_PREFIX) {
            out.thread_stack = n.parse().ok();
        } else if let Some(b) = e.strip_prefix(config::BUILT_PREFIX) {
            out.built = Some(b.to_string());
        } else {
            out.env.push(e);
        }
    }
    Ok(out)
}

impl std::fmt::Display for Inspection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "target:        {}", self.target)?;
        if let Some(b) = &self.built {
            writeln!(f, "built by:      {b}")?;
        }
        let cpu = if self.cpu_features.is_empty() { "baseline".to_string() } else { self.cpu_features.join(", ") };
        writeln!(f, "cpu features:  {cpu}")?;
        writeln!(
            f,
            "bounds checks: {}",
            if self.explicit_bounds_checks {
                "explicit (a compare before every memory access; no 8 GiB reservations)"
            } else {
                "guard (8 GiB reservation per 32-bit memory; 64-bit memories checked explicitly)"
            }
        )?;
        if self.dirs.is_empty() {
            writeln!(f, "directories:   none")?;
        }
        for (mode, host, guest) in &self.dirs {
            let m = if mode == "ro" { "read-only" } else { "read-write" };
            writeln!(f, "directory:     {host} (host, resolved at start-up) as {guest} ({m})")?;
        }
        writeln!(
            f,
            "run-time dirs: {}",
            if self.runtime_dirs { "allowed, via KILN_DIRS=HOST::GUEST[::ro];..." } else { "not allowed" }
        )?;
        writeln!(f, "environment:   {}", if self.inherit_env { "inherited from the caller" } else { "granted only" })?;
        for kv in &self.env {
            writeln!(f, "  {kv}")?;
        }
        if let Some(n) = self.thread_stack {
            writeln!(f, "thread stack:  {} KiB per spawned thread (wasm stack)", n / 1024)?;
        }
        if self.debug_mirror {
            writeln!(f, "debugging:     -g (linear memory also mapped read-only at its wasm addresses)")?;
        }
        if self.driver {
            writeln!(f, "mode:          spec-test driver")?;
        }
        Ok(())
    }
}
