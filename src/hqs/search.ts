/**
 * Per-group parameter search for the legacy HQS formats (HQ4K, HQ5K), behind a small
 * {@link HqsSearchBackend} interface so that a GPU backend can replace the CPU one later.
 *
 * A group is 8 floats; its parameters are an f16 `min` and an f16 `range` (§7.2), and its
 * round trip is q = clamp(round((x − min) / range × Qmax), 0, Qmax), x̂ = min + q · (range / Qmax).
 *
 * The "mse" search does not scan a grid. For a fixed code assignment q, the best (min, step) is a
 * two-parameter least-squares fit of x ≈ min + q · step, in closed form. Around the min/max lattice
 * every interior element's code is its floor or its ceiling, so the search enumerates those
 * assignments (at most 2⁶, in Gray-code order so each costs a few flops), fits the best one,
 * rounds the fit to f16, and polishes it over neighbouring f16 patterns through the format's own
 * round trip. The min/max start is always a candidate, so the result is never worse than the
 * fast path. The two candidates' round trips run in WebAssembly SIMD (search_wasm.ts), a chunk
 * of groups at a time, after the search has chosen them in JavaScript.
 *
 * @module
 */
import { f16Table, f32ToF16Bits, f32ToF16BitsSaturated } from "./f16.ts";
import { HQS_GROUP, type HqsSearch } from "./kernel.ts";
import { PAIR_CHUNK, pairKernel } from "./search_wasm.ts";

/** Smallest range the fast path stores (reference EPS, §7.1). */
export const HQS_EPS = 1e-7;

/** Per-group results of a search, one entry per group. */
export interface GroupParams {
  /** f16 bit pattern of each group's min. */
  readonly minBits: Uint16Array;
  /** f16 bit pattern of each group's range (max − min, not the step). */
  readonly rangeBits: Uint16Array;
  /** Squared error of each group's round trip, summed over its 8 elements. */
  readonly sqErr: Float64Array;
  /** The 8 codes of each group (0 … Qmax), as the format's round trip assigns them. */
  readonly codes: Uint8Array;
}

/**
 * Chooses the parameters of a batch of groups. Implementations must be deterministic and must
 * accept any finite input; callers replace non-finite values before calling.
 */
export interface HqsSearchBackend {
  /** A short name for logs and benchmarks. */
  readonly name: string;
  /**
   * Fills `out[0 .. nGroups)` with the parameters, squared errors and codes of the groups
   * `groups[8g .. 8g + 8)`, for a format with `qmax` levels above zero (15 or 31).
   */
  searchGroups(
    groups: Float32Array,
    nGroups: number,
    qmax: number,
    search: HqsSearch,
    out: GroupParams,
  ): void;
}

const T = f16Table();
const fround = Math.fround;
const f16Bits = f32ToF16Bits;

/**
 * Squared error of one group's round trip with parameters (`minBits`, `rangeBits`), exactly as
 * the kernels encode (f32 arithmetic, round half away from zero) and decode (C++ order). Returns
 * `Infinity` for a range that is not a positive finite number or a min that is not finite.
 *
 * @example
 * ```ts
 * import { groupSqErr } from "./search.ts";
 * const x = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]);
 * // min 0 (0x0000), range 7.5 (0x4780): codes 0, 2, 4, … are exact for Qmax 15.
 * console.log(groupSqErr(x, 0, 0x0000, 0x4780, 15)); // 0
 * ```
 */
export function groupSqErr(
  x: Float32Array,
  off: number,
  minBits: number,
  rangeBits: number,
  qmax: number,
): number {
  return evalCodes(x, off, minBits, rangeBits, qmax);
}

/** {@link groupSqErr}: the scalar twin of the SIMD round trip in search_wasm.ts. */
function evalCodes(
  x: Float32Array,
  off: number,
  minBits: number,
  rangeBits: number,
  qmax: number,
): number {
  const m = T[minBits];
  const s = T[rangeBits];
  if (!(s > 0) || s === Infinity || m - m !== 0) return Infinity;
  const step = fround(s / qmax);
  let err = 0;
  for (let k = 0; k < HQS_GROUP; k++) {
    const v = x[off + k];
    const t = fround(fround(fround(v - m) / s) * qmax) + 0.5;
    // t ≥ 0.5 on the middle branch, so truncation is floor: round half away from zero, clamped.
    const q = Math.min(Math.max(t, 0), qmax) | 0;
    const e = v - fround(m + q * step);
    err += e * e;
  }
  return err;
}

// Scratch for one group, reused across groups (no allocation per group).
const yv = new Float64Array(HQS_GROUP);
// Undecided elements of the two lattices (classify), at offsets 0 and HQS_GROUP.
const unc = new Int32Array(2 * HQS_GROUP);
// 2·floor + 1 and y of each undecided element, by its position in unc (the Gray-code bit).
const u2f1 = new Float64Array(2 * HQS_GROUP);
const uy = new Float64Array(2 * HQS_GROUP);

// Doubles live in a typed array rather than module-level `let`s: storing a double into a
// module variable boxes it, which allocated per candidate and showed up as GC time.
const DBL = new Float64Array(1);
const ENC_SCORE = 0;

// The candidates of a chunk's groups: f16 bits here, their values in the kernel's `par` (per
// group: min, range of the min/max start at 0, 1; of the fit at 4, 5, range 0 when there is none).
const MIN1 = new Uint16Array(PAIR_CHUNK);
const RANGE1 = new Uint16Array(PAIR_CHUNK);
const MIN2 = new Uint16Array(PAIR_CHUNK);
const RANGE2 = new Uint16Array(PAIR_CHUNK);

/**
 * Chooses the candidates of one group (chunk slot `g`): the min/max start, and with `mse` the
 * rounded least-squares fit. Their round trips, and the choice between them, are the kernel's.
 */
function searchGroup(
  x: Float32Array,
  off: number,
  qmax: number,
  mse: boolean,
  par: Float32Array,
  g: number,
): void {
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
  MIN1[g] = mb;
  RANGE1[g] = sb;
  const p = 8 * g;
  par[p] = T[mb];
  par[p + 1] = T[sb];
  par[p + 5] = 0;
  // A group the start already fits exactly is searched all the same: the fit can only tie, and
  // ties keep the start.
  if (!mse) return;

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
  tryFit(d * qmax, mn, sy, a, qmax, par, g);
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
 * Classifies every element on both lattices (top = `qmax` and `qmax − 1`) in one pass over the
 * group: on each, an element keeps its nearest code or is undecided between floor and ceiling
 * (filling u2f1 / uy / unc at offsets 0 and HQS_GROUP), and the sums of the starting assignment
 * go to SUMS / NU / FORCED. Each lattice's operations are those of a separate pass, in the same
 * order, so the sums are bit-identical. The two blocks are written out rather than shared
 * through a helper with typed-array state so that both lattices' sums stay in registers.
 */
function classify(qmax: number, range: number): void {
  const top0 = qmax;
  const top1 = qmax - 1;
  const scale0 = top0 / range;
  const scale1 = top1 / range;
  let a0 = 0, b0 = 0, c0 = 0, nu0 = 0, forced0 = 0;
  let a1 = 0, b1 = 0, c1 = 0, nu1 = HQS_GROUP, forced1 = 0;
  // No special case for the min and max elements: the min has y = 0, so f = 0 and it is never
  // undecided; the max has t within a few ulps of top, so it lands on top either by the clamp or
  // as "forced". A forced bit at the max is harmless: the refit sets the max to top regardless.
  // The 0/1 flags keep the undecided/forced classification free of unpredictable branches.
  for (let k = 0; k < HQS_GROUP; k++) {
    const y = yv[k];
    {
      const t = y * scale0;
      let f = Math.floor(t);
      const frac = t - f;
      if (f >= top0) f = top0;
      else {
        // frac · 4 is exact, so frac > 3/4 ⇔ ceil(4·frac) = 4 and frac ≥ 1/4 ⇔ floor(4·frac) ≥ 1.
        const q4 = frac * 4;
        const up = (Math.ceil(q4) | 0) >> 2;
        const und = (((Math.floor(q4) | 0) + 3) >> 2) - up;
        u2f1[nu0] = 2 * f + 1;
        uy[nu0] = y;
        unc[nu0] = k;
        nu0 += und;
        f += up;
        forced0 |= up << k;
      }
      a0 += f;
      b0 += f * f;
      c0 += f * y;
    }
    {
      const t = y * scale1;
      let f = Math.floor(t);
      const frac = t - f;
      if (f >= top1) f = top1;
      else {
        const q4 = frac * 4;
        const up = (Math.ceil(q4) | 0) >> 2;
        const und = (((Math.floor(q4) | 0) + 3) >> 2) - up;
        u2f1[nu1] = 2 * f + 1;
        uy[nu1] = y;
        unc[nu1] = k;
        nu1 += und;
        f += up;
        forced1 |= up << k;
      }
      a1 += f;
      b1 += f * f;
      c1 += f * y;
    }
  }
  SUMS[0] = a0;
  SUMS[1] = b0;
  SUMS[2] = c0;
  SUMS[3] = a1;
  SUMS[4] = b1;
  SUMS[5] = c1;
  NU[0] = nu0;
  NU[1] = nu1 - HQS_GROUP;
  FORCED[0] = forced0;
  FORCED[1] = forced1;
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
 * chosen assignment, rounds it, and makes the pair the group's second candidate unless the min
 * is not finite. (Trying the neighbouring f16 patterns as well changed the total error by under
 * 0.01 % on Gaussian data.)
 */
function tryFit(
  sFit: number,
  mn: number,
  sy: number,
  a: number,
  qmax: number,
  par: Float32Array,
  g: number,
): void {
  let sb = f16Bits(sFit);
  if (sb < 1) sb = 1;
  if (sb >= 0x7c00) return;
  const step = fround(T[sb] / qmax);
  const mb = f16Bits(mn + (sy - step * a) / HQS_GROUP);
  if ((mb & 0x7c00) === 0x7c00) return;
  MIN2[g] = mb;
  RANGE2[g] = sb;
  par[8 * g + 4] = T[mb];
  par[8 * g + 5] = T[sb];
}

/**
 * The CPU search backend: deterministic, allocation-free per group. Its WebAssembly module is
 * instantiated on the first call.
 *
 * @example
 * ```ts
 * import { CPU_SEARCH } from "./search.ts";
 * const out = {
 *   minBits: new Uint16Array(1),
 *   rangeBits: new Uint16Array(1),
 *   sqErr: new Float64Array(1),
 *   codes: new Uint8Array(8),
 * };
 * CPU_SEARCH.searchGroups(new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]), 1, 31, "mse", out);
 * console.log(out.sqErr[0] <= 1e-6); // true
 * ```
 */
export const CPU_SEARCH: HqsSearchBackend = {
  name: "cpu",
  searchGroups(groups, nGroups, qmax, search, out) {
    const mse = search === "mse";
    const { minBits, rangeBits, sqErr, codes } = out;
    const k = pairKernel();
    const { par, win } = k;
    for (let g0 = 0; g0 < nGroups; g0 += PAIR_CHUNK) {
      const n = Math.min(PAIR_CHUNK, nGroups - g0);
      const x0 = g0 * HQS_GROUP;
      k.x.set(groups.subarray(x0, x0 + n * HQS_GROUP));
      for (let g = 0; g < n; g++) searchGroup(groups, x0 + g * HQS_GROUP, qmax, mse, par, g);
      k.pairs(n, qmax);
      for (let g = 0; g < n; g++) {
        const second = win[g] !== 0;
        minBits[g0 + g] = second ? MIN2[g] : MIN1[g];
        rangeBits[g0 + g] = second ? RANGE2[g] : RANGE1[g];
      }
      sqErr.set(k.err.subarray(0, n), g0);
      codes.set(k.codes.subarray(0, n * HQS_GROUP), x0);
    }
  },
};
