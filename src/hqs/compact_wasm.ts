/**
 * The hot loop of the compact search (§7.6) in WebAssembly SIMD: the squared error of one
 * 8-element group for a row of lattice starts (one step, consecutive min-grid codes), in f64x2
 * lanes. The module is assembled here from its instruction list at load time, so there is no
 * binary to trust and nothing to build; it is deterministic (no NaNs reach it, and every f64
 * operation it uses is exactly rounded).
 *
 * Memory layout (bytes): the best error at 0, the block's 256 values (f64) at {@link XB_BYTE},
 * the 256 min-lattice values (f64) at {@link MINS_BYTE}.
 *
 * @module
 */

/** Byte offset of the block's values (256 × f64) in the module's memory. */
export const XB_BYTE = 64;
/** Byte offset of the min lattice (256 × f64) in the module's memory. */
export const MINS_BYTE = XB_BYTE + 256 * 8;
/** Most model points per group. */
export const MAX_POINTS = 32;
/** Byte offset of the model points' lattice starts (32 groups × 32 × f64). */
export const PT_POS_BYTE = MINS_BYTE + 256 * 8;
/** Byte offset of the model points' errors (32 groups × 32 × f64). */
export const PT_ERR_BYTE = PT_POS_BYTE + 32 * MAX_POINTS * 8;
/** Byte offset of the point counts (32 × u8; each group's list padded to an even length). */
export const N_PTS_BYTE = PT_ERR_BYTE + 32 * MAX_POINTS * 8;

// Opcodes (core spec §5.4; SIMD: 0xfd prefix and a LEB128 sub-opcode).
const I32 = 0x7f, F64 = 0x7c, V128 = 0x7b, VOID = 0x40;
const BLOCK = 0x02, LOOP = 0x03, IF = 0x04, END = 0x0b, BR = 0x0c, BR_IF = 0x0d;
const GET = 0x20, SET = 0x21, TEE = 0x22;
const F64_STORE = 0x39, I32_CONST = 0x41, F64_CONST = 0x44, RETURN = 0x0f, LOAD8_U = 0x2d;
const I32_GE_S = 0x4e, F64_LT = 0x63, F64_GE = 0x66, I32_ADD = 0x6a, F64_ADD = 0xa0;
const I32_AND = 0x71, I32_SHL = 0x74, I32_MUL = 0x6c, F64_MIN = 0xa4;
const simd = (op: number): number[] => op < 128 ? [0xfd, op] : [0xfd, (op & 127) | 128, op >> 7];
const V_LOAD = (offset: number) => [...simd(0x00), 4, offset];
const V_LOAD_OFF = (offset: number) => [...simd(0x00), 4, ...leb(offset)];
const V_LOAD64_SPLAT = [...simd(0x0a), 3, 0];
const F64X2_SPLAT = simd(0x14);
const F64X2_LANE = (lane: number) => [...simd(0x21), lane];
const F64X2_FLOOR = simd(0x75);
const F64X2_ADD = simd(0xf0), F64X2_SUB = simd(0xf1), F64X2_MUL = simd(0xf2);
const F64X2_PMIN = simd(0xf6), F64X2_PMAX = simd(0xf7);

function f64Bytes(v: number): number[] {
  return [...new Uint8Array(new Float64Array([v]).buffer)];
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 127;
    n >>>= 7;
    if (n !== 0) b |= 128;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 127;
    n >>= 7;
    if ((n === 0 && (b & 64) === 0) || (n === -1 && (b & 64) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 128);
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...leb(body.length), ...body];
}

function name(s: string): number[] {
  return [...leb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
}

// row(xg, step, inv, qMax, jp, n, best) → index of the first candidate whose error is strictly
// below `best` and smallest, or −1; the error goes to memory[0]. Candidate i is the lattice
// (mins[jp/8 + i], step); codes q = clamp(floor((x − m)·inv + ½), 0, qMax), as the JS search.
const P_XG = 0, P_STEP = 1, P_INV = 2, P_QMAX = 3, P_JP = 4, P_N = 5, P_BEST = 6;
const L_X = 7, L_VSTEP = 11, L_VINV = 12, L_VQ = 13, L_VHALF = 14, L_VZERO = 15, L_M = 16;
const L_U = 17, L_Q = 18, L_ACC = 19, L_E = 20, L_I = 21, L_BI = 22;

function term(k: number): number[] {
  return [
    GET,
    L_X + k,
    GET,
    L_M,
    ...F64X2_SUB,
    TEE,
    L_U,
    GET,
    L_VINV,
    ...F64X2_MUL,
    GET,
    L_VHALF,
    ...F64X2_ADD,
    ...F64X2_FLOOR,
    GET,
    L_VZERO,
    ...F64X2_PMAX,
    GET,
    L_VQ,
    ...F64X2_PMIN,
    SET,
    L_Q,
    GET,
    L_U,
    GET,
    L_Q,
    GET,
    L_VSTEP,
    ...F64X2_MUL,
    ...F64X2_SUB,
    TEE,
    L_U,
    GET,
    L_U,
    ...F64X2_MUL,
  ]; // deno-fmt-ignore
}

const ROW_BODY: number[] = [
  // locals: 4 + 6 + 4 v128 … grouped by type
  3,
  13,
  V128,
  1,
  F64,
  2,
  I32,
  GET,
  P_XG,
  ...V_LOAD(0),
  SET,
  L_X,
  GET,
  P_XG,
  ...V_LOAD(16),
  SET,
  L_X + 1,
  GET,
  P_XG,
  ...V_LOAD(32),
  SET,
  L_X + 2,
  GET,
  P_XG,
  ...V_LOAD(48),
  SET,
  L_X + 3,
  GET,
  P_STEP,
  ...F64X2_SPLAT,
  SET,
  L_VSTEP,
  GET,
  P_INV,
  ...F64X2_SPLAT,
  SET,
  L_VINV,
  GET,
  P_QMAX,
  ...F64X2_SPLAT,
  SET,
  L_VQ,
  F64_CONST,
  ...f64Bytes(0.5),
  ...F64X2_SPLAT,
  SET,
  L_VHALF,
  F64_CONST,
  ...f64Bytes(0),
  ...F64X2_SPLAT,
  SET,
  L_VZERO,
  I32_CONST,
  0x7f,
  SET,
  L_BI,
  BLOCK,
  VOID,
  LOOP,
  VOID,
  GET,
  L_I,
  GET,
  P_N,
  I32_GE_S,
  BR_IF,
  1,
  GET,
  P_JP,
  ...V_LOAD64_SPLAT,
  SET,
  L_M,
  ...term(0),
  ...term(1),
  ...F64X2_ADD,
  ...term(2),
  ...F64X2_ADD,
  ...term(3),
  ...F64X2_ADD,
  TEE,
  L_ACC,
  ...F64X2_LANE(0),
  GET,
  L_ACC,
  ...F64X2_LANE(1),
  F64_ADD,
  TEE,
  L_E,
  GET,
  P_BEST,
  F64_LT,
  IF,
  VOID,
  GET,
  L_E,
  SET,
  P_BEST,
  GET,
  L_I,
  SET,
  L_BI,
  END,
  GET,
  L_I,
  I32_CONST,
  1,
  I32_ADD,
  SET,
  L_I,
  GET,
  P_JP,
  I32_CONST,
  8,
  I32_ADD,
  SET,
  P_JP,
  BR,
  0,
  END,
  END,
  I32_CONST,
  0,
  GET,
  P_BEST,
  F64_STORE,
  3,
  0,
  GET,
  L_BI,
  END,
]; // deno-fmt-ignore

// model(minBase, delta, inv, codeMax, bound) → Σ over groups of min over the group's points of
// err + 8·(minBase + j·delta − pos)², j = clamp(floor((pos − minBase)·inv + ½), 0, codeMax);
// returns as soon as the sum reaches `bound`.
const M_MB = 0, M_DELTA = 1, M_INV = 2, M_CM = 3, M_BOUND = 4;
const M_VMB = 5, M_VDELTA = 6, M_VINV = 7, M_VCM = 8, M_VHALF = 9, M_VZERO = 10, M_V8 = 11;
const M_VBEST = 12, M_VJ = 13, M_VP = 14, M_TOTAL = 15, M_G = 16, M_PP = 17, M_PEND = 18;

const MODEL_BODY: number[] = [
  3,
  10,
  V128,
  1,
  F64,
  3,
  I32,
  GET,
  M_MB,
  ...F64X2_SPLAT,
  SET,
  M_VMB,
  GET,
  M_DELTA,
  ...F64X2_SPLAT,
  SET,
  M_VDELTA,
  GET,
  M_INV,
  ...F64X2_SPLAT,
  SET,
  M_VINV,
  GET,
  M_CM,
  ...F64X2_SPLAT,
  SET,
  M_VCM,
  F64_CONST,
  ...f64Bytes(0.5),
  ...F64X2_SPLAT,
  SET,
  M_VHALF,
  F64_CONST,
  ...f64Bytes(0),
  ...F64X2_SPLAT,
  SET,
  M_VZERO,
  F64_CONST,
  ...f64Bytes(8),
  ...F64X2_SPLAT,
  SET,
  M_V8,
  BLOCK,
  VOID,
  LOOP,
  VOID,
  GET,
  M_G,
  I32_CONST,
  32,
  I32_GE_S,
  BR_IF,
  1,
  GET,
  M_G,
  I32_CONST,
  ...sleb(MAX_POINTS * 8),
  I32_MUL,
  I32_CONST,
  ...sleb(PT_POS_BYTE),
  I32_ADD,
  TEE,
  M_PP,
  GET,
  M_G,
  LOAD8_U,
  0,
  ...leb(N_PTS_BYTE),
  I32_CONST,
  1,
  I32_ADD,
  I32_CONST,
  0x7e,
  I32_AND,
  I32_CONST,
  3,
  I32_SHL,
  I32_ADD,
  SET,
  M_PEND,
  F64_CONST,
  ...f64Bytes(Infinity),
  ...F64X2_SPLAT,
  SET,
  M_VBEST,
  BLOCK,
  VOID,
  LOOP,
  VOID,
  GET,
  M_PP,
  GET,
  M_PEND,
  I32_GE_S,
  BR_IF,
  1,
  GET,
  M_PP,
  ...V_LOAD(0),
  SET,
  M_VP,
  GET,
  M_VP,
  GET,
  M_VMB,
  ...F64X2_SUB,
  GET,
  M_VINV,
  ...F64X2_MUL,
  GET,
  M_VHALF,
  ...F64X2_ADD,
  ...F64X2_FLOOR,
  GET,
  M_VZERO,
  ...F64X2_PMAX,
  GET,
  M_VCM,
  ...F64X2_PMIN,
  SET,
  M_VJ,
  GET,
  M_VMB,
  GET,
  M_VJ,
  GET,
  M_VDELTA,
  ...F64X2_MUL,
  ...F64X2_ADD,
  GET,
  M_VP,
  ...F64X2_SUB,
  TEE,
  M_VJ,
  GET,
  M_V8,
  ...F64X2_MUL,
  GET,
  M_VJ,
  ...F64X2_MUL,
  GET,
  M_PP,
  ...V_LOAD_OFF(PT_ERR_BYTE - PT_POS_BYTE),
  ...F64X2_ADD,
  GET,
  M_VBEST,
  ...F64X2_PMIN,
  SET,
  M_VBEST,
  GET,
  M_PP,
  I32_CONST,
  16,
  I32_ADD,
  SET,
  M_PP,
  BR,
  0,
  END,
  END,
  GET,
  M_TOTAL,
  GET,
  M_VBEST,
  ...F64X2_LANE(0),
  GET,
  M_VBEST,
  ...F64X2_LANE(1),
  F64_MIN,
  F64_ADD,
  TEE,
  M_TOTAL,
  GET,
  M_BOUND,
  F64_GE,
  IF,
  VOID,
  GET,
  M_TOTAL,
  RETURN,
  END,
  GET,
  M_G,
  I32_CONST,
  1,
  I32_ADD,
  SET,
  M_G,
  BR,
  0,
  END,
  END,
  GET,
  M_TOTAL,
  END,
]; // deno-fmt-ignore

function moduleBytes(): Uint8Array {
  const types = [
    2,
    ...[0x60, 7, I32, F64, F64, F64, I32, I32, F64, 1, I32],
    ...[0x60, 5, F64, F64, F64, F64, F64, 1, F64],
  ];
  const code = [
    2,
    ...leb(ROW_BODY.length), ...ROW_BODY,
    ...leb(MODEL_BODY.length), ...MODEL_BODY,
  ]; // deno-fmt-ignore
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, types),
    ...section(3, [2, 0, 1]),
    ...section(5, [1, 0, 1]),
    ...section(7, [3, ...name("mem"), 2, 0, ...name("row"), 0, 0, ...name("model"), 0, 1]),
    ...section(10, code),
  ]); // deno-fmt-ignore
}

const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes() as BufferSource));
const memory = instance.exports.mem as WebAssembly.Memory;

/**
 * Errors of a row of candidates of one group: `row(xByte, step, inv, qMax, minsByte, n, best)`
 * returns the index of the best candidate strictly below `best` (−1 if none), its error in
 * {@link ROW_BEST}[0].
 *
 * @example
 * ```ts
 * import { MINS_BYTE, ROW_BEST, rowErrors, wasmF64, XB_BYTE } from "./compact_wasm.ts";
 * wasmF64(XB_BYTE, 8).set([0, 1, 2, 3, 4, 5, 6, 7]);
 * wasmF64(MINS_BYTE, 2).set([0, 0.5]);
 * console.log(rowErrors(XB_BYTE, 1, 1, 15, MINS_BYTE, 2, Infinity), ROW_BEST[0]); // 0 0
 * ```
 */
export const rowErrors = instance.exports.row as (
  xByte: number,
  step: number,
  inv: number,
  qMax: number,
  minsByte: number,
  n: number,
  best: number,
) => number;

/**
 * Model error of a min grid over the points in {@link PT_POS_BYTE} / {@link PT_ERR_BYTE}:
 * `modelErrors(minBase, delta, 1 / delta, codeMax, bound)`.
 *
 * @example
 * ```ts
 * import { modelErrors, N_PTS_BYTE, wasmU8 } from "./compact_wasm.ts";
 * wasmU8(N_PTS_BYTE, 32).fill(0);
 * console.log(modelErrors(0, 1, 1, 15, Infinity)); // Infinity
 * ```
 */
export const modelErrors = instance.exports.model as (
  minBase: number,
  delta: number,
  inv: number,
  codeMax: number,
  bound: number,
) => number;

/**
 * A Uint8Array view of the module's memory (which never grows).
 *
 * @example
 * ```ts
 * import { N_PTS_BYTE, wasmU8 } from "./compact_wasm.ts";
 * console.log(wasmU8(N_PTS_BYTE, 32).length); // 32
 * ```
 */
export function wasmU8(byteOffset: number, length: number): Uint8Array {
  return new Uint8Array(memory.buffer, byteOffset, length);
}

/**
 * A Float64Array view of the module's memory (which never grows).
 *
 * @example
 * ```ts
 * import { wasmF64, XB_BYTE } from "./compact_wasm.ts";
 * console.log(wasmF64(XB_BYTE, 256).length); // 256
 * ```
 */
export function wasmF64(byteOffset: number, length: number): Float64Array {
  return new Float64Array(memory.buffer, byteOffset, length);
}

/**
 * The error of the best candidate of the last {@link rowErrors} call.
 *
 * @example
 * ```ts
 * import { ROW_BEST } from "./compact_wasm.ts";
 * console.log(ROW_BEST.length); // 1
 * ```
 */
export const ROW_BEST: Float64Array = wasmF64(0, 1);
