//! The native targets Kiln compiles for.
//!
//! Every difference between x86-64, aarch64 and riscv64 that the compiler or
//! the runtime build needs is a field of [`Target`], filled in once per
//! architecture in `x86_64.rs`, `aarch64.rs` and `riscv64.rs` (the same shape
//! in each). The compiler never inspects the host: it asks a `Target`.
//!
//! Assumption: all targets are 64-bit little-endian Linux with 4 KiB pages.

use target_lexicon::Triple;

mod aarch64;
mod riscv64;
mod x86_64;

/// A target Kiln can produce executables for.
#[derive(Debug)]
pub struct Target {
    /// Short name, also accepted as an alias on the command line.
    pub name: &'static str,
    /// The canonical triple Kiln reports and Cranelift is configured with.
    pub triple: &'static str,
    /// The triple clang builds the runtime with.
    pub clang_triple: &'static str,
    /// Extra clang flags for the runtime (CPU baseline, code model).
    pub clang_flags: &'static [&'static str],
    /// lld's emulation name (`-m`).
    pub lld_emulation: &'static str,
    /// The CPU baseline used when no `--cpu` is given, as users read it.
    pub baseline: &'static str,
    /// Cranelift ISA flags that give the baseline.
    pub baseline_isa_flags: &'static [(&'static str, &'static str)],
    /// Named higher CPU levels accepted by `--cpu`, with their ISA flags.
    pub cpu_levels: &'static [(&'static str, &'static [(&'static str, &'static str)])],
    /// Whether the platform ABI needs 32-bit integer arguments and results
    /// sign-extended to 64 bits in registers (riscv64 does; C code compiled
    /// for it relies on that).
    pub extend_i32_args: bool,
    /// The page size the runtime assumes for guard pages.
    pub page_size: u64,
    /// qemu-user binary that runs this target's executables on another host.
    pub qemu: &'static str,
}

/// All supported targets; the first is the default.
pub const TARGETS: &[&Target] = &[&x86_64::TARGET, &aarch64::TARGET, &riscv64::TARGET];

impl Target {
    /// Finds a target by short alias (`x86_64`, `aarch64`, `riscv64`, also
    /// `x86-64`, `arm64`) or by any target-lexicon triple whose architecture
    /// and operating system match one Kiln supports.
    pub fn lookup(name: &str) -> Result<&'static Target, String> {
        let alias = match name {
            "x86-64" | "amd64" => "x86_64",
            "arm64" => "aarch64",
            other => other,
        };
        if let Some(t) = TARGETS.iter().find(|t| t.name == alias) {
            return Ok(t);
        }
        let triple: Triple = name
            .parse()
            .map_err(|e| format!("`{name}` is not a target triple or alias: {e}"))?;
        let arch = triple.architecture.to_string();
        let arch = if arch.starts_with("riscv64") { "riscv64".to_string() } else { arch };
        let found = TARGETS.iter().find(|t| t.name == arch);
        match (found, triple.operating_system) {
            (Some(t), target_lexicon::OperatingSystem::Linux | target_lexicon::OperatingSystem::Unknown) => Ok(t),
            _ => Err(format!(
                "unsupported target `{name}`; Kiln produces Linux executables for: {}",
                TARGETS.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    pub fn default_target() -> &'static Target {
        TARGETS[0]
    }

    /// The parsed triple handed to Cranelift.
    pub fn lexicon_triple(&self) -> Triple {
        self.triple.parse().expect("Kiln's own target triples parse")
    }

    /// ISA flags for a `--cpu` level: `None` for the baseline.
    pub fn cpu_flags(&self, cpu: Option<&str>) -> Result<Vec<(&'static str, &'static str)>, String> {
        let mut flags = self.baseline_isa_flags.to_vec();
        match cpu {
            None | Some("baseline") => Ok(flags),
            Some(level) => match self.cpu_levels.iter().find(|(n, _)| *n == level) {
                Some((_, extra)) => {
                    flags.extend_from_slice(extra);
                    Ok(flags)
                }
                None => Err(format!(
                    "unknown --cpu `{level}` for {}; known levels: baseline{}",
                    self.name,
                    self.cpu_levels.iter().map(|(n, _)| format!(", {n}")).collect::<String>()
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_aliases_and_triples() {
        assert_eq!(Target::lookup("x86_64").unwrap().name, "x86_64");
        assert_eq!(Target::lookup("aarch64-unknown-linux").unwrap().name, "aarch64");
        assert_eq!(Target::lookup("aarch64-unknown-linux-gnu").unwrap().name, "aarch64");
        assert_eq!(Target::lookup("riscv64gc-unknown-linux-gnu").unwrap().name, "riscv64");
        assert!(Target::lookup("x86_64-pc-windows-msvc").is_err());
        assert!(Target::lookup("mips").is_err());
    }

    #[test]
    fn triples_parse() {
        for t in TARGETS {
            let _ = t.lexicon_triple();
        }
    }
}
