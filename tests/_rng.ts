/**
 * Small seeded random number generators for tests and benchmarks: mulberry32 for uniform u32,
 * Box–Muller for normals, and Student-t from a normal and a chi-square. Deterministic for a
 * given seed on every platform.
 *
 * @module
 */

/**
 * A seeded generator of uniforms, normals and Student-t variates.
 *
 * @example
 * ```ts
 * import { Rng } from "./_rng.ts";
 * const rng = new Rng(42);
 * const x = rng.gaussianArray(1024, 0.02);
 * console.log(x.length); // 1024
 * ```
 */
export class Rng {
  #state: number;
  #spare = 0;
  #hasSpare = false;

  /**
   * Creates a generator.
   *
   * @param seed Any integer; equal seeds give equal sequences.
   */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /**
   * Returns the next uniform 32-bit unsigned integer (mulberry32).
   *
   * @example
   * ```ts
   * import { Rng } from "./_rng.ts";
   * console.log(new Rng(1).nextU32() >= 0); // true
   * ```
   */
  nextU32(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /**
   * Returns a uniform number in [0, 1).
   *
   * @example
   * ```ts
   * import { Rng } from "./_rng.ts";
   * const u = new Rng(1).uniform();
   * console.log(u >= 0 && u < 1); // true
   * ```
   */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /**
   * Returns a standard normal variate (Box–Muller, both outputs used).
   *
   * @example
   * ```ts
   * import { Rng } from "./_rng.ts";
   * console.log(Number.isFinite(new Rng(1).gaussian())); // true
   * ```
   */
  gaussian(): number {
    if (this.#hasSpare) {
      this.#hasSpare = false;
      return this.#spare;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log is finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.#spare = r * Math.sin(2 * Math.PI * u2);
    this.#hasSpare = true;
    return r * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Returns a Student-t variate with `nu` degrees of freedom (integer `nu`), as
   * Z / sqrt(χ²ν / ν).
   *
   * @example
   * ```ts
   * import { Rng } from "./_rng.ts";
   * console.log(Number.isFinite(new Rng(1).studentT(3))); // true
   * ```
   */
  studentT(nu: number): number {
    const z = this.gaussian();
    let chi = 0;
    for (let i = 0; i < nu; i++) {
      const g = this.gaussian();
      chi += g * g;
    }
    return z / Math.sqrt(chi / nu);
  }

  /**
   * Returns `n` normals with standard deviation `sigma` as f32.
   *
   * @example
   * ```ts
   * import { Rng } from "./_rng.ts";
   * console.log(new Rng(7).gaussianArray(4, 0.02).length); // 4
   * ```
   */
  gaussianArray(n: number, sigma = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.gaussian() * sigma;
    return out;
  }

  /**
   * Returns `n` Student-t variates (`nu` degrees of freedom) times `scale`, as f32.
   *
   * @example
   * ```ts
   * import { Rng } from "./_rng.ts";
   * console.log(new Rng(7).studentTArray(4, 3, 0.02).length); // 4
   * ```
   */
  studentTArray(n: number, nu: number, scale = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.studentT(nu) * scale;
    return out;
  }

  /**
   * Returns `n` uniforms in [lo, hi) as f32.
   *
   * @example
   * ```ts
   * import { Rng } from "./_rng.ts";
   * console.log(new Rng(7).uniformArray(4, -2, 2).length); // 4
   * ```
   */
  uniformArray(n: number, lo: number, hi: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }
}

/** Which distribution a test tensor is drawn from. */
export type Dist = "gaussian" | "student-t";

/**
 * Fills `out` with σ·N(0,1) or σ·t(ν) samples (ν = 3 by default) from a generator seeded with
 * `seed`: the same Gaussians as `new Rng(seed).gaussian()`.
 *
 * @example
 * ```ts
 * import { fillRandom } from "./_rng.ts";
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
  const rng = new Rng(seed);
  for (let i = 0; i < out.length; i++) {
    out[i] = sigma * (dist === "gaussian" ? rng.gaussian() : rng.studentT(nu));
  }
  return out;
}
