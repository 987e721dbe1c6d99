//! x86-64 Linux. Baseline x86-64-v1: SSE2 only, so Cranelift calls the
//! runtime's libm helpers for float rounding that SSE4.1 would do inline.
use crate::{Feature, Target};

pub const TARGET: Target = Target {
    name: "x86_64",
    triple: "x86_64-unknown-linux-gnu",
    clang_triple: "x86_64-unknown-linux-gnu",
    clang_flags: &["-march=x86-64", "-mno-red-zone"],
    lld_emulation: "elf_x86_64",
    baseline: "x86-64-v1",
    features: &[
        Feature { name: "sse3", isa_flag: "has_sse3" },
        Feature { name: "ssse3", isa_flag: "has_ssse3" },
        Feature { name: "sse4.1", isa_flag: "has_sse41" },
        Feature { name: "sse4.2", isa_flag: "has_sse42" },
        Feature { name: "popcnt", isa_flag: "has_popcnt" },
        Feature { name: "avx", isa_flag: "has_avx" },
        Feature { name: "avx2", isa_flag: "has_avx2" },
        Feature { name: "bmi1", isa_flag: "has_bmi1" },
        Feature { name: "bmi2", isa_flag: "has_bmi2" },
        Feature { name: "lzcnt", isa_flag: "has_lzcnt" },
        Feature { name: "fma", isa_flag: "has_fma" },
    ],
    cpu_levels: &[
        ("x86-64-v2", &["sse3", "ssse3", "sse4.1", "sse4.2", "popcnt"]),
        ("x86-64-v3", &["sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "avx", "avx2", "bmi1", "bmi2", "lzcnt", "fma"]),
    ],
    simd_features: &[],
    extend_i32_args: false,
    cas32_compares_whole_register: false,
    partial_store_faults: false,
    dwarf_fp_register: 6,
    page_size: 4096,
    qemu: "qemu-x86_64",
};
