//! Cross-target behaviour: ELF machine per target, bit-identical output for
//! identical inputs, the start-up check of `--cpu` features (run under
//! qemu-user with a CPU model that lacks them), and SIMD at each target's
//! baseline (riscv64: only with V).

use kiln_testsuite::*;
use std::path::PathBuf;

const PROGRAM: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "ran\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 4))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

/// The same output from SIMD code: "ran\n" is assembled in a v128 (the
/// swizzle is a libcall on x86-64 without SSSE3).
const SIMD_PROGRAM: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (v128.store (i32.const 16)
      (i8x16.swizzle
        (i8x16.add (v128.const i8x16 0x09 0x6d 0x60 0x71 0 0 0 0 0 0 0 0 0 0 0 0) (i8x16.splat (i32.const 1)))
        (v128.const i8x16 3 2 1 0 16 16 16 16 16 16 16 16 16 16 16 0x80)))
    (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 4))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

fn compile(target: &str, cpu: Option<&str>, name: &str) -> PathBuf {
    compile_program(PROGRAM, target, cpu, name)
}

fn compile_program(program: &str, target: &str, cpu: Option<&str>, name: &str) -> PathBuf {
    let t = Target::lookup(target).unwrap();
    let mut o = kiln::Options::new(t);
    o.cpu = cpu.map(str::to_string);
    let out = scratch("targets").join(name);
    kiln::compile_bytes("program.wat", &wat::parse_str(program).unwrap(), &out, &o).unwrap();
    out
}

fn qemu_available(q: &str) -> bool {
    tool(q).arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
}

#[test]
fn elf_machine_matches_target() {
    for (alias, machine) in [("x86_64", 62u16), ("aarch64-unknown-linux", 183), ("riscv64gc-unknown-linux-gnu", 243)] {
        let exe = std::fs::read(compile(alias, None, &format!("machine-{alias}"))).unwrap();
        assert_eq!(u16::from_le_bytes([exe[18], exe[19]]), machine, "{alias}");
        assert_eq!(exe[16], 2, "{alias}: ET_EXEC");
    }
}

#[test]
fn output_is_bit_identical() {
    for t in TARGETS {
        let a = std::fs::read(compile(t.name, None, &format!("det-a-{}", t.name))).unwrap();
        let b = std::fs::read(compile(t.name, None, &format!("det-b-{}", t.name))).unwrap();
        assert!(a == b, "{}: two compilations differ", t.name);
    }
}

/// A binary built for features the CPU lacks refuses to start, naming them.
#[test]
fn missing_cpu_features_are_named() {
    let cases = [
        ("x86_64", "x86-64-v3", "qemu-x86_64", "qemu64", "avx"),
        ("aarch64", "armv8.1-a", "qemu-aarch64", "cortex-a53", "lse"),
        ("riscv64", "rva22u64", "qemu-riscv64", "rv64,zba=false,zbb=false,zbs=false", "zba, zbb, zbs"),
    ];
    for (target, level, qemu, weak_cpu, missing) in cases {
        if !qemu_available(qemu) {
            eprintln!("skipping {target}: {qemu} not installed");
            continue;
        }
        let exe = compile(target, Some(level), &format!("cpu-{target}"));
        let out = tool(qemu).args(["-cpu", weak_cpu]).arg(&exe).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{target}: {err}");
        assert!(err.contains("this CPU lacks features the program was compiled for") && err.contains(missing), "{target}: {err}");
        assert!(out.stdout.is_empty());
    }
}

/// The same binaries run where the CPU has the features.
#[test]
fn present_cpu_features_run() {
    let cases = [
        ("aarch64", "armv8.1-a", "qemu-aarch64", "max"),
        ("riscv64", "rva22u64", "qemu-riscv64", "rv64,zba=true,zbb=true,zbs=true"),
        ("x86_64", "x86-64-v2", "qemu-x86_64", "max"),
    ];
    for (target, level, qemu, cpu) in cases {
        if !qemu_available(qemu) {
            continue;
        }
        let exe = compile(target, Some(level), &format!("cpu-ok-{target}"));
        let out = tool(qemu).args(["-cpu", cpu]).arg(&exe).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\n", "{target}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// riscv64 SIMD code needs V: built with it, the executable refuses a CPU
/// without V by name, and runs where V is present at any VLEN.
#[test]
fn riscv64_simd_checks_for_v() {
    if !qemu_available("qemu-riscv64") {
        eprintln!("skipping: qemu-riscv64 not installed");
        return;
    }
    for (cpu, name) in [("v", "simd-rv-v"), ("rva23u64", "simd-rv-rva23u64")] {
        let exe = compile_program(SIMD_PROGRAM, "riscv64", Some(cpu), name);
        let out = tool("qemu-riscv64").args(["-cpu", "rv64,v=false"]).arg(&exe).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cpu}: {err}");
        assert!(err.contains("this CPU lacks features the program was compiled for: v"), "{cpu}: {err}");
        for vlen in [128, 256, 512] {
            let qcpu = qemu_cpu(Target::lookup("riscv64").unwrap(), Some(cpu), Some(vlen)).unwrap().unwrap();
            let out = tool("qemu-riscv64").args(["-cpu", &qcpu]).arg(&exe).output().unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\n", "{cpu} vlen {vlen}: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

/// SIMD runs at the x86-64 and aarch64 baselines (SSE2, NEON).
#[test]
fn simd_runs_at_the_baselines() {
    for (target, qemu, cpu) in [("x86_64", "qemu-x86_64", "qemu64"), ("aarch64", "qemu-aarch64", "cortex-a53")] {
        if !qemu_available(qemu) {
            continue;
        }
        let exe = compile_program(SIMD_PROGRAM, target, None, &format!("simd-{target}"));
        let out = tool(qemu).args(["-cpu", cpu]).arg(&exe).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\n", "{target}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
