//! Building the Cranelift ISA for a Kiln target. The only inputs are the
//! target description from kiln-targets and the user's flags: nothing here
//! looks at the machine Kiln runs on, so output is the same on every host.

use crate::error::CompileError;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use kiln_targets::Target;

/// Cranelift optimisation level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptLevel {
    /// `-O0`: fastest compile.
    None,
    /// `-O1`: optimise for speed.
    Speed,
    /// `-O2` (default): speed, plus size-reducing transforms.
    SpeedAndSize,
}

impl OptLevel {
    /// N of the `-ON` flag that selects this level.
    pub fn number(self) -> u8 {
        match self {
            OptLevel::None => 0,
            OptLevel::Speed => 1,
            OptLevel::SpeedAndSize => 2,
        }
    }
}

/// `pic`: position-independent code, for libraries a host links into a
/// position-independent executable or shared library (`--emit lib`).
pub fn build_isa(target: &Target, cpu: Option<&str>, opt: OptLevel, pic: bool) -> Result<OwnedTargetIsa, CompileError> {
    let mut flags = settings::builder();
    let set = |f: &mut settings::Builder, k: &str, v: &str| {
        f.set(k, v).map_err(|e| CompileError::Target(format!("cranelift setting {k}={v}: {e}")))
    };
    set(&mut flags, "opt_level", match opt {
        OptLevel::None => "none",
        OptLevel::Speed => "speed",
        OptLevel::SpeedAndSize => "speed_and_size",
    })?;
    // Static, non-PIE executables: absolute relocations are fine there.
    set(&mut flags, "is_pic", if pic { "true" } else { "false" })?;
    // Wasm functions may return any number of values.
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    // Frame pointers make backtraces (gdb, perf, traps) reliable.
    set(&mut flags, "preserve_frame_pointers", "true")?;
    set(&mut flags, "unwind_info", "true")?;
    set(&mut flags, "enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" })?;
    let mut isa = cranelift_codegen::isa::lookup(target.lexicon_triple())
        .map_err(|e| CompileError::Target(format!("{}: {e}", target.triple)))?;
    for f in target.cpu_features(cpu).map_err(CompileError::Target)? {
        isa.enable(f.isa_flag).map_err(|e| CompileError::Target(format!("cpu feature {}: {e}", f.name)))?;
    }
    isa.finish(settings::Flags::new(flags)).map_err(|e| CompileError::Target(e.to_string()))
}
