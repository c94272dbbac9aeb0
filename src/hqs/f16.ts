/**
 * IEEE-754 binary16 helpers. Encoding uses the built-in `Float16Array` (round to nearest even);
 * decoding uses a 65 536-entry table, several times faster than `Float16Array` reads.
 *
 * @module
 */

/** Largest finite f16 value. */
export const F16_MAX = 65504;
/** Bit pattern of {@link F16_MAX}. */
export const F16_MAX_BITS = 0x7bff;

const F16_TABLE: Float32Array = (() => {
  const t = new Float32Array(65536);
  const h = new Float16Array(t.length);
  const u = new Uint16Array(h.buffer);
  for (let i = 0; i < 65536; i++) u[i] = i;
  t.set(h);
  return t;
})();

const scratch16 = new Float16Array(1);
const scratchU16 = new Uint16Array(scratch16.buffer);

/**
 * Returns the f16 bit pattern nearest to `x` (round to nearest even; beyond ±65504 gives ±Inf).
 *
 * @example
 * ```ts
 * import { f32ToF16Bits } from "./f16.ts";
 * console.log(f32ToF16Bits(1)); // 0x3c00
 * ```
 */
export function f32ToF16Bits(x: number): number {
  scratch16[0] = x;
  return scratchU16[0];
}

/**
 * Like {@link f32ToF16Bits}, but saturating at ±65504 instead of becoming ±Inf.
 *
 * @example
 * ```ts
 * import { f32ToF16BitsSaturated } from "./f16.ts";
 * console.log(f32ToF16BitsSaturated(1e6).toString(16)); // "7bff"
 * ```
 */
export function f32ToF16BitsSaturated(x: number): number {
  if (x >= F16_MAX) return F16_MAX_BITS;
  if (x <= -F16_MAX) return F16_MAX_BITS | 0x8000;
  scratch16[0] = x;
  return scratchU16[0];
}

/**
 * Decodes an f16 bit pattern to a number.
 *
 * @example
 * ```ts
 * import { f16BitsToF32 } from "./f16.ts";
 * console.log(f16BitsToF32(0x3c00)); // 1
 * ```
 */
export function f16BitsToF32(bits: number): number {
  return F16_TABLE[bits & 0xffff];
}

/**
 * Returns the decode table (index = f16 bits). Kernels read it directly in their inner loops.
 *
 * @example
 * ```ts
 * import { f16Table } from "./f16.ts";
 * console.log(f16Table()[0x3c00]); // 1
 * ```
 */
export function f16Table(): Float32Array {
  return F16_TABLE;
}

/**
 * Decodes `src` (f16 bit patterns) into `dst` as f32.
 *
 * @example
 * ```ts
 * import { decodeF16 } from "./f16.ts";
 * const out = new Float32Array(1);
 * decodeF16(new Uint16Array([0x3c00]), out);
 * console.log(out[0]); // 1
 * ```
 */
export function decodeF16(src: Uint16Array, dst: Float32Array): void {
  const t = F16_TABLE;
  const n = src.length;
  for (let i = 0; i < n; i++) dst[i] = t[src[i]];
}

/**
 * Rounds `x` to the nearest f16 value (as a number).
 *
 * @example
 * ```ts
 * import { f16Round } from "./f16.ts";
 * console.log(f16Round(0.1)); // 0.0999755859375
 * ```
 */
export function f16Round(x: number): number {
  return Math.f16round(x);
}
