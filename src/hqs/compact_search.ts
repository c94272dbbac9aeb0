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
 * All of it runs in WebAssembly SIMD (`compact_wasm.ts`), a batch of super-blocks per call (the
 * per-block steps in `compact_wasm_block.ts`, the hot loops in `compact_wasm_model.ts` and
 * `compact_wasm_kernels.ts`): anchored statistics and candidate errors in f32x4 lanes on the exact
 * f32 lattice, model errors and refit sums in f64x2. This module holds the tuning and copies the
 * batch in and the results out. The fast path's parameters are always a candidate: the winner is
 * judged on the exact f32 decode, so the search is never worse than the fast path.
 *
 * @module
 */
import type { HqsSearch } from "./kernel.ts";
import { HQS_SUPER_BLOCK } from "./kernel.ts";
import { COMPACT_GROUPS, type CompactSpec } from "./compact_layout.ts";
import {
  CFG_BYTE,
  OUT_BITS_BYTE,
  OUT_CODES_BYTE,
  OUT_ERR_BYTE,
  OUT_J_BYTE,
  OUT_K_BYTE,
  searchBatch,
  wasmF32,
  wasmF64,
  wasmU16,
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

/** The "mse" search's tuning for one format (see the constants above). */
export interface CompactTuning {
  /** Start from the model search's globals (else from the fast path's). */
  readonly model: boolean;
  /** Least-squares refits of the globals, each followed by an exact local group search. */
  readonly refits: number;
  /** How far above the group's range the local search's lattice span may reach (× range). */
  readonly span: number;
  /** Most q_scale codes the local search tries per group. */
  readonly maxK: number;
  /** Most q_min codes the local search tries per q_scale code. */
  readonly maxJ: number;
  /** Model: q_scale codes from the first whose span covers kAlpha × the range … */
  readonly kAlpha: number;
  /** … this many of them. */
  readonly kWin: number;
  /** Model: the most whole-step shifts of a lattice start kept. */
  readonly maxShift: number;
  /** Model: points within slack × (min-grid step)² of the group's best are kept. */
  readonly slack: number;
  /** Model: d_min scalings tried (at most 3). */
  readonly mFactors: readonly number[];
  /** Model: min_base phases tried, in min-grid steps (at most 2). */
  readonly phases: readonly number[];
}

/**
 * The tuning of `spec`'s "mse" search.
 *
 * @example
 * ```ts
 * import { compactTuning } from "./compact_search.ts";
 * import { HQ51K_SPEC } from "./compact_layout.ts";
 * console.log(compactTuning(HQ51K_SPEC).refits); // 1
 * ```
 */
export function compactTuning(spec: CompactSpec): CompactTuning {
  const t = spec.bits - 3, m = Math.min(t, 1);
  return {
    model: MODEL[t],
    refits: REFITS[t],
    span: SPAN[t],
    maxK: MAX_K[t],
    maxJ: MAX_J[t],
    kAlpha: K_ALPHA[m],
    kWin: K_WIN[m],
    maxShift: MAX_SHIFT,
    slack: SLACK[m],
    mFactors: MODEL[t] ? M_FACTORS[m] : [],
    phases: MODEL[t] ? PHASES[m] : [],
  };
}

/** `spec`'s tuning as the `search` listing reads it (CFG_BYTE). */
function tuningRecord(spec: CompactSpec): number[] {
  const c = compactTuning(spec);
  const pad = (v: readonly number[], n: number) => [...v, ...Array(n - v.length).fill(0)];
  return [
    spec.qMax,
    spec.codeMax,
    c.model ? 1 : 0,
    c.refits,
    c.span,
    c.maxK,
    c.maxJ,
    c.kAlpha,
    c.kWin,
    c.maxShift,
    c.slack,
    c.mFactors.length,
    ...pad(c.mFactors, 3),
    c.phases.length,
    ...pad(c.phases, 2),
  ];
}

// Views of the module's memory (made on the first search, which instantiates it).
let views: {
  cfg: Float64Array;
  xIn: Float32Array;
  codes: Uint8Array;
  k: Uint8Array;
  j: Uint8Array;
  bits: Uint16Array;
  err: Float64Array;
} | undefined;

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
    views ??= {
      cfg: wasmF64(CFG_BYTE, 18),
      xIn: wasmF32(XIN_BYTE, XIN_BLOCKS * HQS_SUPER_BLOCK),
      codes: wasmU8(OUT_CODES_BYTE, XIN_BLOCKS * HQS_SUPER_BLOCK),
      k: wasmU8(OUT_K_BYTE, XIN_BLOCKS * COMPACT_GROUPS),
      j: wasmU8(OUT_J_BYTE, XIN_BLOCKS * COMPACT_GROUPS),
      bits: wasmU16(OUT_BITS_BYTE, XIN_BLOCKS * 3),
      err: wasmF64(OUT_ERR_BYTE, XIN_BLOCKS),
    };
    const v = views;
    v.cfg.set(tuningRecord(spec));
    // The input goes into the WebAssembly memory a batch at a time; the module searches the whole
    // batch and leaves its results, which are copied out.
    for (let b0 = 0; b0 < nBlocks; b0 += XIN_BLOCKS) {
      const n = Math.min(XIN_BLOCKS, nBlocks - b0);
      const off = xOff + b0 * HQS_SUPER_BLOCK;
      v.xIn.set(x.subarray(off, off + n * HQS_SUPER_BLOCK));
      searchBatch(n, mode !== "fast");
      out.codes.set(v.codes.subarray(0, n * HQS_SUPER_BLOCK), b0 * HQS_SUPER_BLOCK);
      out.qScale.set(v.k.subarray(0, n * COMPACT_GROUPS), b0 * COMPACT_GROUPS);
      out.qMin.set(v.j.subarray(0, n * COMPACT_GROUPS), b0 * COMPACT_GROUPS);
      out.dScale.set(v.bits.subarray(0, n), b0);
      out.dMin.set(v.bits.subarray(XIN_BLOCKS, XIN_BLOCKS + n), b0);
      out.minBase.set(v.bits.subarray(2 * XIN_BLOCKS, 2 * XIN_BLOCKS + n), b0);
      out.sqErr.set(v.err.subarray(0, n), b0);
    }
  },
};
