//! The Rust side of embedding: `embed::rust_bindings` and `kiln::Build`.
//!
//! The generated bindings of a module with every awkward case (keyword and
//! digit names, names the C API reserves, `v128` values, references, a
//! mutable global whose setter name an export also wants, no host imports)
//! are type-checked by rustc in both current editions with warnings denied,
//! together with a user file that calls every method the way a host would.
//! Linking and running are the embedding test's business
//! (`testsuite/tests/embed.rs`, `rust_host`).

use kiln::embed;
use kiln::environ::ModuleEnv;
use std::path::Path;
use std::process::Command;

const AWKWARD: &str = r#"(module
  (import "env" "log" (func (param i32)))
  (import "env" "peek" (func (param externref f32) (result externref)))
  (import "my-mod" "get-fn" (func (result funcref)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (memory (export "mem") 1)
  (global $g (export "g") (mut f64) (f64.const 0))
  (global (export "fr") (mut funcref) (ref.null func))
  (global (export "v") (mut v128) (v128.const i64x2 0 0))
  (global (export "k") i64 (i64.const 7))
  (table (export "t") 1 funcref)
  (func (export "set_global_g"))
  (func (export "type") (result i32 i64 f32 f64)
    (i32.const 1) (i64.const 2) (f32.const 3) (f64.const 4))
  (func (export "self"))
  (func (export "1st") (param i64) (result i64) (local.get 0))
  (func (export "user_data_mut"))
  (func (export "new"))
  (func (export "take") (param funcref))
  (func (export "ext") (param externref) (result externref) (local.get 0))
  (func (export "simd") (param v128))
  (func (export "a-b") (param f32 f64) (result f64) (local.get 1))
  (func (export "_initialize"))
)"#;

/// The user's side: implements the imports and calls every method.
const AWKWARD_USER: &str = r#"
pub struct Host(pub u32);

unsafe impl awk::Imports for Host {
    fn env_log(caller: &mut awk::Caller<'_, Self>, a0: i32) {
        caller.user_data_mut().0 += a0 as u32;
        let _: &mut [u8] = caller.memory_mem();
        let _: Result<(i32, i64, f32, f64), awk::Trap> = caller.r#type();
    }
    fn env_peek(_caller: &mut awk::Caller<'_, Self>, a0: awk::Ref, _a1: f32) -> awk::Ref {
        a0
    }
    fn my_mod_get_fn(_caller: &mut awk::Caller<'_, Self>) -> awk::Ref {
        awk::Ref::NULL
    }
}

pub fn use_it() -> Result<(), awk::Trap> {
    let config = awk::Config::new()
        .arg("awk")
        .args(["x", "y"])
        .env("K", "V")
        .preopened_dir("/tmp", "/tmp")
        .preopened_dir_ro(std::path::PathBuf::from("data"), "/data")
        .inherit_stdio()
        .stderr(-1)
        .stack_size(1 << 20);
    let mut inst = awk::Instance::new(Host(0), &config)?;
    let _: &mut [u8] = inst.memory_mem();
    let _: f64 = inst.global_g();
    inst.set_global_g(1.5);
    let _: awk::Ref = inst.global_fr();
    unsafe { inst.set_global_fr(awk::Ref::NULL) };
    let _: i64 = inst.global_k();
    let _: u32 = inst.table_t_size();
    inst.export_set_global_g()?;
    let _: (i32, i64, f32, f64) = inst.r#type()?;
    inst.self_()?;
    let _: i64 = inst._1st(5)?;
    inst.export_user_data_mut()?;
    inst.export_new()?;
    unsafe { inst.take(awk::Ref::NULL)? };
    let r: awk::Ref = inst.ext(awk::Ref::NULL)?;
    assert!(r.is_null());
    let _: f64 = inst.a_b(1.0, 2.0)?;
    inst.user_data_mut().0 += 1;
    let _: &Host = inst.user_data();
    let e: Box<dyn std::error::Error + Send + Sync> = Box::new(awk::Trap {
        status: awk::Status::Trap,
        kind: awk::Trap::UNCAUGHT_EXCEPTION,
        message: String::new(),
        exit_code: 0,
    });
    let _ = e.to_string();
    fn send<T: Send>(_: &T) {}
    send(&inst);
    let _ = awk::EMBED_ABI;
    Ok(())
}
"#;

const PLAIN: &str = r#"(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#;

const PLAIN_USER: &str = r#"
pub fn use_it() -> Result<i32, plain::Trap> {
    let mut inst = plain::Instance::new((), &plain::Config::new())?;
    let _: &() = inst.user_data();
    let mut with_data = plain::Instance::new(vec![1u8], &plain::Config::new())?;
    with_data.user_data_mut().push(2);
    inst.add(2, 3)
}
"#;

fn bindings(name: &str, wat: &str) -> String {
    let bytes = wat::parse_str(wat).unwrap();
    let env = ModuleEnv::parse(name, &bytes).unwrap();
    let host = embed::host_imports(name, &env, name).unwrap();
    embed::rust_bindings(&env, name, &host).unwrap()
}

/// Type-checks `pub mod NAME { BINDINGS }` plus `user` as a library crate
/// in `edition`, warnings denied.
fn rustc_check(dir: &Path, name: &str, body: &str, user: &str, edition: &str) {
    let src = dir.join(format!("{name}_{edition}.rs"));
    let text = format!(
        "#[allow(dead_code, non_snake_case, non_camel_case_types, unused_imports, unused_unsafe, clippy::all)]\npub mod {name} {{\n{body}}}\n{user}"
    );
    std::fs::write(&src, text).unwrap();
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .args(["--edition", edition, "--crate-type", "lib", "--emit", "metadata", "-D", "warnings", "--crate-name", name])
        .arg("--out-dir")
        .arg(dir)
        .arg(&src)
        .output()
        .expect("rustc");
    assert!(out.status.success(), "rustc --edition {edition} {}:\n{}", src.display(), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn bindings_type_check_in_every_edition() {
    let d = tempfile::tempdir().unwrap();
    let awk = bindings("awk", AWKWARD);
    let plain = bindings("plain", PLAIN);
    for edition in ["2021", "2024"] {
        rustc_check(d.path(), "awk", &awk, AWKWARD_USER, edition);
        rustc_check(d.path(), "plain", &plain, PLAIN_USER, edition);
    }
}

#[test]
fn bindings_follow_the_c_names() {
    let awk = bindings("awk", AWKWARD);
    for want in [
        // The C shims of the host imports, and nothing for WASI.
        "unsafe extern \"C\" fn awk_import_env_log(instance: *mut ffi::Raw, a0: i32)",
        "unsafe extern \"C\" fn awk_import_my_mod_get_fn(instance: *mut ffi::Raw) -> *mut c_void",
        // An import returning a funcref makes the trait unsafe.
        "pub unsafe trait Imports: Sized {",
        // Keyword, digit and reserved names.
        "pub fn r#type(&mut self) -> Result<(i32, i64, f32, f64), Trap>",
        "pub fn self_(&mut self) -> Result<(), Trap>",
        "pub fn _1st(&mut self, a0: i64) -> Result<i64, Trap>",
        "pub fn export_user_data_mut(&mut self)",
        "pub fn export_new(&mut self)",
        "pub fn a_b(&mut self, a0: f32, a1: f64) -> Result<f64, Trap>",
        // A funcref argument is the caller's promise; an externref is not.
        "pub unsafe fn take(&mut self, a0: Ref)",
        "pub fn ext(&mut self, a0: Ref) -> Result<Ref, Trap>",
        "pub unsafe fn set_global_fr(&mut self, value: Ref)",
        "pub fn set_global_g(&mut self, value: f64)",
        "pub fn table_t_size(&self) -> u32",
        "pub fn memory_mem(&mut self) -> &mut [u8]",
    ] {
        assert!(awk.contains(want), "missing `{want}` in:\n{awk}");
    }
    for absent in ["fn simd", "fn _initialize", "global_v(", "import_wasi", "fn wasi"] {
        assert!(!awk.contains(absent), "unexpected `{absent}`");
    }
}

/// The C header and the Rust bindings agree on every export's index.
#[test]
fn header_and_bindings_share_export_indices() {
    let bytes = wat::parse_str(AWKWARD).unwrap();
    let env = ModuleEnv::parse("awk", &bytes).unwrap();
    let host = embed::host_imports("awk", &env, "awk").unwrap();
    let header = embed::header(&env, "awk", "awk.wat", &host).unwrap();
    let rust = embed::rust_bindings(&env, "awk", &host).unwrap();
    let names = embed::export_c_names(&env, "awk").unwrap();
    for (index, c) in names.iter().enumerate() {
        let Some(c) = c else { continue };
        let (kind, call) = (env.exports[index].1, format!("{index}u"));
        if kind == wasmparser::ExternalKind::Func {
            assert!(header.contains(&format!("awk_{c}(")) && header.contains(&format!("awk_call(instance, {call}, v)")), "{c}");
            let r = embed::rust_ident(c);
            let at = rust.find(&format!("fn {r}(")).unwrap_or_else(|| panic!("no fn {r}"));
            assert!(rust[at..].contains(&format!("__kiln_call(self.raw, {index}, &mut v)")), "{r}");
        }
    }
    // The setter of mutable global `g` keeps its name; the export that
    // wanted the same C name gets `export_` (the header used to define
    // `awk_set_global_g` twice).
    assert_eq!(header.matches("awk_set_global_g(").count(), 1, "{header}");
    assert!(header.contains("awk_export_set_global_g("), "{header}");
}

#[test]
fn build_writes_library_header_and_bindings() {
    let d = tempfile::tempdir().unwrap();
    let wat = d.path().join("plug.wat");
    std::fs::write(&wat, PLAIN).unwrap();
    let out = d.path().join("out");
    kiln::Build::new().file(&wat).target("x86_64").out_dir(&out).cargo_metadata(false).compile("plug");
    for f in ["libplug.a", "plug.h", "plug.rs"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let rs = std::fs::read_to_string(out.join("plug.rs")).unwrap();
    assert!(rs.contains("pub mod plug {") && rs.contains("#[link_name = \"plug_new\"]"), "{rs}");
    // An explicit prefix renames the C symbols, not the files or module.
    kiln::Build::new()
        .file(&wat)
        .target("riscv64gc-unknown-linux-gnu")
        .prefix("other")
        .out_dir(&out)
        .cargo_metadata(false)
        .compile("plug2");
    let rs = std::fs::read_to_string(out.join("plug2.rs")).unwrap();
    assert!(rs.contains("pub mod plug2 {") && rs.contains("#[link_name = \"other_new\"]"), "{rs}");
    assert!(std::fs::read_to_string(out.join("plug2.h")).unwrap().contains("other_new("));
}

#[test]
fn build_errors() {
    let d = tempfile::tempdir().unwrap();
    let wat = d.path().join("plug.wat");
    std::fs::write(&wat, PLAIN).unwrap();
    let err = |b: &kiln::Build, name: &str| b.try_compile(name).unwrap_err().to_string();
    let mut b = kiln::Build::new();
    b.out_dir(d.path()).cargo_metadata(false);
    assert!(err(&b, "plug").contains("no module"), "{}", err(&b, "plug"));
    b.file(&wat);
    assert!(err(&b, "my-plug").contains("must be a C identifier"));
    assert!(err(b.clone().target("x86_64-apple-darwin"), "plug").contains("unsupported target"));
    assert!(err(b.clone().prefix("9p"), "plug").contains("the prefix must be a C identifier"));
    assert!(err(b.clone().file(&wat), "plug").contains("one module"));
    let missing = d.path().join("missing.wasm");
    assert!(err(kiln::Build::new().file(&missing).out_dir(d.path()).cargo_metadata(false), "m").contains("cannot read"));
    // `compile` panics with the message.
    let panic = std::panic::catch_unwind(|| kiln::Build::new().file(&missing).out_dir(d.path()).cargo_metadata(false).compile("m"))
        .unwrap_err();
    let msg = panic.downcast_ref::<String>().unwrap();
    assert!(msg.contains("cannot read") && msg.contains("missing.wasm"), "{msg}");
}
