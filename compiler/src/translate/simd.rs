//! Translation of the SIMD operators: the `simd` proposal (part of Wasm
//! 2.0, 236 operators) and `relaxed-simd` (Wasm 3.0, 20 operators).
//!
//! `mod.rs` keeps the one dispatch `match`; every operator it does not
//! handle itself comes here through [`FuncTranslator::simd_operator`],
//! which reports anything that is not SIMD as unsupported.
//!
//! # Lane types and lane order
//!
//! Wasm's `v128` is untyped; CLIF vectors are typed. Kiln represents every
//! `v128` that crosses an operator boundary (the value stack, locals, block
//! parameters, globals, signatures) as `I8X16` (`clif_type` in
//! `func_env.rs`). An operator views its operands in the lane type it works
//! on (`I32X4` for `i32x4.add`, `F64X2` for `f64x2.mul`, ...) through
//! [`FuncTranslator::as_lanes`], and its result goes back to `I8X16` through
//! the same helper. That helper is the only place that emits a `bitcast`
//! between vector types. It emits none when the type already matches and
//! looks through its own casts, so a chain of `i32x4` operators passes the
//! `I32X4` values themselves along; every cast it does emit is a pure
//! instruction of one form, so GVN merges repeated views of one value; and
//! the backends emit no instruction for a bitcast between vector types.
//!
//! Lane order: wasm numbers lanes from the lowest memory address (lane 0 of
//! an `i32x4` is bytes 0..4 of the `v128`, little-endian within the lane).
//! All of Kiln's targets are little-endian and Cranelift's vector lane 0 is
//! the lowest-addressed lane of a little-endian load, so wasm lane `n` is
//! CLIF lane `n` for every shape, and byte `k` of the `v128` is lane `k` of
//! the `I8X16`. The bitcasts carry an explicit little-endian flag because
//! Cranelift defines a bitcast between vectors of different lane counts as
//! a reinterpretation of the in-memory byte image, whose lane order depends
//! on endianness; with the flag stated, the meaning is fixed whatever the
//! target. Memory accesses use `heap_flags` (little-endian) as scalar ones
//! do, so `v128.load` followed by `i32x4.extract_lane 1` reads bytes 4..8.
//!
//! # Memory
//!
//! Every SIMD load and store computes its address with `heap_addr` and
//! accesses memory with `heap_flags`, exactly as scalar accesses do, so
//! the guard-region argument in `heap.rs` covers them: the widest access is
//! 16 bytes (`v128.load`/`v128.store`), which that argument includes.
//!
//! # Relaxed SIMD: deterministic lowerings
//!
//! Relaxed operators let an implementation pick, per operator, one of a few
//! results. Kiln always picks the choice the Wasm 3.0 spec prescribes for
//! its *deterministic profile* (every relaxation parameter is 0; see
//! `document/core/exec/numerics.rst`, "Relaxed Operations"), so a module
//! gives the same bits on x86-64 (any `--cpu`), aarch64 and riscv64.
//! `--cpu` changes only which instructions implement these results, never
//! the results.
//!
//! | operator | deterministic result | CLIF |
//! |---|---|---|
//! | `i8x16.relaxed_swizzle` | `i8x16.swizzle` (index >= 16 gives 0) | `swizzle` |
//! | `i32x4.relaxed_trunc_f32x4_{s,u}` | `i32x4.trunc_sat_f32x4_{s,u}` | `fcvt_to_{s,u}int_sat` |
//! | `i32x4.relaxed_trunc_f64x2_{s,u}_zero` | `i32x4.trunc_sat_f64x2_{s,u}_zero` | as the non-relaxed operator |
//! | `f32x4/f64x2.relaxed_madd` | unfused: `fadd(fmul(a, b), c)`, two roundings | `fmul`, `fadd` |
//! | `f32x4/f64x2.relaxed_nmadd` | unfused: `fadd(fmul(-a, b), c)` | `fneg`, `fmul`, `fadd` |
//! | `iNxM.relaxed_laneselect` | `v128.bitselect` (every mask bit counts) | `bitselect` |
//! | `f32x4/f64x2.relaxed_{min,max}` | `f32x4.min`/`max` (NaN-propagating, -0 < +0) | `fmin`/`fmax` |
//! | `i16x8.relaxed_q15mulr_s` | `i16x8.q15mulr_sat_s` (saturates -1 * -1) | `sqmul_round_sat` |
//! | `i16x8.relaxed_dot_i8x16_i7x16_s` | signed x signed products, pairs added with signed saturation (`ivdotsat`) | widen, `imul`, widen, `iadd_pairwise`, `snarrow` |
//! | `i32x4.relaxed_dot_i8x16_i7x16_add_s` | the i16x8 result above, pairs widened and added, plus `c` | as above, then `iadd_pairwise`, `iadd` |
//!
//! Notes on the choices:
//! - Madd is *unfused* because that is what the deterministic profile
//!   prescribes (`relaxed(R_fmadd)[fadd(fmul(..)), fma(..)]` with R = 0).
//!   It also needs no FMA instruction: x86-64 before v3 has none, and
//!   Cranelift would lower `fma` there to calls of libm's `fmaf`/`fma`.
//!   Cranelift never fuses an `fmul` feeding an `fadd` on its own, so the
//!   two roundings happen on every target, `--cpu x86-64-v3` included.
//!   (Wasmtime's deterministic mode fuses instead, so results of these
//!   two operators can differ from wasmtime's in the last bit.)
//! - The i16x8 dot product saturates the sum of each pair of products, as
//!   `ivdotsat` says; only `-128 * -128 + -128 * -128` (32768) is affected.
//!   Wasmtime's deterministic mode wraps there instead (-32768). The i32x4
//!   dot-add is defined on top of that saturated i16x8 result.

use super::FuncTranslator;
use cranelift_codegen::ir::{
    condcodes::FloatCC, condcodes::IntCC, types, ConstantData, Endianness, InstBuilder, MemFlagsData, Opcode, Type,
    Value, ValueDef,
};
use cranelift_frontend::FunctionBuilder;
use types::{F32X4, F64X2, I16X8, I32X4, I64X2, I8X16};
use wasmparser::{MemArg, Operator};

/// The CLIF type of a wasm `v128` everywhere outside one operator.
pub const V128: Type = I8X16;

/// Flags for a bitcast between vector types: little-endian lane order (see
/// the module comment).
fn lane_order() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

impl<'b> FuncTranslator<'b, '_, '_> {
    /// Views vector `v` with lane type `ty`. The only place that casts
    /// between vector types. It emits nothing when `v` already has type
    /// `ty`, and looks through a cast it made earlier: viewing
    /// `bitcast.i8x16 x` as the type of `x` is `x` itself (both casts use
    /// the same lane order, so the round trip is the identity).
    pub(super) fn as_lanes(&mut self, v: Value, ty: Type) -> Value {
        let dfg = &self.b.func.dfg;
        if dfg.value_type(v) == ty {
            return v;
        }
        if let ValueDef::Result(inst, _) = dfg.value_def(v) {
            let data = &dfg.insts[inst];
            if data.opcode() == Opcode::Bitcast && data.memflags_data(dfg) == Some(lane_order()) {
                let x = dfg.inst_args(inst)[0];
                if dfg.value_type(x) == ty {
                    return x;
                }
            }
        }
        self.b.ins().bitcast(ty, lane_order(), v)
    }

    /// Pops a `v128` and views it with lane type `ty`.
    fn pop_lanes(&mut self, ty: Type) -> Value {
        let v = self.pop1();
        self.as_lanes(v, ty)
    }

    fn pop2_lanes(&mut self, ty: Type) -> (Value, Value) {
        let b = self.pop_lanes(ty);
        let a = self.pop_lanes(ty);
        (a, b)
    }

    fn pop3_lanes(&mut self, ty: Type) -> (Value, Value, Value) {
        let c = self.pop_lanes(ty);
        let (a, b) = self.pop2_lanes(ty);
        (a, b, c)
    }

    /// Pushes a vector of any lane type as a `v128`.
    fn push_v128(&mut self, v: Value) {
        let v = self.as_lanes(v, V128);
        self.push(v);
    }

    /// A `v128` constant from its 16 bytes, lane 0 first.
    pub(super) fn v128_const(&mut self, bytes: &[u8]) -> Value {
        let c = self.b.func.dfg.constants.insert(ConstantData::from(bytes));
        self.b.ins().vconst(V128, c)
    }

    fn vunop(&mut self, ty: Type, f: impl FnOnce(&mut FunctionBuilder<'b>, Value) -> Value) {
        let a = self.pop_lanes(ty);
        let v = f(&mut self.b, a);
        self.push_v128(v);
    }

    fn vbinop(&mut self, ty: Type, f: impl FnOnce(&mut FunctionBuilder<'b>, Value, Value) -> Value) {
        let (a, b) = self.pop2_lanes(ty);
        let v = f(&mut self.b, a, b);
        self.push_v128(v);
    }

    /// Lane-wise integer comparison: all ones in lanes where it holds.
    fn vicmp(&mut self, ty: Type, cc: IntCC) {
        self.vbinop(ty, |b, x, y| b.ins().icmp(cc, x, y));
    }

    /// Lane-wise float comparison: all ones in lanes where it holds.
    fn vfcmp(&mut self, ty: Type, cc: FloatCC) {
        self.vbinop(ty, |b, x, y| b.ins().fcmp(cc, x, y));
    }

    /// Shifts: the amount is an i32 taken modulo the lane width, which is
    /// how Cranelift defines vector shifts too.
    fn vshift(&mut self, ty: Type, f: impl FnOnce(&mut FunctionBuilder<'b>, Value, Value) -> Value) {
        let amount = self.pop1();
        let a = self.pop_lanes(ty);
        let v = f(&mut self.b, a, amount);
        self.push_v128(v);
    }

    /// A boolean reduction (`any_true`, `all_true`) as an i32 0 or 1.
    fn vtest(&mut self, ty: Type, f: impl FnOnce(&mut FunctionBuilder<'b>, Value) -> Value) {
        let a = self.pop_lanes(ty);
        let t = f(&mut self.b, a);
        let v = self.bool_to_i32(t);
        self.push(v);
    }

    /// `extmul_{low,high}`: both operands widened the same way, then
    /// multiplied in the wide lane type (exact: the product fits).
    fn vextmul(&mut self, ty: Type, widen: impl Fn(&mut FunctionBuilder<'b>, Value) -> Value) {
        let (a, b) = self.pop2_lanes(ty);
        let wa = widen(&mut self.b, a);
        let wb = widen(&mut self.b, b);
        let v = self.b.ins().imul(wa, wb);
        self.push_v128(v);
    }

    /// `extadd_pairwise`: the lanes widened, then adjacent pairs added
    /// (exact in the wide type).
    fn extadd_pairwise(&mut self, a: Value, signed: bool) -> Value {
        let (lo, hi) = if signed {
            (self.b.ins().swiden_low(a), self.b.ins().swiden_high(a))
        } else {
            (self.b.ins().uwiden_low(a), self.b.ins().uwiden_high(a))
        };
        self.b.ins().iadd_pairwise(lo, hi)
    }

    /// Signed products of corresponding lanes of two vectors, widened to
    /// twice the lane width (so they are exact): the low and high halves.
    fn signed_products(&mut self, a: Value, b: Value) -> (Value, Value) {
        let (alo, blo) = (self.b.ins().swiden_low(a), self.b.ins().swiden_low(b));
        let lo = self.b.ins().imul(alo, blo);
        let (ahi, bhi) = (self.b.ins().swiden_high(a), self.b.ins().swiden_high(b));
        let hi = self.b.ins().imul(ahi, bhi);
        (lo, hi)
    }

    /// The zero vector of type `ty`, as a `vconst` of that type (not a
    /// cast of one): backends match `snarrow(fcvt_to_sint_sat(x), 0)` and
    /// `uunarrow(fcvt_to_uint_sat(x), 0)` as one conversion.
    fn vzero(&mut self, ty: Type) -> Value {
        let c = self.b.func.dfg.constants.insert(ConstantData::from(&[0u8; 16][..]));
        self.b.ins().vconst(ty, c)
    }

    /// `f32x4.pmin`/`pmax` and friends: `b` where `pick(a, b)` holds, else
    /// `a`, exactly as the spec's `fpmin`/`fpmax` (no NaN or zero-sign
    /// rules).
    fn pseudo_minmax(&mut self, ty: Type, max: bool) {
        let (a, b) = self.pop2_lanes(ty);
        // pmin(a, b) = b < a ? b : a;   pmax(a, b) = a < b ? b : a.
        let take_b = if max { self.b.ins().fcmp(FloatCC::LessThan, a, b) } else { self.b.ins().fcmp(FloatCC::LessThan, b, a) };
        let mask = self.as_lanes(take_b, ty);
        let v = self.b.ins().bitselect(mask, b, a);
        self.push_v128(v);
    }

    /// `i32x4.trunc_sat_f64x2_{s,u}_zero`: the two lanes converted with
    /// saturation, then two zero lanes. The i64 results already lie within
    /// the i32 (u32) range, so the saturating narrow only repacks them.
    fn trunc_sat_f64x2_zero(&mut self, signed: bool) {
        let a = self.pop_lanes(F64X2);
        let zero = self.vzero(I64X2);
        let v = if signed {
            let w = self.b.ins().fcvt_to_sint_sat(I64X2, a);
            self.b.ins().snarrow(w, zero)
        } else {
            let w = self.b.ins().fcvt_to_uint_sat(I64X2, a);
            self.b.ins().uunarrow(w, zero)
        };
        self.push_v128(v);
    }

    /// The deterministic `i16x8.relaxed_dot_i8x16_i7x16_s` of two i8x16
    /// vectors: signed products, adjacent pairs added with signed
    /// saturation to i16 (`ivdotsat`). The pair sums are formed exactly in
    /// i32 and narrowed with saturation.
    fn relaxed_dot_i16x8(&mut self, a: Value, b: Value) -> Value {
        let (lo, hi) = self.signed_products(a, b);
        let sums_lo = self.extadd_pairwise(lo, true);
        let sums_hi = self.extadd_pairwise(hi, true);
        self.b.ins().snarrow(sums_lo, sums_hi)
    }

    /// A SIMD load of `ty` (a vector type, or a lane type for the splat,
    /// zero and lane loads) through the scalar heap path: `heap_addr` for
    /// the address, `heap_flags` for the access.
    fn heap_load(&mut self, memarg: &MemArg, ty: Type) -> Value {
        let index = self.pop1();
        let (addr, off) = self.heap_addr(memarg, index, ty.bytes());
        let f = self.heap_flags();
        self.b.ins().load(ty, f, addr, off)
    }

    /// `v128.loadNxM_{s,u}`: 8 bytes, each lane widened.
    fn heap_load_extend(
        &mut self,
        memarg: &MemArg,
        f: impl FnOnce(&mut FunctionBuilder<'b>, MemFlagsData, Value, i32) -> Value,
    ) {
        let index = self.pop1();
        let (addr, off) = self.heap_addr(memarg, index, 8);
        let flags = self.heap_flags();
        let v = f(&mut self.b, flags, addr, off);
        self.push_v128(v);
    }

    /// `v128.loadN_lane`: the vector is on top of the address.
    fn load_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) {
        let vector = self.pop_lanes(ty);
        let x = self.heap_load(memarg, ty.lane_type());
        let v = self.b.ins().insertlane(vector, x, lane);
        self.push_v128(v);
    }

    /// `v128.storeN_lane`: stores one lane, `N / 8` bytes.
    fn store_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) {
        let vector = self.pop_lanes(ty);
        let x = self.b.ins().extractlane(vector, lane);
        let index = self.pop1();
        let (addr, off) = self.store_addr(memarg, index, ty.lane_type().bytes());
        let f = self.heap_flags();
        self.b.ins().store(f, x, addr, off);
    }

    fn load_splat(&mut self, memarg: &MemArg, ty: Type) {
        let x = self.heap_load(memarg, ty.lane_type());
        let v = self.b.ins().splat(ty, x);
        self.push_v128(v);
    }

    /// `v128.load{32,64}_zero`: the scalar in lane 0, zeros above.
    fn load_zero(&mut self, memarg: &MemArg, ty: Type) {
        let x = self.heap_load(memarg, ty.lane_type());
        let v = self.b.ins().scalar_to_vector(ty, x);
        self.push_v128(v);
    }

    fn extract_lane(&mut self, ty: Type, lane: u8, extend: Option<bool>) {
        let vector = self.pop_lanes(ty);
        let x = self.b.ins().extractlane(vector, lane);
        let v = match extend {
            Some(true) => self.b.ins().sextend(types::I32, x),
            Some(false) => self.b.ins().uextend(types::I32, x),
            None => x,
        };
        self.push(v);
    }

    fn replace_lane(&mut self, ty: Type, lane: u8) {
        let x = self.pop1();
        let vector = self.pop_lanes(ty);
        // i8 and i16 lanes take the low bits of an i32 operand.
        let x = if ty.lane_type() != self.b.func.dfg.value_type(x) { self.b.ins().ireduce(ty.lane_type(), x) } else { x };
        let v = self.b.ins().insertlane(vector, x, lane);
        self.push_v128(v);
    }

    fn splat(&mut self, ty: Type) {
        let x = self.pop1();
        let x = if ty.lane_type() != self.b.func.dfg.value_type(x) { self.b.ins().ireduce(ty.lane_type(), x) } else { x };
        let v = self.b.ins().splat(ty, x);
        self.push_v128(v);
    }

    /// Translates one SIMD or relaxed-SIMD operator. Anything else reaching
    /// this point is an operator Kiln does not implement.
    pub(super) fn simd_operator(&mut self, op: &Operator) -> Result<(), String> {
        use Operator::*;
        match *op {
            // ---------------------------------------------------------------
            // Memory
            // ---------------------------------------------------------------
            V128Load { ref memarg } => {
                let v = self.heap_load(memarg, V128);
                self.push(v);
            }
            V128Store { ref memarg } => self.store(memarg, 0),
            V128Load8x8S { ref memarg } => self.heap_load_extend(memarg, |b, f, p, o| b.ins().sload8x8(f, p, o)),
            V128Load8x8U { ref memarg } => self.heap_load_extend(memarg, |b, f, p, o| b.ins().uload8x8(f, p, o)),
            V128Load16x4S { ref memarg } => self.heap_load_extend(memarg, |b, f, p, o| b.ins().sload16x4(f, p, o)),
            V128Load16x4U { ref memarg } => self.heap_load_extend(memarg, |b, f, p, o| b.ins().uload16x4(f, p, o)),
            V128Load32x2S { ref memarg } => self.heap_load_extend(memarg, |b, f, p, o| b.ins().sload32x2(f, p, o)),
            V128Load32x2U { ref memarg } => self.heap_load_extend(memarg, |b, f, p, o| b.ins().uload32x2(f, p, o)),
            V128Load8Splat { ref memarg } => self.load_splat(memarg, I8X16),
            V128Load16Splat { ref memarg } => self.load_splat(memarg, I16X8),
            V128Load32Splat { ref memarg } => self.load_splat(memarg, I32X4),
            V128Load64Splat { ref memarg } => self.load_splat(memarg, I64X2),
            V128Load32Zero { ref memarg } => self.load_zero(memarg, I32X4),
            V128Load64Zero { ref memarg } => self.load_zero(memarg, I64X2),
            V128Load8Lane { ref memarg, lane } => self.load_lane(memarg, I8X16, lane),
            V128Load16Lane { ref memarg, lane } => self.load_lane(memarg, I16X8, lane),
            V128Load32Lane { ref memarg, lane } => self.load_lane(memarg, I32X4, lane),
            V128Load64Lane { ref memarg, lane } => self.load_lane(memarg, I64X2, lane),
            V128Store8Lane { ref memarg, lane } => self.store_lane(memarg, I8X16, lane),
            V128Store16Lane { ref memarg, lane } => self.store_lane(memarg, I16X8, lane),
            V128Store32Lane { ref memarg, lane } => self.store_lane(memarg, I32X4, lane),
            V128Store64Lane { ref memarg, lane } => self.store_lane(memarg, I64X2, lane),

            // ---------------------------------------------------------------
            // Constants, lanes, shuffles and splats
            // ---------------------------------------------------------------
            V128Const { value } => {
                let v = self.v128_const(value.bytes());
                self.push(v);
            }
            I8x16Shuffle { lanes } => {
                let (a, b) = self.pop2_lanes(I8X16);
                let mask = self.b.func.dfg.immediates.push(ConstantData::from(&lanes[..]));
                let v = self.b.ins().shuffle(a, b, mask);
                self.push_v128(v);
            }
            // Indices >= 16 select 0, as in wasm.
            I8x16Swizzle => self.vbinop(I8X16, |b, x, y| b.ins().swizzle(x, y)),
            I8x16ExtractLaneS { lane } => self.extract_lane(I8X16, lane, Some(true)),
            I8x16ExtractLaneU { lane } => self.extract_lane(I8X16, lane, Some(false)),
            I16x8ExtractLaneS { lane } => self.extract_lane(I16X8, lane, Some(true)),
            I16x8ExtractLaneU { lane } => self.extract_lane(I16X8, lane, Some(false)),
            I32x4ExtractLane { lane } => self.extract_lane(I32X4, lane, None),
            I64x2ExtractLane { lane } => self.extract_lane(I64X2, lane, None),
            F32x4ExtractLane { lane } => self.extract_lane(F32X4, lane, None),
            F64x2ExtractLane { lane } => self.extract_lane(F64X2, lane, None),
            I8x16ReplaceLane { lane } => self.replace_lane(I8X16, lane),
            I16x8ReplaceLane { lane } => self.replace_lane(I16X8, lane),
            I32x4ReplaceLane { lane } => self.replace_lane(I32X4, lane),
            I64x2ReplaceLane { lane } => self.replace_lane(I64X2, lane),
            F32x4ReplaceLane { lane } => self.replace_lane(F32X4, lane),
            F64x2ReplaceLane { lane } => self.replace_lane(F64X2, lane),
            I8x16Splat => self.splat(I8X16),
            I16x8Splat => self.splat(I16X8),
            I32x4Splat => self.splat(I32X4),
            I64x2Splat => self.splat(I64X2),
            F32x4Splat => self.splat(F32X4),
            F64x2Splat => self.splat(F64X2),

            // ---------------------------------------------------------------
            // Bitwise operations and boolean reductions
            // ---------------------------------------------------------------
            V128Not => self.vunop(V128, |b, x| b.ins().bnot(x)),
            V128And => self.vbinop(V128, |b, x, y| b.ins().band(x, y)),
            V128AndNot => self.vbinop(V128, |b, x, y| b.ins().band_not(x, y)),
            V128Or => self.vbinop(V128, |b, x, y| b.ins().bor(x, y)),
            V128Xor => self.vbinop(V128, |b, x, y| b.ins().bxor(x, y)),
            V128Bitselect => {
                // wasm: (v1, v2, mask); CLIF: bitselect(mask, if-set, if-clear).
                let (v1, v2, mask) = self.pop3_lanes(V128);
                let v = self.b.ins().bitselect(mask, v1, v2);
                self.push(v);
            }
            V128AnyTrue => self.vtest(V128, |b, x| b.ins().vany_true(x)),
            I8x16AllTrue => self.vtest(I8X16, |b, x| b.ins().vall_true(x)),
            I16x8AllTrue => self.vtest(I16X8, |b, x| b.ins().vall_true(x)),
            I32x4AllTrue => self.vtest(I32X4, |b, x| b.ins().vall_true(x)),
            I64x2AllTrue => self.vtest(I64X2, |b, x| b.ins().vall_true(x)),
            I8x16Bitmask => self.bitmask(I8X16),
            I16x8Bitmask => self.bitmask(I16X8),
            I32x4Bitmask => self.bitmask(I32X4),
            I64x2Bitmask => self.bitmask(I64X2),

            // ---------------------------------------------------------------
            // Integer comparisons
            // ---------------------------------------------------------------
            I8x16Eq => self.vicmp(I8X16, IntCC::Equal),
            I8x16Ne => self.vicmp(I8X16, IntCC::NotEqual),
            I8x16LtS => self.vicmp(I8X16, IntCC::SignedLessThan),
            I8x16LtU => self.vicmp(I8X16, IntCC::UnsignedLessThan),
            I8x16GtS => self.vicmp(I8X16, IntCC::SignedGreaterThan),
            I8x16GtU => self.vicmp(I8X16, IntCC::UnsignedGreaterThan),
            I8x16LeS => self.vicmp(I8X16, IntCC::SignedLessThanOrEqual),
            I8x16LeU => self.vicmp(I8X16, IntCC::UnsignedLessThanOrEqual),
            I8x16GeS => self.vicmp(I8X16, IntCC::SignedGreaterThanOrEqual),
            I8x16GeU => self.vicmp(I8X16, IntCC::UnsignedGreaterThanOrEqual),
            I16x8Eq => self.vicmp(I16X8, IntCC::Equal),
            I16x8Ne => self.vicmp(I16X8, IntCC::NotEqual),
            I16x8LtS => self.vicmp(I16X8, IntCC::SignedLessThan),
            I16x8LtU => self.vicmp(I16X8, IntCC::UnsignedLessThan),
            I16x8GtS => self.vicmp(I16X8, IntCC::SignedGreaterThan),
            I16x8GtU => self.vicmp(I16X8, IntCC::UnsignedGreaterThan),
            I16x8LeS => self.vicmp(I16X8, IntCC::SignedLessThanOrEqual),
            I16x8LeU => self.vicmp(I16X8, IntCC::UnsignedLessThanOrEqual),
            I16x8GeS => self.vicmp(I16X8, IntCC::SignedGreaterThanOrEqual),
            I16x8GeU => self.vicmp(I16X8, IntCC::UnsignedGreaterThanOrEqual),
            I32x4Eq => self.vicmp(I32X4, IntCC::Equal),
            I32x4Ne => self.vicmp(I32X4, IntCC::NotEqual),
            I32x4LtS => self.vicmp(I32X4, IntCC::SignedLessThan),
            I32x4LtU => self.vicmp(I32X4, IntCC::UnsignedLessThan),
            I32x4GtS => self.vicmp(I32X4, IntCC::SignedGreaterThan),
            I32x4GtU => self.vicmp(I32X4, IntCC::UnsignedGreaterThan),
            I32x4LeS => self.vicmp(I32X4, IntCC::SignedLessThanOrEqual),
            I32x4LeU => self.vicmp(I32X4, IntCC::UnsignedLessThanOrEqual),
            I32x4GeS => self.vicmp(I32X4, IntCC::SignedGreaterThanOrEqual),
            I32x4GeU => self.vicmp(I32X4, IntCC::UnsignedGreaterThanOrEqual),
            I64x2Eq => self.vicmp(I64X2, IntCC::Equal),
            I64x2Ne => self.vicmp(I64X2, IntCC::NotEqual),
            I64x2LtS => self.vicmp(I64X2, IntCC::SignedLessThan),
            I64x2GtS => self.vicmp(I64X2, IntCC::SignedGreaterThan),
            I64x2LeS => self.vicmp(I64X2, IntCC::SignedLessThanOrEqual),
            I64x2GeS => self.vicmp(I64X2, IntCC::SignedGreaterThanOrEqual),

            // ---------------------------------------------------------------
            // Float comparisons (ordered, except `ne`, as wasm's scalar ones)
            // ---------------------------------------------------------------
            F32x4Eq => self.vfcmp(F32X4, FloatCC::Equal),
            F32x4Ne => self.vfcmp(F32X4, FloatCC::NotEqual),
            F32x4Lt => self.vfcmp(F32X4, FloatCC::LessThan),
            F32x4Gt => self.vfcmp(F32X4, FloatCC::GreaterThan),
            F32x4Le => self.vfcmp(F32X4, FloatCC::LessThanOrEqual),
            F32x4Ge => self.vfcmp(F32X4, FloatCC::GreaterThanOrEqual),
            F64x2Eq => self.vfcmp(F64X2, FloatCC::Equal),
            F64x2Ne => self.vfcmp(F64X2, FloatCC::NotEqual),
            F64x2Lt => self.vfcmp(F64X2, FloatCC::LessThan),
            F64x2Gt => self.vfcmp(F64X2, FloatCC::GreaterThan),
            F64x2Le => self.vfcmp(F64X2, FloatCC::LessThanOrEqual),
            F64x2Ge => self.vfcmp(F64X2, FloatCC::GreaterThanOrEqual),

            // ---------------------------------------------------------------
            // Integer arithmetic
            // ---------------------------------------------------------------
            I8x16Abs => self.vunop(I8X16, |b, x| b.ins().iabs(x)),
            I16x8Abs => self.vunop(I16X8, |b, x| b.ins().iabs(x)),
            I32x4Abs => self.vunop(I32X4, |b, x| b.ins().iabs(x)),
            I64x2Abs => self.vunop(I64X2, |b, x| b.ins().iabs(x)),
            I8x16Neg => self.vunop(I8X16, |b, x| b.ins().ineg(x)),
            I16x8Neg => self.vunop(I16X8, |b, x| b.ins().ineg(x)),
            I32x4Neg => self.vunop(I32X4, |b, x| b.ins().ineg(x)),
            I64x2Neg => self.vunop(I64X2, |b, x| b.ins().ineg(x)),
            I8x16Popcnt => self.vunop(I8X16, |b, x| b.ins().popcnt(x)),
            I8x16Add => self.vbinop(I8X16, |b, x, y| b.ins().iadd(x, y)),
            I16x8Add => self.vbinop(I16X8, |b, x, y| b.ins().iadd(x, y)),
            I32x4Add => self.vbinop(I32X4, |b, x, y| b.ins().iadd(x, y)),
            I64x2Add => self.vbinop(I64X2, |b, x, y| b.ins().iadd(x, y)),
            I8x16Sub => self.vbinop(I8X16, |b, x, y| b.ins().isub(x, y)),
            I16x8Sub => self.vbinop(I16X8, |b, x, y| b.ins().isub(x, y)),
            I32x4Sub => self.vbinop(I32X4, |b, x, y| b.ins().isub(x, y)),
            I64x2Sub => self.vbinop(I64X2, |b, x, y| b.ins().isub(x, y)),
            I16x8Mul => self.vbinop(I16X8, |b, x, y| b.ins().imul(x, y)),
            I32x4Mul => self.vbinop(I32X4, |b, x, y| b.ins().imul(x, y)),
            I64x2Mul => self.vbinop(I64X2, |b, x, y| b.ins().imul(x, y)),
            I8x16AddSatS => self.vbinop(I8X16, |b, x, y| b.ins().sadd_sat(x, y)),
            I8x16AddSatU => self.vbinop(I8X16, |b, x, y| b.ins().uadd_sat(x, y)),
            I16x8AddSatS => self.vbinop(I16X8, |b, x, y| b.ins().sadd_sat(x, y)),
            I16x8AddSatU => self.vbinop(I16X8, |b, x, y| b.ins().uadd_sat(x, y)),
            I8x16SubSatS => self.vbinop(I8X16, |b, x, y| b.ins().ssub_sat(x, y)),
            I8x16SubSatU => self.vbinop(I8X16, |b, x, y| b.ins().usub_sat(x, y)),
            I16x8SubSatS => self.vbinop(I16X8, |b, x, y| b.ins().ssub_sat(x, y)),
            I16x8SubSatU => self.vbinop(I16X8, |b, x, y| b.ins().usub_sat(x, y)),
            I8x16MinS => self.vbinop(I8X16, |b, x, y| b.ins().smin(x, y)),
            I8x16MinU => self.vbinop(I8X16, |b, x, y| b.ins().umin(x, y)),
            I8x16MaxS => self.vbinop(I8X16, |b, x, y| b.ins().smax(x, y)),
            I8x16MaxU => self.vbinop(I8X16, |b, x, y| b.ins().umax(x, y)),
            I16x8MinS => self.vbinop(I16X8, |b, x, y| b.ins().smin(x, y)),
            I16x8MinU => self.vbinop(I16X8, |b, x, y| b.ins().umin(x, y)),
            I16x8MaxS => self.vbinop(I16X8, |b, x, y| b.ins().smax(x, y)),
            I16x8MaxU => self.vbinop(I16X8, |b, x, y| b.ins().umax(x, y)),
            I32x4MinS => self.vbinop(I32X4, |b, x, y| b.ins().smin(x, y)),
            I32x4MinU => self.vbinop(I32X4, |b, x, y| b.ins().umin(x, y)),
            I32x4MaxS => self.vbinop(I32X4, |b, x, y| b.ins().smax(x, y)),
            I32x4MaxU => self.vbinop(I32X4, |b, x, y| b.ins().umax(x, y)),
            I8x16AvgrU => self.vbinop(I8X16, |b, x, y| b.ins().avg_round(x, y)),
            I16x8AvgrU => self.vbinop(I16X8, |b, x, y| b.ins().avg_round(x, y)),
            I16x8Q15MulrSatS => self.vbinop(I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y)),
            I32x4DotI16x8S => {
                let (a, b) = self.pop2_lanes(I16X8);
                let (lo, hi) = self.signed_products(a, b);
                let v = self.b.ins().iadd_pairwise(lo, hi);
                self.push_v128(v);
            }

            // ---------------------------------------------------------------
            // Shifts (amount modulo the lane width)
            // ---------------------------------------------------------------
            I8x16Shl => self.vshift(I8X16, |b, x, n| b.ins().ishl(x, n)),
            I16x8Shl => self.vshift(I16X8, |b, x, n| b.ins().ishl(x, n)),
            I32x4Shl => self.vshift(I32X4, |b, x, n| b.ins().ishl(x, n)),
            I64x2Shl => self.vshift(I64X2, |b, x, n| b.ins().ishl(x, n)),
            I8x16ShrS => self.vshift(I8X16, |b, x, n| b.ins().sshr(x, n)),
            I16x8ShrS => self.vshift(I16X8, |b, x, n| b.ins().sshr(x, n)),
            I32x4ShrS => self.vshift(I32X4, |b, x, n| b.ins().sshr(x, n)),
            I64x2ShrS => self.vshift(I64X2, |b, x, n| b.ins().sshr(x, n)),
            I8x16ShrU => self.vshift(I8X16, |b, x, n| b.ins().ushr(x, n)),
            I16x8ShrU => self.vshift(I16X8, |b, x, n| b.ins().ushr(x, n)),
            I32x4ShrU => self.vshift(I32X4, |b, x, n| b.ins().ushr(x, n)),
            I64x2ShrU => self.vshift(I64X2, |b, x, n| b.ins().ushr(x, n)),

            // ---------------------------------------------------------------
            // Widening, narrowing and pairwise integer operations
            // ---------------------------------------------------------------
            I8x16NarrowI16x8S => self.vbinop(I16X8, |b, x, y| b.ins().snarrow(x, y)),
            I8x16NarrowI16x8U => self.vbinop(I16X8, |b, x, y| b.ins().unarrow(x, y)),
            I16x8NarrowI32x4S => self.vbinop(I32X4, |b, x, y| b.ins().snarrow(x, y)),
            I16x8NarrowI32x4U => self.vbinop(I32X4, |b, x, y| b.ins().unarrow(x, y)),
            I16x8ExtendLowI8x16S => self.vunop(I8X16, |b, x| b.ins().swiden_low(x)),
            I16x8ExtendHighI8x16S => self.vunop(I8X16, |b, x| b.ins().swiden_high(x)),
            I16x8ExtendLowI8x16U => self.vunop(I8X16, |b, x| b.ins().uwiden_low(x)),
            I16x8ExtendHighI8x16U => self.vunop(I8X16, |b, x| b.ins().uwiden_high(x)),
            I32x4ExtendLowI16x8S => self.vunop(I16X8, |b, x| b.ins().swiden_low(x)),
            I32x4ExtendHighI16x8S => self.vunop(I16X8, |b, x| b.ins().swiden_high(x)),
            I32x4ExtendLowI16x8U => self.vunop(I16X8, |b, x| b.ins().uwiden_low(x)),
            I32x4ExtendHighI16x8U => self.vunop(I16X8, |b, x| b.ins().uwiden_high(x)),
            I64x2ExtendLowI32x4S => self.vunop(I32X4, |b, x| b.ins().swiden_low(x)),
            I64x2ExtendHighI32x4S => self.vunop(I32X4, |b, x| b.ins().swiden_high(x)),
            I64x2ExtendLowI32x4U => self.vunop(I32X4, |b, x| b.ins().uwiden_low(x)),
            I64x2ExtendHighI32x4U => self.vunop(I32X4, |b, x| b.ins().uwiden_high(x)),
            I16x8ExtAddPairwiseI8x16S | I16x8ExtAddPairwiseI8x16U => {
                let a = self.pop_lanes(I8X16);
                let v = self.extadd_pairwise(a, matches!(op, I16x8ExtAddPairwiseI8x16S));
                self.push_v128(v);
            }
            I32x4ExtAddPairwiseI16x8S | I32x4ExtAddPairwiseI16x8U => {
                let a = self.pop_lanes(I16X8);
                let v = self.extadd_pairwise(a, matches!(op, I32x4ExtAddPairwiseI16x8S));
                self.push_v128(v);
            }
            I16x8ExtMulLowI8x16S => self.vextmul(I8X16, |b, x| b.ins().swiden_low(x)),
            I16x8ExtMulHighI8x16S => self.vextmul(I8X16, |b, x| b.ins().swiden_high(x)),
            I16x8ExtMulLowI8x16U => self.vextmul(I8X16, |b, x| b.ins().uwiden_low(x)),
            I16x8ExtMulHighI8x16U => self.vextmul(I8X16, |b, x| b.ins().uwiden_high(x)),
            I32x4ExtMulLowI16x8S => self.vextmul(I16X8, |b, x| b.ins().swiden_low(x)),
            I32x4ExtMulHighI16x8S => self.vextmul(I16X8, |b, x| b.ins().swiden_high(x)),
            I32x4ExtMulLowI16x8U => self.vextmul(I16X8, |b, x| b.ins().uwiden_low(x)),
            I32x4ExtMulHighI16x8U => self.vextmul(I16X8, |b, x| b.ins().uwiden_high(x)),
            I64x2ExtMulLowI32x4S => self.vextmul(I32X4, |b, x| b.ins().swiden_low(x)),
            I64x2ExtMulHighI32x4S => self.vextmul(I32X4, |b, x| b.ins().swiden_high(x)),
            I64x2ExtMulLowI32x4U => self.vextmul(I32X4, |b, x| b.ins().uwiden_low(x)),
            I64x2ExtMulHighI32x4U => self.vextmul(I32X4, |b, x| b.ins().uwiden_high(x)),

            // ---------------------------------------------------------------
            // Floating point
            // ---------------------------------------------------------------
            F32x4Abs => self.vunop(F32X4, |b, x| b.ins().fabs(x)),
            F64x2Abs => self.vunop(F64X2, |b, x| b.ins().fabs(x)),
            F32x4Neg => self.vunop(F32X4, |b, x| b.ins().fneg(x)),
            F64x2Neg => self.vunop(F64X2, |b, x| b.ins().fneg(x)),
            F32x4Sqrt => self.vunop(F32X4, |b, x| b.ins().sqrt(x)),
            F64x2Sqrt => self.vunop(F64X2, |b, x| b.ins().sqrt(x)),
            // Without SSE4.1 (x86-64-v1) Cranelift rounds each lane with the
            // runtime's libm helpers (`math.c`), as for scalars.
            F32x4Ceil => self.vunop(F32X4, |b, x| b.ins().ceil(x)),
            F64x2Ceil => self.vunop(F64X2, |b, x| b.ins().ceil(x)),
            F32x4Floor => self.vunop(F32X4, |b, x| b.ins().floor(x)),
            F64x2Floor => self.vunop(F64X2, |b, x| b.ins().floor(x)),
            F32x4Trunc => self.vunop(F32X4, |b, x| b.ins().trunc(x)),
            F64x2Trunc => self.vunop(F64X2, |b, x| b.ins().trunc(x)),
            F32x4Nearest => self.vunop(F32X4, |b, x| b.ins().nearest(x)),
            F64x2Nearest => self.vunop(F64X2, |b, x| b.ins().nearest(x)),
            F32x4Add => self.vbinop(F32X4, |b, x, y| b.ins().fadd(x, y)),
            F64x2Add => self.vbinop(F64X2, |b, x, y| b.ins().fadd(x, y)),
            F32x4Sub => self.vbinop(F32X4, |b, x, y| b.ins().fsub(x, y)),
            F64x2Sub => self.vbinop(F64X2, |b, x, y| b.ins().fsub(x, y)),
            F32x4Mul => self.vbinop(F32X4, |b, x, y| b.ins().fmul(x, y)),
            F64x2Mul => self.vbinop(F64X2, |b, x, y| b.ins().fmul(x, y)),
            F32x4Div => self.vbinop(F32X4, |b, x, y| b.ins().fdiv(x, y)),
            F64x2Div => self.vbinop(F64X2, |b, x, y| b.ins().fdiv(x, y)),
            // Cranelift's fmin/fmax have wasm's semantics: NaN if either
            // operand is NaN, and -0 < +0.
            F32x4Min => self.vbinop(F32X4, |b, x, y| b.ins().fmin(x, y)),
            F64x2Min => self.vbinop(F64X2, |b, x, y| b.ins().fmin(x, y)),
            F32x4Max => self.vbinop(F32X4, |b, x, y| b.ins().fmax(x, y)),
            F64x2Max => self.vbinop(F64X2, |b, x, y| b.ins().fmax(x, y)),
            F32x4PMin => self.pseudo_minmax(F32X4, false),
            F64x2PMin => self.pseudo_minmax(F64X2, false),
            F32x4PMax => self.pseudo_minmax(F32X4, true),
            F64x2PMax => self.pseudo_minmax(F64X2, true),

            // ---------------------------------------------------------------
            // Conversions
            // ---------------------------------------------------------------
            I32x4TruncSatF32x4S => self.vunop(F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x)),
            I32x4TruncSatF32x4U => self.vunop(F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x)),
            I32x4TruncSatF64x2SZero => self.trunc_sat_f64x2_zero(true),
            I32x4TruncSatF64x2UZero => self.trunc_sat_f64x2_zero(false),
            F32x4ConvertI32x4S => self.vunop(I32X4, |b, x| b.ins().fcvt_from_sint(F32X4, x)),
            F32x4ConvertI32x4U => self.vunop(I32X4, |b, x| b.ins().fcvt_from_uint(F32X4, x)),
            F64x2ConvertLowI32x4S => self.vunop(I32X4, |b, x| {
                let w = b.ins().swiden_low(x);
                b.ins().fcvt_from_sint(F64X2, w)
            }),
            F64x2ConvertLowI32x4U => self.vunop(I32X4, |b, x| {
                let w = b.ins().uwiden_low(x);
                b.ins().fcvt_from_uint(F64X2, w)
            }),
            F32x4DemoteF64x2Zero => self.vunop(F64X2, |b, x| b.ins().fvdemote(x)),
            F64x2PromoteLowF32x4 => self.vunop(F32X4, |b, x| b.ins().fvpromote_low(x)),

            // ---------------------------------------------------------------
            // Relaxed SIMD: the deterministic profile (table in the module
            // comment)
            // ---------------------------------------------------------------
            I8x16RelaxedSwizzle => self.vbinop(I8X16, |b, x, y| b.ins().swizzle(x, y)),
            I32x4RelaxedTruncF32x4S => self.vunop(F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x)),
            I32x4RelaxedTruncF32x4U => self.vunop(F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x)),
            I32x4RelaxedTruncF64x2SZero => self.trunc_sat_f64x2_zero(true),
            I32x4RelaxedTruncF64x2UZero => self.trunc_sat_f64x2_zero(false),
            F32x4RelaxedMadd | F64x2RelaxedMadd | F32x4RelaxedNmadd | F64x2RelaxedNmadd => {
                let ty = if matches!(op, F32x4RelaxedMadd | F32x4RelaxedNmadd) { F32X4 } else { F64X2 };
                let (a, b, c) = self.pop3_lanes(ty);
                let a = if matches!(op, F32x4RelaxedNmadd | F64x2RelaxedNmadd) { self.b.ins().fneg(a) } else { a };
                let product = self.b.ins().fmul(a, b);
                let v = self.b.ins().fadd(product, c);
                self.push_v128(v);
            }
            I8x16RelaxedLaneselect | I16x8RelaxedLaneselect | I32x4RelaxedLaneselect | I64x2RelaxedLaneselect => {
                let (v1, v2, mask) = self.pop3_lanes(V128);
                let v = self.b.ins().bitselect(mask, v1, v2);
                self.push(v);
            }
            F32x4RelaxedMin => self.vbinop(F32X4, |b, x, y| b.ins().fmin(x, y)),
            F64x2RelaxedMin => self.vbinop(F64X2, |b, x, y| b.ins().fmin(x, y)),
            F32x4RelaxedMax => self.vbinop(F32X4, |b, x, y| b.ins().fmax(x, y)),
            F64x2RelaxedMax => self.vbinop(F64X2, |b, x, y| b.ins().fmax(x, y)),
            I16x8RelaxedQ15mulrS => self.vbinop(I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y)),
            I16x8RelaxedDotI8x16I7x16S => {
                let (a, b) = self.pop2_lanes(I8X16);
                let v = self.relaxed_dot_i16x8(a, b);
                self.push_v128(v);
            }
            I32x4RelaxedDotI8x16I7x16AddS => {
                let c = self.pop_lanes(I32X4);
                let (a, b) = self.pop2_lanes(I8X16);
                let dot = self.relaxed_dot_i16x8(a, b);
                let sums = self.extadd_pairwise(dot, true);
                let v = self.b.ins().iadd(sums, c);
                self.push_v128(v);
            }

            ref other => return Err(format!("operator {other:?} is not supported by Kiln")),
        }
        Ok(())
    }

    /// `bitmask`: the top bit of each lane, lane 0 in bit 0.
    fn bitmask(&mut self, ty: Type) {
        let a = self.pop_lanes(ty);
        let v = self.b.ins().vhigh_bits(types::I32, a);
        self.push(v);
    }
}
