/**
 * The assignment, exact-error, refit, load and fast-path kernels of the compact search (listings
 * for `wasm_asm.ts`). They call the candidate row of `compact_wasm_model.ts` (`call 0`).
 *
 * @module
 */
import type { Func } from "../wasm_asm.ts";
import {
  CAND_I_BYTE,
  CAND_J_BYTE,
  CAND_K_BYTE,
  CAND_M_BYTE,
  CAND_S_BYTE,
  CUR_J_BYTE,
  CUR_K_BYTE,
  FUSED_BYTE,
  G_MAX_BYTE,
  G_MIN_BYTE,
  IOTA_BYTE,
  K_HS_BYTE,
  K_IV32_BYTE,
  K_IV_BYTE,
  K_S32_BYTE,
  K_SPAN_BYTE,
  MINS32_BYTE,
  MINS_BYTE,
  REFIT_BYTE,
  STEPS_BYTE,
  XB32_BYTE,
  XB_BYTE,
} from "./compact_wasm_memory.ts";
import { GROUP_END, PICK, ROUND } from "./compact_wasm_model.ts";

/** f64 → i32 for values already clamped into [0, 255]. */
const TO_I32 = "i32.trunc_sat_f64_s";

/** Writes candidates (k, j … j + 3) at list entry i (locals named `i`, `j`), splats in sv/iv4/kv. */
const pushFour = (i: string, j: string) =>
  `local.get ${i} i32.const 2 i32.shl local.tee o
  local.get ${j} i32.const 2 i32.shl v128.load ${MINS32_BYTE} v128.store ${CAND_M_BYTE}
  local.get o local.get sv v128.store ${CAND_S_BYTE}
  local.get o local.get iv4 v128.store ${CAND_I_BYTE}
  local.get ${i} local.get kv v128.store ${CAND_K_BYTE}
  local.get ${i} local.get ${j} i8x16.splat i32.const 0 v128.load ${IOTA_BYTE} i8x16.add
  v128.store ${CAND_J_BYTE}`;

/**
 * Appends candidates (k, j0 … j1) with steps sv and inverses iv4 (f32x4 splats) to the list, four
 * at a time, the lattice starts from the f32 min table: the first four at once (most rows are
 * that short), any further ones in a loop. A store may run up to three entries past the row; the
 * next row or the list's padding overwrites them. Rows are never empty (WINDOWS).
 */
const PUSH_ROW = `local.get k i8x16.splat local.set kv
  ${pushFour("c", "j0")}
  local.get j1 local.get j0 i32.sub i32.const 4 i32.ge_s
  if
    local.get j0 i32.const 4 i32.add local.set j
    local.get c i32.const 4 i32.add local.set i
    block loop
      local.get j local.get j1 i32.gt_s br_if 1
      ${pushFour("i", "j")}
      local.get i i32.const 4 i32.add local.set i
      local.get j i32.const 4 i32.add local.set j
      br 0
    end end
  end
  local.get c local.get j1 i32.add local.get j0 i32.sub i32.const 1 i32.add local.set c`;

/**
 * `a` where the f64x2 comparison mask `c` is set, else `b` (lane by lane, as an `if` would; a
 * comparison's lanes are all ones or all zeros, so the relaxed select is exact).
 */
const PICK2 = (a: string, b: string, c: string) =>
  `${a} ${b} local.get ${c} i64x2.relaxed_laneselect`;

/**
 * The q_min window of q_scale codes k and k + 1 (f64x2 lanes, the scalar rules lane by lane with
 * selects for the branches, so no data-dependent branch is mispredicted), from the tables of spans
 * and half steps: vA0 / vA1 the first and last code, and both in vJ as i32 lanes. The window
 * reaches both ends of the group within half a step (centred when too short, two codes when it
 * holds none, at most maxJ codes), clamped to [0, codeMax].
 */
const WINDOWS =
  `local.get k i32.const 3 i32.shl local.tee i v128.load ${K_SPAN_BYTE} local.set vSpan
  local.get i v128.load ${K_HS_BYTE} local.set vHs
  local.get vHi local.get vSpan f64x2.sub local.get vHs f64x2.sub local.set vA
  local.get vLo local.get vHs f64x2.add local.set vZ
  local.get vA local.get vZ f64x2.gt local.set vC
  local.get vHalf local.get vLH local.get vSpan f64x2.sub f64x2.mul local.set vT
  ${PICK2("local.get vT", "local.get vA", "vC")} local.set vA
  ${PICK2("local.get vT", "local.get vZ", "vC")} local.set vZ
  local.get vA local.get vMb f64x2.sub local.get vJu f64x2.mul f64x2.ceil local.set vA0
  local.get vZ local.get vMb f64x2.sub local.get vJu f64x2.mul f64x2.floor local.set vA1
  local.get vA0 local.get vA1 f64x2.gt local.set vC
  local.get vHalf local.get vA local.get vZ f64x2.add local.get v2Mb f64x2.sub f64x2.mul
  local.get vJu f64x2.mul f64x2.floor local.set vT
  ${PICK2("local.get vT", "local.get vA0", "vC")} local.set vA0
  ${PICK2("local.get vT local.get vOne f64x2.add", "local.get vA1", "vC")} local.set vA1
  local.get vA1 local.get vA0 f64x2.sub local.get vMaxj f64x2.ge local.set vC
  local.get vHalf local.get vA0 local.get vA1 f64x2.add local.get vMaxj f64x2.sub local.get vOne
  f64x2.add f64x2.mul f64x2.floor local.set vT
  ${PICK2("local.get vT", "local.get vA0", "vC")} local.set vA0
  ${PICK2("local.get vT local.get vMaxj f64x2.add local.get vOne f64x2.sub", "local.get vA1", "vC")}
  local.set vA1
  local.get vA0 local.get vZero f64x2.pmax local.set vA0
  local.get vA1 local.get vCmf f64x2.pmin local.set vA1
  local.get vA0 local.get vA1 f64x2.gt local.set vC
  local.get vA1 local.get vZero f64x2.lt local.set vT
  ${PICK2("local.get vZero", "local.get vCmf", "vT")} local.set vT
  ${PICK2("local.get vT", "local.get vA0", "vC")} local.set vA0
  ${PICK2("local.get vT", "local.get vA1", "vC")} local.set vA1
  local.get vA0 local.get vMagic f64x2.add local.get vA1 local.get vMagic f64x2.add shuffle.0246
  local.set vJ`;

/**
 * Appends the window row of lane `lane` of WINDOWS (q_scale code k) to the list: vJ holds the
 * pair's first codes in lanes 0, 1 and last codes in 2, 3 (the low words of whole numbers plus
 * 2⁵²); the step and inverse come from the f32 tables.
 */
function windowRow(lane: number): string {
  return `local.get vJ i32x4.extract_lane ${lane} local.set j0
    local.get vJ i32x4.extract_lane ${lane + 2} local.set j1
    local.get k i32.const 2 i32.shl local.tee i v128.load32_splat ${K_S32_BYTE} local.set sv
    local.get i v128.load32_splat ${K_IV32_BYTE} local.set iv4
    ${PUSH_ROW}`;
}

/**
 * assignWindows(dScale, dMin, minBase, qMax, codeMax, spanF, maxK, maxJ) → Σ best errors:
 * each group searches q_scale codes from "clips half a step at each end" up to spanF × range +
 * one min-grid step (at most maxK), and for each the q_min codes whose lattice reaches both ends
 * within half a step (centred when too short; at most maxJ). Each group's current codes are tried
 * first (the warm start), so that a window candidate must beat them.
 * Arithmetic in f64 as the scalar search had it.
 */
export const ASSIGN_WINDOWS: Func = {
  params: `dscale:f64 dmin:f64 mb:f64 qmax:f64 cm:i32 spanf:f64 maxk:f64 maxj:f64`,
  result: "f64",
  locals: `g:i32 k:i32 khi:i32 j:i32 j0:i32 j1:i32 i:i32 bk:i32 bj:i32 c:i32 o:i32
    kv:v128 sv:v128 iv4:v128 kunit:f64 junit:f64 dm:f64 cmf:f64 lo:f64 hi:f64 r:f64 klo:f64
    khif:f64 best:f64 total:f64 vS:v128 vSpan:v128 vA:v128 vZ:v128 vC:v128 vT:v128
    vA0:v128 vA1:v128 vIv:v128 vLo:v128 vHi:v128 vMb:v128 vJu:v128 vHalf:v128 v2Mb:v128
    vMaxj:v128 vCmf:v128 vOne:v128 vQ:v128 vZero:v128 vHs:v128 vLH:v128 vJ:v128 vMagic:v128`,
  code: `
    local.get cm f64.convert_i32_s local.set cmf
    local.get mb f64x2.splat local.set vMb  f64.const 2 local.get mb f64.mul f64x2.splat local.set v2Mb
    local.get maxj f64x2.splat local.set vMaxj  local.get cmf f64x2.splat local.set vCmf
    f64.const 0.5 f64x2.splat local.set vHalf  f64.const 1 f64x2.splat local.set vOne
    local.get qmax f64x2.splat local.set vQ
    local.get cmf local.get dscale f64.div f64.const 0 local.get dscale f64.const 0 f64.gt select
    local.set kunit
    local.get cmf local.get dmin f64.div f64.const 0 local.get dmin f64.const 0 f64.gt select
    local.tee junit f64x2.splat local.set vJu
    local.get dmin local.get cmf f64.div local.set dm
    ;; the min lattice as f32, four codes at a time
    block loop
      local.get j local.get cm i32.gt_s br_if 1
      local.get j i32.const 2 i32.shl
      local.get j i32.const 3 i32.shl local.tee i v128.load ${MINS_BYTE} f32x4.demote_f64x2_zero
      local.get i v128.load ${MINS_BYTE + 16} f32x4.demote_f64x2_zero shuffle.0145
      v128.store ${MINS32_BYTE}
      local.get j i32.const 4 i32.add local.set j
      br 0
    end end
    ;; the tables per q_scale code, two codes at a time
    block loop
      local.get k local.get cm i32.gt_s br_if 1
      local.get k i32.const 3 i32.shl local.tee i v128.load ${STEPS_BYTE} local.set vS
      local.get i local.get vS local.get vQ f64x2.mul v128.store ${K_SPAN_BYTE}
      local.get i local.get vHalf local.get vS f64x2.mul v128.store ${K_HS_BYTE}
      local.get i local.get vOne local.get vS f64x2.div local.get vZero local.get vS local.get vZero
      f64x2.gt i64x2.relaxed_laneselect local.tee vIv v128.store ${K_IV_BYTE}
      local.get k i32.const 2 i32.shl local.tee i local.get vS f32x4.demote_f64x2_zero
      v128.store ${K_S32_BYTE}
      local.get i local.get vIv f32x4.demote_f64x2_zero v128.store ${K_IV32_BYTE}
      local.get k i32.const 2 i32.add local.set k
      br 0
    end end
    f64.const ${2 ** 52} f64x2.splat local.set vMagic
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const 3 i32.shl local.tee i f64.load ${G_MIN_BYTE} local.set lo
      local.get i f64.load ${G_MAX_BYTE} local.tee hi local.get lo f64.sub local.set r
      local.get lo f64x2.splat local.set vLo  local.get hi f64x2.splat local.set vHi
      local.get lo local.get hi f64.add f64x2.splat local.set vLH
      local.get r local.get qmax f64.mul local.get qmax f64.const 1 f64.add f64.div
      local.get kunit f64.mul f64.floor local.set klo
      local.get r local.get spanf f64.mul local.get dm f64.add local.get kunit f64.mul f64.ceil
      local.set khif
      local.get klo f64.const 0 f64.lt if f64.const 0 local.set klo end
      local.get khif local.get cmf f64.gt if local.get cmf local.set khif end
      local.get klo local.get khif f64.gt if local.get khif local.set klo end
      local.get khif local.get klo f64.sub local.get maxk f64.ge
      if local.get klo local.get maxk f64.add f64.const 1 f64.sub local.set khif end
      ;; the warm start: the group's current codes, first in the list
      i32.const 0 local.get g i32.load8_u ${CUR_K_BYTE} local.tee bk i32.const 2 i32.shl local.tee i
      f32.load ${K_S32_BYTE} f32.store ${CAND_S_BYTE}
      i32.const 0 local.get i f32.load ${K_IV32_BYTE} f32.store ${CAND_I_BYTE}
      i32.const 0 local.get g i32.load8_u ${CUR_J_BYTE} local.tee bj i32.const 2 i32.shl
      f32.load ${MINS32_BYTE} f32.store ${CAND_M_BYTE}
      i32.const 0 local.get bk i32.store8 ${CAND_K_BYTE}
      i32.const 0 local.get bj i32.store8 ${CAND_J_BYTE}
      f64.const Infinity local.set best
      i32.const 1 local.set c
      local.get klo ${TO_I32} local.set k  local.get khif ${TO_I32} local.set khi
      block loop
        local.get k local.get khi i32.gt_s br_if 1
        ${WINDOWS}
        ${windowRow(0)}
        local.get k local.get khi i32.lt_s
        if local.get k i32.const 1 i32.add local.set k ${windowRow(1)} end
        local.get k i32.const 1 i32.add local.set k
        br 0
      end end
      ${PICK}
      ${GROUP_END}
      br 0
    end end
    local.get total`,
};

/**
 * Rounds lane L of s (f64, the rounded sum whose rounding error is err) to odd when err ≠ 0, so
 * that its demotion to f32 is the correctly rounded f32 of the exact sum (as fmaF32 does).
 */
function toOdd(lane: number): string {
  return `local.get s f64x2.extract_lane ${lane} local.tee sl i64.reinterpret_f64 local.tee sb
    i64.const 1 i64.and i64.eqz
    local.get err f64x2.extract_lane ${lane} local.tee el f64.const 0 f64.ne i32.and
    if
      local.get s
      local.get sb
      i64.const 1 i64.const -1 local.get el f64.const 0 f64.gt local.get sl f64.const 0 f64.gt
      i32.eq select i64.add f64.reinterpret_i64 f64x2.replace_lane ${lane} local.set s
    end`;
}
function exactTerm(k: number): string {
  return `local.get xg v128.load ${16 * k} local.tee x local.get vmin f64x2.sub ${ROUND} local.set q
    local.get co local.get q f64x2.extract_lane 0 ${TO_I32} i32.store8 ${2 * k}
    local.get co local.get q f64x2.extract_lane 1 ${TO_I32} i32.store8 ${2 * k + 1}
    local.get q local.get vs f64x2.mul local.tee a local.get vmin f64x2.add local.tee s
    local.get a f64x2.sub local.set bb
    local.get a local.get s local.get bb f64x2.sub f64x2.sub local.get vmin local.get bb f64x2.sub
    f64x2.add local.tee err local.get zero f64x2.ne v128.any_true
    if ${toOdd(0)} ${toOdd(1)} end
    local.get x local.get s f32x4.demote_f64x2_zero f64x2.promote_low_f32x4 f64x2.sub local.tee a
    local.get a f64x2.mul local.get acc f64x2.add local.set acc`;
}

/** Element pair k of the group: its codes to q{k} (f64 lanes), as exactTerm computes them. */
const codesOf = (k: number) =>
  `local.get xg v128.load ${
    16 * k
  } local.tee x${k} local.get vmin f64x2.sub ${ROUND} local.set q${k}`;
/** The squared errors of x{k} against the f32 lanes `lanes` (f64 on the stack), added to acc. */
const addErr = (k: number, lanes: string) =>
  `local.get x${k} ${lanes} f64x2.promote_low_f32x4 f64x2.sub local.tee a local.get a f64x2.mul
  local.get acc f64x2.add local.set acc`;
/**
 * Element pairs k and k + 1 decoded by one fused multiply-add in f32 lanes (exactly the runtime's
 * fmaf, no rounding to odd needed), errors added in the same order as exactTerm's.
 */
function fusedTerms(k: number): string {
  return `${codesOf(k)} ${codesOf(k + 1)}
    local.get q${k} f32x4.demote_f64x2_zero local.get q${k + 1} f32x4.demote_f64x2_zero shuffle.0145
    local.get vs32 local.get vmin32 f32x4.relaxed_madd local.set r
    ${addErr(k, "local.get r")} ${addErr(k + 1, "local.get r local.get r shuffle.2301")}`;
}

/** The group's eight codes (q0 … q3, whole numbers in [0, 63]) as bytes to co. */
const STORE_CODES = `local.get co
  local.get q0 f32x4.demote_f64x2_zero local.get q1 f32x4.demote_f64x2_zero shuffle.0145
  i32x4.trunc_sat_f32x4_s
  local.get q2 f32x4.demote_f64x2_zero local.get q3 f32x4.demote_f64x2_zero shuffle.0145
  i32x4.trunc_sat_f32x4_s
  i16x8.narrow_i32x4_u local.tee a local.get a i8x16.narrow_i16x8_u i64x2.extract_lane 0
  i64.store 0`;

/**
 * exact(codes, qMax) → the exact squared error (runtime f32 decode, fused multiply-add) of the
 * block's values on the lattices (steps[curK[g]], mins[curJ[g]]); the codes go to byte `codes`.
 * Where the machine's relaxed multiply-add is fused (FUSED_BYTE) it decodes four values with one;
 * elsewhere the f64 sum is rounded to odd where inexact. Both are the correctly rounded fmaf.
 */
export const EXACT: Func = {
  params: "codes:i32 qmax:f64",
  result: "f64",
  locals: `g:i32 xg:i32 co:i32 fused:i32 st:f64 sl:f64 el:f64 sb:i64
    x:v128 vmin:v128 vs:v128 inv:v128 vq:v128 half:v128 zero:v128 q:v128 a:v128 s:v128 bb:v128
    err:v128 acc:v128 x0:v128 x1:v128 x2:v128 x3:v128 q0:v128 q1:v128 q2:v128 q3:v128 r:v128
    vs32:v128 vmin32:v128`,
  code: `
    local.get qmax f64x2.splat local.set vq  f64.const 0.5 f64x2.splat local.set half
    i32.const 0 i32.load ${FUSED_BYTE} local.set fused
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const 64 i32.mul i32.const ${XB_BYTE} i32.add local.set xg
      local.get g i32.const 8 i32.mul local.get codes i32.add local.set co
      local.get g i32.load8_u ${CUR_K_BYTE} i32.const 3 i32.shl f64.load ${STEPS_BYTE}
      local.tee st f64x2.splat local.set vs
      f64.const 1 local.get st f64.div f64.const 0 local.get st f64.const 0 f64.gt select
      f64x2.splat local.set inv
      local.get g i32.load8_u ${CUR_J_BYTE} i32.const 3 i32.shl f64.load ${MINS_BYTE}
      f64x2.splat local.set vmin
      local.get fused
      if
        local.get st f32.demote_f64 f32x4.splat local.set vs32
        local.get vmin f64x2.extract_lane 0 f32.demote_f64 f32x4.splat local.set vmin32
        ${fusedTerms(0)} ${fusedTerms(2)} ${STORE_CODES}
      else
        ${exactTerm(0)} ${exactTerm(1)} ${exactTerm(2)} ${exactTerm(3)}
      end
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end
    local.get acc f64x2.extract_lane 0 local.get acc f64x2.extract_lane 1 f64.add`,
};

function refitTerm(k: number): string {
  return `local.get xg v128.load ${16 * k} local.tee x local.get vmin f64x2.sub ${ROUND} local.tee q
    local.get sq f64x2.add local.set sq  local.get q local.get q f64x2.mul local.get sqq f64x2.add
    local.set sqq  local.get x local.get sx f64x2.add local.set sx
    local.get q local.get x f64x2.mul local.get sqx f64x2.add local.set sqx`;
}
const HSUM = (v: string) =>
  `local.get ${v} f64x2.extract_lane 0 local.get ${v} f64x2.extract_lane 1 f64.add`;
/**
 * refit(qMax, codeMax): the sums of the least-squares refit of (minBase, dMin, dScale) with the
 * current codes fixed (x̂ = minBase + dMin·a + dScale·c·q, a = j/C, c = k/(C·Qmax)): Σ1, Σa, Σc·q,
 * Σa², Σa·c·q, Σc²q², Σx, Σa·x, Σc·q·x, to REFIT_BYTE.
 */
export const REFIT: Func = {
  params: "qmax:f64 cm:f64",
  result: "",
  locals: `g:i32 xg:i32 st:f64 a:f64 ca:f64 gq:f64 gx:f64
    s1:f64 sa:f64 sc:f64 saa:f64 sac:f64 scc:f64 tx:f64 sax:f64 scx:f64
    x:v128 vmin:v128 inv:v128 vq:v128 half:v128 zero:v128 q:v128 sq:v128 sqq:v128 sx:v128 sqx:v128`,
  code: `
    local.get qmax f64x2.splat local.set vq  f64.const 0.5 f64x2.splat local.set half
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const 64 i32.mul i32.const ${XB_BYTE} i32.add local.set xg
      local.get g i32.load8_u ${CUR_J_BYTE} f64.convert_i32_s local.get cm f64.div local.set a
      local.get g i32.load8_u ${CUR_K_BYTE} f64.convert_i32_s local.get cm local.get qmax f64.mul f64.div local.set ca
      local.get g i32.load8_u ${CUR_K_BYTE} i32.const 3 i32.shl f64.load ${STEPS_BYTE} local.set st
      f64.const 1 local.get st f64.div f64.const 0 local.get st f64.const 0 f64.gt select
      f64x2.splat local.set inv
      local.get g i32.load8_u ${CUR_J_BYTE} i32.const 3 i32.shl f64.load ${MINS_BYTE}
      f64x2.splat local.set vmin
      local.get zero local.tee sq local.tee sqq local.tee sx local.set sqx
      ${refitTerm(0)} ${refitTerm(1)} ${refitTerm(2)} ${refitTerm(3)}
      ${HSUM("sq")} local.set gq  ${HSUM("sx")} local.set gx
      local.get s1 f64.const 8 f64.add local.set s1
      local.get sa f64.const 8 local.get a f64.mul f64.add local.set sa
      local.get saa f64.const 8 local.get a f64.mul local.get a f64.mul f64.add local.set saa
      local.get sc local.get ca local.get gq f64.mul f64.add local.set sc
      local.get scc local.get ca local.get ca f64.mul ${HSUM("sqq")} f64.mul f64.add local.set scc
      local.get sac local.get a local.get ca f64.mul local.get gq f64.mul f64.add local.set sac
      local.get tx local.get gx f64.add local.set tx
      local.get sax local.get a local.get gx f64.mul f64.add local.set sax
      local.get scx local.get ca ${HSUM("sqx")} f64.mul f64.add local.set scx
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end
    i32.const 0 local.get s1 f64.store ${REFIT_BYTE}
    i32.const 0 local.get sa f64.store ${REFIT_BYTE + 8}
    i32.const 0 local.get sc f64.store ${REFIT_BYTE + 16}
    i32.const 0 local.get saa f64.store ${REFIT_BYTE + 24}
    i32.const 0 local.get sac f64.store ${REFIT_BYTE + 32}
    i32.const 0 local.get scc f64.store ${REFIT_BYTE + 40}
    i32.const 0 local.get tx f64.store ${REFIT_BYTE + 48}
    i32.const 0 local.get sax f64.store ${REFIT_BYTE + 56}
    i32.const 0 local.get scx f64.store ${REFIT_BYTE + 64}`,
};

/** Masks non-finite lanes of v (f32x4) to 0: v − v is 0 exactly for the finite ones. */
const FINITE = (v: string) =>
  `local.get ${v} local.get ${v} local.get ${v} f32x4.sub local.tee t local.get t f32x4.eq v128.and
  local.set ${v}`;
/** The least (op pmin) or greatest (pmax) lane of a and b, as f64, to `to`. */
const REDUCE = (op: string, to: string) =>
  `local.get a local.get b ${op} local.tee t local.get t local.get t shuffle.2301 ${op}
  local.tee t local.get t local.get t shuffle.1032 ${op} f32x4.extract_lane 0 f64.promote_f32
  local.set ${to}`;

/**
 * load(src): the super-block of f32 values at byte src, non-finite ones as 0, to the values (f64
 * and f32) and the groups' minima / maxima. A zero extreme (whose sign depends on which zero
 * came first) is found again in order, as `v < lo` / `v > hi` would.
 */
export const LOAD: Func = {
  params: "src:i32",
  result: "",
  locals: "g:i32 i:i32 o:i32 lo:f64 hi:f64 v:f64 a:v128 b:v128 t:v128",
  code: `
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const 5 i32.shl local.tee o local.get src i32.add local.tee i
      v128.load 0 local.set a  local.get i v128.load 16 local.set b
      ${FINITE("a")} ${FINITE("b")}
      local.get o local.get a v128.store ${XB32_BYTE}
      local.get o local.get b v128.store ${XB32_BYTE + 16}
      local.get o i32.const 1 i32.shl local.tee i local.get a f64x2.promote_low_f32x4
      v128.store ${XB_BYTE}
      local.get i local.get a local.get a shuffle.2301 f64x2.promote_low_f32x4 v128.store ${
    XB_BYTE + 16
  }
      local.get i local.get b f64x2.promote_low_f32x4 v128.store ${XB_BYTE + 32}
      local.get i local.get b local.get b shuffle.2301 f64x2.promote_low_f32x4 v128.store ${
    XB_BYTE + 48
  }
      ${REDUCE("f32x4.pmin", "lo")} ${REDUCE("f32x4.pmax", "hi")}
      local.get lo f64.const 0 f64.eq local.get hi f64.const 0 f64.eq i32.or
      if
        f64.const Infinity local.set lo  f64.const -Infinity local.set hi
        local.get o i32.const 1 i32.shl local.set i
        local.get i i32.const 64 i32.add local.set o
        block loop
          local.get i local.get o i32.ge_s br_if 1
          local.get i f64.load ${XB_BYTE} local.tee v local.get lo f64.lt
          if local.get v local.set lo end
          local.get v local.get hi f64.gt if local.get v local.set hi end
          local.get i i32.const 8 i32.add local.set i
          br 0
        end end
      end
      local.get g i32.const 3 i32.shl local.tee i local.get lo f64.store ${G_MIN_BYTE}
      local.get i local.get hi f64.store ${G_MAX_BYTE}
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end`,
};

/** `body` for every code c = 0 … cm (byte offset c·8 pushed first), as the lattice tables fill. */
function forEachCode(body: string): string {
  return `block loop
      local.get c local.get cm i32.gt_s br_if 1
      local.get c i32.const 3 i32.shl
      ${body}
      local.get c i32.const 1 i32.add local.set c
      br 0
    end end`;
}

/** mins[c] as latticeTables computes it (f32 operations): minBase + dMin·c / codeMax. */
const MIN_AT = `local.get mb f32.demote_f64
  local.get dmin f32.demote_f64 local.get c f32.convert_i32_s f32.mul
  local.get cm f32.convert_i32_s f32.div f32.add f64.promote_f32`;
/** steps[c] as latticeTables computes it (f32 operations): dScale·c / codeMax / qMax. */
const STEP_AT = `local.get dscale f32.demote_f64 local.get c f32.convert_i32_s f32.mul
  local.get cm f32.convert_i32_s f32.div local.get qmax f32.demote_f64 f32.div f64.promote_f32`;

/**
 * tables(dScale, dMin, minBase, qMax, codeMax): both lattice tables, as latticeTables fills them.
 */
export const TABLES: Func = {
  params: "dscale:f64 dmin:f64 mb:f64 qmax:f64 cm:i32",
  result: "",
  locals: "c:i32 o:i32",
  code: forEachCode(`local.tee o ${STEP_AT} f64.store ${STEPS_BYTE}
    local.get o ${MIN_AT} f64.store ${MINS_BYTE}`),
};

/**
 * fmaProbe(a, c) → lane 0 of f32x4.relaxed_madd(a, a, c): with a = 1 + 2⁻¹², c = −(1 + 2⁻¹¹)
 * it is 2⁻²⁴ when the multiply-add is fused and 0 when it rounds the product first.
 */
export const FMA_PROBE: Func = {
  params: "a:f64 c:f64",
  result: "f64",
  locals: "",
  code: `local.get a f32.demote_f64 f32x4.splat local.get a f32.demote_f64 f32x4.splat
    local.get c f32.demote_f64 f32x4.splat f32x4.relaxed_madd f32x4.extract_lane 0 f64.promote_f32`,
};

/** Local t clamped to [0, cmf], as an i32 code on the stack. */
const T_TO_CODE = `local.get t local.get cmf f64.gt if local.get cmf local.set t end
  local.get t f64.const 0 f64.lt if f64.const 0 local.set t end
  local.get t ${TO_I32}`;

/**
 * fastJ(minBase, dMin, codeMax) → the widest group's reach above its min: the fast path's first
 * half. Fills the min lattice (f32 operations as latticeTables has them), gives each group the
 * highest min at or below its minimum (curJ) and returns max(gMax − mins[j]).
 */
export const FAST_J: Func = {
  params: "mb:f64 dmin:f64 cm:i32",
  result: "f64",
  locals: "c:i32 g:i32 j:i32 junit:f64 gm:f64 t:f64 need:f64 cmf:f64",
  code: `
    local.get cm f64.convert_i32_s local.set cmf
    ${forEachCode(`${MIN_AT} f64.store ${MINS_BYTE}`)}
    local.get cmf local.get dmin f64.div f64.const 0 local.get dmin f64.const 0 f64.gt select
    local.set junit
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const 3 i32.shl f64.load ${G_MIN_BYTE} local.tee gm local.get mb f64.sub
      local.get junit f64.mul f64.floor local.set t
      ${T_TO_CODE} local.set j
      block loop
        local.get j i32.const 0 i32.le_s br_if 1
        local.get j i32.const 3 i32.shl f64.load ${MINS_BYTE} local.get gm f64.gt i32.eqz br_if 1
        local.get j i32.const 1 i32.sub local.set j
        br 0
      end end
      block loop
        local.get j local.get cm i32.ge_s br_if 1
        local.get j i32.const 3 i32.shl f64.load ${MINS_BYTE + 8} local.get gm f64.le i32.eqz
        br_if 1
        local.get j i32.const 1 i32.add local.set j
        br 0
      end end
      local.get g local.get j i32.store8 ${CUR_J_BYTE}
      local.get g i32.const 3 i32.shl f64.load ${G_MAX_BYTE}
      local.get j i32.const 3 i32.shl f64.load ${MINS_BYTE} f64.sub local.tee t
      local.get need f64.gt if local.get t local.set need end
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end
    local.get need`,
};

/**
 * fastK(dScale, qMax, codeMax): the fast path's second half. Fills the step lattice (f32
 * operations as latticeTables has them) and gives each group the least q_scale whose span reaches
 * its maximum from its min (curK).
 */
export const FAST_K: Func = {
  params: "dscale:f64 qmax:f64 cm:i32",
  result: "",
  locals: "c:i32 g:i32 k:i32 kunit:f64 r:f64 t:f64 cmf:f64",
  code: `
    local.get cm f64.convert_i32_s local.set cmf
    ${forEachCode(`${STEP_AT} f64.store ${STEPS_BYTE}`)}
    local.get cmf local.get dscale f64.div f64.const 0 local.get dscale f64.const 0 f64.gt select
    local.set kunit
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const 3 i32.shl f64.load ${G_MAX_BYTE}
      local.get g i32.load8_u ${CUR_J_BYTE} i32.const 3 i32.shl f64.load ${MINS_BYTE} f64.sub
      local.tee r local.get kunit f64.mul f64.ceil local.set t
      ${T_TO_CODE} local.set k
      block loop
        local.get k local.get cm i32.ge_s br_if 1
        local.get k i32.const 3 i32.shl f64.load ${STEPS_BYTE} local.get qmax f64.mul
        local.get r f64.lt i32.eqz br_if 1
        local.get k i32.const 1 i32.add local.set k
        br 0
      end end
      block loop
        local.get k i32.const 0 i32.le_s br_if 1
        local.get k i32.const 3 i32.shl f64.load ${STEPS_BYTE - 8} local.get qmax f64.mul
        local.get r f64.ge i32.eqz br_if 1
        local.get k i32.const 1 i32.sub local.set k
        br 0
      end end
      local.get g local.get k i32.store8 ${CUR_K_BYTE}
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end`,
};
