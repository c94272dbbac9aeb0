/**
 * The tensor of the paired kernel benchmarks (`hqs_search_pair.ts`, `hqs_compact_pair.ts`):
 * Gaussian σ = 0.02 with every third element Student-t ν = 3, then a few groups with few levels
 * (ties at min and max), constant groups of signed zeros and groups beyond the f16 step grid.
 *
 * @module
 */
import { Rng } from "../tests/_rng.ts";

/** `n` elements of the paired benchmarks' tensor (seed 7). */
export function pairTensor(n: number): Float32Array {
  const x = new Float32Array(n);
  const rng = new Rng(7);
  for (let i = 0; i < n; i++) x[i] = (i % 3 === 0 ? rng.studentT(3) : rng.gaussian()) * 0.02;
  for (let i = 0; i < 800; i++) x[i] = (i % 5) * 0.25; // few levels, ties at min and max
  for (let i = 800; i < 1600; i++) x[i] = i % 2 === 0 ? 0 : -0; // constant groups, signed zeros
  for (let i = 1600; i < 2400; i++) x[i] = (i % 8) * 1000; // beyond the f16 step grid
  return x;
}
