//! Rewrites of generated modules that reach instructions wasm-smith does
//! not generate (see `gen::Profile`):
//! - [`func_refs`]: typed function references. wasm-smith generates them
//!   only together with GC, which Kiln does not compile, so direct calls
//!   become calls through a typed reference. Both Kiln and the oracle run
//!   the rewritten module; the rewrite need only keep it valid.
//! - [`legacy`]: legacy exception handling (`try`, `catch`, `catch_all`,
//!   `delegate`), which wasmtime does not run. Each `try_table` becomes a
//!   legacy `try` with the same meaning, so Kiln runs the legacy form and
//!   the oracle the original: the rewrite must keep the module's meaning,
//!   and does so by construction (below).

use wasm_encoder::reencode::{Error as ReError, Reencode};
use wasm_encoder::Instruction as I;

/// Every direct call of an exported function (all of a generated module's
/// own functions; not `gen::rewrite`'s unexported helpers) becomes
/// `ref.func f; call_ref $type` (`return_call` becomes `return_call_ref`),
/// with `ref.as_non_null` in between for every other callee: the typed,
/// non-null reference `(ref $type)` flows through the operand stack. An
/// export makes `ref.func` valid without an element segment.
pub fn func_refs(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut r = Variant::new(bytes, Kind::FuncRefs)?;
    let mut module = wasm_encoder::Module::new();
    r.parse_core_module(&mut module, wasmparser::Parser::new(0), bytes).map_err(|e| format!("func_refs: {e:?}"))?;
    Ok(module.finish())
}

/// Every `try_table` whose clauses are all `catch` and `catch_all` becomes
/// a legacy `try` (ones with `catch_ref`/`catch_all_ref` stay: an exnref
/// has no legacy form):
///
/// ```text
/// try_table bt (catch $t L) (catch_all M) ... end
///   ==>  try bt ... catch $t br L+1 catch_all br M+1 end
/// ```
///
/// A clause's handler receives the tag's values, as the label of a
/// `try_table` clause does, and branches on: the `try` is one more label
/// between the handler and the target, hence `L+1`. Both pick the first
/// matching clause; clauses after a `catch_all` can never match and are
/// dropped (legacy `catch_all` must come last). A `try_table` with no
/// clause becomes `try bt ... delegate 0`: delegating to the innermost
/// enclosing label passes the exception on exactly as no handler would.
pub fn legacy(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut r = Variant::new(bytes, Kind::Legacy)?;
    let mut module = wasm_encoder::Module::new();
    r.parse_core_module(&mut module, wasmparser::Parser::new(0), bytes).map_err(|e| format!("legacy: {e:?}"))?;
    Ok(module.finish())
}

/// Every other `unreachable` becomes `throw $t` of a tag without values,
/// if the module has one (both are stack-polymorphic, so the module stays
/// valid): wasm-smith throws rarely, since `throw` needs its tag's values
/// on the stack, but places many an `unreachable`. Not the fuel check's
/// (`if unreachable end`, from `ensure_termination`): running out of fuel
/// must stay a trap no handler can catch. Both sides run the result.
pub fn throws(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut r = Variant::new(bytes, Kind::Throws)?;
    if r.empty_tags.is_empty() {
        return Ok(bytes.to_vec());
    }
    let mut module = wasm_encoder::Module::new();
    r.parse_core_module(&mut module, wasmparser::Parser::new(0), bytes).map_err(|e| format!("throws: {e:?}"))?;
    Ok(module.finish())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    FuncRefs,
    Legacy,
    Throws,
}

struct Variant {
    kind: Kind,
    /// Type index of each function (generated modules import nothing).
    func_types: Vec<u32>,
    /// Whether each function is exported.
    exported: Vec<bool>,
    /// Tags whose exceptions carry no values.
    empty_tags: Vec<u32>,
    /// `unreachable`s seen so far.
    unreachables: u32,
}

impl Variant {
    fn new(bytes: &[u8], kind: Kind) -> Result<Variant, String> {
        let mut v = Variant { kind, func_types: Vec::new(), exported: Vec::new(), empty_tags: Vec::new(), unreachables: 0 };
        let mut empty_types = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            match payload.map_err(|e| e.to_string())? {
                wasmparser::Payload::ImportSection(r) if r.count() > 0 => return Err("module has imports".into()),
                wasmparser::Payload::TypeSection(r) => {
                    for t in r.into_iter_err_on_gc_types() {
                        empty_types.push(t.map_err(|e| e.to_string())?.params().is_empty());
                    }
                }
                wasmparser::Payload::TagSection(r) => {
                    for (i, t) in r.into_iter().enumerate() {
                        let t = t.map_err(|e| e.to_string())?;
                        if empty_types.get(t.func_type_idx as usize) == Some(&true) {
                            v.empty_tags.push(i as u32);
                        }
                    }
                }
                wasmparser::Payload::FunctionSection(r) => {
                    for t in r {
                        v.func_types.push(t.map_err(|e| e.to_string())?);
                    }
                    v.exported = vec![false; v.func_types.len()];
                }
                wasmparser::Payload::ExportSection(r) => {
                    for e in r {
                        let e = e.map_err(|e| e.to_string())?;
                        if e.kind == wasmparser::ExternalKind::Func {
                            if let Some(x) = v.exported.get_mut(e.index as usize) {
                                *x = true;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(v)
    }
}

/// An open block of a function body, for [`Kind::Legacy`]: the clauses of
/// a `try_table` that became a `try`, emitted at its `end`.
enum Open {
    Other,
    Try(Vec<wasmparser::Catch>),
}

impl Reencode for Variant {
    type Error = std::convert::Infallible;

    fn parse_function_body(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        func: wasmparser::FunctionBody<'_>,
    ) -> Result<(), ReError<Self::Error>> {
        use wasmparser::{Catch, Operator as O};
        let mut f = self.new_function_with_parsed_locals(&func)?;
        let mut ops = func.get_operators_reader()?;
        let mut open: Vec<Open> = Vec::new();
        let mut after_if = false;
        while !ops.eof() {
            let op = ops.read()?;
            let was_after_if = std::mem::replace(&mut after_if, matches!(op, O::If { .. }));
            match (self.kind, op) {
                (Kind::Throws, O::Unreachable) if !was_after_if => {
                    self.unreachables += 1;
                    if self.unreachables % 2 == 1 {
                        let n = self.empty_tags.len() as u32;
                        f.instruction(&I::Throw(self.empty_tags[(self.unreachables / 2 % n) as usize]));
                    } else {
                        f.instruction(&I::Unreachable);
                    }
                }
                (Kind::FuncRefs, ref call @ (O::Call { function_index: x } | O::ReturnCall { function_index: x }))
                    if self.exported.get(x as usize) == Some(&true) =>
                {
                    let tail = matches!(call, O::ReturnCall { .. });
                    let ty = self.func_types[x as usize];
                    f.instruction(&I::RefFunc(x));
                    if x % 2 == 1 {
                        f.instruction(&I::RefAsNonNull);
                    }
                    f.instruction(&if tail { I::ReturnCallRef(ty) } else { I::CallRef(ty) });
                }
                (Kind::Legacy, O::TryTable { try_table })
                    if try_table.catches.iter().all(|c| matches!(c, Catch::One { .. } | Catch::All { .. })) =>
                {
                    let mut clauses = Vec::new();
                    for c in try_table.catches {
                        let all = matches!(c, Catch::All { .. });
                        clauses.push(c);
                        if all {
                            break;
                        }
                    }
                    f.instruction(&I::Try(self.block_type(try_table.ty)?));
                    open.push(Open::Try(clauses));
                }
                (Kind::Legacy, O::End) => match open.pop() {
                    Some(Open::Try(clauses)) if clauses.is_empty() => {
                        f.instruction(&I::Delegate(0));
                    }
                    Some(Open::Try(clauses)) => {
                        for c in clauses {
                            match c {
                                Catch::One { tag, label } => {
                                    f.instruction(&I::Catch(tag));
                                    f.instruction(&I::Br(label + 1));
                                }
                                Catch::All { label } => {
                                    f.instruction(&I::CatchAll);
                                    f.instruction(&I::Br(label + 1));
                                }
                                // Not converted (see `legacy`).
                                Catch::OneRef { .. } | Catch::AllRef { .. } => {}
                            }
                        }
                        f.instruction(&I::End);
                    }
                    // A block's end, or the function's (with nothing open).
                    Some(Open::Other) | None => {
                        f.instruction(&I::End);
                    }
                },
                (Kind::Legacy, op @ (O::Block { .. } | O::Loop { .. } | O::If { .. } | O::TryTable { .. })) => {
                    open.push(Open::Other);
                    f.instruction(&self.instruction(op)?);
                }
                (_, op) => {
                    f.instruction(&self.instruction(op)?);
                }
            }
        }
        code.function(&f);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features() -> wasmparser::WasmFeatures {
        crate::gen::wasmtime_features() | wasmparser::WasmFeatures::LEGACY_EXCEPTIONS
    }

    #[test]
    fn legacy_form_of_try_tables() {
        let text = r#"(module
          (tag $t (param i32))
          (func (export "f") (param i32) (result i32)
            (block $h (result i32)
              (block $a
                (try_table (catch $t $h) (catch_all $a) (catch $t $h)
                  (try_table (throw $t (local.get 0))))
                (return (i32.const 7)))
              (i32.const 8)))
          (func (export "g") (result exnref)
            (block $r (result exnref) (try_table (catch_all_ref $r) (throw $t (i32.const 1))) (ref.null exn))))"#;
        let out = legacy(&wat::parse_str(text).unwrap()).unwrap();
        wasmparser::Validator::new_with_features(features()).validate_all(&out).unwrap();
        let wat = wasmprinter::print_bytes(&out).unwrap();
        assert!(wat.contains("delegate 0"), "{wat}");
        assert_eq!(wat.matches("catch_all").count(), 2, "{wat}"); // one converted, one catch_all_ref kept
        assert_eq!(wat.matches("try_table").count(), 1, "{wat}");
        assert!(!wat.contains("catch 0\n          br 3"), "the clause after catch_all is dropped: {wat}");
    }

    #[test]
    fn throws_replace_unreachable_but_not_the_fuel_check() {
        let text = r#"(module
          (tag $v (param i32)) (tag $e)
          (func (export "a") (if (i32.const 0) (then unreachable)) unreachable)
          (func (export "b") unreachable))"#;
        let out = throws(&wat::parse_str(text).unwrap()).unwrap();
        wasmparser::Validator::new_with_features(features()).validate_all(&out).unwrap();
        let wat = wasmprinter::print_bytes(&out).unwrap();
        // The tag is printed by name or by index, depending on whether the
        // rewrite kept the name section.
        assert_eq!(wat.matches("throw $e").count() + wat.matches("throw 1").count(), 1, "{wat}");
        assert_eq!(wat.matches("unreachable").count(), 2, "{wat}");
    }

    #[test]
    fn func_refs_keep_modules_valid() {
        let text = r#"(module
          (func $a (export "a") (param i32) (result i32) local.get 0)
          (func $b (export "b") (param i32) (result i32) local.get 0 call $a)
          (func (export "c") (param i32) (result i32) local.get 0 return_call $b))"#;
        let out = func_refs(&wat::parse_str(text).unwrap()).unwrap();
        wasmparser::Validator::new_with_features(features()).validate_all(&out).unwrap();
        let wat = wasmprinter::print_bytes(&out).unwrap();
        assert!(wat.contains("call_ref") && wat.contains("return_call_ref") && wat.contains("ref.as_non_null"), "{wat}");
    }
}
