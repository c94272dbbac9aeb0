/**
 * Safetensors dtypes: element sizes, and decoders of the float dtypes to `Float32Array`.
 *
 * @module
 */
import { f16Table } from "../hqs/f16.ts";

/** Element size in bytes of every dtype the safetensors format defines. */
export const DTYPE_SIZES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

/** The dtypes this package can decode to f32. */
export const DECODABLE_DTYPES: readonly string[] = ["F32", "F16", "BF16", "F8_E4M3", "F8_E5M2"];

function fp8Table(expBits: number, manBits: number, bias: number, e4m3: boolean): Float32Array {
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) {
    const sign = b & 0x80 ? -1 : 1;
    const exp = (b >> manBits) & ((1 << expBits) - 1);
    const man = b & ((1 << manBits) - 1);
    let v: number;
    if (e4m3 && exp === 0xf && man === 0x7) v = NaN; // E4M3 (fn): only S.1111.111 is NaN
    else if (!e4m3 && exp === 0x1f) v = man === 0 ? Infinity : NaN;
    else if (exp === 0) v = (man / (1 << manBits)) * 2 ** (1 - bias);
    else v = (1 + man / (1 << manBits)) * 2 ** (exp - bias);
    t[b] = sign * v;
  }
  return t;
}

const E4M3 = fp8Table(4, 3, 7, true);
const E5M2 = fp8Table(5, 2, 15, false);

/**
 * Decodes `count` little-endian elements of `dtype` from `src` (starting at byte 0) into `dst`
 * at element `dstOff`. `src` must start on a 4-byte-aligned offset of its buffer.
 *
 * @example
 * ```ts
 * import { decodeToF32 } from "./dtype.ts";
 * const out = new Float32Array(1);
 * decodeToF32("BF16", new Uint8Array([0x80, 0x3f]), 1, out, 0);
 * console.log(out[0]); // 1
 * ```
 */
export function decodeToF32(
  dtype: string,
  src: Uint8Array,
  count: number,
  dst: Float32Array,
  dstOff: number,
): void {
  switch (dtype) {
    case "F32": {
      const s = new Float32Array(src.buffer, src.byteOffset, count);
      if (dst.buffer instanceof SharedArrayBuffer) {
        // V8 copies into shared memory slowly with set(); a plain loop is ~10× faster.
        for (let i = 0; i < count; i++) dst[dstOff + i] = s[i];
      } else dst.set(s, dstOff);
      return;
    }
    case "F16": {
      const s = new Uint16Array(src.buffer, src.byteOffset, count);
      const t = f16Table();
      for (let i = 0; i < count; i++) dst[dstOff + i] = t[s[i]];
      return;
    }
    case "BF16": {
      const s = new Uint16Array(src.buffer, src.byteOffset, count);
      const d = new Int32Array(dst.buffer, dst.byteOffset + dstOff * 4, count);
      for (let i = 0; i < count; i++) d[i] = s[i] << 16;
      return;
    }
    case "F8_E4M3":
    case "F8_E5M2": {
      const t = dtype === "F8_E4M3" ? E4M3 : E5M2;
      for (let i = 0; i < count; i++) dst[dstOff + i] = t[src[i]];
      return;
    }
  }
  throw new Error(`decodeToF32: dtype ${dtype} is not decodable`);
}
