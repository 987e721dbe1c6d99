//! Builds the freestanding C runtime once per target and stages the static
//! archives for `src/lib.rs` to embed, so one `kiln` binary can link
//! executables for every target without any runtime files installed.
//!
//! Steps: generate `kiln_abi.h` from the kiln-abi crate (the single source of
//! truth for shared layouts; the header's static asserts fail the C build on
//! any drift), then compile `c/**/*.c` plus `c/arch/<arch>/arch.c` with clang
//! for each target in kiln-targets.
//!
//! The C compiler is found as $KILN_CLANG, else `clang-19`, else `clang`;
//! the archiver as $KILN_AR, else `llvm-ar-19`, else `llvm-ar`.
use std::path::{Path, PathBuf};
use std::process::Command;

fn find_tool(env: &str, candidates: &[&str]) -> String {
    println!("cargo:rerun-if-env-changed={env}");
    if let Ok(v) = std::env::var(env) {
        return v;
    }
    for c in candidates {
        if Command::new(c)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
        {
            return c.to_string();
        }
    }
    panic!(
        "Kiln's runtime needs {} to build (for every target). Install it with `apt-get install clang-19 llvm-19` \
         or run scripts/setup.sh, or point {env} at one.",
        candidates[0]
    );
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().unwrap() != "arch" {
                sources(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "c") {
            out.push(p);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let c_dir = manifest.join("c");
    println!("cargo:rerun-if-changed={}", c_dir.display());

    let inc = out.join("include");
    std::fs::create_dir_all(&inc).unwrap();
    std::fs::write(inc.join("kiln_abi.h"), kiln_abi::c_header()).unwrap();

    let clang = find_tool("KILN_CLANG", &["clang-19", "clang"]);
    let ar = find_tool("KILN_AR", &["llvm-ar-19", "llvm-ar"]);

    let mut all = Vec::new();
    sources(&c_dir, &mut all);
    all.sort();
    // Three flavours. For every target: executables (`libkilnrt.a`:
    // process start-up and the test driver) and embeddings
    // (`libkilnrt_embed.a`, built with KILN_EMBED: instances created by the
    // host, see c/embed.c). For the architecture this crate is built for
    // (when Kiln has it as a target): the executable runtime once more,
    // linked into the kiln binary itself for `kiln run` (KILN_JIT; see
    // `jit_flavour`).
    let is = |p: &PathBuf, names: &[&str]| names.iter().any(|n| p.file_name().unwrap() == *n);
    let exe_only = ["start.c", "driver.c"];
    let embed_only = ["embed.c"];
    let build_for = |t: &kiln_targets::Target, flavour: Flavour, tdir: &Path| -> cc::Build {
        let skip: &[&str] = if flavour == Flavour::Embed { &exe_only } else { &embed_only };
        let common: Vec<&PathBuf> = all.iter().filter(|p| !is(p, skip)).collect();
        std::fs::create_dir_all(tdir).unwrap();
        let arch = c_dir.join("arch").join(t.name);
        let mut build = cc::Build::new();
        build
            .compiler(&clang)
            .archiver(&ar)
            .target(t.clang_triple)
            .host(&std::env::var("HOST").unwrap())
            .opt_level(2)
            .debug(false)
            .pic(false)
            .cargo_metadata(false)
            .warnings(true)
            .extra_warnings(true)
            .warnings_into_errors(true)
            .out_dir(tdir)
            .include(&inc)
            .include(c_dir.join("include"))
            .include(&arch)
            .flag(format!("--target={}", t.clang_triple))
            .flag("-std=c11")
            .flag("-ffreestanding")
            .flag("-nostdlibinc")
            .flag("-fno-stack-protector")
            .flag("-fno-builtin")
            // Unwind tables let debuggers and profilers walk through the
            // runtime's frames (to `_start`) as well as wasm's.
            .flag("-fasynchronous-unwind-tables")
            .flag("-ffunction-sections")
            .flag("-fdata-sections")
            .flag("-Wno-unused-parameter")
            // No .llvm_addrsig: the embedding library is rewritten after
            // linking (compiler/src/embed.rs), which that section type stops.
            .flag("-fno-addrsig");
        match flavour {
            // Hosts may be position-independent executables or shared
            // libraries.
            Flavour::Embed => {
                build.flag("-fPIC").define("KILN_EMBED", None);
            }
            // Position-independent code: -g executables are linked above
            // 4 GiB (their low 4 GiB mirror linear memory), where x86-64's
            // default absolute 32-bit addressing cannot reach; the kiln
            // binary is a position-independent executable.
            Flavour::Exe => {
                build.flag("-fPIE");
            }
            Flavour::Jit => {
                build.flag("-fPIE").define("KILN_JIT", None);
            }
        }
        for f in t.clang_flags {
            build.flag(f);
        }
        for s in &common {
            build.file(s);
        }
        build.file(arch.join("arch.c"));
        build
    };

    for t in kiln_targets::TARGETS {
        build_for(t, Flavour::Exe, &out.join(t.name).join("exe")).compile("kilnrt");
        build_for(t, Flavour::Embed, &out.join(t.name).join("embed")).compile("kilnrt_embed");
    }

    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap();
    let jit = kiln_targets::TARGETS.iter().find(|t| t.name == arch && os == "linux");
    let table = match jit {
        Some(t) => {
            let dir = out.join("jit");
            build_for(t, Flavour::Jit, &dir).compile("kilnrt_jit");
            format!("/// The target whose runtime this is.\npub const TARGET: Option<&str> = Some(\"{}\");\n{}", t.name, jit_flavour(&dir))
        }
        None => "/// No runtime for `kiln run` on this architecture.\npub const TARGET: Option<&str> = None;\n\
                 pub fn symbols() -> Vec<(&'static str, *const u8)> { Vec::new() }\n"
            .to_string(),
    };
    std::fs::write(out.join("jit_symbols.rs"), table).unwrap();
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Exe,
    Embed,
    Jit,
}

/// Prefix of every global symbol of the JIT flavour inside the kiln binary.
const JIT_PREFIX: &str = "kilnjit_";

/// Makes `dir/libkilnrt_jit.a` linkable into the kiln binary and returns
/// the Rust source of its symbol table.
///
/// The runtime defines `memcpy`, `_start` and the like for freestanding
/// executables; linked as they are into a program that also has glibc,
/// they would replace glibc's for the whole process. So every global
/// symbol, defined or referenced, gets `JIT_PREFIX` (references between
/// the runtime's own objects stay consistent), and the table maps each
/// original name, the one compiled code asks for, to its address.
fn jit_flavour(dir: &Path) -> String {
    let lib = dir.join("libkilnrt_jit.a");
    let objcopy = find_tool("KILN_OBJCOPY", &["llvm-objcopy-19", "llvm-objcopy"]);
    let status = Command::new(&objcopy)
        .arg(format!("--prefix-symbols={JIT_PREFIX}"))
        .arg(&lib)
        .status()
        .expect("running llvm-objcopy");
    assert!(status.success(), "llvm-objcopy failed on {}", lib.display());

    use object::read::archive::ArchiveFile;
    use object::{Object, ObjectSymbol};
    let bytes = std::fs::read(&lib).unwrap();
    let archive = ArchiveFile::parse(&*bytes).expect("the JIT runtime archive");
    let mut names = Vec::new();
    for member in archive.members() {
        let member = member.unwrap();
        let data = member.data(&*bytes).unwrap();
        let file = object::File::parse(data).expect("a runtime object");
        for sym in file.symbols() {
            if sym.is_global() && sym.is_definition() {
                let name = sym.name().unwrap();
                let plain = name.strip_prefix(JIT_PREFIX).expect("every global symbol is prefixed");
                names.push(plain.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    let mut rs = String::from(
        "// Generated by runtime-lib/build.rs: the JIT flavour's global symbols.\n\
         unsafe extern \"C\" {\n",
    );
    for (i, n) in names.iter().enumerate() {
        rs += &format!("    #[link_name = \"{JIT_PREFIX}{n}\"]\n    static S{i}: u8;\n");
    }
    rs += "}\n/// Every global symbol of the runtime: (its name in compiled code, its address).\n\
           pub fn symbols() -> Vec<(&'static str, *const u8)> {\n    vec![\n";
    for (i, n) in names.iter().enumerate() {
        rs += &format!("        (\"{n}\", &raw const S{i}),\n");
    }
    rs += "    ]\n}\n";
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=static=kilnrt_jit");
    rs
}
