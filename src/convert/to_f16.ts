/**
 * Direct BF16/F16 → FP16 conversion, with the same results as decode → clamp →
 * round-to-nearest-even, in WebAssembly SIMD (eight values per step, no table): the hot loop of an
 * FP16 conversion (most checkpoints are BF16 or F16).
 *
 * BF16 keeps 7 mantissa bits and FP16 10, so from 2⁻¹⁴ up to the clamp a BF16 value is exact in
 * FP16 and the conversion is a shift and a bias; below 2⁻¹⁴ the value times 2²⁴ (exact) rounded
 * to the nearest integer, ties to even, is the subnormal FP16. Finite values beyond ±65 504
 * become ±65 504 (counted), NaN and ±Inf become 0 (counted). F16 input keeps its bits except
 * NaN/±Inf. The module is assembled on first use.
 *
 * @module
 */
import { assembleModule, type Func } from "../wasm_asm.ts";

/** Values converted per call: the piece copied into the module's memory (128 KiB, cache-sized). */
const PIECE = 1 << 16;
/** Byte offset of the counts (NaN/Inf, clamped; i32 each), after the piece. */
const COUNTS_BYTE = PIECE * 2;

/** Constants the listings use (name → 16-bit value), splat into v128 locals once per call. */
const CONSTS: Record<string, number> = {
  cAbs: 0x7fff,
  cSign: 0x8000,
  cBf16Nan: 0x7f7f, // |bf16| > this: NaN/±Inf
  cBf16Big: 0x477f, // |bf16| > this (65 280): beyond FP16's range, or NaN/±Inf
  cBf16Clamp: 0x4780, // 65 536: |bf16| capped here becomes 0x7c00, then 0x7bff
  cBf16Norm: 0x3880, // |bf16| < this (2⁻¹⁴): a subnormal FP16 (or zero)
  cBias: ((127 - 15) << 10) & 0xffff, // exponent rebias of |bf16| << 3, modulo 2¹⁶
  cF16Max: 0x7bff, // the largest finite FP16 (65 504); |f16| above it: NaN/±Inf
};

/**
 * The constants of the f32 route (name → 32-bit value), splat where used: that route is rare, and
 * constants kept in locals would hold vector registers through the whole loop.
 */
const CONSTS32 = {
  dAbs: 0x7fff,
  dSign: 0x8000,
  dBf16Nan: 0x7f80,
  dBf16Clamp: 0x4780,
  dBf16Norm: 0x3880,
  dBias: (127 - 15) << 10,
  dF16Max: 0x7bff,
  d2p24: 0x4b800000, // f32 2²⁴
};

/**
 * One converter: `n` (a multiple of 8) u16 values at byte 0 converted in place, the counts stored
 * at COUNTS_BYTE. `step` maps the eight values in `h` to their FP16 bits (left on the stack),
 * adding its masks to the i16x8 accumulators `nan` and `cl` (−1 per counted lane; at most
 * PIECE / 8 per lane, so no lane overflows).
 */
function converter(step: string): Func {
  const k = Object.keys(CONSTS).map((c) => `${c}:v128`).join(" ");
  return {
    params: "n:i32",
    result: "",
    locals: `p:i32 h:v128 u:v128 a:v128 mn:v128 mb:v128 r:v128 nan:v128 cl:v128 ${k}`,
    code: `
      ${
      Object.entries(CONSTS).map(([c, v]) => `i32.const ${v} i16x8.splat local.set ${c}`).join(" ")
    }
      block local.get n i32.eqz br_if 0
      loop
        local.get p
        local.get p v128.load 0 local.set h
        ${step}
        v128.store 0
        local.get p i32.const 16 i32.add local.tee p
        local.get n i32.const 1 i32.shl i32.lt_s br_if 0
      end end
      i32.const ${COUNTS_BYTE} ${sumLanes("nan")} i32.store 0
      ;; cl counted NaN/Inf too
      i32.const ${COUNTS_BYTE + 4} ${sumLanes("cl")} i32.const ${COUNTS_BYTE} i32.load 0 i32.sub
      i32.store 0`,
  };
}

/** The eight i16 lanes of a local (non-negative), summed (left on the stack). */
function sumLanes(v: string): string {
  return `local.get ${v} i32x4.extend_low_i16x8_u local.get ${v} i32x4.extend_high_i16x8_u
    i32x4.add local.set r ` +
    [0, 1, 2, 3].map((l) => `local.get r i32x4.extract_lane ${l}`).join(" ") +
    " i32.add i32.add i32.add";
}

const splat32 = Object.fromEntries(
  Object.entries(CONSTS32).map(([c, v]) => [c, `i32.const ${v} i32x4.splat`]),
) as Record<keyof typeof CONSTS32, string>;

/**
 * Four BF16 values (i32 lanes `u`) to FP16 bits by the f32 route, which also rounds subnormals:
 * normal | subnormal (|v| · 2²⁴ rounded to nearest even), the clamp, the sign, NaN/Inf → 0.
 */
const BF16_F32_LANES = `
  local.get u ${splat32.dAbs} v128.and local.set a
  local.get a i32.const 3 i32x4.shl ${splat32.dBias} i32x4.sub
  local.get a i32.const 16 i32x4.shl ${splat32.d2p24} f32x4.mul f32x4.nearest
  i32x4.trunc_sat_f32x4_s
  local.get a ${splat32.dBf16Norm} i32x4.ge_s v128.bitselect local.set r
  ${splat32.dF16Max} local.get r local.get a ${splat32.dBf16Clamp} i32x4.ge_s v128.bitselect
  local.get u ${splat32.dSign} v128.and v128.or
  local.get a ${splat32.dBf16Nan} i32x4.ge_s v128.andnot`;

/**
 * Eight BF16 values: masks and counts (`cl` counts NaN/Inf too; `nan` is subtracted at the end),
 * then, unless a lane is a non-zero subnormal (rare in weights; those steps take the f32 route of
 * both halves), in i16 lanes: the magnitude capped at 65 536, shifted and rebiased (exact), capped
 * at 65 504; subnormal lanes (zeros here) zeroed; the sign; NaN/Inf → 0. Each line a few
 * instructions: this loop is the whole cost of an FP16 conversion's data.
 */
const BF16_STEP = `
  local.get h local.get cAbs v128.and local.tee a
  local.get cBf16Nan i16x8.gt_s local.set mn
  local.get nan local.get mn i16x8.sub local.set nan
  local.get cl local.get a local.get cBf16Big i16x8.gt_s i16x8.sub local.set cl
  local.get cBf16Norm local.get a i16x8.gt_s local.tee mb
  local.get a v128.and v128.any_true
  if
    ${
  ["low", "high"].map((half) =>
    `local.get h i32x4.extend_${half}_i16x8_u local.set u ${BF16_F32_LANES}`
  ).join(" ")
}
    i16x8.narrow_i32x4_u local.set r
  else
    local.get a local.get cBf16Clamp i16x8.min_s i32.const 3 i16x8.shl local.get cBias i16x8.sub
    local.get cF16Max i16x8.min_s
    local.get mb v128.andnot
    local.get h local.get cSign v128.and v128.or
    local.get mn v128.andnot local.set r
  end
  local.get r`;

/** Eight F16 values: the bits as they are, NaN/Inf → 0 (counted in `cl` too, as BF16's). */
const F16_STEP = `
  local.get h local.get cAbs v128.and local.get cF16Max i16x8.gt_s local.set mn
  local.get nan local.get mn i16x8.sub local.set nan
  local.get cl local.get mn i16x8.sub local.set cl
  local.get h local.get mn v128.andnot`;

interface Converters {
  bf16: (n: number) => void;
  f16: (n: number) => void;
  values: Uint16Array;
  counts: Int32Array;
}

let converters: Converters | null = null;

/** The module, assembled and instantiated on the first conversion of this thread. */
function module(): Converters {
  if (converters) return converters;
  const bytes = assembleModule([["bf16", converter(BF16_STEP)], ["f16", converter(F16_STEP)]], 3);
  const e = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource)).exports;
  const mem = (e.mem as WebAssembly.Memory).buffer;
  return converters = {
    bf16: e.bf16 as (n: number) => void,
    f16: e.f16 as (n: number) => void,
    values: new Uint16Array(mem, 0, PIECE),
    counts: new Int32Array(mem, COUNTS_BYTE, 2),
  };
}

/** Counts of one converted chunk. */
export interface F16ChunkCounts {
  /** Finite values clamped to ±65504. */
  clamped: number;
  /** NaN/±Inf values (written as 0). */
  nonfinite: number;
}

/**
 * Whether {@link convertToF16} handles a source dtype.
 *
 * @example
 * ```ts
 * import { hasDirectF16 } from "./to_f16.ts";
 * console.log(hasDirectF16("BF16"), hasDirectF16("F32")); // true false
 * ```
 */
export function hasDirectF16(dtype: string): boolean {
  return dtype === "BF16" || dtype === "F16";
}

/**
 * Converts the raw BF16 or F16 values of `src` into FP16 bits in `dst` (of the same length; `dst`
 * may be `src` itself, converted in place), returning the clamp and NaN/Inf counts (NaN/Inf
 * become 0).
 *
 * @example
 * ```ts
 * import { convertToF16 } from "./to_f16.ts";
 * const dst = new Uint16Array(2);
 * const c = convertToF16("BF16", new Uint16Array([0x3f80, 0x7f80]), dst);
 * console.log(dst[0].toString(16), c.nonfinite); // "3c00" 1
 * ```
 */
export function convertToF16(dtype: string, src: Uint16Array, dst: Uint16Array): F16ChunkCounts {
  if (!hasDirectF16(dtype)) throw new Error(`convertToF16: unsupported dtype ${dtype}`);
  const m = module();
  const run = dtype === "BF16" ? m.bf16 : m.f16;
  let clamped = 0;
  let nonfinite = 0;
  for (let i = 0; i < src.length; i += PIECE) {
    const n = Math.min(PIECE, src.length - i);
    m.values.set(src.subarray(i, i + n));
    const n8 = (n + 7) & ~7; // whole steps of eight: the padding converts 0 to 0
    m.values.fill(0, n, n8);
    run(n8);
    dst.set(m.values.subarray(0, n), i);
    nonfinite += m.counts[0];
    clamped += m.counts[1];
  }
  return { clamped, nonfinite };
}
