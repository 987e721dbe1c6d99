//! Differential and malformed-input fuzzing of Kiln.
//!
//! - [`gen`]: wasm-smith modules of exactly Kiln's feature set
//!   ([`gen::features`], the one place to widen), made to terminate, with
//!   everything exported.
//! - [`plan`]: the driver requests for a module (instantiate, calls with
//!   deterministic arguments, state snapshots after each call).
//! - [`oracle`]: the wasmi interpreter answering the same requests.
//! - [`wasmtime`]: the second oracle, wasmtime (`oracle_wasmtime.py`), for
//!   the modules wasmi cannot run (exceptions, typed function references).
//! - [`variants`]: rewrites reaching what wasm-smith does not generate
//!   (legacy exceptions, typed function references).
//! - [`diff`]: batches of modules in one Kiln test-driver executable per
//!   target, natively or under qemu-user, compared with the oracle.
//! - [`malformed`]: broken inputs for the library and the `kiln` command.
//!
//! Entry points: the `kiln-fuzz` binary (long campaigns) and
//! `tests/smoke.rs` (a short seed-fixed run inside `cargo test`).

pub mod diff;
pub mod gen;
pub mod handmade;
pub mod handmade_exn;
pub mod malformed;
pub mod oracle;
pub mod plan;
pub mod rng;
pub mod variants;
pub mod wasmtime;
