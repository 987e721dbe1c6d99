//! aarch64 Linux. Baseline armv8.0-a.
use crate::{Feature, Target};

pub const TARGET: Target = Target {
    name: "aarch64",
    triple: "aarch64-unknown-linux-gnu",
    clang_triple: "aarch64-unknown-linux-gnu",
    // Atomics inline, never calls to libgcc's outline helpers (which clang
    // picks by default when it finds a cross GCC installed): the runtime
    // links no libgcc.
    clang_flags: &["-march=armv8-a", "-mno-outline-atomics"],
    lld_emulation: "aarch64linux",
    baseline: "armv8.0-a",
    features: &[Feature { name: "lse", isa_flag: "has_lse" }],
    cpu_levels: &[("armv8.1-a", &["lse"])],
    simd_features: &[],
    extend_i32_args: false,
    cas32_compares_whole_register: true,
    partial_store_faults: true,
    dwarf_fp_register: 29,
    page_size: 4096,
    qemu: "qemu-aarch64",
};
