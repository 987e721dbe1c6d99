//! riscv64 Linux. Baseline rv64gc. The psABI keeps 32-bit values
//! sign-extended in 64-bit registers across calls, and clang-built runtime
//! code relies on it, so i32 arguments and results are extended.
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
    ],
    cpu_levels: &[("rva22u64", &["zba", "zbb", "zbs"])],
    extend_i32_args: true,
    dwarf_fp_register: 8,
    page_size: 4096,
    qemu: "qemu-riscv64",
};
