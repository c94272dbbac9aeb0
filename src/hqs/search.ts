/**
 * Per-group parameter search for the legacy HQS formats (HQ4K, HQ5K), behind a small
 * {@link HqsSearchBackend} interface so that a GPU backend can replace the CPU one later.
 *
 * A group is 8 floats; its parameters are an f16 `min` and an f16 `range` (§7.2), and its
 * round trip is q = clamp(round((x − min) / range × Qmax), 0, Qmax), x̂ = min + q · (range / Qmax).
 *
 * The "mse" search does not scan a grid. For a fixed code assignment q, the best (min, step) is a
 * two-parameter least-squares fit of x ≈ min + q · step, in closed form. Around the min/max lattice
 * (and the one with top code Qmax − 1) every interior element's code is its floor or its ceiling,
 * so the search enumerates those assignments (at most 2⁶ per lattice, in Gray-code order so each
 * costs a few flops), refits the best one, rounds the fit to f16, and keeps it when its round trip
 * beats the min/max start's strictly. The start is always a candidate, so the result is never
 * worse than the fast path.
 *
 * The search runs in WebAssembly (search_wasm.ts, with SIMD for the round trips), a chunk of groups
 * per call; `tests/_hqs_search_twin.ts` is its scalar JavaScript twin, which the tests hold it to
 * bit for bit.
 *
 * @module
 */
import { f16Table } from "./f16.ts";
import { HQS_GROUP, type HqsSearch } from "./kernel.ts";
import { SEARCH_CHUNK, searchKernel } from "./search_wasm.ts";

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
    const k = searchKernel();
    for (let g0 = 0; g0 < nGroups; g0 += SEARCH_CHUNK) {
      const n = Math.min(SEARCH_CHUNK, nGroups - g0);
      const x0 = g0 * HQS_GROUP;
      k.x.set(groups.subarray(x0, x0 + n * HQS_GROUP));
      k.search(n, qmax, mse ? 1 : 0);
      const bits = k.bits;
      for (let g = 0; g < n; g++) {
        minBits[g0 + g] = bits[g] & 0xffff;
        rangeBits[g0 + g] = bits[g] >>> 16;
      }
      sqErr.set(k.err.subarray(0, n), g0);
      codes.set(k.codes.subarray(0, n * HQS_GROUP), x0);
    }
  },
};
