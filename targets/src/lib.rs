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
    /// Optional CPU features above the baseline that Kiln can use.
    pub features: &'static [Feature],
    /// Named CPU levels accepted by `--cpu`, as lists of feature names.
    pub cpu_levels: &'static [(&'static str, &'static [&'static str])],
    /// Features (names in `features`) without which Cranelift cannot
    /// compile SIMD (`v128`) for this target; empty where the baseline
    /// has 128-bit vectors (SSE2, NEON).
    pub simd_features: &'static [&'static str],
    /// Whether the platform ABI needs 32-bit integer arguments and results
    /// sign-extended to 64 bits in registers (riscv64 does; C code compiled
    /// for it relies on that).
    pub extend_i32_args: bool,
    /// Whether a store that faults partway (it straddles the end of
    /// accessible memory) may already have written its first bytes. The
    /// Arm and RISC-V architectures allow that for misaligned stores that
    /// cross into an unmapped page (and qemu does it); x86-64 checks the
    /// whole access first. Wasm requires an out-of-bounds store to write
    /// nothing, so on such targets the compiler probes the last byte of a
    /// guarded store before making it (`translate/heap.rs`).
    pub partial_store_faults: bool,
    /// Whether Cranelift's 32-bit `atomic_cas` compares the loaded word
    /// with the whole 64-bit register of its expected operand, whose upper
    /// half an `I32` value leaves unspecified (aarch64's load-linked /
    /// store-conditional loop in Cranelift 0.135 does). There the
    /// translator hands it only a value an atomic load produced
    /// (`translate/atomics.rs`, `cmpxchg32`).
    pub cas32_compares_whole_register: bool,
    /// DWARF register number of the frame pointer (rbp, x29, s0).
    pub dwarf_fp_register: u16,
    /// The page size the runtime assumes for guard pages.
    pub page_size: u64,
    /// qemu-user binary that runs this target's executables on another host.
    pub qemu: &'static str,
}

/// A CPU feature above a target's baseline: its name, as `--cpu` lists and
/// the runtime's start-up check know it, and the Cranelift ISA flag that
/// lets generated code use it.
#[derive(Debug)]
pub struct Feature {
    pub name: &'static str,
    pub isa_flag: &'static str,
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

    /// The features of a `--cpu` level (`None` or `baseline`: none), or
    /// of a comma-separated list of feature names.
    pub fn cpu_features(&self, cpu: Option<&str>) -> Result<Vec<&'static Feature>, String> {
        let names: Vec<&str> = match cpu {
            None | Some("baseline") => return Ok(vec![]),
            Some(level) => match self.cpu_levels.iter().find(|(n, _)| *n == level) {
                Some((_, list)) => list.to_vec(),
                None => level.split(',').map(str::trim).collect(),
            },
        };
        names
            .iter()
            .map(|n| {
                self.features.iter().find(|f| f.name == *n).ok_or_else(|| {
                    format!(
                        "unknown --cpu `{n}` for {}; levels: baseline, {}, native; features: {}",
                        self.name,
                        self.cpu_levels.iter().map(|(l, _)| *l).collect::<Vec<_>>().join(", "),
                        self.features.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
                    )
                })
            })
            .collect()
    }
}

impl Target {
    /// Whether code for CPU `features` (as `cpu_features` returns them) may
    /// use SIMD. If not, the error says which `--cpu` values allow it.
    pub fn simd_support(&self, features: &[&Feature]) -> Result<(), String> {
        let missing: Vec<&str> =
            self.simd_features.iter().copied().filter(|n| !features.iter().any(|f| f.name == *n)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let levels: Vec<String> = self
            .cpu_levels
            .iter()
            .filter(|(_, list)| self.simd_features.iter().all(|n| list.contains(n)))
            .map(|(l, _)| format!("`--cpu {l}`"))
            .collect();
        let mut ways = levels.join(", ");
        if !ways.is_empty() {
            ways.push_str(", or ");
        }
        ways.push_str(&format!("a feature list with {} (such as `--cpu {}`)", missing.join(", "), self.simd_features.join(",")));
        Err(format!(
            "the module uses SIMD (v128), which Kiln compiles for {} only with CPU feature{} {}; use {ways}",
            self.name,
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
        ))
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
    fn simd_needs_v_on_riscv64_only() {
        for t in TARGETS {
            assert_eq!(t.simd_support(&t.cpu_features(None).unwrap()).is_ok(), t.name != "riscv64", "{}", t.name);
        }
        let rv = Target::lookup("riscv64").unwrap();
        let err = rv.simd_support(&rv.cpu_features(Some("rva22u64")).unwrap()).unwrap_err();
        assert!(err.contains("`--cpu rva23u64`") && err.contains("`--cpu v`"), "{err}");
        assert!(rv.simd_support(&rv.cpu_features(Some("rva23u64")).unwrap()).is_ok());
        assert!(rv.simd_support(&rv.cpu_features(Some("zba,v")).unwrap()).is_ok());
    }

    #[test]
    fn triples_parse() {
        for t in TARGETS {
            let _ = t.lexicon_triple();
        }
    }
}
