/**
 * On-disk layout of the compact HQS formats (HQ3.1K, HQ4.1K, HQ5.1K, HQ6.2K), reference §7.6:
 * header offsets, bit packing of the element codes and the exact f32 decode the runtime performs.
 *
 * @module
 */
import { f16Table } from "./f16.ts";
import { HQS_GROUP, HQS_SUPER_BLOCK } from "./kernel.ts";

/** Groups per super-block (§7.6). */
export const COMPACT_GROUPS = HQS_SUPER_BLOCK / HQS_GROUP;
/** Byte offset of d_scale (f16 LE) in every compact header (§7.6). */
export const COMPACT_D_SCALE_OFFSET = 0;
/** Byte offset of d_min (f16 LE) in every compact header (§7.6). */
export const COMPACT_D_MIN_OFFSET = 2;
/** Byte offset of min_base (f16 LE) in every compact header (§7.6). */
export const COMPACT_MIN_BASE_OFFSET = 4;
/** Byte offset of the 32 q_scale codes in every compact header (§7.6). */
export const COMPACT_Q_SCALE_OFFSET = 8;
/** Byte offset of the 32 4-bit q_min codes in the 40-byte compact header (§7.6). */
export const COMPACT_Q_MIN_OFFSET = 24;
/** Size of the 40-byte compact header of hq31k / hq41k / hq51k (§7.6). */
export const COMPACT_HEADER_BYTES = 40;
/** Byte offset of the 32 u8 q_min codes in the HQ6.2K header (§7.6). */
export const HQ62K_Q_MIN_OFFSET = 40;
/** Size of the 72-byte HQ6.2K header (§7.6). */
export const HQ62K_HEADER_BYTES = 72;

/** The compact formats' dtype strings (§7.6). */
export type CompactFormat = "hq31k" | "hq41k" | "hq51k" | "hq62k";

/** Everything that differs between the compact formats. */
export interface CompactSpec {
  /** The manifest dtype string. */
  readonly format: CompactFormat;
  /** Bits per element code (3, 4, 5 or 6). */
  readonly bits: number;
  /** Largest element code, Qmax = 2^bits − 1. */
  readonly qMax: number;
  /** Largest q_scale / q_min code: 15 (4-bit codes) or 255 (HQ6.2K's u8 codes). */
  readonly codeMax: number;
  /** Header bytes: 40 or 72. */
  readonly headerBytes: number;
  /** Byte offset of the q_min codes inside the header. */
  readonly qMinOffset: number;
  /** Bytes per 256-element super-block. */
  readonly blockBytes: number;
}

function spec(format: CompactFormat, bits: number): CompactSpec {
  const wide = bits === 6;
  const headerBytes = wide ? HQ62K_HEADER_BYTES : COMPACT_HEADER_BYTES;
  return {
    format,
    bits,
    qMax: (1 << bits) - 1,
    codeMax: wide ? 255 : 15,
    headerBytes,
    qMinOffset: wide ? HQ62K_Q_MIN_OFFSET : COMPACT_Q_MIN_OFFSET,
    blockBytes: headerBytes + (HQS_SUPER_BLOCK * bits) / 8,
  };
}

/**
 * HQ3.1K: 40 B header + 96 B of 3-bit codes = 136 B (§7.6).
 *
 * @example
 * ```ts
 * import { HQ31K_SPEC } from "./compact_layout.ts";
 * console.log(HQ31K_SPEC.blockBytes); // 136
 * ```
 */
export const HQ31K_SPEC: CompactSpec = spec("hq31k", 3);
/**
 * HQ4.1K: 40 B header + 128 B of 4-bit codes = 168 B (§7.6).
 *
 * @example
 * ```ts
 * import { HQ41K_SPEC } from "./compact_layout.ts";
 * console.log(HQ41K_SPEC.blockBytes); // 168
 * ```
 */
export const HQ41K_SPEC: CompactSpec = spec("hq41k", 4);
/**
 * HQ5.1K: 40 B header + 160 B of 5-bit codes = 200 B (§7.6).
 *
 * @example
 * ```ts
 * import { HQ51K_SPEC } from "./compact_layout.ts";
 * console.log(HQ51K_SPEC.blockBytes); // 200
 * ```
 */
export const HQ51K_SPEC: CompactSpec = spec("hq51k", 5);
/**
 * HQ6.2K: 72 B header (u8 q_scale / q_min) + 192 B of 6-bit codes = 264 B (§7.6).
 *
 * @example
 * ```ts
 * import { HQ62K_SPEC } from "./compact_layout.ts";
 * console.log(HQ62K_SPEC.blockBytes); // 264
 * ```
 */
export const HQ62K_SPEC: CompactSpec = spec("hq62k", 6);

const f64Scratch = new Float64Array(1);
const u32Scratch = new Uint32Array(f64Scratch.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = LITTLE_ENDIAN ? 1 : 0;

/**
 * `fmaf(q, step, min)`: f32 fused multiply-add, correctly rounded, as the runtime kernels compute
 * x̂ (§7.6). `q·step` is exact in f64 (q < 64, step an f32); the sum is rounded to f64 and then to
 * f32, and the rare double rounding is avoided by rounding the f64 sum to odd first.
 *
 * @example
 * ```ts
 * import { fmaF32 } from "./compact_layout.ts";
 * console.log(fmaF32(3, 0.5, 1)); // 2.5
 * ```
 */
export function fmaF32(q: number, step: number, min: number): number {
  const a = q * step;
  const s = a + min;
  const bb = s - a;
  const err = (a - (s - bb)) + (min - bb);
  if (err === 0) return Math.fround(s);
  f64Scratch[0] = s;
  const lo = u32Scratch[LO];
  if ((lo & 1) === 0) {
    // Round to odd: step s one f64 ulp towards the exact sum.
    if ((err > 0) === (s > 0)) {
      u32Scratch[LO] = lo + 1;
    } else if (lo === 0) {
      u32Scratch[LO] = 0xffffffff;
      u32Scratch[HI] = u32Scratch[HI] - 1;
    } else {
      u32Scratch[LO] = lo - 1;
    }
  }
  return Math.fround(f64Scratch[0]);
}

/**
 * Fills `steps[c]` = f32(f32(f32(dScale·c)/codeMax)/qMax) and `mins[c]` =
 * f32(minBase + f32(f32(dMin·c)/codeMax)) for every code c, in the runtime's order of f32
 * operations (§7.6).
 *
 * @example
 * ```ts
 * import { HQ41K_SPEC, latticeTables } from "./compact_layout.ts";
 * const steps = new Float64Array(16), mins = new Float64Array(16);
 * latticeTables(HQ41K_SPEC, 1.5, 1, -1, steps, mins);
 * console.log(steps[15], mins[15]); // 0.1 0
 * ```
 */
export function latticeTables(
  spec: CompactSpec,
  dScale: number,
  dMin: number,
  minBase: number,
  steps: Float64Array,
  mins: Float64Array,
): void {
  const { codeMax, qMax } = spec;
  const fr = Math.fround;
  for (let c = 0; c <= codeMax; c++) {
    steps[c] = fr(fr(fr(dScale * c) / codeMax) / qMax);
    mins[c] = fr(minBase + fr(fr(dMin * c) / codeMax));
  }
}

/** The little-endian u16 at byte i. */
function u16At(bytes: Uint8Array, i: number): number {
  return bytes[i] | (bytes[i + 1] << 8);
}

/** Writes v as a little-endian u16 at byte i. */
function putU16(out: Uint8Array, i: number, v: number): void {
  out[i] = v & 255;
  out[i + 1] = v >>> 8;
}

const stepScratch = new Float64Array(256);
const minScratch = new Float64Array(256);

/**
 * Decodes `nBlocks` compact super-blocks of format `spec` from `bytes` at `bOff` into `out` at
 * `oOff`, bit-exact with the runtime (f32 operations in its order, fused multiply-add).
 *
 * @example
 * ```ts
 * import { decodeCompact, HQ41K_SPEC } from "./compact_layout.ts";
 * const out = new Float32Array(256);
 * decodeCompact(HQ41K_SPEC, new Uint8Array(168), 0, 1, out, 0);
 * console.log(out[0]); // 0
 * ```
 */
export function decodeCompact(
  spec: CompactSpec,
  bytes: Uint8Array,
  bOff: number,
  nBlocks: number,
  out: Float32Array,
  oOff: number,
): void {
  const { bits, codeMax, headerBytes, qMinOffset, blockBytes } = spec;
  const t = f16Table();
  const mask = (1 << bits) - 1;
  const steps = stepScratch, mins = minScratch;
  for (let b = 0; b < nBlocks; b++) {
    const p = bOff + b * blockBytes;
    const o = oOff + b * HQS_SUPER_BLOCK;
    const dScale = t[u16At(bytes, p + COMPACT_D_SCALE_OFFSET)];
    const dMin = t[u16At(bytes, p + COMPACT_D_MIN_OFFSET)];
    const minBase = t[u16At(bytes, p + COMPACT_MIN_BASE_OFFSET)];
    latticeTables(spec, dScale, dMin, minBase, steps, mins);
    for (let g = 0; g < COMPACT_GROUPS; g++) {
      let qs: number, qm: number;
      if (codeMax === 255) {
        qs = bytes[p + COMPACT_Q_SCALE_OFFSET + g];
        qm = bytes[p + qMinOffset + g];
      } else {
        const shift = (g & 1) === 0 ? 4 : 0;
        qs = (bytes[p + COMPACT_Q_SCALE_OFFSET + (g >> 1)] >> shift) & 15;
        qm = (bytes[p + qMinOffset + (g >> 1)] >> shift) & 15;
      }
      const step = steps[qs], min = mins[qm];
      const og = o + g * HQS_GROUP;
      let pp = p + headerBytes + g * bits;
      if (bits === 4) {
        for (let k = 0; k < HQS_GROUP; k += 2) {
          const v = bytes[pp++];
          out[og + k] = fmaF32(v >> 4, step, min);
          out[og + k + 1] = fmaF32(v & 15, step, min);
        }
      } else {
        let acc = 0, nacc = 0;
        for (let k = 0; k < HQS_GROUP; k++) {
          while (nacc < bits) {
            acc |= bytes[pp++] << nacc;
            nacc += 8;
          }
          out[og + k] = fmaF32(acc & mask, step, min);
          acc >>>= bits;
          nacc -= bits;
        }
      }
    }
  }
}

/**
 * Writes one super-block: the f16 globals, the q_scale / q_min codes (32 each, high nibble first
 * for 4-bit codes) and the 256 element codes, packed as §7.6 lays them out.
 *
 * @example
 * ```ts
 * import { HQ31K_SPEC, packCompactBlock } from "./compact_layout.ts";
 * const out = new Uint8Array(136);
 * packCompactBlock(HQ31K_SPEC, 0x3c00, 0, 0, new Uint8Array(32), new Uint8Array(32), 0,
 *   new Uint8Array(256), 0, out, 0);
 * console.log(out[1]); // 60
 * ```
 */
export function packCompactBlock(
  spec: CompactSpec,
  dScaleBits: number,
  dMinBits: number,
  minBaseBits: number,
  qScale: Uint8Array,
  qMin: Uint8Array,
  qOff: number,
  codes: Uint8Array,
  cOff: number,
  out: Uint8Array,
  p: number,
): void {
  const { bits, codeMax, headerBytes, qMinOffset } = spec;
  putU16(out, p + COMPACT_D_SCALE_OFFSET, dScaleBits);
  putU16(out, p + COMPACT_D_MIN_OFFSET, dMinBits);
  putU16(out, p + COMPACT_MIN_BASE_OFFSET, minBaseBits);
  putU16(out, p + COMPACT_MIN_BASE_OFFSET + 2, 0); // padding
  if (codeMax === 255) {
    for (let g = 0; g < COMPACT_GROUPS; g++) {
      out[p + COMPACT_Q_SCALE_OFFSET + g] = qScale[qOff + g];
      out[p + qMinOffset + g] = qMin[qOff + g];
    }
  } else {
    for (let i = 0; i < COMPACT_GROUPS / 2; i++) {
      const g = qOff + 2 * i;
      out[p + COMPACT_Q_SCALE_OFFSET + i] = (qScale[g] << 4) | qScale[g + 1];
      out[p + qMinOffset + i] = (qMin[g] << 4) | qMin[g + 1];
    }
  }
  let pp = p + headerBytes;
  if (bits === 4) {
    for (let i = 0; i < HQS_SUPER_BLOCK; i += 2) {
      out[pp++] = (codes[cOff + i] << 4) | codes[cOff + i + 1];
    }
    return;
  }
  // The LSB-first bit stream in whole-byte steps (8 codes of 3 or 5 bits, 4 of 6), so the loop
  // has no branch that depends on the codes' bit offsets.
  const c = codes;
  if (bits === 3) {
    for (let i = cOff; i < cOff + HQS_SUPER_BLOCK; i += 8) {
      const v = c[i] | (c[i + 1] << 3) | (c[i + 2] << 6) | (c[i + 3] << 9) | (c[i + 4] << 12) |
        (c[i + 5] << 15) | (c[i + 6] << 18) | (c[i + 7] << 21);
      out[pp] = v & 255;
      out[pp + 1] = (v >>> 8) & 255;
      out[pp + 2] = v >>> 16;
      pp += 3;
    }
  } else if (bits === 5) {
    for (let i = cOff; i < cOff + HQS_SUPER_BLOCK; i += 8) {
      const v = c[i] | (c[i + 1] << 5) | (c[i + 2] << 10) | (c[i + 3] << 15) | (c[i + 4] << 20);
      const w = c[i + 5] | (c[i + 6] << 5) | (c[i + 7] << 10);
      out[pp] = v & 255;
      out[pp + 1] = (v >>> 8) & 255;
      out[pp + 2] = (v >>> 16) & 255;
      out[pp + 3] = ((v >>> 24) | (w << 1)) & 255;
      out[pp + 4] = w >>> 7;
      pp += 5;
    }
  } else {
    for (let i = cOff; i < cOff + HQS_SUPER_BLOCK; i += 4) {
      const v = c[i] | (c[i + 1] << 6) | (c[i + 2] << 12) | (c[i + 3] << 18);
      out[pp] = v & 255;
      out[pp + 1] = (v >>> 8) & 255;
      out[pp + 2] = v >>> 16;
      pp += 3;
    }
  }
}
