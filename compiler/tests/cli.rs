//! The `kiln` command line, including its failure paths: bad input gets a
//! clear error naming the file, the function and the wasm offset, exits 1,
//! and never leaves a half-written output behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kiln(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln")).args(args).current_dir(dir).output().expect("run kiln")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

const GOOD: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func (export "_start") (call $exit (i32.const 5))))"#;

#[test]
fn compiles_wat_and_runs_it() {
    let d = tmp();
    write(d.path(), "exit5.wat", GOOD.as_bytes());
    for opt in ["-O0", "-O1", "-O2"] {
        let o = kiln(&["compile", "exit5.wat", "-o", "exit5", opt], d.path());
        assert!(o.status.success(), "{}", stderr(&o));
        let run = Command::new(d.path().join("exit5")).output().unwrap();
        assert_eq!(run.status.code(), Some(5));
    }
}

/// Inlining is on by default and off with --no-inline or -O0: the CLIF
/// Cranelift gets has the small callee's body, or the call; the programs
/// behave the same.
#[test]
fn no_inline_keeps_calls() {
    let d = tmp();
    let wat = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func $seven (result i32) (i32.const 7))
  (func (export "_start") (call $exit (call $seven))))"#;
    write(d.path(), "seven.wat", wat.as_bytes());
    let calls = |flags: &[&str]| {
        let mut args = vec!["compile", "seven.wat", "--emit", "clif", "-o", "seven.clif"];
        args.extend(flags);
        let o = kiln(&args, d.path());
        assert!(o.status.success(), "{}", stderr(&o));
        let clif = std::fs::read_to_string(d.path().join("seven.clif")).unwrap();
        // _start is the function that calls the import (through its
        // funcref, `call_indirect`); its direct calls go to $seven.
        let start = clif.split("\nfunction ").find(|f| f.contains("call_indirect")).expect("_start").to_string();
        start.matches("= call fn").count()
    };
    assert_eq!(calls(&[]), 0, "$seven is inlined by default");
    assert_eq!(calls(&["--no-inline"]), 1);
    assert_eq!(calls(&["-O0"]), 1);
    for flags in [&[][..], &["--no-inline"][..]] {
        let mut args = vec!["compile", "seven.wat", "-o", "seven"];
        args.extend(flags);
        assert!(kiln(&args, d.path()).status.success());
        let run = Command::new(d.path().join("seven")).output().unwrap();
        assert_eq!(run.status.code(), Some(7));
    }
}

#[test]
fn default_output_name_drops_the_extension() {
    let d = tmp();
    write(d.path(), "app.wat", GOOD.as_bytes());
    let o = kiln(&["compile", "app.wat"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.path().join("app").is_file());
}

#[test]
fn emits_object_and_clif() {
    let d = tmp();
    write(d.path(), "m.wat", GOOD.as_bytes());
    let o = kiln(&["compile", "m.wat", "--emit", "obj", "-o", "m.o"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let obj = std::fs::read(d.path().join("m.o")).unwrap();
    assert_eq!(&obj[..4], b"\x7fELF");
    assert_eq!(obj[16], 1, "ET_REL");
    let o = kiln(&["compile", "m.wat", "--emit", "clif", "-o", "m.clif"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let clif = std::fs::read_to_string(d.path().join("m.clif")).unwrap();
    assert!(clif.contains("function u0:"), "{clif}");
    assert!(clif.contains("stack_limit"), "{clif}");
}

#[test]
fn malformed_module_names_file_and_offset() {
    let d = tmp();
    write(d.path(), "bad.wasm", b"\0asm\x01\0\0\0\x01\x05\x01\x60\x00");
    let o = kiln(&["compile", "bad.wasm", "-o", "bad"], d.path());
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.starts_with("kiln: error: bad.wasm: invalid module, at wasm offset 0x"), "{e}");
    assert!(!d.path().join("bad").exists());
}

#[test]
fn invalid_function_names_the_function() {
    let d = tmp();
    write(d.path(), "t.wat", b"(module (func $ok) (func $broken (result i32) (i64.const 1)))");
    let o = kiln(&["compile", "t.wat", "-o", "t"], d.path());
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("t.wat: invalid module in function 1 (broken), at wasm offset 0x"), "{e}");
    assert!(e.contains("type mismatch"), "{e}");
}

#[test]
fn text_syntax_errors_are_reported() {
    let d = tmp();
    write(d.path(), "s.wat", b"(module (func (i32.bogus)))");
    let o = kiln(&["compile", "s.wat"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("s.wat: cannot parse the text format"), "{}", stderr(&o));
    // The position names the file, not `<anon>`.
    assert!(stderr(&o).contains("--> s.wat:1:"), "{}", stderr(&o));
}

#[test]
fn input_neither_binary_nor_text_gives_an_offset() {
    let d = tmp();
    write(d.path(), "junk.wasm", b"(module)\n\xff\xfe");
    let o = kiln(&["compile", "junk.wasm"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("junk.wasm: cannot parse the text format: invalid UTF-8 at byte offset 0x9"), "{}", stderr(&o));
    assert!(!d.path().join("junk").exists());
}

#[test]
fn a_wasm_file_in_neither_format_says_so_first() {
    let d = tmp();
    write(d.path(), "hello.wasm", b"hello world");
    write(d.path(), "empty.wasm", b"");
    let o = kiln(&["compile", "hello.wasm"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("hello.wasm: not a wasm binary (it does not start with `\\0asm`), nor a text-format module: expected `(`"), "{}", stderr(&o));
    let o = kiln(&["compile", "empty.wasm"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("empty.wasm: not a wasm binary (it does not start with `\\0asm`), nor a text-format module: the file is empty"), "{}", stderr(&o));
    assert!(!d.path().join("hello").exists() && !d.path().join("empty").exists());
}

#[test]
fn a_truncated_module_is_called_cut_short() {
    let d = tmp();
    let full = wat::parse_str(GOOD).unwrap();
    write(d.path(), "cut.wasm", &full[..full.len() - 3]);
    let o = kiln(&["compile", "cut.wasm"], d.path());
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("cut.wasm: invalid module, at wasm offset"), "{e}");
    assert!(e.contains(&format!("(the file is {} bytes long: is it cut short?)", full.len() - 3)), "{e}");
}

#[test]
fn an_output_in_a_missing_directory_names_that_directory() {
    let d = tmp();
    write(d.path(), "app.wat", GOOD.as_bytes());
    for emit in ["exe", "obj"] {
        let o = kiln(&["compile", "app.wat", "--emit", emit, "-o", "nodir/sub/app"], d.path());
        assert_eq!(o.status.code(), Some(1));
        let e = stderr(&o);
        assert!(e.contains("cannot write nodir/sub/app: nodir/sub does not exist"), "{e}");
        assert!(!e.contains(".kiln"), "a temporary file's name leaked: {e}");
    }
    let o = kiln(&["compile", "app.wat", "-o", "app.wat/x"], d.path());
    assert!(stderr(&o).contains("cannot write app.wat/x: app.wat is not a directory"), "{}", stderr(&o));
}

#[test]
fn inspecting_a_module_says_to_compile_it() {
    let d = tmp();
    write(d.path(), "m.wasm", &wat::parse_str(GOOD).unwrap());
    let o = kiln(&["inspect", "m.wasm"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("m.wasm: not a Kiln executable (it is a wasm module: `kiln compile` it"), "{}", stderr(&o));
}

#[test]
fn kiln_run_with_a_target_says_to_compile_instead() {
    let d = tmp();
    write(d.path(), "app.wat", GOOD.as_bytes());
    let o = kiln(&["run", "--target", "aarch64", "app.wat"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("kiln run compiles for this machine and runs the module now, so it takes no --target; for aarch64, `kiln compile --target aarch64`"), "{}", stderr(&o));
}

#[test]
fn inspect_says_how_the_code_was_built() {
    let d = tmp();
    write(d.path(), "app.wat", GOOD.as_bytes());
    let version = env!("CARGO_PKG_VERSION");
    for (flags, shown) in [
        (&[][..], format!("built by:      kiln {version}, -O2, inlining")),
        (&["-O0"][..], format!("built by:      kiln {version}, -O0, no inlining")),
        (&["-O1", "--no-inline"][..], format!("built by:      kiln {version}, -O1, no inlining")),
    ] {
        let mut args = vec!["compile", "app.wat", "-o", "app"];
        args.extend(flags);
        let o = kiln(&args, d.path());
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(Command::new(d.path().join("app")).output().unwrap().status.code(), Some(5));
        let text = String::from_utf8_lossy(&kiln(&["inspect", "app"], d.path()).stdout).into_owned();
        assert!(text.contains(&shown), "{flags:?}: {text}");
    }
}

#[test]
fn failed_compile_keeps_the_old_output() {
    let d = tmp();
    write(d.path(), "app", b"previous build");
    write(d.path(), "bad.wat", b"(module (func (result i32)))");
    let o = kiln(&["compile", "bad.wat", "-o", "app"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read(d.path().join("app")).unwrap(), b"previous build");
    let leftovers: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".kiln"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
}

#[test]
fn missing_input_and_bad_linker_are_clear() {
    let d = tmp();
    let o = kiln(&["compile", "nope.wasm"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("nope.wasm: cannot read"), "{}", stderr(&o));
    write(d.path(), "m.wat", GOOD.as_bytes());
    let o = kiln(&["compile", "m.wat", "--linker", "/nonexistent/ld.lld"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/nonexistent/ld.lld"), "{}", stderr(&o));
}

/// A valid module that uses a proposal Kiln lacks, and imports a host
/// function nothing provides: one error names both, and calls none of it
/// invalid.
const UNSUPPORTED: &str = r#"(module
  (import "env" "host_log" (func $log (param i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (type $point (struct (field i32)))
  (func $f (param i32)
    (drop (struct.new $point (local.get 0))))
  (func (export "_start") (call $log (i32.const 1))))"#;

#[test]
fn unsupported_proposals_and_imports_are_named_at_once() {
    let d = tmp();
    write(d.path(), "u.wat", UNSUPPORTED.as_bytes());
    let o = kiln(&["compile", "u.wat", "-o", "u"], d.path());
    assert_eq!(o.status.code(), Some(1));
    // 0xb: the struct type's entry; 0x19: the import's entry
    // (wasm-objdump -h shows the sections).
    assert_eq!(
        stderr(&o),
        "kiln: error: u.wat: uses 1 WebAssembly proposal that Kiln does not support yet (the module is valid):
  garbage collection (gc), first at wasm offset 0xb
u.wat: 1 unresolved import; Kiln provides only WASI preview1 (`wasi_snapshot_preview1`):
  env::host_log (at wasm offset 0x19): function from module `env`, which is not WASI: define it in C and pass `--link` (`--emit header` declares it)
"
    );
    assert!(!d.path().join("u").exists(), "no output after a failed compile");
}

/// Of GC, Kiln compiles only the type system typed function references
/// need (`rec` groups, `sub` without a supertype); anything more is named
/// as GC, at its first use, and the module is called valid.
#[test]
fn gc_beyond_typed_function_references_is_not_buildable() {
    let d = tmp();
    let cases: [(&str, &[u8], &str); 3] = [
        ("struct", b"(module (type $s (struct (field i32))) (func (export \"_start\")))", "0xb"),
        ("supertype", b"(module (type $a (sub (func))) (type $b (sub $a (func))) (func (export \"_start\")))", "0x10"),
        ("i31", b"(module (func (export \"_start\") (drop (ref.i31 (i32.const 1)))))", "0x25"),
    ];
    for (name, text, offset) in cases {
        write(d.path(), &format!("{name}.wat"), text);
        let o = kiln(&["compile", &format!("{name}.wat"), "-o", name], d.path());
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(
            stderr(&o),
            format!(
                "kiln: error: {name}.wat: uses 1 WebAssembly proposal that Kiln does not support yet (the module is valid):\n  \
                 garbage collection (gc), first at wasm offset {offset}\n"
            )
        );
    }
    // Recursive types and a non-final type alone compile.
    write(
        d.path(),
        "rec.wat",
        br#"(module (rec (type $s (func (param (ref null $t)))) (type $t (func (param (ref null $s)))))
              (type $open (sub (func))) (func $f (type $open)) (elem declare func $f)
              (func (export "_start") (call_ref $open (ref.func $f))))"#,
    );
    let o = kiln(&["compile", "rec.wat", "-o", "rec"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn reactors_are_refused_as_executables() {
    let d = tmp();
    write(
        d.path(),
        "r.wat",
        br#"(module (func (export "_initialize")) (func (export "add") (param i32 i32) (result i32)
              (i32.add (local.get 0) (local.get 1))))"#,
    );
    let o = kiln(&["compile", "r.wat", "-o", "r"], d.path());
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("r.wat: a reactor module (it exports `_initialize` and no `_start`)"), "{e}");
    assert!(e.contains("--emit lib"), "{e}");
    assert!(!d.path().join("r").exists());
    // Its object can still be written.
    let o = kiln(&["compile", "r.wat", "--emit", "obj", "-o", "r.o"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn invalid_stays_invalid_and_components_are_named() {
    let d = tmp();
    // Invalid under every proposal: a type mismatch.
    write(d.path(), "bad.wat", b"(module (func (result i32) (i64.const 1)))");
    let o = kiln(&["compile", "bad.wat"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("bad.wat: invalid module in function 0"), "{}", stderr(&o));
    // A component (binary layer 1) is not a core module.
    write(d.path(), "c.wasm", b"\0asm\x0d\x00\x01\x00");
    let o = kiln(&["compile", "c.wasm"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("c.wasm: unsupported, at wasm offset 0x0: this is a WebAssembly component"), "{}", stderr(&o));
}

/// SIMD compiles at every target's baseline except riscv64's, which has no
/// vector unit: there one clear error names the `--cpu` values that add V,
/// and no output is written.
#[test]
fn simd_on_riscv64_needs_v() {
    let d = tmp();
    write(d.path(), "v.wat", b"(module (func (export \"f\") (result v128) (i32x4.splat (i32.const 7))))");
    for (target, cpu) in [("x86_64", None), ("aarch64", None), ("riscv64", Some("rva23u64")), ("riscv64", Some("zba,v"))] {
        let mut args = vec!["compile", "v.wat", "--emit", "obj", "-o", "v.o", "--target", target];
        args.extend(cpu.iter().flat_map(|c| ["--cpu", *c]));
        let o = kiln(&args, d.path());
        assert!(o.status.success(), "{target} {cpu:?}: {}", stderr(&o));
    }
    std::fs::remove_file(d.path().join("v.o")).unwrap();
    for cpu in [None, Some("rva22u64"), Some("zba,zbb")] {
        let mut args = vec!["compile", "v.wat", "--emit", "obj", "-o", "v.o", "--target", "riscv64"];
        args.extend(cpu.iter().flat_map(|c| ["--cpu", *c]));
        let o = kiln(&args, d.path());
        assert_eq!(o.status.code(), Some(1), "{cpu:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("kiln: error: v.wat: the module uses SIMD (v128)")
                && err.contains("riscv64 only with CPU feature v")
                && err.contains("`--cpu rva23u64`")
                && err.contains("`--cpu v`"),
            "{cpu:?}: {err}"
        );
        assert!(!d.path().join("v.o").exists());
    }
}

#[test]
fn output_is_static_with_no_interpreter() {
    let d = tmp();
    write(d.path(), "m.wat", GOOD.as_bytes());
    let o = kiln(&["compile", "m.wat", "-o", "m"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let exe = std::fs::read(d.path().join("m")).unwrap();
    assert_eq!(exe[16], 2, "ET_EXEC");
    let elf = object::File::parse(&*exe).unwrap();
    use object::Object;
    assert!(elf.section_by_name(".interp").is_none());
    assert!(elf.section_by_name(".dynamic").is_none());
}

#[test]
fn lists_targets() {
    let o = kiln(&["targets"], Path::new("."));
    let s = String::from_utf8_lossy(&o.stdout);
    for t in ["x86_64", "aarch64", "riscv64", "x86-64-v1", "armv8.0-a", "rv64gc"] {
        assert!(s.contains(t), "{s}");
    }
}

#[test]
fn start_must_take_and_return_nothing() {
    let d = tmp();
    write(d.path(), "s.wat", b"(module (func (export \"_start\") (result i64 i64) (i64.const 1) (i64.const 2)))");
    let o = kiln(&["compile", "s.wat"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("the `_start` export must have type () -> (), not () -> (i64, i64)"), "{}", stderr(&o));
}

#[test]
fn colliding_function_names_get_distinct_symbols() {
    let d = tmp();
    let wat = br#"(module
      (func (@name "wasm_function_1")) (func) (func (@name "f.4")) (func (@name "f")) (func (@name "f"))
      (func (@name "memcpy")) (func (@name "_start"))
      (func (export "_start")))"#;
    write(d.path(), "n.wat", wat);
    let o = kiln(&["compile", "n.wat", "-o", "n"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let exe = std::fs::read(d.path().join("n")).unwrap();
    let elf = object::File::parse(&*exe).unwrap();
    use object::{Object, ObjectSymbol};
    let names: Vec<String> = elf.symbols().filter_map(|s| s.name().ok().map(str::to_string)).collect();
    for want in ["wasm_function_1", "wasm_function_1.1", "f.4", "f", "f.4.1", "memcpy.wasm", "_start.wasm"] {
        assert!(names.iter().any(|n| n == want), "missing symbol {want} in {names:?}");
    }
}

/// Grants cannot be smuggled in: an `--env` KEY with a control character
/// would become a build setting (`\u{1}dir=...` grants a directory), and
/// a third `::` field of `--dir` is not a mode (read-only is `--dir-ro`).
#[test]
fn grants_cannot_be_smuggled_or_mistyped() {
    let d = tmp();
    write(d.path(), "m.wat", GOOD.as_bytes());
    let o = kiln(&["compile", "m.wat", "-o", "m", "--env", "\u{1}dir=rw:/::root=x"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--env takes KEY=VALUE with a non-empty KEY free of control characters"), "{}", stderr(&o));
    let o = kiln(&["compile", "m.wat", "-o", "m", "--dir", "data::b::ro"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("a read-only grant is `--dir-ro HOST[::GUEST]`"), "{}", stderr(&o));
    assert!(!d.path().join("m").exists());
}

/// `-g` on a module without DWARF writes its text form beside the output
/// as `OUTPUT.kiln.wat`, never over a `.wat` input of the same name.
#[test]
fn debug_text_form_never_overwrites_the_input() {
    let d = tmp();
    let src = "(module (func (export \"_start\")))\n;; the user's own comment\n";
    write(d.path(), "app.wat", src.as_bytes());
    let o = kiln(&["compile", "-g", "app.wat"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(d.path().join("app.wat")).unwrap(), src);
    assert!(d.path().join("app.kiln.wat").is_file());
}

/// `--bounds-checks`: both modes build a working executable, `kiln
/// inspect` names the mode, and a misspelt mode is refused by the parser.
#[test]
fn bounds_check_modes_are_built_and_reported() {
    let d = tmp();
    write(d.path(), "exit5.wat", GOOD.as_bytes());
    for (mode, shown) in [("guard", "bounds checks: guard"), ("explicit", "bounds checks: explicit")] {
        let o = kiln(&["compile", "exit5.wat", "-o", mode, "--bounds-checks", mode], d.path());
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(Command::new(d.path().join(mode)).output().unwrap().status.code(), Some(5));
        let i = kiln(&["inspect", mode], d.path());
        let text = String::from_utf8_lossy(&i.stdout);
        assert!(text.contains(shown), "{text}");
    }
    let o = kiln(&["compile", "exit5.wat", "--bounds-checks", "none"], d.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// `--emit lib`: the archive and header are written, the archive defines
/// only the prefixed API, and what the embedding ABI cannot carry is
/// refused with every import named, leaving nothing behind.
#[test]
fn emit_lib_writes_archive_and_header_or_nothing() {
    let d = tmp();
    let wat = r#"(module
  (import "env" "log" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "free") (param i32))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#;
    write(d.path(), "my-plugin.wat", wat.as_bytes());
    let o = kiln(&["compile", "--emit", "lib", "my-plugin.wat"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    // Default names: libSTEM.a and PREFIX.h, the prefix a C identifier.
    let header = std::fs::read_to_string(d.path().join("my_plugin.h")).unwrap();
    for want in [
        "kiln_status my_plugin_new(const kiln_config *config, my_plugin_instance **out);",
        "static inline kiln_status my_plugin_add(my_plugin_instance *instance, int32_t a0, int32_t a1, int32_t *r0)",
        "static inline kiln_status my_plugin_export_free(my_plugin_instance *instance, int32_t a0)",
        "static inline uint8_t *my_plugin_memory(my_plugin_instance *instance, uint64_t *length)",
        "void my_plugin_import_env_log(my_plugin_instance *instance, int32_t a0);",
    ] {
        assert!(header.contains(want), "missing `{want}` in:\n{header}");
    }
    let archive = std::fs::read(d.path().join("libmy-plugin.a")).unwrap();
    assert!(archive.starts_with(b"!<arch>\n"));
    // An explicit prefix and header path; a bad prefix is refused.
    let o = kiln(&["compile", "--emit", "lib", "my-plugin.wat", "--prefix", "p2", "--header", "inc.h", "-o", "libp2.a"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(d.path().join("inc.h")).unwrap().contains("p2_add("));
    let o = kiln(&["compile", "--emit", "lib", "my-plugin.wat", "--prefix", "9x", "-o", "bad.a"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--prefix must be a C identifier"), "{}", stderr(&o));

    // Imports the ABI cannot carry: all named at once; no output.
    let wat = r#"(module
  (import "env" "mem" (memory 1))
  (import "env" "pair" (func (result i32 i32)))
  (import "env" "g" (global i32)))"#;
    write(d.path(), "bad.wat", wat.as_bytes());
    let o = kiln(&["compile", "--emit", "lib", "bad.wat", "-o", "libbad.a"], d.path());
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    for want in ["env::mem", "memory imports are not provided", "env::pair", "returns 2 values", "env::g"] {
        assert!(e.contains(want), "missing `{want}` in:\n{e}");
    }
    assert!(!d.path().join("libbad.a").exists() && !d.path().join("bad.h").exists());
}

/// `kiln run`: the program's arguments, stdin, stdout and exit status, as
/// its executable has them; no file is written.
#[test]
fn run_executes_in_memory() {
    let d = tmp();
    // Echoes its last argument's length as exit status and stdin to stdout.
    let wat = r#"(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $sizes (i32.const 0) (i32.const 4)))
    (i32.store (i32.const 8) (i32.const 100))
    (i32.store (i32.const 12) (i32.const 64))
    (drop (call $read (i32.const 0) (i32.const 8) (i32.const 1) (i32.const 16)))
    (i32.store (i32.const 12) (i32.load (i32.const 16)))
    (drop (call $write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 16)))
    (call $exit (i32.load (i32.const 0)))))"#;
    write(d.path(), "echo.wat", wat.as_bytes());
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
        // Everything after INPUT is the program's, even Kiln's own flags.
        .args(["run", "-q", "echo.wat", "--help", "-q", "--dir", "--", "-c"])
        .current_dir(d.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"hello").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.stdout, b"hello");
    assert_eq!(o.status.code(), Some(6), "argc: echo.wat --help -q --dir -- -c");
    let files: Vec<_> = std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files, ["echo.wat"], "kiln run writes nothing");
}

/// A trap under `kiln run` is the executable's message and status 134; a
/// module that does not compile is an error naming it, never a panic.
#[test]
fn run_traps_and_errors_like_compile() {
    let d = tmp();
    write(d.path(), "trap.wat", br#"(module (func (export "_start") unreachable))"#);
    let run = kiln(&["run", "trap.wat"], d.path());
    let exe = kiln(&["compile", "trap.wat", "-o", "trap"], d.path());
    assert!(exe.status.success(), "{}", stderr(&exe));
    let aot = Command::new(d.path().join("trap")).output().unwrap();
    assert_eq!(run.status.code(), Some(134));
    assert_eq!(run.stderr, aot.stderr);
    assert!(stderr(&run).starts_with("kiln: wasm trap: unreachable"), "{}", stderr(&run));

    write(d.path(), "bad.wasm", b"\0asm\x01\0\0\0\x01\x04\x01\x60\0");
    let bad = kiln(&["run", "bad.wasm"], d.path());
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).starts_with("kiln: error: bad.wasm"), "{}", stderr(&bad));
    assert!(!stderr(&bad).contains("panicked"));
}

/// Exits with status 5. (With a memory: wasmtime's WASI, a `kiln bench`
/// contender when installed, needs one.)
const EXIT5: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (i32.const 5))))"#;

/// `kiln bench --runs 2 --json`: the JSON's shape, every contender's
/// output compared with Kiln AOT's. Timings are never asserted.
#[test]
fn bench_reports_json() {
    let d = tmp();
    write(d.path(), "exit5.wat", EXIT5.as_bytes());
    let o = kiln(&["bench", "--runs", "2", "--json", "-q", "exit5.wat"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with("{\"module\": \"exit5.wat\", \"runs\": 2, \"outputs_match\": true"), "{text}");
    for name in ["kiln-aot", "kiln-jit"] {
        let line = text.lines().find(|l| l.contains(&format!("\"name\": \"{name}\""))).unwrap_or_else(|| panic!("{name} in {text}"));
        for field in ["\"median_s\": ", "\"times_s\": [", "\"compile_s\": ", "\"peak_rss_kib\": ", "\"exit_status\": 5", "\"output_matches\": true"] {
            assert!(line.contains(field), "{field} in {line}");
        }
    }
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1, "bench leaves nothing behind");
}

/// `kiln bench` names how a contender differs (here a native program that
/// exits 0 where the module exits 5) and fails; paths are checked before
/// anything is compiled.
#[test]
fn bench_reports_differences() {
    let d = tmp();
    write(d.path(), "exit5.wat", EXIT5.as_bytes());
    let o = kiln(&["bench", "--runs", "1", "--json", "-q", "--native", "/bin/true", "exit5.wat"], d.path());
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("\"outputs_match\": false"), "{text}");
    assert!(text.contains("native: exit status 0 where kiln-aot exited with 5"), "{text}");
    assert!(stderr(&o).contains("differ"), "{}", stderr(&o));

    for (flag, value, message) in [
        ("--native", "missing", "kiln: error: --native missing: No such file"),
        ("--native", "exit5.wat", "kiln: error: --native exit5.wat: not executable"),
        ("--wasmtime", "missing", "kiln: error: --wasmtime missing: No such file"),
        ("--chart", "nodir/out.png", "kiln: error: --chart nodir/out.png: no directory nodir"),
    ] {
        let o = kiln(&["bench", flag, value, "exit5.wat"], d.path());
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).starts_with(message), "{flag} {value}: {}", stderr(&o));
    }
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1, "bench leaves nothing behind");
}

/// wasi-threads is checked before anything is built: a module that imports
/// `thread-spawn` must export `wasi_thread_start (i32, i32)`, the spawn
/// import must have its signature, and only shared memories are imported.
#[test]
fn threads_imports_are_checked() {
    let d = tmp();
    let cases: [(&str, &str, &str); 4] = [
        (
            "nomemory.wat",
            r#"(module (import "wasi" "thread-spawn" (func (param i32) (result i32))) (memory 1 1 shared) (func (export "wasi_thread_start") (param i32 i32)) (func (export "_start")))"#,
            "but does not import its memory",
        ),
        (
            "nostart.wat",
            r#"(module (import "wasi" "thread-spawn" (func (param i32) (result i32))) (import "env" "memory" (memory 1 1 shared)) (func (export "_start")))"#,
            "does not export `wasi_thread_start` with type (i32, i32) -> ()",
        ),
        (
            "badsig.wat",
            r#"(module (import "wasi" "thread-spawn" (func (param i64) (result i32))) (func (export "_start")))"#,
            "wasi::thread-spawn (at wasm offset 0x",
        ),
        (
            "unshared.wat",
            r#"(module (import "env" "memory" (memory 1 1)) (func (export "_start")))"#,
            "env::memory (at wasm offset 0x",
        ),
    ];
    for (file, wat, want) in cases {
        write(d.path(), file, wat.as_bytes());
        let o = kiln(&["compile", file, "-o", "out"], d.path());
        assert_eq!(o.status.code(), Some(1), "{file}");
        assert!(stderr(&o).contains(want), "{file}: {}", stderr(&o));
        assert!(!d.path().join("out").exists(), "{file}: no output");
    }
}

/// `--thread-stack` is baked into the executable and shown by `kiln
/// inspect`; sizes outside 64K..1024M are refused by the parser.
#[test]
fn thread_stack_is_recorded() {
    let d = tmp();
    let wat = r#"(module (import "wasi" "thread-spawn" (func (param i32) (result i32))) (import "env" "memory" (memory 1 1 shared))
  (func (export "wasi_thread_start") (param i32 i32)) (func (export "_start")))"#;
    write(d.path(), "t.wat", wat.as_bytes());
    let o = kiln(&["compile", "--thread-stack", "2M", "t.wat", "-o", "t"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let i = kiln(&["inspect", "t"], d.path());
    assert!(String::from_utf8_lossy(&i.stdout).contains("thread stack:  2048 KiB per spawned thread"), "{}", String::from_utf8_lossy(&i.stdout));
    let bad = kiln(&["compile", "--thread-stack", "10", "t.wat", "-o", "u"], d.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("outside 64K..1024M"), "{}", stderr(&bad));
}

/// A command's memory 0 lives at a fixed address that generated code uses
/// as a constant (`translate/heap.rs`, "Fixed memories"), so the runtime
/// reserves it exactly there or stops before any wasm runs. Here the
/// address space is too small for the 8 GiB reservation (the same path as
/// an address range that is taken): a clear error and status 1, where the
/// program itself exits with 5.
#[test]
fn fixed_memory_that_cannot_be_reserved_stops_the_program() {
    let d = tmp();
    let with_memory = GOOD.replacen("(func (export", "(memory 1) (func (export", 1);
    write(d.path(), "m.wat", with_memory.as_bytes());
    let o = kiln(&["compile", "m.wat", "-o", "m"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(Command::new(d.path().join("m")).status().unwrap().code(), Some(5));
    // 4 GiB of address space: the program fits, the reservation does not.
    let run = Command::new("sh").arg("-c").arg("ulimit -v 4194304 && exec ./m").current_dir(d.path()).output().unwrap();
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    assert!(stderr(&run).contains("kiln: cannot reserve linear memory at its fixed address"), "{}", stderr(&run));
}

/// stdio's WASI file type is asked of the host only when the program asks
/// (`fd_fdstat_get`, as wasi-libc's `isatty` does): a character device on a
/// terminal, unknown on pipes and files. `script` (util-linux, in every
/// Debian) gives the program a terminal.
#[test]
fn stdio_is_a_character_device_only_on_a_terminal() {
    let d = tmp();
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $stat (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      ;; "t t t\n" at 64, one filetype digit per descriptor
      (data (i32.const 64) "0 0 0\n")
      (func (export "_start") (local $fd i32)
        (loop $each
          (drop (call $stat (local.get $fd) (i32.const 0)))
          (i32.store8 (i32.add (i32.const 64) (i32.mul (local.get $fd) (i32.const 2)))
                      (i32.add (i32.const 48) (i32.load8_u (i32.const 0))))
          (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
          (br_if $each (i32.lt_u (local.get $fd) (i32.const 3))))
        (i32.store (i32.const 32) (i32.const 64))
        (i32.store (i32.const 36) (i32.const 6))
        (drop (call $write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 48)))))"#;
    write(d.path(), "t.wat", wat.as_bytes());
    let o = kiln(&["compile", "t.wat", "-o", "t"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let piped = Command::new(d.path().join("t")).stdin(std::process::Stdio::null()).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&piped.stdout), "0 0 0\n");
    let tty = Command::new("script").args(["-qec", "./t", "/dev/null"]).current_dir(d.path()).output().unwrap();
    assert!(tty.status.success(), "{}", stderr(&tty));
    assert_eq!(String::from_utf8_lossy(&tty.stdout).replace('\r', ""), "2 2 2\n");
}
