/**
 * Parameter search for the compact HQS formats (§7.6) on the CPU. A backend takes a batch of
 * super-blocks and returns their parameters (f16 globals, per-group codes, element codes) and
 * squared errors in a {@link CompactParams} batch, so a WebGPU backend can replace this one
 * without touching the byte packing in `compact.ts`.
 *
 * The "mse" search, for each super-block:
 * 1. hq31k / hq41k: a cheap model picks the globals. For d_scale covering the widest group and a
 *    window of q_scale codes per group, the lattice anchored at the group's minimum and at its
 *    maximum is refitted by least squares (codes fixed); each refit start (and its whole-step
 *    shifts that keep the codes in range) is a "point" with error e, and a min-grid value at
 *    distance δ from it costs at most e + 8δ². (d_min, min_base) are searched on that bound, and
 *    each group then takes the exact best of the two min-grid codes around each of its points.
 *    hq51k / hq62k start from the fast path's globals with an exact local group search.
 * 2. A few least-squares refits of the globals (all 256 elements, codes fixed), each followed by
 *    an exact local group search, as llama.cpp's K-quants do.
 * The hot loops (the model's points and min-grid errors, the exact group searches) run in
 * WebAssembly SIMD (`compact_wasm.ts`): anchored statistics and candidate errors in f32x4 lanes on
 * the exact f32 lattice, model errors and refit sums in f64x2. The fast path's parameters are always a candidate: the winner is
 * judged on the exact f32 decode (computed in WebAssembly, with the codes kept in its memory), so
 * the search is never worse than the fast path.
 *
 * @module
 */
import { F16_MAX, f16BitsToF32, f32ToF16Bits } from "./f16.ts";
import type { HqsSearch } from "./kernel.ts";
import { HQS_SUPER_BLOCK } from "./kernel.ts";
import { COMPACT_GROUPS, type CompactSpec, latticeTables } from "./compact_layout.ts";
import {
  assignFromPointsWasm,
  assignWindowsWasm,
  buildModelPoints,
  CODES_BYTE,
  CUR_J_BYTE,
  CUR_K_BYTE,
  exactWasm,
  FAST_CODES_BYTE,
  fastMins,
  fastSteps,
  G_MAX_BYTE,
  G_MIN_BYTE,
  loadBlockWasm,
  MINS_BYTE,
  modelErrors,
  PT_COVER_BYTE,
  REFIT_BYTE,
  refitSums,
  STEPS_BYTE,
  wasmF32,
  wasmF64,
  wasmU8,
  XIN_BLOCKS,
  XIN_BYTE,
} from "./compact_wasm.ts";

/** Parameters of a batch of super-blocks, struct-of-arrays (one entry per block or group). */
export interface CompactParams {
  /** Capacity in super-blocks. */
  readonly nBlocks: number;
  /** d_scale as f16 bits, per block. */
  readonly dScale: Uint16Array;
  /** d_min as f16 bits, per block. */
  readonly dMin: Uint16Array;
  /** min_base as f16 bits, per block. */
  readonly minBase: Uint16Array;
  /** q_scale code per group (32 per block). */
  readonly qScale: Uint8Array;
  /** q_min code per group (32 per block). */
  readonly qMin: Uint8Array;
  /** Element codes (256 per block). */
  readonly codes: Uint8Array;
  /** Squared error of each block's exact round trip. */
  readonly sqErr: Float64Array;
}

/**
 * Allocates a {@link CompactParams} batch for `nBlocks` super-blocks.
 *
 * @example
 * ```ts
 * import { createCompactParams } from "./compact_search.ts";
 * console.log(createCompactParams(4).codes.length); // 1024
 * ```
 */
export function createCompactParams(nBlocks: number): CompactParams {
  return {
    nBlocks,
    dScale: new Uint16Array(nBlocks),
    dMin: new Uint16Array(nBlocks),
    minBase: new Uint16Array(nBlocks),
    qScale: new Uint8Array(nBlocks * COMPACT_GROUPS),
    qMin: new Uint8Array(nBlocks * COMPACT_GROUPS),
    codes: new Uint8Array(nBlocks * HQS_SUPER_BLOCK),
    sqErr: new Float64Array(nBlocks),
  };
}

/**
 * A search backend: fills `out` (entries 0…nBlocks−1) for `nBlocks` super-blocks of `x` from
 * element `xOff`. Non-finite inputs count as 0 (§7.4).
 */
export interface CompactSearchBackend {
  /** Runs the search on one batch. */
  search(
    spec: CompactSpec,
    x: Float32Array,
    xOff: number,
    nBlocks: number,
    mode: HqsSearch,
    out: CompactParams,
  ): void;
}

/**
 * Tuning of the "mse" search per element-code width (3…6 bits, index bits − 3). MODEL: start
 * from the model search's globals (else from the fast path's); REFITS: least-squares refits of
 * the globals, each followed by an exact local group search. SPAN, MAX_K, MAX_J bound that local
 * search: how far above the group's range the lattice span may reach (×range, plus one min-grid
 * step), and the most q_scale / q_min values tried per group. Chosen on Gaussian and Student-t
 * data (σ = 0.02) for the fastest setting that keeps the error targets with a margin; hq41k and
 * hq51k then spend part of their lead over HQ5K's search on wider windows (hq41k 4.713 → 4.686 %,
 * hq51k 2.420 → 2.394 % on 1M Gaussians, seed 7, for about 12 % / 20 % more time).
 */
const MODEL = [true, true, false, false];
const REFITS = [1, 1, 1, 0];
const SPAN = [1.5, 1.6, 1.4, 1.02];
const MAX_K = [8, 8, 8, 4];
const MAX_J = [12, 12, 12, 4];

// Per-block scratch, allocated once (on the first search: the views are of the WebAssembly
// module's memory, which holds the block's values and the lattices).
let gMin: Float64Array, gMax: Float64Array, steps: Float64Array, mins: Float64Array;
let curK: Uint8Array, curJ: Uint8Array, fastCodes: Uint8Array, bestCodes: Uint8Array;
let xIn: Float32Array, sums: Float64Array, ptCover: Float64Array;
const bestK = new Uint8Array(COMPACT_GROUPS);
const bestJ = new Uint8Array(COMPACT_GROUPS);
const fastK = new Uint8Array(COMPACT_GROUPS);
const fastJ = new Uint8Array(COMPACT_GROUPS);
const globals = new Float64Array(3);

/** Makes the views of the module's memory (instantiating it) unless done already. */
function initViews(): void {
  if (xIn !== undefined) return;
  gMin = wasmF64(G_MIN_BYTE, COMPACT_GROUPS);
  gMax = wasmF64(G_MAX_BYTE, COMPACT_GROUPS);
  steps = wasmF64(STEPS_BYTE, 256);
  mins = wasmF64(MINS_BYTE, 256);
  curK = wasmU8(CUR_K_BYTE, COMPACT_GROUPS);
  curJ = wasmU8(CUR_J_BYTE, COMPACT_GROUPS);
  fastCodes = wasmU8(FAST_CODES_BYTE, HQS_SUPER_BLOCK);
  bestCodes = wasmU8(CODES_BYTE, HQS_SUPER_BLOCK);
  sums = wasmF64(REFIT_BYTE, 9);
  ptCover = wasmF64(PT_COVER_BYTE, 2);
  xIn = wasmF32(XIN_BYTE, XIN_BLOCKS * HQS_SUPER_BLOCK);
}

/** f16 bits of the largest f16 ≤ v (v clamped to ±F16_MAX). */
function f16Down(v: number): number {
  if (v > F16_MAX) v = F16_MAX;
  if (v < -F16_MAX) v = -F16_MAX;
  let b = f32ToF16Bits(v);
  if (f16BitsToF32(b) > v) b = (b & 0x8000) !== 0 ? b + 1 : b === 0 ? 0x8001 : b - 1;
  return b;
}

/** f16 bits of the smallest non-negative f16 ≥ v (v clamped to [0, F16_MAX]). */
function f16UpPos(v: number): number {
  if (!(v > 0)) return 0;
  if (v > F16_MAX) v = F16_MAX;
  let b = f32ToF16Bits(v);
  if (f16BitsToF32(b) < v) b++;
  return b;
}

/** f16 bits nearest to v, clamped to [lo, F16_MAX]. */
function f16Clamp(v: number, lo: number): number {
  if (!(v >= lo)) v = lo;
  if (v > F16_MAX) v = F16_MAX;
  return f32ToF16Bits(v);
}

/**
 * Given the lattice tables for globals (dMin, minBase), picks every group's (k, j) = (q_scale,
 * q_min) by a local search and stores them in curK / curJ; returns the summed squared error.
 * The group's previous (k, j) is tried first so that the early exits bite from the start.
 */
function assignGroups(
  spec: CompactSpec,
  dScale: number,
  dMin: number,
  minBase: number,
): number {
  const t = spec.bits - 3;
  return assignWindowsWasm(
    dScale,
    dMin,
    minBase,
    spec.qMax,
    spec.codeMax,
    SPAN[t],
    MAX_K[t],
    MAX_J[t],
  );
}

/**
 * Least-squares refit of (minBase, dMin, dScale) with every group's (k, j) and element codes
 * fixed: x̂ = minBase + dMin·j/C + dScale·k·q/(C·Qmax). Writes `globals`; false if singular.
 */
function refitGlobals(spec: CompactSpec): boolean {
  refitSums(spec.qMax, spec.codeMax);
  const s1 = sums[0], sa = sums[1], sc = sums[2], saa = sums[3], sac = sums[4], scc = sums[5];
  const sx = sums[6], sax = sums[7], scx = sums[8];
  // Cramer's rule on [[s1 sa sc] [sa saa sac] [sc sac scc]] · (B, M, D) = (sx, sax, scx).
  const c00 = saa * scc - sac * sac, c01 = sa * scc - sac * sc, c02 = sa * sac - saa * sc;
  const det = s1 * c00 - sa * c01 + sc * c02;
  const norm = s1 * saa * scc;
  if (!(Math.abs(det) > 1e-9 * norm)) return false;
  const b = (sx * c00 - sa * (sax * scc - sac * scx) + sc * (sax * sac - saa * scx)) / det;
  const m = (s1 * (sax * scc - sac * scx) - sx * c01 + sc * (sa * scx - sax * sc)) / det;
  const d = (s1 * (saa * scx - sac * sax) - sa * (sa * scx - sax * sc) + sx * c02) / det;
  if (!Number.isFinite(b) || !Number.isFinite(m) || !Number.isFinite(d)) return false;
  globals[0] = b;
  globals[1] = m;
  globals[2] = d;
  return true;
}

/** `mins` as {@link latticeTables} fills it, leaving `steps` alone (they are already right). */
function minTable(spec: CompactSpec, dMin: number, minBase: number): void {
  const { codeMax } = spec;
  const fr = Math.fround;
  for (let c = 0; c <= codeMax; c++) mins[c] = fr(minBase + fr(fr(dMin * c) / codeMax));
}

/**
 * The fast path (§8.2 analogue): min_base / d_min cover the group minima from below, each group's
 * min rounds down and its scale up onto the grid, so every element lies inside its lattice.
 * Leaves its tables in steps / mins and its codes in curK / curJ; returns the f16 globals.
 */
function fastGlobals(spec: CompactSpec, bitsOut: Uint16Array): void {
  const { qMax, codeMax } = spec;
  let lo = Infinity, hi = -Infinity;
  for (let g = 0; g < COMPACT_GROUPS; g++) {
    if (gMin[g] < lo) lo = gMin[g];
    if (gMin[g] > hi) hi = gMin[g];
  }
  const bBits = f16Down(lo);
  const minBase = f16BitsToF32(bBits);
  const mBits = f16UpPos(hi - minBase);
  const dMin = f16BitsToF32(mBits);
  // The group loops run in WebAssembly: q_min codes and the span to cover, then q_scale codes.
  const dBits = f16UpPos(fastMins(minBase, dMin, codeMax));
  fastSteps(f16BitsToF32(dBits), qMax, codeMax);
  bitsOut[0] = dBits;
  bitsOut[1] = mBits;
  bitsOut[2] = bBits;
}

const fastBits = new Uint16Array(3);
const candBits = new Uint16Array(3);
const bestBits = new Uint16Array(3);

function setTables(spec: CompactSpec, bits: Uint16Array): void {
  latticeTables(
    spec,
    f16BitsToF32(bits[0]),
    f16BitsToF32(bits[1]),
    f16BitsToF32(bits[2]),
    steps,
    mins,
  );
}

// ---------------------------------------------------------------------------------------------
// "mse" search: a cheap per-group model, a global search on it, one exact assignment.

/**
 * Model search tuning (hq31k, hq41k): q_scale codes per group (from the first whose span covers
 * K_ALPHA × the range), d_min scalings and min_base phases (in min-grid steps) tried, and the most
 * whole-step shifts of a lattice start kept (0 or 1). hq41k: one code near the full range and one
 * phase, with a wider refit window (SPAN), is as accurate as three codes and two phases
 * (4.714 vs 4.706 % on the benchmark's Gaussians) at a third less time; hq31k: two codes from
 * 0.92 × the range and a wider window (9.274 vs 9.263 % with three from 0.85) at a tenth less.
 * hq31k then: d_min scalings 1 and 1.05 (not 1.1) and points within δ² (not 2δ²) of the group's
 * best pay for a narrower refit window (SPAN 1.5, MAX_K 8, not 1.6 / 10): the same 9.274 % on
 * the benchmark's 20M Gaussians (seed-42 test 9.268 vs 9.272 %) at about 4 % less time. Later,
 * three d_min scalings (1, 1.04, 1.08) at phase 0 matched two scalings × two phases (9.2838 %
 * on 4M Gaussians, seed 7) with three model evaluations instead of four.
 */
const K_WIN = [2, 1];
const K_ALPHA = [0.92, 0.98];
const MAX_SHIFT = 1;
const M_FACTORS = [[1, 1.04, 1.08], [1, 1.05, 1.1]];
const SLACK = [1, 2];
const PHASES = [[0], [0]];

const modelBits = new Uint16Array(3);

/** Searches (d_min, min_base) on the model for d_scale bits `dBits`; updates modelBits. */
function searchMinGrid(spec: CompactSpec, dBits: number, bestSoFar: number): number {
  const { codeMax } = spec;
  // Cover: the min grid must reach every group's lowest-possible top and highest bottom.
  let top = ptCover[0];
  const bot = ptCover[1];
  if (!(top > bot)) top = bot;
  let best = bestSoFar;
  const mf = M_FACTORS[spec.bits - 3], ph = PHASES[spec.bits - 3];
  for (let a = 0; a < mf.length; a++) {
    const m0 = (top - bot) * mf[a];
    for (let c = 0; c < ph.length; c++) {
      const b0 = bot - ph[c] * m0 / codeMax;
      const bBits = f16Clamp(b0, -F16_MAX);
      const minBase = f16BitsToF32(bBits);
      const mBits = f16UpPos(top - minBase > m0 ? top - minBase : m0);
      const dMin = f16BitsToF32(mBits);
      const delta = dMin / codeMax;
      const e = modelErrors(minBase, delta, delta > 0 ? 1 / delta : 0, codeMax, best);
      if (e < best) {
        best = e;
        modelBits[0] = dBits;
        modelBits[1] = mBits;
        modelBits[2] = bBits;
      }
    }
  }
  return best;
}

/**
 * Exact (f64) assignment of every group on the tables in steps / mins: for each surviving point,
 * the two min-grid codes around it; writes curK / curJ, returns the summed squared error.
 */
function assignFromPoints(spec: CompactSpec, minBase: number, dMin: number): number {
  const { qMax, codeMax } = spec;
  return assignFromPointsWasm(minBase, dMin > 0 ? codeMax / dMin : 0, qMax, codeMax);
}

/**
 * Model search with d_scale covering the widest group: writes the best (d_scale, d_min,
 * min_base) to modelBits; false when no candidate had a finite model error.
 */
function modelGlobals(spec: CompactSpec, slackErr: number): boolean {
  let rMax = 0;
  for (let g = 0; g < COMPACT_GROUPS; g++) {
    const r = gMax[g] - gMin[g];
    if (r > rMax) rMax = r;
  }
  const dBits = f16UpPos(rMax);
  const dScale = f16BitsToF32(dBits);
  latticeTables(spec, dScale, 0, 0, steps, mins);
  // The points (lattice starts least-squares fitted to the codes of the lattice anchored at the
  // group's minimum, and at its maximum, for K_WIN codes from the first whose span covers
  // K_ALPHA × the range, each shifted by up to MAX_SHIFT steps) are built in WebAssembly.
  const kUnit = dScale > 0 ? spec.codeMax / dScale : 0;
  buildModelPoints(
    K_ALPHA[spec.bits - 3],
    kUnit,
    spec.qMax,
    spec.codeMax,
    slackErr,
    K_WIN[spec.bits - 3],
    MAX_SHIFT,
  );
  return searchMinGrid(spec, dBits, Infinity) < Infinity;
}

function searchBlock(spec: CompactSpec, out: CompactParams, b: number, mode: HqsSearch): void {
  const { qMax, codeMax } = spec;
  fastGlobals(spec, fastBits);
  // The fast path's exact f32 error and codes (kept at FAST_CODES_BYTE).
  const fastErr = exactWasm(FAST_CODES_BYTE, qMax);
  if (mode === "fast" || fastErr === 0) {
    writeBlock(out, b, fastBits, curK, curJ, fastCodes, fastErr);
    return;
  }
  fastK.set(curK);
  fastJ.set(curJ);
  const t = spec.bits - 3;
  // Start: the model's globals (exact group codes from its points), or the fast path's globals
  // with an exact local group search warm-started from the fast codes.
  let e: number;
  if (MODEL[t]) {
    const delta = f16BitsToF32(fastBits[1]) / codeMax;
    if (modelGlobals(spec, SLACK[t] * delta * delta)) {
      // modelGlobals left the steps of modelBits' d_scale.
      minTable(spec, f16BitsToF32(modelBits[1]), f16BitsToF32(modelBits[2]));
    } else {
      modelBits.set(fastBits);
      setTables(spec, modelBits);
    }
    e = assignFromPoints(spec, f16BitsToF32(modelBits[2]), f16BitsToF32(modelBits[1]));
    candBits.set(modelBits);
  } else {
    candBits.set(fastBits);
    e = assignGroups(
      spec,
      f16BitsToF32(fastBits[0]),
      f16BitsToF32(fastBits[1]),
      f16BitsToF32(fastBits[2]),
    );
  }
  bestBits.set(candBits);
  bestK.set(curK);
  bestJ.set(curJ);
  for (let round = 0; round < REFITS[t]; round++) {
    if (!refitGlobals(spec)) break;
    const d = f16Clamp(globals[2], 0), m = f16Clamp(globals[1], 0);
    const mb = f16Clamp(globals[0], -F16_MAX);
    // A fixed point: the next round would repeat this one.
    if (d === candBits[0] && m === candBits[1] && mb === candBits[2]) break;
    candBits[0] = d;
    candBits[1] = m;
    candBits[2] = mb;
    setTables(spec, candBits);
    const e2 = assignGroups(spec, f16BitsToF32(d), f16BitsToF32(m), f16BitsToF32(mb));
    if (e2 < e) {
      e = e2;
      bestBits.set(candBits);
      bestK.set(curK);
      bestJ.set(curJ);
    }
  }
  // Chosen on the search's errors; judged on the exact f32 decode against the fast path's.
  if (e < fastErr) {
    // The tables hold candBits' lattices (or modelBits' when no refit ran): reuse them.
    if (bestBits[0] !== candBits[0] || bestBits[1] !== candBits[1] || bestBits[2] !== candBits[2]) {
      setTables(spec, bestBits);
    }
    curK.set(bestK);
    curJ.set(bestJ);
    const err = exactWasm(CODES_BYTE, qMax);
    if (err < fastErr) {
      writeBlock(out, b, bestBits, bestK, bestJ, bestCodes, err);
      return;
    }
  }
  writeBlock(out, b, fastBits, fastK, fastJ, fastCodes, fastErr);
}

/** Writes parameters, codes and exact error of block b. */
function writeBlock(
  out: CompactParams,
  b: number,
  bits: Uint16Array,
  k: Uint8Array,
  j: Uint8Array,
  codes: Uint8Array,
  err: number,
): void {
  out.codes.set(codes, b * HQS_SUPER_BLOCK);
  out.qScale.set(k, b * COMPACT_GROUPS);
  out.qMin.set(j, b * COMPACT_GROUPS);
  out.sqErr[b] = err;
  out.dScale[b] = bits[0];
  out.dMin[b] = bits[1];
  out.minBase[b] = bits[2];
}

/**
 * The CPU search backend (single-threaded; the worker pool runs one per thread).
 *
 * @example
 * ```ts
 * import { CPU_COMPACT_SEARCH, createCompactParams } from "./compact_search.ts";
 * import { HQ41K_SPEC } from "./compact_layout.ts";
 * const p = createCompactParams(1);
 * CPU_COMPACT_SEARCH.search(HQ41K_SPEC, new Float32Array(256), 0, 1, "mse", p);
 * console.log(p.sqErr[0]); // 0
 * ```
 */
export const CPU_COMPACT_SEARCH: CompactSearchBackend = {
  search(spec, x, xOff, nBlocks, mode, out) {
    initViews();
    // The input goes into the WebAssembly memory a batch at a time, and each block from there.
    for (let b0 = 0; b0 < nBlocks; b0 += XIN_BLOCKS) {
      const n = Math.min(XIN_BLOCKS, nBlocks - b0);
      const off = xOff + b0 * HQS_SUPER_BLOCK;
      xIn.set(x.subarray(off, off + n * HQS_SUPER_BLOCK));
      for (let b = 0; b < n; b++) {
        loadBlockWasm(XIN_BYTE + b * HQS_SUPER_BLOCK * 4);
        searchBlock(spec, out, b0 + b, mode);
      }
    }
  },
};
