/**
 * The legacy (HQ4K/HQ5K) group search (method: search.ts) in WebAssembly: for a chunk of groups,
 * the min/max start, the floor/ceiling enumeration and its rounded fit (scalar f64, the operations
 * of the JavaScript twin `tests/_hqs_search_twin.ts` in the same order, so the same roundings),
 * then both candidates' round trips in SIMD and the better of the two. The round trip is
 * `groupSqErr`'s to the bit: f32 lanes for the codes (an f32 operation rounds exactly as
 * `Math.fround` of the double one), f64 lanes for the decode and the error, summed in element
 * order. The module is assembled on first use, not at import.
 *
 * V8 compiles an f64 `select`, `f64.min` and `f64.max` to branches, which mispredict on data;
 * where the choice depends on the data, the listings use `pmin` / `pmax` lanes (one instruction)
 * or integer masks instead.
 *
 * @module
 */
import { f16Table } from "./f16.ts";
import { HQS_GROUP } from "./kernel.ts";
import { assembleModule, type Func } from "../wasm_asm.ts";

/** Groups per {@link SearchKernel.search} call. */
export const SEARCH_CHUNK = 2048;
/** Byte offset of the chunk's values (f32, 8 per group). */
const X_BYTE = 0;
/**
 * Byte offset of the candidates, 32 bytes per group: min and range values (f32) and their f16
 * bits (min | range << 16) of the min/max start at 0, 4, 8 and of the fit at 16, 20, 24 (range 0
 * when there is no fit).
 */
const PAR_BYTE = X_BYTE + SEARCH_CHUNK * HQS_GROUP * 4;
/** Byte offset of the chosen candidate's squared error (f64 per group). */
const ERR_BYTE = PAR_BYTE + SEARCH_CHUNK * 32;
/** Byte offset of the chosen candidate's codes (8 × u8 per group). */
const CODES_BYTE = ERR_BYTE + SEARCH_CHUNK * 8;
/** Byte offset of the chosen candidate's f16 bits (min | range << 16, u32 per group). */
const BITS_BYTE = CODES_BYTE + SEARCH_CHUNK * HQS_GROUP;
/** Byte offsets of the enumeration's undecided elements: 2·floor + 1 and y (f64), index (u8). */
const U2F1_BYTE = BITS_BYTE + SEARCH_CHUNK * 4;
const UY_BYTE = U2F1_BYTE + 2 * HQS_GROUP * 8;
const UNC_BYTE = UY_BYTE + 2 * HQS_GROUP * 8;
/** Byte offset of the f16 decode table (65 536 × f32), from the fourth 64 KiB page on. */
const T_BYTE = 3 * 65536;
const PAGES = 3 + 4;

/**
 * Just below 1. Skipping the division when score ≤ best is certain: if P ≤ fl(fl(B·(1 − 2⁻⁵⁰))·sqq)
 * then P/sqq < B exactly (two roundings of at most 2⁻⁵³ each cannot undo 2⁻⁵⁰), so the correctly
 * rounded quotient is ≤ B and would not have won either.
 */
const PRUNE_MARGIN = 1 - 2 ** -50;
const EIGHT = Array.from({ length: HQS_GROUP }, (_, k) => k);

/**
 * f16(x) → the f16 bits nearest to the double x, ties to even (as a `Float16Array` store); any
 * magnitude from 65 520 on, and NaN, give 0x7c00 with x's sign. A magic addition rounds |x| to
 * a multiple of its f16 spacing (2^(e − 10), at least 2⁻²⁴) exactly, then the bits are read off.
 */
export const F16: Func = {
  params: "x:f64",
  result: "i32",
  locals: "b:i64 e:i32 r:f64 m:f64 s:i32",
  code: `
    local.get x i64.reinterpret_f64 local.tee b i64.const 48 i64.shr_u i32.wrap_i64
    i32.const 32768 i32.and local.set s
    local.get x f64.abs local.tee r f64.const 65520 f64.ge local.get r local.get r f64.ne i32.or
    if local.get s i32.const 31744 i32.or return end
    local.get b i64.const 52 i64.shr_u i32.wrap_i64 i32.const 2047 i32.and i32.const 1023 i32.sub
    local.tee e i32.const -14 local.get e i32.const -14 i32.gt_s select
    i32.const 1065 i32.add i64.extend_i32_s i64.const 52 i64.shl f64.reinterpret_i64
    f64.const 1.5 f64.mul local.set m
    local.get r local.get m f64.add local.get m f64.sub local.tee r
    f64.const ${2 ** -14} f64.lt
    if local.get r f64.const ${2 ** 24} f64.mul i32.trunc_sat_f64_s local.get s i32.or return end
    local.get r i64.reinterpret_f64 local.tee b i64.const 52 i64.shr_u i32.wrap_i64
    i32.const 1008 i32.sub i32.const 10 i32.shl
    local.get b i64.const 42 i64.shr_u i32.wrap_i64 i32.const 1023 i32.and i32.or
    local.get s i32.or`,
};
const CALL_F16 = "call 0";
/** f32 value of the f16 bits on the stack. */
const DECODE = `i32.const 2 i32.shl f32.load ${T_BYTE}`;

/**
 * Classifies element k on lattice l (top Qmax for l = 0, Qmax − 1 for l = 1): it keeps its nearest
 * code when its lattice position is within 1/4 of an integer (1/4 loses under 0.01 % of error on
 * Gaussian data and halves the enumeration; 4 · fraction is exact, so the tests are exact), else
 * it is undecided between floor and ceiling and joins the lattice's list (2·floor + 1, y, k). The
 * lattice's sums a, b, c start from the all-floor-or-forced assignment. The min element has y = 0
 * and is never undecided; the max lands on top by the clamp or as forced.
 */
function classify(k: number, l: number): string {
  const top = `top${l}`, nu = `nu${l}`, forced = `forced${l}`;
  // Branch-free (a data-dependent branch here mispredicts at the max element): below top (in = 1)
  // the element may go up or be undecided; at top both are masked off and pmin(f + up, top) is
  // top. The list slot at nu is written either way; it only counts once nu moves past it.
  return `
    local.get y${k} local.get scale${l} f64.mul local.tee t f64.floor local.tee f
    local.get ${top} f64.lt local.set in
    local.get t local.get f f64.sub f64.const 4 f64.mul local.tee q4
    f64.ceil i32.trunc_sat_f64_s i32.const 2 i32.shr_s local.get in i32.and local.set up
    local.get q4 f64.floor i32.trunc_sat_f64_s i32.const 3 i32.add i32.const 2 i32.shr_s
    local.get in i32.and local.get up i32.sub local.set und
    local.get ${nu} i32.const 3 i32.shl local.tee ad
    f64.const 2 local.get f f64.mul f64.const 1 f64.add f64.store ${U2F1_BYTE}
    local.get ad local.get y${k} f64.store ${UY_BYTE}
    local.get ${nu} i32.const ${k} i32.store8 ${UNC_BYTE}
    local.get ${nu} local.get und i32.add local.set ${nu}
    local.get f local.get up f64.convert_i32_s f64.add f64x2.splat local.get ${top}v f64x2.pmin
    f64x2.extract_lane 0 local.set f
    local.get ${forced} local.get up i32.const ${k} i32.shl i32.or local.set ${forced}
    local.get a${l} local.get f f64.add local.set a${l}
    local.get b${l} local.get f local.get f f64.mul f64.add local.set b${l}
    local.get c${l} local.get f local.get y${k} f64.mul f64.add local.set c${l}`;
}

/**
 * Enumerates lattice l's floor/ceiling assignments in Gray-code order (step j flips undecided
 * element ctz(j), adding or subtracting its terms), keeping the best least-squares score
 * (explained variance of the fit, larger is better; strictly better wins, so lattice 0 first) in
 * best, and the winner as etop and emask (bit k: element k takes the ceiling).
 */
function enumerate(l: number): string {
  const base = l * HQS_GROUP;
  return `
    local.get a${l} local.set a local.get b${l} local.set b local.get c${l} local.set c
    local.get nu${l} i32.const ${base} i32.sub local.set nu
    local.get best f64.const ${PRUNE_MARGIN} f64.mul local.set thr
    i32.const -1 local.set bj
    i32.const 1 local.get nu i32.shl local.set count
    i32.const 0 local.set j
    block loop
      local.get b local.get a local.get a f64.mul f64.const 0.125 f64.mul f64.sub local.set sqq
      local.get c local.get sy local.get a f64.mul f64.const 0.125 f64.mul f64.sub local.tee sxq
      f64.const 0 f64.gt
      if
        local.get sxq local.get sxq f64.mul local.tee p local.get thr local.get sqq f64.mul f64.gt
        if
          local.get p local.get sqq f64.div local.tee score local.get best f64.gt
          if
            local.get score local.tee best f64.const ${PRUNE_MARGIN} f64.mul local.set thr
            local.get j local.set bj
          end
        end
      end
      local.get j i32.const 1 i32.add local.tee j local.get count i32.ge_s br_if 1
      local.get j i32.ctz local.set bit
      local.get j local.get j i32.const 1 i32.shr_s i32.xor local.get bit i32.shr_s
      i32.const 1 i32.and i32.const 1 i32.shl i32.const 1 i32.sub f64.convert_i32_s local.set sg
      local.get a local.get sg f64.add local.set a
      local.get bit i32.const ${base} i32.add i32.const 3 i32.shl local.set ad
      local.get b local.get sg local.get ad f64.load ${U2F1_BYTE} f64.mul f64.add local.set b
      local.get c local.get sg local.get ad f64.load ${UY_BYTE} f64.mul f64.add local.set c
      br 0
    end end
    local.get bj i32.const 0 i32.ge_s
    if
      local.get forced${l} local.set mask
      local.get bj local.get bj i32.const 1 i32.shr_s i32.xor local.set gray
      i32.const 0 local.set i
      block loop
        local.get i local.get nu i32.ge_s br_if 1
        local.get mask local.get gray local.get i i32.shr_u i32.const 1 i32.and
        local.get i i32.load8_u ${UNC_BYTE + base} i32.shl i32.or local.set mask
        local.get i i32.const 1 i32.add local.set i
        br 0
      end end
      local.get mask local.set emask
      local.get top${l} local.set etop
    end`;
}

/**
 * The fit's candidate (the twin's searchGroup from the min/max start on, and tryFit): leaves the
 * block (no candidate) wherever the JavaScript returns early. Unlike the twin it also searches
 * groups the start fits exactly: there the fit can only tie, and ties keep the start.
 */
const FIT = `
  local.get mx local.get mn f64.sub local.tee range f64.const 0 f64.gt i32.eqz br_if 0
  f64.const 0 local.set sy
  ${
  EIGHT.map((k) =>
    `local.get x${k} local.get mn f64.sub local.tee y${k}
    local.get sy f64.add local.set sy`
  ).join("\n")
}
  f64.const -1 local.set etop
  f64.const 0 local.set best
  local.get qmax local.tee top0 local.get range f64.div local.set scale0
  local.get qmax f64.const 1 f64.sub local.tee top1 local.get range f64.div local.set scale1
  local.get top0 f64x2.splat local.set top0v
  local.get top1 f64x2.splat local.set top1v
  f64.const 0 local.tee a0 local.tee b0 local.tee c0 local.tee a1 local.tee b1 local.set c1
  i32.const 0 local.tee nu0 local.tee forced0 local.set forced1
  i32.const ${HQS_GROUP} local.set nu1
  ${EIGHT.map((k) => classify(k, 0) + classify(k, 1)).join("\n")}
  ${enumerate(0)}
  ${enumerate(1)}
  local.get etop f64.const 0 f64.lt br_if 0
  ;; refit the best assignment: x − mn ≈ c0 + q · d; pmin(floor + ceiling bit, top) is the
  ;; twin's "top when floor ≥ top, else floor + bit" (floor + bit ≤ top below top)
  f64.const 0 local.tee a local.tee b local.set c
  local.get etop local.get range f64.div local.set scale0
  local.get etop f64x2.splat local.set etopv
  ${
  EIGHT.map((k) => `
    local.get y${k} local.get scale0 f64.mul f64.floor
    local.get emask i32.const ${k} i32.shr_s i32.const 1 i32.and f64.convert_i32_s f64.add
    f64x2.splat local.get etopv f64x2.pmin f64x2.extract_lane 0 local.set f
    local.get a local.get f f64.add local.set a
    local.get b local.get f local.get f f64.mul f64.add local.set b
    local.get c local.get f local.get y${k} f64.mul f64.add local.set c`).join("\n")
}
  local.get c local.get sy local.get a f64.mul f64.const 0.125 f64.mul f64.sub
  local.get b local.get a local.get a f64.mul f64.const 0.125 f64.mul f64.sub f64.div
  local.get qmax f64.mul ${CALL_F16} local.set sb
  i32.const 1 local.get sb local.get sb i32.const 1 i32.lt_s select local.tee sb
  i32.const 31744 i32.ge_s br_if 0
  local.get sb ${DECODE} local.get qmax f32.demote_f64 f32.div f64.promote_f32 local.set step
  local.get mn local.get sy local.get step local.get a f64.mul f64.sub f64.const ${HQS_GROUP} f64.div
  f64.add ${CALL_F16} local.tee mb i32.const 31744 i32.and i32.const 31744 i32.eq br_if 0
  local.get px local.get mb ${DECODE} f32.store ${PAR_BYTE + 16}
  local.get px local.get sb ${DECODE} f32.store ${PAR_BYTE + 20}
  local.get px local.get mb local.get sb i32.const 16 i32.shl i32.or i32.store ${PAR_BYTE + 24}`;

/**
 * Codes of the candidate whose record starts at byte `o`, into qa/qb (as f32 lanes), and its
 * squared error into `e`: q = clamp(round((x − min) / range × Qmax)) with halves away from zero,
 * computed as floor + (fraction ≥ ½) since both parts are exact in f32.
 */
function candidate(o: number, e: string): string {
  const codes = (v: string, q: string) =>
    `local.get ${v} local.get ms f32x4.sub local.get ss f32x4.div local.get qv f32x4.mul
    local.get zero f32x4.pmax local.get qv f32x4.pmin local.tee vt f32x4.floor local.tee fl
    local.get half local.get vt local.get fl f32x4.sub f32x4.le local.get one v128.and
    f32x4.add local.set ${q}`;
  // x̂ = f32(min + q · step) with the product exact in f64; e² per lane.
  const sq = (q: string, hi: boolean, p: string, d: string) =>
    `local.get ${p} local.get ${q} ${hi ? `local.get ${q} shuffle.2301` : ""}
    f64x2.promote_low_f32x4 local.get sd f64x2.mul local.get md f64x2.add
    f32x4.demote_f64x2_zero f64x2.promote_low_f32x4 f64x2.sub local.tee d local.get d f64x2.mul
    local.set ${d}`;
  return `
    local.get px f32.load ${PAR_BYTE + o} f64.promote_f32 local.tee sf f64x2.splat local.set md
    local.get sf f32.demote_f64 f32x4.splat local.set ms
    local.get px f32.load ${PAR_BYTE + o + 4} f32x4.splat local.set ss
    local.get px f32.load ${PAR_BYTE + o + 4} local.get qmax f32.demote_f64 f32.div
    f64.promote_f32 f64x2.splat local.set sd
    ${codes("v0", "qa")}
    ${codes("v1", "qb")}
    ${sq("qa", false, "p0", "d0")} ${sq("qa", true, "p1", "d1")}
    ${sq("qb", false, "p2", "d2")} ${sq("qb", true, "p3", "d3")}
    local.get d0 f64x2.extract_lane 0 local.get d0 f64x2.extract_lane 1 f64.add
    local.get d1 f64x2.extract_lane 0 f64.add local.get d1 f64x2.extract_lane 1 f64.add
    local.get d2 f64x2.extract_lane 0 f64.add local.get d2 f64x2.extract_lane 1 f64.add
    local.get d3 f64x2.extract_lane 0 f64.add local.get d3 f64x2.extract_lane 1 f64.add
    local.set ${e}`;
}

/** Stores the chosen candidate (record at byte o): error e, codes qa/qb, f16 bits. */
function choose(o: number, e: string): string {
  return `local.get g i32.const 3 i32.shl local.tee ad local.get ${e} f64.store ${ERR_BYTE}
  local.get ad local.get qa i32x4.trunc_sat_f32x4_s local.get qb i32x4.trunc_sat_f32x4_s
  i16x8.narrow_i32x4_u local.tee w local.get w i8x16.narrow_i16x8_u i64x2.extract_lane 0
  i64.store ${CODES_BYTE}
  local.get g i32.const 2 i32.shl local.get px i32.load ${PAR_BYTE + o + 8}
  i32.store ${BITS_BYTE}`;
}

/**
 * search(n, qmax, mse): for groups 0 … n − 1, the min/max start and (with mse ≠ 0) the fit;
 * the fit is kept only when its error is strictly smaller.
 */
const SEARCH: Func = {
  params: "n:i32 qmax:f64 mse:i32",
  result: "",
  locals: `g:i32 px:i32 ad:i32 mb:i32 sb:i32 up:i32 und:i32 nu0:i32 nu1:i32 forced0:i32 in:i32
    forced1:i32 nu:i32 bj:i32 count:i32 j:i32 bit:i32 mask:i32 gray:i32 i:i32 emask:i32
    ${EIGHT.map((k) => `x${k}:f64 y${k}:f64`).join(" ")}
    mn:f64 mx:f64 r32:f64 range:f64 sy:f64 etop:f64 best:f64 top0:f64 top1:f64 scale0:f64
    scale1:f64 t:f64 f:f64 q4:f64 a0:f64 b0:f64 c0:f64 a1:f64 b1:f64 c1:f64 a:f64 b:f64 c:f64
    thr:f64 sqq:f64 sxq:f64 p:f64 score:f64 sg:f64 step:f64 sf:f64 e1:f64 e2:f64
    v0:v128 v1:v128 p0:v128 p1:v128 p2:v128 p3:v128 qv:v128 half:v128 one:v128 zero:v128
    ms:v128 ss:v128 md:v128 sd:v128 vt:v128 fl:v128 qa:v128 qb:v128 d:v128 d0:v128 d1:v128
    d2:v128 d3:v128 w:v128 etopv:v128 top0v:v128 top1v:v128`,
  code: `
    local.get qmax f32.demote_f64 f32x4.splat local.set qv
    f64.const 0.5 f32.demote_f64 f32x4.splat local.set half
    f64.const 1 f32.demote_f64 f32x4.splat local.set one
    f64.const 0 f32.demote_f64 f32x4.splat local.set zero
    block loop
      local.get g local.get n i32.ge_s br_if 1
      local.get g i32.const 5 i32.shl local.set px
      ${
    EIGHT.map((k) => `local.get px f32.load ${X_BYTE + 4 * k} f64.promote_f32 local.set x${k}`)
      .join("\n")
  }
      ;; min and max as the scalar folds with strict comparisons give them (the first of equal
      ;; values: 0 before −0): a tree of pmin / pmax whose left operand is always the earlier block
      local.get px v128.load ${X_BYTE} local.set v0
      local.get px v128.load ${X_BYTE + 16} local.set v1
      local.get v0 local.get v1 shuffle.0246 local.get v0 local.get v1 shuffle.1357 f32x4.pmin
      local.tee vt local.get vt local.get vt shuffle.1032 f32x4.pmin
      local.tee vt local.get vt local.get vt shuffle.2301 f32x4.pmin f32x4.extract_lane 0 f64.promote_f32 local.set mn
      local.get v0 local.get v1 shuffle.0246 local.get v0 local.get v1 shuffle.1357 f32x4.pmax
      local.tee vt local.get vt local.get vt shuffle.1032 f32x4.pmax
      local.tee vt local.get vt local.get vt shuffle.2301 f32x4.pmax f32x4.extract_lane 0 f64.promote_f32 local.set mx
      ;; the min/max start: f32 range floored at EPS, both saturated to f16
      local.get mx local.get mn f64.sub f32.demote_f64 f64.promote_f32 local.tee r32
      f64.const 1e-7 local.get r32 f64.const 1e-7 f64.gt select
      f64.const 65504 f64.min ${CALL_F16} local.set sb
      local.get mn f64.const 65504 f64.min f64.const -65504 f64.max ${CALL_F16} local.set mb
      local.get px local.get mb ${DECODE} f32.store ${PAR_BYTE}
      local.get px local.get sb ${DECODE} f32.store ${PAR_BYTE + 4}
      local.get px local.get mb local.get sb i32.const 16 i32.shl i32.or i32.store ${PAR_BYTE + 8}
      local.get px i32.const 0 i32.store ${PAR_BYTE + 20}
      block
        local.get mse i32.eqz br_if 0
        ${FIT}
      end
      ;; both round trips
      local.get v0 f64x2.promote_low_f32x4 local.set p0
      local.get v0 local.get v0 shuffle.2301 f64x2.promote_low_f32x4 local.set p1
      local.get v1 f64x2.promote_low_f32x4 local.set p2
      local.get v1 local.get v1 shuffle.2301 f64x2.promote_low_f32x4 local.set p3
      ${candidate(0, "e1")}
      ${choose(0, "e1")}
      local.get px i32.load ${PAR_BYTE + 20} i32.eqz i32.eqz
      if
        ${candidate(16, "e2")}
        local.get e2 local.get e1 f64.lt
        if ${choose(16, "e2")} end
      end
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end`,
};

/** Views of the module's memory and its entry points. */
export interface SearchKernel {
  /** The chunk's values, 8 per group. */
  readonly x: Float32Array;
  /** The chosen squared error per group. */
  readonly err: Float64Array;
  /** The chosen codes, 8 per group. */
  readonly codes: Uint8Array;
  /** The chosen f16 bits per group: min | range << 16. */
  readonly bits: Uint32Array;
  /**
   * Searches groups 0 … n − 1 of {@link SearchKernel.x} (n ≤ {@link SEARCH_CHUNK}) for a format
   * with `qmax` levels above zero; `mse` 0 keeps the min/max start.
   */
  readonly search: (n: number, qmax: number, mse: number) => void;
  /** The f16 bits nearest to a double (ties to even), saturating nothing: NaN gives 0x7c00. */
  readonly f16: (x: number) => number;
}

let kernel: SearchKernel | undefined;

/**
 * The kernel, assembled and instantiated on the first call.
 *
 * @example
 * ```ts
 * import { searchKernel } from "./search_wasm.ts";
 * const k = searchKernel();
 * k.x.set([0, 1, 2, 3, 4, 5, 6, 7]);
 * k.search(1, 31, 1);
 * console.log(k.err[0] < 1e-6, k.bits[0] & 0xffff); // true 0
 * ```
 */
export function searchKernel(): SearchKernel {
  if (kernel) return kernel;
  const instance = new WebAssembly.Instance(
    new WebAssembly.Module(
      assembleModule([["f16", F16], ["search", SEARCH]], PAGES) as BufferSource,
    ),
  );
  const buf = (instance.exports.mem as WebAssembly.Memory).buffer;
  new Float32Array(buf, T_BYTE, 65536).set(f16Table());
  kernel = {
    x: new Float32Array(buf, X_BYTE, SEARCH_CHUNK * HQS_GROUP),
    err: new Float64Array(buf, ERR_BYTE, SEARCH_CHUNK),
    codes: new Uint8Array(buf, CODES_BYTE, SEARCH_CHUNK * HQS_GROUP),
    bits: new Uint32Array(buf, BITS_BYTE, SEARCH_CHUNK),
    search: instance.exports.search as (n: number, qmax: number, mse: number) => void,
    f16: instance.exports.f16 as (x: number) => number,
  };
  return kernel;
}
