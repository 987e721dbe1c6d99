//! Kiln's runtime, as embedded static archives.
//!
//! The runtime itself is freestanding C in `c/` (see its files' headers);
//! `build.rs` compiles it for every target. This crate only hands the
//! resulting `libkilnrt.a` for a target to the linker step, so the `kiln`
//! binary carries the runtime for all targets inside itself.

/// The static archive of the runtime for the target named `name`
/// (a `kiln_targets::Target::name`), or `None` for an unknown name.
pub fn archive(name: &str) -> Option<&'static [u8]> {
    match name {
        "x86_64" => Some(include_bytes!(concat!(
            env!("OUT_DIR"),
            "/x86_64/exe/libkilnrt.a"
        ))),
        "aarch64" => Some(include_bytes!(concat!(
            env!("OUT_DIR"),
            "/aarch64/exe/libkilnrt.a"
        ))),
        "riscv64" => Some(include_bytes!(concat!(
            env!("OUT_DIR"),
            "/riscv64/exe/libkilnrt.a"
        ))),
        _ => None,
    }
}

/// The embedding flavour of the runtime for the target named `name`
/// (instances created by a host program: `kiln compile --emit lib`).
pub fn embed_archive(name: &str) -> Option<&'static [u8]> {
    match name {
        "x86_64" => Some(include_bytes!(concat!(
            env!("OUT_DIR"),
            "/x86_64/embed/libkilnrt_embed.a"
        ))),
        "aarch64" => Some(include_bytes!(concat!(
            env!("OUT_DIR"),
            "/aarch64/embed/libkilnrt_embed.a"
        ))),
        "riscv64" => Some(include_bytes!(concat!(
            env!("OUT_DIR"),
            "/riscv64/embed/libkilnrt_embed.a"
        ))),
        _ => None,
    }
}

/// The executable runtime linked into this very program, for `kiln run`:
/// built for the architecture this crate is compiled for, with every
/// global symbol renamed (`kilnjit_` prefix) so that its `memcpy` and
/// friends never replace the C library's (see build.rs, `jit_flavour`).
pub mod jit {
    include!(concat!(env!("OUT_DIR"), "/jit_symbols.rs"));

    /// The address of the runtime symbol compiled code calls `name`.
    pub fn symbol(name: &str) -> Option<*const u8> {
        // Addresses as integers: raw pointers are not `Sync`.
        static BY_NAME: std::sync::OnceLock<std::collections::HashMap<&'static str, usize>> = std::sync::OnceLock::new();
        let map = BY_NAME.get_or_init(|| symbols().into_iter().map(|(n, p)| (n, p as usize)).collect());
        map.get(name).map(|&p| p as *const u8)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_target_has_a_runtime() {
        for t in kiln_targets::TARGETS {
            for a in [
                super::archive(t.name).expect("archive"),
                super::embed_archive(t.name).expect("embed archive"),
            ] {
                assert!(
                    a.starts_with(b"!<arch>\n"),
                    "{} runtime is not an ar archive",
                    t.name
                );
            }
        }
    }
}
