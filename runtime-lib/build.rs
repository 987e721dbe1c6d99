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
    // Two flavours per target: executables (`libkilnrt.a`: process start-up
    // and the test driver) and embeddings (`libkilnrt_embed.a`, built with
    // KILN_EMBED: instances created by the host, see c/embed.c).
    let is = |p: &PathBuf, names: &[&str]| names.iter().any(|n| p.file_name().unwrap() == *n);
    let exe_only = ["start.c", "driver.c"];
    let embed_only = ["embed.c"];

    for t in kiln_targets::TARGETS {
        for embed in [false, true] {
            let common: Vec<&PathBuf> = all
                .iter()
                .filter(|p| !is(p, if embed { &exe_only } else { &embed_only }))
                .collect();
            let tdir = out.join(t.name).join(if embed { "embed" } else { "exe" });
            std::fs::create_dir_all(&tdir).unwrap();
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
                .out_dir(&tdir)
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
            if embed {
                // Hosts may be position-independent executables or shared
                // libraries.
                build.flag("-fPIC").define("KILN_EMBED", None);
            } else {
                // Position-independent code: -g executables are linked above
                // 4 GiB (their low 4 GiB mirror linear memory), where x86-64's
                // default absolute 32-bit addressing cannot reach.
                build.flag("-fPIE");
            }
            for f in t.clang_flags {
                build.flag(f);
            }
            for s in &common {
                build.file(s);
            }
            build.file(arch.join("arch.c"));
            build.compile(if embed { "kilnrt_embed" } else { "kilnrt" });
        }
    }
}
