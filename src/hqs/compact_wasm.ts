/**
 * The compact search (§7.6) in WebAssembly SIMD: the module, assembled at load time
 * (`wasm_asm.ts`) from the listings of `compact_wasm_model.ts`, `compact_wasm_kernels.ts` and
 * `compact_wasm_block.ts` (the driver that searches a whole batch of super-blocks per call), its
 * memory layout (`compact_wasm_memory.ts`, re-exported here) and typed entry points. It is
 * deterministic: no NaN reaches it and every operation it uses is exactly rounded (sums may
 * associate differently from a scalar loop, in the last bit). Of the relaxed SIMD operations it
 * uses lane selects only with comparison masks (exact), and the multiply-add only where a probe
 * found it fused on this machine (then it is the exact fmaf; elsewhere the decode rounds to odd).
 *
 * @module
 */

import { assembleModule, type Func } from "../wasm_asm.ts";
import { f16Table } from "./f16.ts";
import { F16 } from "./search_wasm.ts";
import {
  COMPACT_PAGES,
  F16_TABLE_BYTE,
  FUSED_BYTE,
  IOTA4_BYTE,
  IOTA_BYTE,
} from "./compact_wasm_memory.ts";
import { ANCHORS, ASSIGN_POINTS, CANDS, MODEL, POINTS } from "./compact_wasm_model.ts";
import {
  ASSIGN_WINDOWS,
  EXACT,
  FAST_J,
  FAST_K,
  FMA_PROBE,
  LOAD,
  REFIT,
  TABLES,
} from "./compact_wasm_kernels.ts";
import { COMPACT_FUNC_NAMES, SEARCH } from "./compact_wasm_block.ts";

export * from "./compact_wasm_memory.ts";

const LISTINGS: Record<string, Func> = {
  cands: CANDS,
  anchors: ANCHORS,
  model: MODEL,
  points: POINTS,
  assignPoints: ASSIGN_POINTS,
  assignWindows: ASSIGN_WINDOWS,
  exact: EXACT,
  refit: REFIT,
  load: LOAD,
  fastJ: FAST_J,
  fastK: FAST_K,
  f16: F16,
  tables: TABLES,
  search: SEARCH,
  fmaProbe: FMA_PROBE,
};

/** The instance's exports: its memory and the functions (the entry points below type them). */
type CompactExports = { mem: WebAssembly.Memory } & Record<string, (...args: number[]) => number>;

let instance: CompactExports | null = null;

/**
 * The module, assembled and instantiated on first use rather than at import (it costs tens of
 * milliseconds, which a conversion without compact formats should not pay). The memory never
 * grows, so views made of it stay valid.
 */
function wasm(): CompactExports {
  if (instance === null) {
    const funcs = COMPACT_FUNC_NAMES.map((name) => [name, LISTINGS[name]] as const);
    const bytes = assembleModule(funcs, COMPACT_PAGES) as BufferSource;
    instance = new WebAssembly.Instance(new WebAssembly.Module(bytes))
      .exports as unknown as CompactExports;
    new Uint8Array(instance.mem.buffer, IOTA_BYTE, 16).set([...Array(16).keys()]);
    new Float32Array(instance.mem.buffer, IOTA4_BYTE, 4).set([0, 1, 2, 3]);
    new Float32Array(instance.mem.buffer, F16_TABLE_BYTE, 65536).set(f16Table());
    // The exact decode uses the relaxed multiply-add only where it is the fused one (a machine
    // without FMA computes it in two roundings); the inputs come from here so nothing folds them.
    const fused = instance.fmaProbe(1 + 2 ** -12, -(1 + 2 ** -11)) === 2 ** -24;
    new Int32Array(instance.mem.buffer, FUSED_BYTE, 1)[0] = fused ? 1 : 0;
  }
  return instance;
}

/**
 * The fast path's first half (see FAST_J): fills the min lattice for (minBase, dMin), sets every
 * group's q_min code (the highest min at or below the group's minimum) and returns the span the
 * step lattice must then cover, max over groups of gMax − mins[q_min].
 *
 * @example
 * ```ts
 * import { fastMins, G_MAX_BYTE, G_MIN_BYTE, wasmF64 } from "./compact_wasm.ts";
 * wasmF64(G_MIN_BYTE, 32).fill(0);
 * wasmF64(G_MAX_BYTE, 32).fill(1);
 * console.log(fastMins(0, 0, 15)); // 1
 * ```
 */
export function fastMins(minBase: number, dMin: number, codeMax: number): number {
  return wasm().fastJ(minBase, dMin, codeMax);
}

/**
 * The fast path's second half (see FAST_K): fills the step lattice for dScale and sets every
 * group's q_scale code (the least whose span reaches the group's maximum from its min).
 *
 * @example
 * ```ts
 * import { fastSteps, STEPS_BYTE, wasmF64 } from "./compact_wasm.ts";
 * fastSteps(1, 7, 15);
 * console.log(wasmF64(STEPS_BYTE, 16)[15]); // 0.1428571492433548
 * ```
 */
export function fastSteps(dScale: number, qMax: number, codeMax: number): void {
  wasm().fastK(dScale, qMax, codeMax);
}

/**
 * The best of a group's list of candidates (see the `cands` listing): `bestCandidate(xByte,
 * qMax, n, best)` on the values at `xByte` (f32) and the lattices at {@link CAND_M_BYTE},
 * {@link CAND_S_BYTE}, {@link CAND_I_BYTE} returns the index of the first candidate with the
 * smallest error strictly below `best` (−1 if none) and leaves its error in {@link results}()[0].
 *
 * @example
 * ```ts
 * import { bestCandidate, CAND_I_BYTE, CAND_M_BYTE, CAND_S_BYTE, wasmF32, XB32_BYTE } from
 *   "./compact_wasm.ts";
 * wasmF32(XB32_BYTE, 8).set([0, 1, 2, 3, 4, 5, 6, 7]);
 * wasmF32(CAND_M_BYTE, 2).set([0.5, 0]);
 * wasmF32(CAND_S_BYTE, 2).set([1, 1]);
 * wasmF32(CAND_I_BYTE, 2).set([1, 1]);
 * console.log(bestCandidate(XB32_BYTE, 15, 2, Infinity)); // 1
 * ```
 */
export function bestCandidate(xByte: number, qMax: number, n: number, best: number): number {
  return wasm().cands(xByte, qMax, n, best);
}

/**
 * Anchored statistics of one group (8 f32 values at `xByte`, lattice step `s`, computed in f32):
 * `anchorStats(xByte, lo, hi, s, 1 / s, qMax, hi − qMax·s)` leaves Σd, Σd², max code (anchored at
 * `lo`) in {@link results}()[1…3] and Σd, Σd², min code (anchored at `hi`) in [4…6].
 *
 * @example
 * ```ts
 * import { anchorStats, results, wasmF32, XB32_BYTE } from "./compact_wasm.ts";
 * wasmF32(XB32_BYTE, 8).set([0, 1, 2, 3, 4, 5, 6, 7]);
 * anchorStats(XB32_BYTE, 0, 7, 1, 1, 15, -8);
 * console.log(results()[2], results()[3], results()[6]); // 0 7 8
 * ```
 */
export function anchorStats(
  xByte: number,
  lo: number,
  hi: number,
  s: number,
  inv: number,
  qMax: number,
  m0: number,
): void {
  wasm().anchors(xByte, lo, hi, s, inv, qMax, m0);
}

/**
 * Model error of a min grid over the points at {@link PT_POS_BYTE} / {@link PT_ERR_BYTE}:
 * `modelErrors(minBase, delta, 1 / delta, codeMax, bound)`.
 *
 * @example
 * ```ts
 * import { modelErrors, N_PTS_BYTE, wasmU8 } from "./compact_wasm.ts";
 * wasmU8(N_PTS_BYTE, 32).fill(0);
 * console.log(modelErrors(0, 1, 1, 15, Infinity)); // Infinity
 * ```
 */
export function modelErrors(
  minBase: number,
  delta: number,
  inv: number,
  codeMax: number,
  bound: number,
): number {
  return wasm().model(minBase, delta, inv, codeMax, bound);
}

/**
 * The model's points of every group (see the `points` listing): `buildModelPoints(alpha, kUnit,
 * qMax, codeMax, slackErr, kWin, maxShift)` on the values, group minima / maxima and steps in memory; writes the
 * points at {@link PT_POS_BYTE}, {@link PT_ERR_BYTE}, {@link PT_K_BYTE} and {@link N_PTS_BYTE}.
 *
 * @example
 * ```ts
 * import { buildModelPoints, N_PTS_BYTE, wasmU8 } from "./compact_wasm.ts";
 * buildModelPoints(0.9, 0, 15, 15, 0, 3, 1); // all-zero block: one constant point per group
 * console.log(wasmU8(N_PTS_BYTE, 1)[0]); // 1
 * ```
 */
export function buildModelPoints(
  alpha: number,
  kUnit: number,
  qMax: number,
  codeMax: number,
  slackErr: number,
  kWin: number,
  maxShift: number,
): void {
  wasm().points(alpha, kUnit, qMax, codeMax, slackErr, kWin, maxShift);
}

/**
 * Exact (f64 search, f32 rows) assignment from the model's points (see the `assignPoints`
 * listing): `assignFromPointsWasm(minBase, jUnit, qMax, codeMax)`; codes at {@link CUR_K_BYTE} /
 * {@link CUR_J_BYTE}.
 *
 * @example
 * ```ts
 * import { assignFromPointsWasm, N_PTS_BYTE, wasmU8 } from "./compact_wasm.ts";
 * wasmU8(N_PTS_BYTE, 32).fill(0);
 * console.log(assignFromPointsWasm(0, 1, 15, 15)); // Infinity
 * ```
 */
export function assignFromPointsWasm(
  minBase: number,
  jUnit: number,
  qMax: number,
  codeMax: number,
): number {
  return wasm().assignPoints(minBase, jUnit, qMax, codeMax);
}

/**
 * Local window search of every group (see the `assignWindows` listing):
 * `assignWindowsWasm(dScale, dMin, minBase, qMax, codeMax, spanF, maxK, maxJ)`, each group's
 * current codes (curK / curJ) tried first.
 *
 * @example
 * ```ts
 * import { assignWindowsWasm } from "./compact_wasm.ts";
 * console.log(typeof assignWindowsWasm); // function
 * ```
 */
export function assignWindowsWasm(
  dScale: number,
  dMin: number,
  minBase: number,
  qMax: number,
  codeMax: number,
  spanF: number,
  maxK: number,
  maxJ: number,
): number {
  return wasm().assignWindows(dScale, dMin, minBase, qMax, codeMax, spanF, maxK, maxJ);
}

/**
 * Exact squared error (the runtime's f32 decode) of the block on the lattices of the current codes
 * (see the \`exact\` listing): \`exactWasm(codesByte, qMax)\`; the element codes go to \`codesByte\`.
 *
 * @example
 * ```ts
 * import { CODES_BYTE, exactWasm, wasmF64, XB_BYTE } from "./compact_wasm.ts";
 * wasmF64(XB_BYTE, 256).fill(0);
 * console.log(exactWasm(CODES_BYTE, 15) >= 0); // true
 * ```
 */
export function exactWasm(codesByte: number, qMax: number): number {
  return wasm().exact(codesByte, qMax);
}

/**
 * The nine least-squares sums of the refit of the globals (see the \`refit\` listing):
 * \`refitSums(qMax, codeMax)\` leaves them at {@link REFIT_BYTE}.
 *
 * @example
 * ```ts
 * import { REFIT_BYTE, refitSums, wasmF64 } from "./compact_wasm.ts";
 * refitSums(15, 15);
 * console.log(wasmF64(REFIT_BYTE, 9)[0]); // 256
 * ```
 */
export function refitSums(qMax: number, codeMax: number): void {
  wasm().refit(qMax, codeMax);
}

/**
 * Loads the super-block of f32 values at byte \`src\` (see the \`load\` listing): values at
 * {@link XB_BYTE} / {@link XB32_BYTE}, group extremes at {@link G_MIN_BYTE} / {@link G_MAX_BYTE}.
 *
 * @example
 * ```ts
 * import { G_MAX_BYTE, loadBlockWasm, wasmF32, wasmF64, XIN_BYTE } from "./compact_wasm.ts";
 * wasmF32(XIN_BYTE, 256).fill(1).set([Infinity, 3]);
 * loadBlockWasm(XIN_BYTE);
 * console.log(wasmF64(G_MAX_BYTE, 1)[0]); // 3
 * ```
 */
export function loadBlockWasm(src: number): void {
  wasm().load(src);
}

/**
 * Searches the first `n` super-blocks of the input batch at {@link XIN_BYTE} (see the `search`
 * listing), with the tuning at {@link CFG_BYTE}: the fast path only when `mse` is false. The
 * results go to {@link OUT_CODES_BYTE}, {@link OUT_K_BYTE}, {@link OUT_J_BYTE},
 * {@link OUT_BITS_BYTE} and {@link OUT_ERR_BYTE}.
 *
 * @example
 * ```ts
 * import { CFG_BYTE, OUT_ERR_BYTE, searchBatch, wasmF64 } from "./compact_wasm.ts";
 * wasmF64(CFG_BYTE, 18).set([15, 15]); // hq41k's qMax, codeMax; the rest only for the mse search
 * searchBatch(1, false); // whatever the input batch holds, on the fast path
 * console.log(wasmF64(OUT_ERR_BYTE, 1)[0] >= 0); // true
 * ```
 */
export function searchBatch(n: number, mse: boolean): void {
  wasm().search(n, mse ? 1 : 0);
}

/**
 * A Uint8Array view of the module's memory.
 *
 * @example
 * ```ts
 * import { N_PTS_BYTE, wasmU8 } from "./compact_wasm.ts";
 * console.log(wasmU8(N_PTS_BYTE, 32).length); // 32
 * ```
 */
export function wasmU8(byteOffset: number, length: number): Uint8Array {
  return new Uint8Array(wasm().mem.buffer, byteOffset, length);
}

/**
 * A Uint16Array view of the module's memory.
 *
 * @example
 * ```ts
 * import { OUT_BITS_BYTE, wasmU16 } from "./compact_wasm.ts";
 * console.log(wasmU16(OUT_BITS_BYTE, 3).length); // 3
 * ```
 */
export function wasmU16(byteOffset: number, length: number): Uint16Array {
  return new Uint16Array(wasm().mem.buffer, byteOffset, length);
}

/**
 * An Int32Array view of the module's memory.
 *
 * @example
 * ```ts
 * import { FUSED_BYTE, wasmI32 } from "./compact_wasm.ts";
 * console.log(wasmI32(FUSED_BYTE, 1)[0] <= 1); // true
 * ```
 */
export function wasmI32(byteOffset: number, length: number): Int32Array {
  return new Int32Array(wasm().mem.buffer, byteOffset, length);
}

/**
 * A Float32Array view of the module's memory.
 *
 * @example
 * ```ts
 * import { wasmF32, XB32_BYTE } from "./compact_wasm.ts";
 * console.log(wasmF32(XB32_BYTE, 256).length); // 256
 * ```
 */
export function wasmF32(byteOffset: number, length: number): Float32Array {
  return new Float32Array(wasm().mem.buffer, byteOffset, length);
}

/**
 * A Float64Array view of the module's memory.
 *
 * @example
 * ```ts
 * import { wasmF64, XB_BYTE } from "./compact_wasm.ts";
 * console.log(wasmF64(XB_BYTE, 256).length); // 256
 * ```
 */
export function wasmF64(byteOffset: number, length: number): Float64Array {
  return new Float64Array(wasm().mem.buffer, byteOffset, length);
}

/**
 * The module's results: [0] the error of {@link bestCandidate}'s best candidate, [1…6] the
 * statistics of {@link anchorStats}.
 *
 * @example
 * ```ts
 * import { results } from "./compact_wasm.ts";
 * console.log(results().length); // 8
 * ```
 */
export function results(): Float64Array {
  return wasmF64(0, 8);
}
