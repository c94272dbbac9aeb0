/**
 * The legacy 128-byte-header HQS formats HQ4K and HQ5K (reference §7.1–§7.3), read by the older
 * HELIOS runtime generation.
 *
 * Super-block (256 elements = 32 groups of 8): a 128-byte header of (f16 min, f16 range) per
 * group, little-endian, min in the low half; then the payload, HQ4K 128 bytes (element 2i in the
 * high nibble, 2i+1 in the low nibble), HQ5K 160 bytes (per group 8 × 5 bits LSB-first in 5
 * bytes).
 *
 * Encoding follows the Rust writer: q = clamp(round((x − min) / range × Qmax), 0, Qmax) in f32,
 * halves away from zero. Decoding follows the runtime's C++ (§7.3, §15 item 20), not the Rust
 * decoder: x̂ = min + q · (range / Qmax) with no 1e-7 floor on the range; the step is rounded to
 * f32 and the product-sum is rounded to f32 once, as nvcc's default fused multiply-add does (the
 * double intermediate is exact unless min and step are about 2³⁰ apart in magnitude). Stored
 * ranges are always ≥ the smallest positive f16, so the floor would only matter for files this
 * package does not write.
 *
 * Non-finite inputs are quantized as 0, like the reference (§7.4); the converter rejects them
 * earlier, so this only keeps the kernels from misbehaving.
 *
 * @module
 */
import { f16Table, f32ToF16BitsSaturated } from "./f16.ts";
import { HQS_GROUP, HQS_SUPER_BLOCK, type HqsKernel, type HqsSearch } from "./kernel.ts";
import { CPU_SEARCH, type GroupParams, HQS_EPS, type HqsSearchBackend } from "./search.ts";

/** Bytes of the per-group (min, range) header of a legacy super-block (§7.2). */
export const HQ_LEGACY_HEADER_BYTES = 128;
/** HQ4K bytes per super-block (§7.1). */
export const HQ4K_BLOCK_BYTES = 256;
/** HQ5K bytes per super-block (§7.1). */
export const HQ5K_BLOCK_BYTES = 288;

const GROUPS = HQS_SUPER_BLOCK / HQS_GROUP;
/** Super-blocks searched per backend call; bounds the scratch memory. */
const BATCH_BLOCKS = 64;
const T = f16Table();
const fround = Math.fround;
const qs = new Uint8Array(HQS_GROUP);
const vs = new Float64Array(HQS_GROUP);

/**
 * Writes group `gi` of the super-block at `base`: its (min, range) header entry and its 8 codes
 * (`codes[c … c+7]`), HQ5K as 5-bit LSB-first, HQ4K as nibbles, high nibble first (§7.2).
 */
function writeGroup(
  out: Uint8Array,
  base: number,
  gi: number,
  mb: number,
  sb: number,
  codes: Uint8Array,
  c: number,
  five: boolean,
): void {
  const h = base + 4 * gi;
  out[h] = mb & 0xff;
  out[h + 1] = mb >>> 8;
  out[h + 2] = sb & 0xff;
  out[h + 3] = sb >>> 8;
  const q0 = codes[c], q1 = codes[c + 1], q2 = codes[c + 2], q3 = codes[c + 3];
  const q4 = codes[c + 4], q5 = codes[c + 5], q6 = codes[c + 6], q7 = codes[c + 7];
  if (five) {
    const p = base + HQ_LEGACY_HEADER_BYTES + 5 * gi;
    // V = Σ q[k] · 2^(5k), little-endian: bits 0–31 then bits 32–39.
    const lo = (q0 | (q1 << 5) | (q2 << 10) | (q3 << 15) | (q4 << 20) | (q5 << 25) | (q6 << 30)) >>>
      0;
    out[p] = lo & 0xff;
    out[p + 1] = (lo >>> 8) & 0xff;
    out[p + 2] = (lo >>> 16) & 0xff;
    out[p + 3] = lo >>> 24;
    out[p + 4] = (q6 >>> 2) | (q7 << 3);
  } else {
    const p = base + HQ_LEGACY_HEADER_BYTES + 4 * gi;
    out[p] = (q0 << 4) | q1;
    out[p + 1] = (q2 << 4) | q3;
    out[p + 2] = (q4 << 4) | q5;
    out[p + 3] = (q6 << 4) | q7;
  }
}

/**
 * The fast path (§8.2) as one tight loop: per group min/max, f16 (min, range), codes and
 * packing, with no search backend in between. Produces exactly the bytes and error of the
 * backend's fast path (the tests compare them), several times faster.
 */
function encodeFast(
  x: Float32Array,
  xOff: number,
  nBlocks: number,
  out: Uint8Array,
  outOff: number,
  five: boolean,
): number {
  const qmax = five ? 31 : 15;
  const blockBytes = five ? HQ5K_BLOCK_BYTES : HQ4K_BLOCK_BYTES;
  let total = 0;
  for (let b = 0; b < nBlocks; b++) {
    const base = outOff + b * blockBytes;
    for (let gi = 0; gi < GROUPS; gi++) {
      const off = xOff + b * HQS_SUPER_BLOCK + gi * HQS_GROUP;
      let mn = Infinity;
      let mx = -Infinity;
      for (let k = 0; k < HQS_GROUP; k++) {
        let v = x[off + k];
        if (v - v !== 0) v = 0; // NaN and ±Inf become 0 (§7.4)
        vs[k] = v;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
      // The parameters of the backend's fast path (search.ts), computed the same way.
      const r32 = fround(mx - mn);
      const sb = f32ToF16BitsSaturated(r32 > HQS_EPS ? r32 : HQS_EPS);
      const mb = f32ToF16BitsSaturated(mn);
      const m = T[mb];
      const sr = T[sb];
      const step = fround(sr / qmax);
      let ge = 0;
      for (let k = 0; k < HQS_GROUP; k++) {
        const v = vs[k];
        const t = fround(fround(fround(v - m) / sr) * qmax) + 0.5;
        const q = t <= 0 ? 0 : t >= qmax ? qmax : (t | 0);
        qs[k] = q;
        const e = v - fround(m + q * step);
        ge += e * e;
      }
      total += ge; // summed per group, in the same order as the backend path
      writeGroup(out, base, gi, mb, sb, qs, 0, five);
    }
  }
  return total;
}

/**
 * Creates an HQ4K or HQ5K kernel that chooses group parameters with `backend`.
 *
 * @example
 * ```ts
 * import { createLegacyKernel } from "./legacy.ts";
 * const k = createLegacyKernel("hq5k");
 * const out = new Uint8Array(k.blockBytes);
 * k.encode(new Float32Array(256), 0, 1, out, 0, "mse");
 * console.log(out.length); // 288
 * ```
 *
 * @param format `"hq4k"` or `"hq5k"`.
 * @param backend The search backend (defaults to the CPU one).
 */
export function createLegacyKernel(
  format: "hq4k" | "hq5k",
  backend: HqsSearchBackend = CPU_SEARCH,
): HqsKernel {
  const five = format === "hq5k";
  const qmax = five ? 31 : 15;
  const blockBytes = five ? HQ5K_BLOCK_BYTES : HQ4K_BLOCK_BYTES;
  const scratch = new Float32Array(BATCH_BLOCKS * HQS_SUPER_BLOCK);
  const params: GroupParams = {
    minBits: new Uint16Array(BATCH_BLOCKS * GROUPS),
    rangeBits: new Uint16Array(BATCH_BLOCKS * GROUPS),
    sqErr: new Float64Array(BATCH_BLOCKS * GROUPS),
    codes: new Uint8Array(BATCH_BLOCKS * HQS_SUPER_BLOCK),
  };

  function encode(
    x: Float32Array,
    xOff: number,
    nBlocks: number,
    out: Uint8Array,
    outOff: number,
    search: HqsSearch,
  ): number {
    if (search === "fast" && backend === CPU_SEARCH) {
      return encodeFast(x, xOff, nBlocks, out, outOff, five);
    }
    let total = 0;
    for (let b0 = 0; b0 < nBlocks; b0 += BATCH_BLOCKS) {
      const nb = Math.min(BATCH_BLOCKS, nBlocks - b0);
      const n = nb * HQS_SUPER_BLOCK;
      const src = xOff + b0 * HQS_SUPER_BLOCK;
      for (let i = 0; i < n; i++) {
        const v = x[src + i];
        scratch[i] = v - v === 0 ? v : 0; // NaN and ±Inf become 0 (§7.4)
      }
      const nGroups = nb * GROUPS;
      backend.searchGroups(scratch, nGroups, qmax, search, params);
      const { minBits, rangeBits, sqErr, codes } = params;
      for (let g = 0; g < nGroups; g++) total += sqErr[g];
      for (let b = 0; b < nb; b++) {
        const base = outOff + (b0 + b) * blockBytes;
        for (let gi = 0; gi < GROUPS; gi++) {
          const g = b * GROUPS + gi;
          writeGroup(out, base, gi, minBits[g], rangeBits[g], codes, g * HQS_GROUP, five);
        }
      }
    }
    return total;
  }

  function decode(
    bytes: Uint8Array,
    bOff: number,
    nBlocks: number,
    out: Float32Array,
    oOff: number,
  ): void {
    for (let b = 0; b < nBlocks; b++) {
      const base = bOff + b * blockBytes;
      const pay = base + HQ_LEGACY_HEADER_BYTES;
      const o0 = oOff + b * HQS_SUPER_BLOCK;
      for (let gi = 0; gi < GROUPS; gi++) {
        const h = base + 4 * gi;
        const m = T[bytes[h] | (bytes[h + 1] << 8)];
        const step = fround(T[bytes[h + 2] | (bytes[h + 3] << 8)] / qmax);
        const o = o0 + gi * HQS_GROUP;
        if (five) {
          const p = pay + 5 * gi;
          const lo = (bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) |
            (bytes[p + 3] << 24)) >>> 0;
          const hi = bytes[p + 4];
          out[o] = m + (lo & 31) * step;
          out[o + 1] = m + ((lo >>> 5) & 31) * step;
          out[o + 2] = m + ((lo >>> 10) & 31) * step;
          out[o + 3] = m + ((lo >>> 15) & 31) * step;
          out[o + 4] = m + ((lo >>> 20) & 31) * step;
          out[o + 5] = m + ((lo >>> 25) & 31) * step;
          out[o + 6] = m + (((lo >>> 30) | (hi << 2)) & 31) * step;
          out[o + 7] = m + (hi >>> 3) * step;
        } else {
          // Storing the double m + q·step into a Float32Array is the single f32 rounding.
          const p = pay + 4 * gi;
          for (let j = 0; j < 4; j++) {
            const byte = bytes[p + j];
            out[o + 2 * j] = m + (byte >>> 4) * step;
            out[o + 2 * j + 1] = m + (byte & 15) * step;
          }
        }
      }
    }
  }

  return { format, blockBytes, encode, decode };
}

/**
 * The HQ4K kernel (4-bit codes, 256 bytes per super-block), using the CPU search.
 *
 * @example
 * ```ts
 * import { HQ4K_KERNEL } from "./legacy.ts";
 * console.log(HQ4K_KERNEL.blockBytes); // 256
 * ```
 */
export const HQ4K_KERNEL: HqsKernel = createLegacyKernel("hq4k");

/**
 * The HQ5K kernel (5-bit codes, 288 bytes per super-block), using the CPU search.
 *
 * @example
 * ```ts
 * import { HQ5K_KERNEL } from "./legacy.ts";
 * console.log(HQ5K_KERNEL.blockBytes); // 288
 * ```
 */
export const HQ5K_KERNEL: HqsKernel = createLegacyKernel("hq5k");
