/**
 * Slow, obviously correct references for the legacy HQS formats, used only by tests and
 * benchmarks: a per-element encoder/decoder written straight from reference §7.2–§7.3, and the
 * two search yardsticks (the reference ±4-ULP 9×9 search of §8.1 and the "64×64 grid"); plus
 * {@link roundTrip}, a whole-blocks encode/decode through any kernel.
 *
 * @module
 */
import { f16BitsToF32, f32ToF16Bits } from "../src/hqs/f16.ts";
import type { HqsKernel, HqsSearch } from "../src/hqs/kernel.ts";

/**
 * Encodes `x` (whole super-blocks) with kernel `k` and decodes it again: the bytes, the error
 * the kernel reported, and the reconstruction.
 */
export function roundTrip(
  k: HqsKernel,
  x: Float32Array,
  search: HqsSearch,
): { bytes: Uint8Array; err: number; y: Float32Array } {
  const n = x.length / 256;
  const bytes = new Uint8Array(n * k.blockBytes);
  const err = k.encode(x, 0, n, bytes, 0, search);
  const y = new Float32Array(x.length);
  k.decode(bytes, 0, n, y, 0);
  return { bytes, err, y };
}

/** Qmax of a legacy format. */
export function qmaxOf(format: "hq4k" | "hq5k"): number {
  return format === "hq4k" ? 15 : 31;
}

/** Round half away from zero, as Rust's `f32::round`. */
function roundHalfAway(t: number): number {
  return t < 0 ? -Math.floor(-t + 0.5) : Math.floor(t + 0.5);
}

/** The code of one element: clamp(round((x − m)/s × Qmax), 0, Qmax) in f32. */
export function refCode(x: number, m: number, s: number, qmax: number): number {
  const f = Math.fround;
  const t = f(f(f(x - m) / s) * qmax);
  return Math.min(qmax, Math.max(0, roundHalfAway(t)));
}

/** The decoded value of one code, as the runtime's C++ computes it (fused multiply-add). */
export function refDecode(q: number, m: number, s: number, qmax: number): number {
  const step = Math.fround(s / qmax);
  return Math.fround(m + q * step);
}

/** Squared error of one group (8 values at `off`) for f16 params given as bit patterns. */
export function refGroupErr(
  x: Float32Array,
  off: number,
  mb: number,
  sb: number,
  qmax: number,
): number {
  const m = f16BitsToF32(mb);
  const s = f16BitsToF32(sb);
  let e = 0;
  for (let k = 0; k < 8; k++) {
    const d = x[off + k] - refDecode(refCode(x[off + k], m, s, qmax), m, s, qmax);
    e += d * d;
  }
  return e;
}

function minMax(x: Float32Array, off: number): [number, number] {
  let mn = Infinity;
  let mx = -Infinity;
  for (let k = 0; k < 8; k++) {
    mn = Math.min(mn, x[off + k]);
    mx = Math.max(mx, x[off + k]);
  }
  return [mn, mx];
}

/** Fast-path params (§8.2) of one group, as [minBits, rangeBits]. */
export function refFastParams(x: Float32Array, off: number): [number, number] {
  const [mn, mx] = minMax(x, off);
  const r = Math.max(Math.fround(mx - mn), 1e-7);
  let sb = f32ToF16Bits(r);
  if (f16BitsToF32(sb) < 1e-7) sb = f32ToF16Bits(1e-7);
  return [f32ToF16Bits(mn), sb];
}

/** The reference ±4-ULP 9×9 search of §8.1, with its skip rules and tie order. */
export function refSearch9x9(x: Float32Array, off: number, qmax: number): [number, number] {
  const [mn, mx] = minMax(x, off);
  const bm = f32ToF16Bits(mn);
  const bs = f32ToF16Bits(Math.max(Math.fround(mx - mn), 1e-7));
  let best: [number, number] = [bm, bs];
  let bestE = refGroupErr(x, off, bm, bs, qmax);
  for (let dm = -4; dm <= 4; dm++) {
    for (let ds = -4; ds <= 4; ds++) {
      const cm = bm + dm;
      const cs = bs + ds;
      if (cm < 0 || cs <= 0 || cm > 0xffff || cs > 0xffff) continue;
      const s = f16BitsToF32(cs);
      if (!(s >= 1e-7)) continue;
      const e = refGroupErr(x, off, cm, cs, qmax);
      if (e < bestE) { // NaN never wins
        bestE = e;
        best = [cm, cs];
      }
    }
  }
  return best;
}

/** The "64×64 grid" yardstick: min + a·step × (max − min) + b·step, each rounded to f16. */
export function refSearchGrid(x: Float32Array, off: number, qmax: number): [number, number] {
  const [mn, mx] = minMax(x, off);
  const range = mx - mn;
  const step = range / qmax;
  let best = refFastParams(x, off);
  let bestE = refGroupErr(x, off, best[0], best[1], qmax);
  for (let i = 0; i < 64; i++) {
    const cm = f32ToF16Bits(mn + (-0.5 + i / 63) * step);
    for (let j = 0; j < 64; j++) {
      const cs = f32ToF16Bits(range + (-1 + 1.5 * j / 63) * step);
      const s = f16BitsToF32(cs);
      if (!(s > 0) || s === Infinity) continue;
      const e = refGroupErr(x, off, cm, cs, qmax);
      if (e < bestE) {
        bestE = e;
        best = [cm, cs];
      }
    }
  }
  return best;
}

/** Total squared error of a tensor (length a multiple of 8) under a per-group param chooser. */
export function refTotalErr(
  x: Float32Array,
  qmax: number,
  choose: (x: Float32Array, off: number, qmax: number) => [number, number],
): number {
  let total = 0;
  for (let off = 0; off < x.length; off += 8) {
    const [mb, sb] = choose(x, off, qmax);
    total += refGroupErr(x, off, mb, sb, qmax);
  }
  return total;
}
