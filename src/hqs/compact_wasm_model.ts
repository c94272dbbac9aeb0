/**
 * The model-search kernels of the compact search (listings for `wasm_asm.ts`): the candidate
 * list (one group's squared errors for a list of lattices, four per f32x4), the anchored
 * least-squares statistics, the model error of a min grid, the model points and the exact
 * assignment from them. Function indices are fixed by `COMPACT_FUNCS` in `compact_wasm.ts`:
 * cands is 0 and anchors 1 (`call 0`, `call 1`).
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
  G_MAX_BYTE,
  G_MIN_BYTE,
  IOTA4_BYTE,
  MAX_POINTS,
  MINS_BYTE,
  N_PTS_BYTE,
  PT_COVER_BYTE,
  PT_ERR_BYTE,
  PT_K_BYTE,
  PT_POS_BYTE,
  STEPS_BYTE,
  XB32_BYTE,
  XB_BYTE,
} from "./compact_wasm_memory.ts";

/**
 * Codes of one f64x2 pair at `u` = x − m: q = clamp(floor(u·inv + ½), 0, qMax), the same codes as
 * the scalar search's (t ≤ 0 ? 0 : t ≥ qMax ? qMax : (t + ½) | 0). Uses locals inv, half, zero, vq.
 */
export const ROUND = `local.get inv f64x2.mul local.get half f64x2.add f64x2.floor
  local.get zero f64x2.pmax local.get vq f64x2.pmin`;

/** f32x4 codes of u = x − m: clamp(floor(u·inv + ½), 0, qMax). */
const ROUND32 = `local.get inv f32x4.mul local.get half f32x4.add f32x4.floor
  local.get zero f32x4.pmax local.get vq f32x4.pmin`;
/**
 * The squared error of value k of the group (splatted in x{k}) on four candidates' lattices
 * (lanes of m, s, inv): the same f32 operations, in the same order, as a scalar evaluation.
 */
function candTerm(k: number): string {
  return `local.get x${k} local.get m f32x4.sub local.tee u ${ROUND32}
    local.get s f32x4.mul local.set q
    local.get u local.get q f32x4.sub local.tee u local.get u f32x4.mul`;
}
/** The least of v's four f32 lanes in every lane (pmin tree; no NaN reaches it), via local t. */
const LEAST4 = (v: string) =>
  `local.get ${v} local.get ${v} local.get ${v} shuffle.2301 f32x4.pmin local.tee t
  local.get t local.get t shuffle.1032 f32x4.pmin`;
/**
 * The four running bests against the overall one: the least error of the lanes, and of the lanes
 * that hold it the least index (the first best of the list, as a scan in order finds), without a
 * branch. It wins only strictly below `best` (else −1; best is left as it was).
 */
const LANE_PICK = `${LEAST4("bv")} local.tee acc local.get bv f32x4.eq local.set u
  local.get bix local.get big local.get u i32x4.relaxed_laneselect local.set q
  ${LEAST4("q")} f32x4.extract_lane 0 f64.promote_f32 i32.trunc_sat_f64_s local.set c
  local.get acc f32x4.extract_lane 0 f64.promote_f32 local.tee e local.get best f64.lt local.set i
  local.get c i32.const -1 local.get i select local.set bi
  local.get e local.get best local.get i select local.set best`;
/**
 * cands(xg, qMax, n, best) → the index of the first of the group's n listed candidates with the
 * smallest error strictly below `best`, or −1; that error goes to memory[0]. Candidate i is the
 * lattice (start, step, 1 / step) at CAND_M/S/I_BYTE + 4i, on the group's 8 f32 values at byte
 * xg. Four candidates run at a time, one per f32x4 lane; a candidate's error is the f32 sum
 * ((e0 + e4) + (e1 + e5)) + (e2 + e6) + (e3 + e7) of its values' squared errors (the order of
 * the former row-by-row kernel, so the same candidate wins). Each lane keeps its own best (error
 * and index, by selects) and the four are compared once at the end: no branch depends on the
 * data inside the loop (an early exit on a partial sum pruned a fifth of the fours, and its
 * mispredicted branches cost more than that saved; so did picking the best as it came). The
 * values and the lattices (f32 tables) are exact in
 * f32; the codes and the error may differ from an f64 evaluation in the last bits, which only
 * matters between near-equal candidates (the chosen parameters are judged on the exact decode
 * afterwards).
 */
export const CANDS: Func = {
  params: "xg:i32 qmax:f64 n:i32 best:f64",
  result: "i32",
  locals: `x0:v128 x1:v128 x2:v128 x3:v128 x4:v128 x5:v128 x6:v128 x7:v128 vq:v128 half:v128
    zero:v128 m:v128 s:v128 inv:v128 u:v128 q:v128 acc:v128 bv:v128 bix:v128 ix:v128 four:v128
    big:v128 t:v128 e:f64 i:i32 bi:i32 c:i32`,
  code: `
    ${
    [0, 1, 2, 3, 4, 5, 6, 7].map((k) => `local.get xg v128.load32_splat ${4 * k} local.set x${k}`)
      .join(" ")
  }
    local.get qmax f32.demote_f64 f32x4.splat local.set vq
    f64.const 0.5 f32.demote_f64 f32x4.splat local.set half
    ;; the list's last four padded with the first candidate: a copy ties with it, and loses
    local.get n i32.const 2 i32.shl local.tee c i32.const 0 v128.load32_splat ${CAND_M_BYTE}
    v128.store ${CAND_M_BYTE}
    local.get c i32.const 0 v128.load32_splat ${CAND_S_BYTE} v128.store ${CAND_S_BYTE}
    local.get c i32.const 0 v128.load32_splat ${CAND_I_BYTE} v128.store ${CAND_I_BYTE}
    local.get best f32.demote_f64 f32x4.splat local.set bv
    i32.const 0 v128.load ${IOTA4_BYTE} local.set ix
    f64.const 4 f32.demote_f64 f32x4.splat local.set four
    block loop
      local.get i local.get n i32.ge_s br_if 1
      local.get i i32.const 2 i32.shl local.tee c v128.load ${CAND_M_BYTE} local.set m
      local.get c v128.load ${CAND_S_BYTE} local.set s
      local.get c v128.load ${CAND_I_BYTE} local.set inv
      ${candTerm(0)} ${candTerm(4)} f32x4.add ${candTerm(1)} ${candTerm(5)} f32x4.add f32x4.add
      ${candTerm(2)} ${candTerm(6)} f32x4.add f32x4.add
      ${candTerm(3)} ${candTerm(7)} f32x4.add f32x4.add
      local.tee acc local.get bv f32x4.lt local.set u
      local.get acc local.get bv local.get u i32x4.relaxed_laneselect local.set bv
      local.get ix local.get bix local.get u i32x4.relaxed_laneselect local.set bix
      local.get ix local.get four f32x4.add local.set ix
      local.get i i32.const 4 i32.add local.set i
      br 0
    end end
    f64.const 1e9 f32.demote_f64 f32x4.splat local.set big
    ${LANE_PICK}
    i32.const 0 local.get best f64.store 0
    local.get bi`,
};

/** The Σd, Σd² and extreme code of one anchor, from f32x4 lanes to memory at `at`. */
const SUMS = (at: number, qLane: string) =>
  `i32.const 0 local.get sr f32x4.extract_lane 0 local.get sr f32x4.extract_lane 1 f32.add
  local.get sr f32x4.extract_lane 2 local.get sr f32x4.extract_lane 3 f32.add f32.add
  f64.promote_f32 f64.store ${at}
  i32.const 0 local.get srr f32x4.extract_lane 0 local.get srr f32x4.extract_lane 1 f32.add
  local.get srr f32x4.extract_lane 2 local.get srr f32x4.extract_lane 3 f32.add f32.add
  f64.promote_f32 f64.store ${at + 8}
  i32.const 0 local.get qx local.get qx local.get qx shuffle.2301 ${qLane} local.tee q local.get q
  local.get q shuffle.1032 ${qLane} f32x4.extract_lane 0 f64.promote_f32 f64.store ${at + 16}`;
function anchorTerm(k: number): string {
  return `local.get x${k} local.get lo f32x4.sub local.tee u ${ROUND32} local.tee q
    local.get qx f32x4.pmax local.set qx
    local.get u local.get q local.get vs f32x4.mul f32x4.sub local.tee u
    local.get sr f32x4.add local.set sr  local.get u local.get u f32x4.mul local.get srr f32x4.add
    local.set srr`;
}
function anchorTopTerm(k: number): string {
  return `local.get hi local.get x${k} f32x4.sub ${ROUND32} local.set q
    local.get vq local.get q f32x4.sub local.tee q local.get qx f32x4.pmin local.set qx
    local.get x${k} local.get m0 f32x4.sub local.get q local.get vs f32x4.mul f32x4.sub local.tee u
    local.get sr f32x4.add local.set sr  local.get u local.get u f32x4.mul local.get srr f32x4.add
    local.set srr`;
}
/**
 * anchors(xg, lo, hi, s, inv, qMax, m0): least-squares statistics of the group's values against
 * the lattice (step s) anchored at its minimum `lo` and at its maximum `hi` (start m0 = hi −
 * qMax·s): Σd, Σd², the highest code; then Σd, Σd², the lowest code; to memory[8…56). It runs on
 * the f32 values (at XB32_BYTE + 32·g) in f32x4 lanes, half the vectors of f64x2: the statistics
 * only rank the model's points, and the chosen codes are refitted and judged exactly later.
 */
export const ANCHORS: Func = {
  params: "xg:i32 lo1:f64 hi1:f64 s:f64 inv1:f64 qmax:f64 m01:f64",
  result: "",
  locals: `x0:v128 x1:v128 lo:v128 hi:v128 vs:v128 inv:v128 vq:v128 half:v128
    zero:v128 m0:v128 u:v128 q:v128 sr:v128 srr:v128 qx:v128`,
  code: `
    local.get xg v128.load 0 local.set x0   local.get xg v128.load 16 local.set x1
    local.get lo1 f32.demote_f64 f32x4.splat local.set lo
    local.get hi1 f32.demote_f64 f32x4.splat local.set hi
    local.get s f32.demote_f64 f32x4.splat local.set vs
    local.get inv1 f32.demote_f64 f32x4.splat local.set inv
    local.get qmax f32.demote_f64 f32x4.splat local.set vq
    f64.const 0.5 f32.demote_f64 f32x4.splat local.set half
    local.get m01 f32.demote_f64 f32x4.splat local.set m0
    ${anchorTerm(0)} ${anchorTerm(1)}
    ${SUMS(8, "f32x4.pmax")}
    local.get zero local.tee sr local.set srr  local.get vq local.set qx
    ${anchorTopTerm(0)} ${anchorTopTerm(1)}
    ${SUMS(32, "f32x4.pmin")}`,
};

/**
 * model(minBase, delta, inv, codeMax, bound) → Σ over groups of the least, over the group's
 * points, of err + 8·(minBase + j·delta − pos)² with j = clamp(floor((pos − minBase)·inv + ½), 0,
 * codeMax); returns as soon as the sum reaches `bound`.
 */
export const MODEL: Func = {
  params: "mb1:f64 delta1:f64 inv1:f64 cm:f64 bound:f64",
  result: "f64",
  locals: `mb:v128 delta:v128 inv:v128 vq:v128 half:v128 zero:v128 eight:v128 best:v128
    j:v128 p:v128 total:f64 g:i32 pp:i32 pend:i32`,
  code: `
    local.get mb1 f64x2.splat local.set mb  local.get delta1 f64x2.splat local.set delta
    local.get inv1 f64x2.splat local.set inv  local.get cm f64x2.splat local.set vq
    f64.const 0.5 f64x2.splat local.set half  f64.const 8 f64x2.splat local.set eight
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const ${MAX_POINTS * 8} i32.mul i32.const ${PT_POS_BYTE} i32.add
      local.tee pp
      local.get g i32.load8_u ${N_PTS_BYTE} i32.const 1 i32.add i32.const -2 i32.and
      i32.const 3 i32.shl i32.add local.set pend
      f64.const Infinity f64x2.splat local.set best
      block loop
        local.get pp local.get pend i32.ge_s br_if 1
        local.get pp v128.load 0 local.tee p local.get mb f64x2.sub ${ROUND} local.set j
        local.get mb local.get j local.get delta f64x2.mul f64x2.add local.get p f64x2.sub
        local.tee j local.get eight f64x2.mul local.get j f64x2.mul
        local.get pp v128.load ${PT_ERR_BYTE - PT_POS_BYTE} f64x2.add
        local.get best f64x2.pmin local.set best
        local.get pp i32.const 16 i32.add local.set pp
        br 0
      end end
      local.get total local.get best f64x2.extract_lane 0 local.get best f64x2.extract_lane 1
      f64.min f64.add local.tee total local.get bound f64.ge
      if local.get total return end
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end
    local.get total`,
};

/** Appends the point (pos on the stack's top expression, err, k) to the group's list. */
function addPoint(pos: string): string {
  return `local.get o local.get n i32.add i32.const 3 i32.shl local.tee i ${pos}
    f64.store ${PT_POS_BYTE}
    local.get i local.get e f64.store ${PT_ERR_BYTE}
    local.get o local.get n i32.add local.get k i32.store8 ${PT_K_BYTE}
    local.get n i32.const 1 i32.add local.set n`;
}

/** Σd, Σd² of an anchor (results at `at`, `at + 8`) to e (clamped at 0) and the mean Σd/8. */
function anchorPoint(at: number): string {
  return `i32.const 0 f64.load ${at} local.set sr
    i32.const 0 f64.load ${at + 8} local.get sr local.get sr f64.mul f64.const 0.125 f64.mul f64.sub
    local.tee e f64.const 0 f64.lt if f64.const 0 local.set e end`;
}

/**
 * points(alpha, kUnit, qMax, codeMax, slack, win, shift): for every group and q_scale codes k0 …
 * k0 + win − 1 (k0 = ⌈alpha·range·kUnit⌉, at least 1, at most codeMax), the least-squares lattice
 * starts anchored at the group's minimum and maximum (anchors) with their errors, and, when
 * shift ≥ 1, each one's shift by one step if the codes leave room; a near-constant group (k0 <
 * 1) also gets its mean with step 0. Points above the group's least error + `slack` are dropped;
 * each list is padded to an even length. At most 1 + 4·win points: win ≤ 7 fits MAX_POINTS.
 * Also leaves, at PT_COVER_BYTE, the highest of the groups' lowest kept points and the lowest of
 * their highest.
 */
export const POINTS: Func = {
  params: "alpha:f64 kunit:f64 qmax:f64 cm:i32 slack:f64 win:i32 shift:f64",
  result: "",
  locals: `g:i32 n:i32 k:i32 k1:i32 o:i32 i:i32 w:i32 xg:i32 p:i32 keep:i32
    lo:f64 hi:f64 s:f64 m0:f64 e:f64 sr:f64 sx:f64 v:f64 cut:f64 pa:f64 pb:f64 top:f64 bot:f64`,
  code: `
    f64.const -Infinity local.set top  f64.const Infinity local.set bot
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const ${MAX_POINTS} i32.mul local.set o
      i32.const 0 local.set n
      local.get g i32.const 64 i32.mul i32.const ${XB_BYTE} i32.add local.set xg
      local.get g i32.const 3 i32.shl local.tee i f64.load ${G_MIN_BYTE} local.set lo
      local.get i f64.load ${G_MAX_BYTE} local.set hi
      local.get alpha local.get hi local.get lo f64.sub f64.mul local.get kunit f64.mul f64.ceil
      i32.trunc_sat_f64_s local.tee k
      i32.const 1 i32.lt_s
      if
        ;; near-constant group: a zero step at the mean
        f64.const 0 local.set sx  f64.const 0 local.set e
        i32.const 0 local.set i
        block loop
          local.get i i32.const 64 i32.ge_s br_if 1
          local.get xg local.get i i32.add f64.load 0 local.tee v local.get sx f64.add local.set sx
          local.get e local.get v local.get v f64.mul f64.add local.set e
          local.get i i32.const 8 i32.add local.set i
          br 0
        end end
        local.get e local.get sx local.get sx f64.mul f64.const 0.125 f64.mul f64.sub
        local.tee e f64.const 0 f64.lt if f64.const 0 local.set e end
        i32.const 0 local.set k
        ${addPoint("local.get sx f64.const 0.125 f64.mul")}
        i32.const 1 local.set k
      end
      local.get k local.get cm i32.gt_s if local.get cm local.set k end
      local.get k local.get win i32.add i32.const 1 i32.sub local.tee k1 local.get cm i32.gt_s
      if local.get cm local.set k1 end
      block loop
        local.get k local.get k1 i32.gt_s br_if 1
        local.get k i32.const 3 i32.shl f64.load ${STEPS_BYTE} local.tee s f64.const 0 f64.gt
        if
          local.get hi local.get qmax local.get s f64.mul f64.sub local.set m0
          local.get g i32.const 32 i32.mul i32.const ${XB32_BYTE} i32.add
          local.get lo local.get hi local.get s f64.const 1 local.get s f64.div
          local.get qmax local.get m0 call 1
          ${anchorPoint(8)}
          ${addPoint("local.get lo local.get sr f64.const 0.125 f64.mul f64.add")}
          local.get qmax i32.const 0 f64.load 24 f64.sub f64.const 1 f64.ge
          local.get shift f64.const 1 f64.ge i32.and
          if ${
    addPoint("local.get lo local.get sr f64.const 0.125 f64.mul f64.add local.get s f64.sub")
  } end
          ${anchorPoint(32)}
          ${addPoint("local.get m0 local.get sr f64.const 0.125 f64.mul f64.add")}
          i32.const 0 f64.load 48 f64.const 1 f64.ge
          local.get shift f64.const 1 f64.ge i32.and
          if ${
    addPoint("local.get m0 local.get sr f64.const 0.125 f64.mul f64.add local.get s f64.add")
  } end
        end
        local.get k i32.const 1 i32.add local.set k
        br 0
      end end
      ;; prune: keep the points within slack of the group's least error
      f64.const Infinity local.set cut
      i32.const 0 local.set i
      block loop
        local.get i local.get n i32.ge_s br_if 1
        local.get cut local.get o local.get i i32.add i32.const 3 i32.shl f64.load ${PT_ERR_BYTE}
        f64.min local.set cut
        local.get i i32.const 1 i32.add local.set i
        br 0
      end end
      local.get cut local.get slack f64.add local.set cut
      i32.const 0 local.set i  i32.const 0 local.set w
      f64.const Infinity local.set pa  f64.const -Infinity local.set pb
      ;; every point is copied to slot w, which only advances past a kept one: no branch on the
      ;; data (a dropped point's copy is overwritten, or left past the count)
      block loop
        local.get i local.get n i32.ge_s br_if 1
        local.get o local.get i i32.add i32.const 3 i32.shl local.tee p
        f64.load ${PT_ERR_BYTE} local.tee e local.get cut f64.le local.set keep
        local.get p f64.load ${PT_POS_BYTE} local.set v
        local.get o local.get w i32.add i32.const 3 i32.shl local.tee p local.get v
        f64.store ${PT_POS_BYTE}
        local.get p local.get e f64.store ${PT_ERR_BYTE}
        local.get o local.get w i32.add
        local.get o local.get i i32.add i32.load8_u ${PT_K_BYTE}
        i32.store8 ${PT_K_BYTE}
        local.get v local.get pa local.get keep local.get v local.get pa f64.lt i32.and select
        local.set pa
        local.get v local.get pb local.get keep local.get v local.get pb f64.gt i32.and select
        local.set pb
        local.get w local.get keep i32.add local.set w
        local.get i i32.const 1 i32.add local.set i
        br 0
      end end
      local.get pb local.get bot f64.lt if local.get pb local.set bot end
      local.get pa local.get top f64.gt if local.get pa local.set top end
      local.get g local.get w i32.store8 ${N_PTS_BYTE}
      local.get w i32.const 1 i32.and
      if
        ;; pad to a whole f64x2 pair with a point that never wins
        local.get o local.get w i32.add i32.const 3 i32.shl local.tee i
        local.get o i32.const 3 i32.shl f64.load ${PT_POS_BYTE} f64.store ${PT_POS_BYTE}
        local.get i f64.const Infinity f64.store ${PT_ERR_BYTE}
      end
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end
    i32.const 0 local.get top f64.store ${PT_COVER_BYTE}
    i32.const 0 local.get bot f64.store ${PT_COVER_BYTE + 8}`,
};

/**
 * Sets s = steps[k] and iv = its f32 inverse (0 for a zero step), as the candidates store them.
 */
export const STEP_OF_K = `local.get k i32.const 3 i32.shl f64.load ${STEPS_BYTE} local.tee s
  f64.const 1 local.get s f64.div f64.const 0 local.get s f64.const 0 f64.gt select local.set iv`;

/** Appends candidate (k, j) with STEP_OF_K's s / iv to the list (c entries so far). */
export const PUSH_ONE = `local.get c i32.const 2 i32.shl local.tee o
  local.get j i32.const 3 i32.shl f64.load ${MINS_BYTE} f32.demote_f64 f32.store ${CAND_M_BYTE}
  local.get o local.get s f32.demote_f64 f32.store ${CAND_S_BYTE}
  local.get o local.get iv f32.demote_f64 f32.store ${CAND_I_BYTE}
  local.get c local.get k i32.store8 ${CAND_K_BYTE}
  local.get c local.get j i32.store8 ${CAND_J_BYTE}
  local.get c i32.const 1 i32.add local.set c`;

/**
 * Runs cands on group g's list of c candidates: its best, if any beats Infinity, becomes
 * (bk, bj) with its error in best.
 */
export const PICK = `local.get g i32.const 32 i32.mul i32.const ${XB32_BYTE} i32.add local.get qmax
  local.get c f64.const Infinity call 0 local.tee i i32.const 0 i32.ge_s
  if i32.const 0 f64.load 0 local.set best
    local.get i i32.load8_u ${CAND_K_BYTE} local.set bk
    local.get i i32.load8_u ${CAND_J_BYTE} local.set bj end`;

/** Stores group g's (bk, bj) and adds its error to total; the loop's tail. */
export const GROUP_END = `local.get g local.get bk i32.store8 ${CUR_K_BYTE}
  local.get g local.get bj i32.store8 ${CUR_J_BYTE}
  local.get total local.get best f64.add local.set total
  local.get g i32.const 1 i32.add local.set g`;

/**
 * assignPoints(minBase, jUnit, qMax, codeMax) → Σ best errors: each group takes the best of the
 * two min-grid codes around each of its points (q_scale the point's), into the current codes.
 */
export const ASSIGN_POINTS: Func = {
  params: "mb:f64 junit:f64 qmax:f64 cm:i32",
  result: "f64",
  locals: `g:i32 p:i32 pend:i32 k:i32 j:i32 i:i32 bk:i32 bj:i32 c:i32 o:i32
    s:f64 iv:f64 best:f64 t:f64 total:f64`,
  code: `
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const ${MAX_POINTS} i32.mul local.tee p
      local.get g i32.load8_u ${N_PTS_BYTE} i32.add local.set pend
      f64.const Infinity local.set best  i32.const 0 local.set bk  i32.const 0 local.set bj
      i32.const 0 local.set c
      block loop
        local.get p local.get pend i32.ge_s br_if 1
        local.get p i32.load8_u ${PT_K_BYTE} local.set k
        ${STEP_OF_K}
        local.get p i32.const 3 i32.shl f64.load ${PT_POS_BYTE} local.get mb f64.sub
        local.get junit f64.mul f64.floor local.tee t f64.const 0 f64.lt
        if f64.const 0 local.set t end
        local.get t local.get cm f64.convert_i32_s f64.gt if local.get cm f64.convert_i32_s local.set t end
        local.get t i32.trunc_sat_f64_s local.set j
        ${PUSH_ONE}
        local.get j local.get cm i32.lt_s
        if local.get j i32.const 1 i32.add local.set j ${PUSH_ONE} end
        local.get p i32.const 1 i32.add local.set p
        br 0
      end end
      ${PICK}
      ${GROUP_END}
      br 0
    end end
    local.get total`,
};
