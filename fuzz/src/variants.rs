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

/// Every `try_table` that has a legacy form with the same meaning becomes
/// that legacy `try`; the others stay (an exnref that stays in wasm has no
/// legacy form). Clauses `catch` and `catch_all` branch on:
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
///
/// Two more shapes, where the exnref goes straight back to `throw_ref`
/// (`handmade_exn` makes them on purpose): call a `block` whose `end` is
/// directly followed by `throw_ref` a *throw_ref block*. Then
/// - `try_table bt (catch_all_ref L) ... end`, its only clause, with `L`
///   a throw_ref block, becomes `try bt ... delegate L`. The original
///   catches everything, leaves every frame up to `L`'s end and throws the
///   same exception again there, i.e. at `L`'s place in `L`'s parent;
///   `delegate L` rethrows it inside block `L` (the labels in between, and
///   their handlers, skipped), from where it leaves `L`, which has no
///   handlers, to the same place;
/// - a clause `catch_ref $t L` (or `catch_all_ref L`) with `L` a throw_ref
///   block and no `try_table` (no handler) between the clause's
///   `try_table` and `L` becomes `catch $t rethrow 0` (or `catch_all
///   rethrow 0`): the same exception leaves the `try` and the plain
///   blocks up to `L` and goes on from `L`'s place, as after the
///   original's branch to `L` and `throw_ref` (the tag's values the
///   branch delivers are left below the exnref, unused).
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

/// An open block of a function body, for [`Kind::Legacy`].
enum Open {
    /// A `block`, `loop` or `if`: no handlers. `throw_ref_block`: a
    /// `block` whose `end` is directly followed by `throw_ref` (see
    /// [`legacy`]).
    Plain { throw_ref_block: bool },
    /// A `try_table` kept as it is: a frame with handlers.
    Handlers,
    /// A `try_table` that became a legacy `try`: its clauses, emitted at
    /// its `end`.
    Try(Vec<LegacyClause>),
    /// A `try_table` that became `try ... delegate L`.
    Delegate(u32),
}

/// A clause of a legacy `try` and its handler: `catch $t` (or
/// `catch_all` for `None`) followed by `br label+1` or `rethrow 0`.
enum LegacyClause {
    Br { tag: Option<u32>, label: u32 },
    Rethrow { tag: Option<u32> },
}

/// The legacy form of a `try_table` with `catches`, in a function whose
/// open blocks (outside the `try_table`) are `open`: `Delegate(L)`,
/// `Try(clauses)`, or `Handlers` if it has none (see [`legacy`]).
fn legacy_form(catches: &[wasmparser::Catch], open: &[Open]) -> Open {
    use wasmparser::Catch;
    // A `block` ending in `throw_ref`, as label `label` of the try_table's
    // clauses (relative to its outside); `None` for the function's label.
    let throw_ref_block = |label: u32| {
        let i = open.len().checked_sub(1 + label as usize)?;
        matches!(open[i], Open::Plain { throw_ref_block: true }).then_some(i)
    };
    // ... and no handlers between the try_table and it.
    let rethrow_target = |label: u32| throw_ref_block(label).is_some_and(|i| open[i + 1..].iter().all(|o| matches!(o, Open::Plain { .. })));
    if let [Catch::AllRef { label }] = catches {
        if throw_ref_block(*label).is_some() {
            return Open::Delegate(*label);
        }
    }
    let mut clauses = Vec::new();
    for c in catches {
        match *c {
            Catch::One { tag, label } => clauses.push(LegacyClause::Br { tag: Some(tag), label }),
            Catch::All { label } => {
                clauses.push(LegacyClause::Br { tag: None, label });
                break;
            }
            Catch::OneRef { tag, label } if rethrow_target(label) => clauses.push(LegacyClause::Rethrow { tag: Some(tag) }),
            Catch::AllRef { label } if rethrow_target(label) => {
                clauses.push(LegacyClause::Rethrow { tag: None });
                break;
            }
            // An exnref that stays in wasm: no legacy form.
            Catch::OneRef { .. } | Catch::AllRef { .. } => return Open::Handlers,
        }
    }
    if clauses.is_empty() {
        Open::Delegate(0)
    } else {
        Open::Try(clauses)
    }
}

impl Reencode for Variant {
    type Error = std::convert::Infallible;

    fn parse_function_body(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        func: wasmparser::FunctionBody<'_>,
    ) -> Result<(), ReError<Self::Error>> {
        use wasmparser::Operator as O;
        let mut f = self.new_function_with_parsed_locals(&func)?;
        let mut reader = func.get_operators_reader()?;
        let mut ops = Vec::new();
        while !reader.eof() {
            ops.push(reader.read()?);
        }
        // For each block's first operator: whether the operator after its
        // `end` is `throw_ref`.
        let mut throw_ref_after = vec![false; ops.len()];
        if self.kind == Kind::Legacy {
            let mut starts = Vec::new();
            for (i, op) in ops.iter().enumerate() {
                match op {
                    O::Block { .. } | O::Loop { .. } | O::If { .. } | O::TryTable { .. } | O::Try { .. } => starts.push(i),
                    O::End | O::Delegate { .. } => {
                        if let Some(s) = starts.pop() {
                            throw_ref_after[s] = matches!(ops.get(i + 1), Some(O::ThrowRef));
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut open: Vec<Open> = Vec::new();
        let mut after_if = false;
        for (i, op) in ops.into_iter().enumerate() {
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
                (Kind::Legacy, O::TryTable { try_table }) => {
                    let form = legacy_form(&try_table.catches, &open);
                    if matches!(form, Open::Handlers) {
                        f.instruction(&self.instruction(O::TryTable { try_table })?);
                    } else {
                        f.instruction(&I::Try(self.block_type(try_table.ty)?));
                    }
                    open.push(form);
                }
                (Kind::Legacy, O::End) => match open.pop() {
                    Some(Open::Delegate(label)) => {
                        f.instruction(&I::Delegate(label));
                    }
                    Some(Open::Try(clauses)) => {
                        for c in clauses {
                            let (tag, then) = match c {
                                LegacyClause::Br { tag, label } => (tag, I::Br(label + 1)),
                                LegacyClause::Rethrow { tag } => (tag, I::Rethrow(0)),
                            };
                            f.instruction(&match tag {
                                Some(t) => I::Catch(t),
                                None => I::CatchAll,
                            });
                            f.instruction(&then);
                        }
                        f.instruction(&I::End);
                    }
                    // A block's end, or the function's (with nothing open).
                    Some(Open::Plain { .. } | Open::Handlers) | None => {
                        f.instruction(&I::End);
                    }
                },
                (Kind::Legacy, op @ (O::Block { .. } | O::Loop { .. } | O::If { .. })) => {
                    open.push(Open::Plain { throw_ref_block: matches!(op, O::Block { .. }) && throw_ref_after[i] });
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

    /// The legacy operators of a module, in order.
    fn legacy_ops(bytes: &[u8]) -> Vec<String> {
        use wasmparser::{Operator as O, Payload};
        let mut out = Vec::new();
        for p in wasmparser::Parser::new(0).parse_all(bytes) {
            let Ok(Payload::CodeSectionEntry(body)) = p else { continue };
            let mut ops = body.get_operators_reader().unwrap();
            while !ops.eof() {
                match ops.read().unwrap() {
                    O::Try { .. } => out.push("try".to_string()),
                    O::TryTable { .. } => out.push("try_table".to_string()),
                    O::Catch { tag_index } => out.push(format!("catch {tag_index}")),
                    O::CatchAll => out.push("catch_all".to_string()),
                    O::Rethrow { relative_depth } => out.push(format!("rethrow {relative_depth}")),
                    O::Delegate { relative_depth } => out.push(format!("delegate {relative_depth}")),
                    _ => {}
                }
            }
        }
        out
    }

    /// `catch_all_ref` to a block ending in `throw_ref` becomes `delegate`
    /// to that block, past the handlers in between; `catch_ref` to one
    /// becomes `rethrow 0`, but not past a handler.
    #[test]
    fn legacy_delegate_and_rethrow() {
        let text = r#"(module
          (tag $t (param i32))
          (func (export "d") (param i32) (result i32)
            (block $dx (result i32)
              (block $dl (result exnref)
                (block $h (result i32)
                  (try_table (result i32) (catch $t $h)
                    (try_table (result i32) (catch_all_ref $dl) (throw $t (local.get 0))))
                  (br $dx))
                (br $dx))
              throw_ref))
          (func (export "r") (param i32) (result i32)
            (block $rx (result i32)
              (block $rl (result i32 exnref)
                (block $h
                  (try_table (result i32) (catch_ref $t $rl) (catch_all $h) (throw $t (local.get 0)))
                  (try_table (result i32) (catch_all $h)
                    (try_table (result i32) (catch_ref $t $rl) (throw $t (local.get 0))))
                  (br $rx (i32.add)))
                (br $rx (i32.const 9)))
              throw_ref drop unreachable)))"#;
        let out = legacy(&wat::parse_str(text).unwrap()).unwrap();
        wasmparser::Validator::new_with_features(features()).validate_all(&out).unwrap();
        assert_eq!(
            legacy_ops(&out),
            [
                // d: the outer try_table is a `try`; the inner one delegates
                // to $dl, two labels out (past $h's handler).
                "try", "try", "delegate 2", "catch 0",
                // r: a clause straight to $rl rethrows; past the second
                // nest's handler it cannot, so that try_table stays.
                "try", "catch 0", "rethrow 0", "catch_all", "try", "try_table", "catch_all",
            ]
        );
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
