/**
 * Seeded random numbers for the compact-format tests and benchmark: mulberry32, Box-Muller
 * Gaussians and Student-t samples.
 *
 * @module
 */

/**
 * mulberry32: a small, fast 32-bit PRNG; returns floats in [0, 1).
 *
 * @example
 * ```ts
 * import { mulberry32 } from "./_compact_rng.ts";
 * const r = mulberry32(1);
 * console.log(r() < 1); // true
 * ```
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A standard normal sampler (Box-Muller) over `rand`.
 *
 * @example
 * ```ts
 * import { gaussian, mulberry32 } from "./_compact_rng.ts";
 * const g = gaussian(mulberry32(1));
 * console.log(Number.isFinite(g())); // true
 * ```
 */
export function gaussian(rand: () => number): () => number {
  let spare = NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = NaN;
      return s;
    }
    const u = 1 - rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Which distribution a test tensor is drawn from. */
export type Dist = "gaussian" | "student-t";

/**
 * Fills `out` with σ·N(0,1) or σ·t(ν) samples (ν = 3 by default; t = z / sqrt(χ²ν / ν)).
 *
 * @example
 * ```ts
 * import { fillRandom } from "./_compact_rng.ts";
 * const x = fillRandom(new Float32Array(8), 7, "gaussian", 0.02);
 * console.log(x.length); // 8
 * ```
 */
export function fillRandom(
  out: Float32Array,
  seed: number,
  dist: Dist,
  sigma: number,
  nu = 3,
): Float32Array {
  const g = gaussian(mulberry32(seed));
  for (let i = 0; i < out.length; i++) {
    if (dist === "gaussian") {
      out[i] = sigma * g();
    } else {
      let chi = 0;
      for (let k = 0; k < nu; k++) {
        const z = g();
        chi += z * z;
      }
      out[i] = sigma * g() / Math.sqrt(chi / nu);
    }
  }
  return out;
}

/**
 * Relative RMSE: sqrt(mean((x − y)²)) / σ(x), σ the population standard deviation (§8.4).
 *
 * @example
 * ```ts
 * import { relRmse } from "./_compact_rng.ts";
 * console.log(relRmse(new Float32Array([1, -1]), new Float32Array([1, -1]))); // 0
 * ```
 */
export function relRmse(x: Float32Array, y: Float32Array): number {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i];
  mean /= x.length;
  let v = 0, e = 0;
  for (let i = 0; i < x.length; i++) {
    v += (x[i] - mean) ** 2;
    e += (x[i] - y[i]) ** 2;
  }
  return Math.sqrt(e / v);
}
