/**
 * The JavaScript twin of the compact search's driver (`src/hqs/compact_wasm_block.ts`): the
 * per-block steps as they were written before they moved into WebAssembly (fast path, model,
 * refits, choice), calling the module's kernels one at a time, so that the tests can hold the
 * driver to it bit for bit. See `src/hqs/compact_search.ts` for the method.
 *
 * @module
 */
import { F16_MAX, f16BitsToF32, f32ToF16Bits } from "../src/hqs/f16.ts";
import { HQS_SUPER_BLOCK, type HqsSearch } from "../src/hqs/kernel.ts";
import { COMPACT_GROUPS, type CompactSpec, latticeTables } from "../src/hqs/compact_layout.ts";
import {
  type CompactParams,
  type CompactSearchBackend,
  compactTuning,
} from "../src/hqs/compact_search.ts";
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
  XIN_BYTE,
} from "../src/hqs/compact_wasm.ts";

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
  xIn = wasmF32(XIN_BYTE, HQS_SUPER_BLOCK);
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
  const c = compactTuning(spec);
  return assignWindowsWasm(
    dScale,
    dMin,
    minBase,
    spec.qMax,
    spec.codeMax,
    c.span,
    c.maxK,
    c.maxJ,
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

const modelBits = new Uint16Array(3);

/** Searches (d_min, min_base) on the model for d_scale bits `dBits`; updates modelBits. */
function searchMinGrid(spec: CompactSpec, dBits: number, bestSoFar: number): number {
  const { codeMax } = spec;
  // Cover: the min grid must reach every group's lowest-possible top and highest bottom.
  let top = ptCover[0];
  const bot = ptCover[1];
  if (!(top > bot)) top = bot;
  let best = bestSoFar;
  const { mFactors: mf, phases: ph } = compactTuning(spec);
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
  const c = compactTuning(spec);
  buildModelPoints(
    c.kAlpha,
    kUnit,
    spec.qMax,
    spec.codeMax,
    slackErr,
    c.kWin,
    c.maxShift,
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
  const tune = compactTuning(spec);
  // Start: the model's globals (exact group codes from its points), or the fast path's globals
  // with an exact local group search warm-started from the fast codes.
  let e: number;
  if (tune.model) {
    const delta = f16BitsToF32(fastBits[1]) / codeMax;
    if (modelGlobals(spec, tune.slack * delta * delta)) {
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
  for (let round = 0; round < tune.refits; round++) {
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
 * The twin of `CPU_COMPACT_SEARCH.search`: fills `out` for `nBlocks` super-blocks of `x` from
 * `xOff`, one block at a time through the module's kernels.
 */
export const twinCompactSearch: CompactSearchBackend["search"] = (
  spec,
  x,
  xOff,
  nBlocks,
  mode,
  out,
) => {
  initViews();
  for (let b = 0; b < nBlocks; b++) {
    const off = xOff + b * HQS_SUPER_BLOCK;
    xIn.set(x.subarray(off, off + HQS_SUPER_BLOCK));
    loadBlockWasm(XIN_BYTE);
    searchBlock(spec, out, b, mode);
  }
};
