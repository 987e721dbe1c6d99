//! riscv64 Linux. Baseline rv64gc. The psABI keeps 32-bit values
//! sign-extended in 64-bit registers across calls, and clang-built runtime
//! code relies on it, so i32 arguments and results are extended.
//!
//! SIMD needs the V extension: Cranelift lowers 128-bit vectors with it and
//! has no fallback, so a module that uses `v128` needs `v` in `--cpu`
//! (`rva23u64` includes it). V guarantees VLEN >= 128 (Zvl128b), which is
//! all Cranelift's `has_v` assumes, so the same code runs on any VLEN.
//! `rva23u64` lists only the RVA23U64 extensions Kiln can use.
use crate::{Feature, Target};

pub const TARGET: Target = Target {
    name: "riscv64",
    triple: "riscv64gc-unknown-linux-gnu",
    clang_triple: "riscv64-unknown-linux-gnu",
    clang_flags: &["-march=rv64gc", "-mabi=lp64d", "-mno-relax"],
    lld_emulation: "elf64lriscv",
    baseline: "rv64gc",
    features: &[
        Feature { name: "zba", isa_flag: "has_zba" },
        Feature { name: "zbb", isa_flag: "has_zbb" },
        Feature { name: "zbs", isa_flag: "has_zbs" },
        Feature { name: "v", isa_flag: "has_v" },
    ],
    cpu_levels: &[("rva22u64", &["zba", "zbb", "zbs"]), ("rva23u64", &["zba", "zbb", "zbs", "v"])],
    simd_features: &["v"],
    extend_i32_args: true,
    cas32_compares_whole_register: false,
    partial_store_faults: true,
    dwarf_fp_register: 8,
    page_size: 4096,
    qemu: "qemu-riscv64",
};
