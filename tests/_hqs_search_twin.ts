/**
 * The scalar JavaScript twin of the legacy (HQ4K/HQ5K) group search that `src/hqs/search_wasm.ts`
 * runs in WebAssembly: the search as it was written before it moved there, kept so that the tests
 * can hold the module to it bit for bit (parameters, codes and squared errors of every group).
 * See `src/hqs/search.ts` for the method.
 *
 * @module
 */
import { f16Table, f32ToF16Bits, f32ToF16BitsSaturated } from "../src/hqs/f16.ts";
import { HQS_GROUP, type HqsSearch } from "../src/hqs/kernel.ts";
import { refCode } from "./_hqs_reference.ts";
import { type GroupParams, groupSqErr, HQS_EPS } from "../src/hqs/search.ts";

const T = f16Table();
const fround = Math.fround;
const f16Bits = f32ToF16Bits;

// Codes of the last candidate evaluated, and of the best one so far.
const qTmp = new Uint8Array(HQS_GROUP);
const qBest = new Uint8Array(HQS_GROUP);

/** The group's round-trip error with (`mb`, `sb`), as groupSqErr; its codes go to qTmp. */
function evalCodes(x: Float32Array, off: number, mb: number, sb: number, qmax: number): number {
  for (let k = 0; k < HQS_GROUP; k++) qTmp[k] = refCode(x[off + k], T[mb], T[sb], qmax);
  return groupSqErr(x, off, mb, sb, qmax);
}

// Scratch for one group, reused across groups (no allocation per group).
const yv = new Float64Array(HQS_GROUP);
// Undecided elements of the two lattices (classify), at offsets 0 and HQS_GROUP.
const unc = new Int32Array(2 * HQS_GROUP);
// 2·floor + 1 and y of each undecided element, by its position in unc (the Gray-code bit).
const u2f1 = new Float64Array(2 * HQS_GROUP);
const uy = new Float64Array(2 * HQS_GROUP);

let bestMin = 0;
let bestRange = 0;
// Doubles live in a typed array rather than module-level `let`s: storing a double into a
// module variable boxes it, which allocated per candidate and showed up as GC time.
const DBL = new Float64Array(2);
const BEST_ERR = 0;
const ENC_SCORE = 1;

function consider(x: Float32Array, off: number, mb: number, sb: number, qmax: number): void {
  const e = evalCodes(x, off, mb, sb, qmax);
  if (e < DBL[BEST_ERR]) {
    DBL[BEST_ERR] = e;
    bestMin = mb;
    bestRange = sb;
    for (let k = 0; k < HQS_GROUP; k++) qBest[k] = qTmp[k];
  }
}

/** Searches one group; leaves the result in bestMin / bestRange / DBL[BEST_ERR]. */
function searchGroup(x: Float32Array, off: number, qmax: number, mse: boolean): void {
  let mn = x[off];
  let mx = mn;
  // Strict comparisons keep the first of equal values (0 before −0), as the reference does.
  for (let k = 1; k < HQS_GROUP; k++) {
    const v = x[off + k];
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  // Fast path, exactly as the reference (§8.2): f32 range, floored at EPS, then f16. Unlike the
  // reference, min and range saturate at ±65504 instead of becoming infinite, so a group beyond
  // the f16 range still gets finite (clamped) values.
  const r32 = fround(mx - mn);
  const sb = f32ToF16BitsSaturated(r32 > HQS_EPS ? r32 : HQS_EPS);
  const mb = f32ToF16BitsSaturated(mn);
  bestMin = mb;
  bestRange = sb;
  DBL[BEST_ERR] = Infinity;
  consider(x, off, mb, sb, qmax);
  if (!mse || DBL[BEST_ERR] === 0) return;

  const range = mx - mn;
  if (!(range > 0)) return;
  let sy = 0;
  for (let k = 0; k < HQS_GROUP; k++) {
    const y = x[off + k] - mn;
    yv[k] = y;
    sy += y;
  }
  encTop = -1;
  DBL[ENC_SCORE] = 0;
  classify(qmax, range);
  enumerate(qmax, sy, 0);
  enumerate(qmax - 1, sy, HQS_GROUP);
  if (encTop < 0) return;
  // Refit the best assignment: x − mn ≈ c0 + q · d.
  let a = 0;
  let b = 0;
  let c = 0;
  const scale = encTop / range;
  // As in enumerate: the min lands on 0 and the max on encTop (by the clamp or its forced bit),
  // and the ceiling bit is added without a branch.
  for (let k = 0; k < HQS_GROUP; k++) {
    let f = Math.floor(yv[k] * scale);
    f = f >= encTop ? encTop : f + ((encMask >> k) & 1);
    a += f;
    b += f * f;
    c += f * yv[k];
  }
  const inv = 1 / HQS_GROUP;
  const d = (c - sy * a * inv) / (b - a * a * inv);
  tryFit(x, off, d * qmax, mn, sy, a, qmax);
}

// Elements whose lattice position is within 1/4 of an integer keep the nearest code; the others
// try both floor and ceiling. 1/4 loses under 0.01 % of error on Gaussian data and halves the
// enumeration. (enumerate classifies by 4 · fraction, which is exact.)
/** Just below 1: see the division skip in enumerate. */
const PRUNE_MARGIN = 1 - 2 ** -50;
let encTop = -1;
let encMask = 0;

// Per lattice (top = qmax at offset 0, qmax − 1 at offset HQS_GROUP): the sums a, b, c of the
// all-floor-or-forced assignment, the number of undecided elements and the forced-ceiling mask.
const SUMS = new Float64Array(6);
const NU = new Int32Array(2);
const FORCED = new Int32Array(2);

/**
 * Classifies every element on both lattices (top = `qmax` and `qmax − 1`): on each, an element
 * keeps its nearest code or is undecided between floor and ceiling (filling u2f1 / uy / unc at
 * offsets 0 and HQS_GROUP), and the sums of the starting assignment go to SUMS / NU / FORCED.
 * An element within 1/4 of an integer keeps its nearest code (1/4 loses under 0.01 % of error on
 * Gaussian data and halves the enumeration).
 */
function classify(qmax: number, range: number): void {
  for (let l = 0; l < 2; l++) {
    const top = qmax - l;
    const scale = top / range;
    const base = l * HQS_GROUP;
    let a = 0, b = 0, c = 0, nu = base, forced = 0;
    // No special case for the min and max elements: the min has y = 0, so f = 0 and it is never
    // undecided; the max has t within a few ulps of top, so it lands on top either by the clamp
    // or as "forced". A forced bit at the max is harmless: the refit sets the max to top anyway.
    for (let k = 0; k < HQS_GROUP; k++) {
      const y = yv[k];
      const t = y * scale;
      let f = Math.floor(t);
      const frac = t - f;
      if (f >= top) f = top;
      else {
        // frac · 4 is exact, so frac > 3/4 ⇔ ceil(4·frac) = 4 and frac ≥ 1/4 ⇔ floor(4·frac) ≥ 1.
        const q4 = frac * 4;
        const up = (Math.ceil(q4) | 0) >> 2;
        const und = (((Math.floor(q4) | 0) + 3) >> 2) - up;
        u2f1[nu] = 2 * f + 1;
        uy[nu] = y;
        unc[nu] = k;
        nu += und;
        f += up;
        forced |= up << k;
      }
      a += f;
      b += f * f;
      c += f * y;
    }
    SUMS[3 * l] = a;
    SUMS[3 * l + 1] = b;
    SUMS[3 * l + 2] = c;
    NU[l] = nu - base;
    FORCED[l] = forced;
  }
}

/**
 * Enumerates the floor/ceil code assignments of the interior elements on the lattice that puts
 * the group's min at code 0 and its max at code `top`, as {@link classify} left them at offset
 * `base`; keeps the best least-squares score (explained variance of the fit, larger is better)
 * in encTop / DBL[ENC_SCORE] / encMask, where bit k of encMask means element k takes the ceiling.
 */
function enumerate(top: number, sy: number, base: number): void {
  const l = base === 0 ? 0 : 1;
  let a = SUMS[3 * l];
  let b = SUMS[3 * l + 1];
  let c = SUMS[3 * l + 2];
  const nu = NU[l];
  const forced = FORCED[l];
  const inv = 1 / HQS_GROUP;
  let bestScore = DBL[ENC_SCORE];
  // Skipping the division when score ≤ bestScore is certain: if P ≤ fl(fl(B·(1 − 2⁻⁵⁰))·sqq) then
  // P/sqq < B exactly (two roundings of at most 2⁻⁵³ each cannot undo 2⁻⁵⁰), so the correctly
  // rounded quotient is ≤ B and would not have won either.
  let thr = bestScore * PRUNE_MARGIN;
  let bestJ = -1;
  const count = 1 << nu;
  for (let j = 0;;) {
    const sqq = b - a * a * inv;
    const sxq = c - sy * a * inv;
    const p = sxq * sxq;
    if (sxq > 0 && p > thr * sqq) {
      const score = p / sqq;
      if (score > bestScore) {
        bestScore = score;
        thr = score * PRUNE_MARGIN;
        bestJ = j;
      }
    }
    if (++j >= count) break;
    // Gray code: step j flips unc bit `bit`; it turns the ceiling on when that bit of the new
    // code j ^ (j >> 1) is set. Adding −y is subtracting y, so the sums are bit-identical to
    // separate add/subtract branches.
    const bit = 31 - Math.clz32(j & -j);
    const d = (((j ^ (j >> 1)) >> bit) & 1) * 2 - 1;
    a += d;
    b += d * u2f1[base + bit];
    c += d * uy[base + bit];
  }
  if (bestJ >= 0) {
    let mask = forced;
    const g = bestJ ^ (bestJ >> 1);
    for (let i = 0; i < nu; i++) if (g & (1 << i)) mask |= 1 << unc[base + i];
    encMask = mask;
    encTop = top;
  }
  DBL[ENC_SCORE] = bestScore;
}

/**
 * Rounds the continuous fit (range `sFit`) to f16, refits the min for that rounded step and the
 * chosen assignment, rounds it, and tries the pair through the real round trip. (Trying the
 * neighbouring f16 patterns as well changed the total error by under 0.01 % on Gaussian data.)
 */
function tryFit(
  x: Float32Array,
  off: number,
  sFit: number,
  mn: number,
  sy: number,
  a: number,
  qmax: number,
): void {
  let sb = f16Bits(sFit);
  if (sb < 1) sb = 1;
  if (sb >= 0x7c00) return;
  const step = fround(T[sb] / qmax);
  consider(x, off, f16Bits(mn + (sy - step * a) / HQS_GROUP), sb, qmax);
}

/** The twin of `CPU_SEARCH.searchGroups`. */
export function twinSearchGroups(
  groups: Float32Array,
  nGroups: number,
  qmax: number,
  search: HqsSearch,
  out: GroupParams,
): void {
  const mse = search === "mse";
  const { minBits, rangeBits, sqErr, codes } = out;
  for (let g = 0; g < nGroups; g++) {
    searchGroup(groups, g * HQS_GROUP, qmax, mse);
    minBits[g] = bestMin;
    rangeBits[g] = bestRange;
    sqErr[g] = DBL[BEST_ERR];
    const c0 = g * HQS_GROUP;
    for (let k = 0; k < HQS_GROUP; k++) codes[c0 + k] = qBest[k];
  }
}
