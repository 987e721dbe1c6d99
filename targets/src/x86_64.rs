//! x86-64 Linux. Baseline x86-64-v1: SSE2 only, so Cranelift calls the
//! runtime's libm helpers for float rounding that SSE4.1 would do inline.
use crate::Target;

pub const TARGET: Target = Target {
    name: "x86_64",
    triple: "x86_64-unknown-linux-gnu",
    clang_triple: "x86_64-unknown-linux-gnu",
    clang_flags: &["-march=x86-64", "-mno-red-zone"],
    lld_emulation: "elf_x86_64",
    baseline: "x86-64-v1",
    baseline_isa_flags: &[],
    cpu_levels: &[
        ("x86-64-v2", &[("has_sse3", "true"), ("has_ssse3", "true"), ("has_sse41", "true"), ("has_sse42", "true"), ("has_popcnt", "true")]),
        ("x86-64-v3", &[("has_sse3", "true"), ("has_ssse3", "true"), ("has_sse41", "true"), ("has_sse42", "true"), ("has_popcnt", "true"), ("has_avx", "true"), ("has_avx2", "true"), ("has_bmi1", "true"), ("has_bmi2", "true"), ("has_lzcnt", "true"), ("has_fma", "true")]),
    ],
    extend_i32_args: false,
    page_size: 4096,
    qemu: "qemu-x86_64",
};
