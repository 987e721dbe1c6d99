//! Compiles `testsuite/embed/calc.wat` into `libcalc.a` and its Rust
//! bindings `calc.rs` in OUT_DIR, for the target Cargo builds for.
fn main() {
    kiln::Build::new().file("../embed/calc.wat").compile("calc");
}
