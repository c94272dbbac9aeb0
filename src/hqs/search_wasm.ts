/**
 * The round trips of the legacy search (search.ts) in WebAssembly SIMD: for a chunk of groups,
 * the exact squared error and codes of two candidate (min, range) pairs each, and the better of
 * the two. The arithmetic is the scalar `evalCodes`' to the bit: f32 lanes for the code
 * (f32 operations round exactly as `Math.fround` of the double ones), f64 lanes for the decode
 * and the error, summed in element order. The module is assembled on first use, not at import.
 *
 * @module
 */
import { HQS_GROUP } from "./kernel.ts";
import { assembleModule, type Func } from "./wasm_asm.ts";

/** Groups per {@link pairErrors} call. */
export const PAIR_CHUNK = 2048;
/** Byte offset of the chunk's values (f32, 8 per group). */
const X_BYTE = 0;
/** Byte offset of the candidates: per group 8 × f32, (min, range, −, −) of each of the two. */
const PAR_BYTE = X_BYTE + PAIR_CHUNK * HQS_GROUP * 4;
/** Byte offset of the chosen candidate's squared error (f64 per group). */
const ERR_BYTE = PAR_BYTE + PAIR_CHUNK * 32;
/** Byte offset of the chosen candidate's codes (8 × u8 per group). */
const CODES_BYTE = ERR_BYTE + PAIR_CHUNK * 8;
/** Byte offset of the choice (u8 per group: 1 when the second candidate is strictly better). */
const WIN_BYTE = CODES_BYTE + PAIR_CHUNK * HQS_GROUP;
const PAGES = Math.ceil((WIN_BYTE + PAIR_CHUNK) / 65536);

/**
 * Codes of the candidate whose (min, range) is at byte `o` of the group's record, into qa/qb (as
 * f32 lanes), and its squared error into `e`: q = clamp(round((x − min) / range × Qmax)) with
 * halves away from zero, computed as floor + (fraction ≥ ½) since both parts are exact in f32.
 */
function candidate(o: number, e: string): string {
  const codes = (v: string, q: string) =>
    `local.get ${v} local.get ms f32x4.sub local.get ss f32x4.div local.get qv f32x4.mul
    local.get zero f32x4.pmax local.get qv f32x4.pmin local.tee t f32x4.floor local.tee fl
    local.get half local.get t local.get fl f32x4.sub f32x4.le local.get one v128.and
    f32x4.add local.set ${q}`;
  // x̂ = f32(min + q · step) with the product exact in f64; e² per lane.
  const sq = (q: string, hi: boolean, p: string, d: string) =>
    `local.get ${p} local.get ${q} ${hi ? `local.get ${q} shuffle.2301` : ""}
    f64x2.promote_low_f32x4 local.get sd f64x2.mul local.get md f64x2.add
    f32x4.demote_f64x2_zero f64x2.promote_low_f32x4 f64x2.sub local.tee d local.get d f64x2.mul
    local.set ${d}`;
  return `
    local.get px f32.load ${PAR_BYTE + o} f64.promote_f32 local.tee s f64x2.splat local.set md
    local.get s f32.demote_f64 f32x4.splat local.set ms
    local.get px f32.load ${PAR_BYTE + o + 4} f32x4.splat local.set ss
    local.get px f32.load ${PAR_BYTE + o + 4} local.get qmax f32.demote_f64 f32.div
    f64.promote_f32 f64x2.splat local.set sd
    ${codes("v0", "qa")}
    ${codes("v1", "qb")}
    ${sq("qa", false, "p0", "d0")} ${sq("qa", true, "p1", "d1")}
    ${sq("qb", false, "p2", "d2")} ${sq("qb", true, "p3", "d3")}
    local.get d0 f64x2.extract_lane 0 local.get d0 f64x2.extract_lane 1 f64.add
    local.get d1 f64x2.extract_lane 0 f64.add local.get d1 f64x2.extract_lane 1 f64.add
    local.get d2 f64x2.extract_lane 0 f64.add local.get d2 f64x2.extract_lane 1 f64.add
    local.get d3 f64x2.extract_lane 0 f64.add local.get d3 f64x2.extract_lane 1 f64.add
    local.set ${e}`;
}

/** Stores the codes in qa/qb (f32 lanes, 0 … Qmax) as 8 bytes at the group's slot. */
const STORE_CODES = `local.get g i32.const 3 i32.shl
  local.get qa i32x4.trunc_sat_f32x4_s local.get qb i32x4.trunc_sat_f32x4_s i16x8.narrow_i32x4_u
  local.tee w local.get w i8x16.narrow_i16x8_u i64x2.extract_lane 0 i64.store ${CODES_BYTE}`;

/**
 * pairs(n, qmax): for groups 0 … n − 1, evaluates the first candidate and, when its range is not
 * zero, the second, and keeps the second only when its error is strictly smaller.
 */
const PAIRS: Func = {
  params: "n:i32 qmax:f64",
  result: "",
  locals: `g:i32 px:i32 s:f64 e1:f64 e2:f64
    v0:v128 v1:v128 p0:v128 p1:v128 p2:v128 p3:v128 qv:v128 half:v128 one:v128 zero:v128
    ms:v128 ss:v128 md:v128 sd:v128 t:v128 fl:v128 qa:v128 qb:v128 d:v128 d0:v128 d1:v128
    d2:v128 d3:v128 w:v128`,
  code: `
    local.get qmax f32.demote_f64 f32x4.splat local.set qv
    f64.const 0.5 f32.demote_f64 f32x4.splat local.set half
    f64.const 1 f32.demote_f64 f32x4.splat local.set one
    f64.const 0 f32.demote_f64 f32x4.splat local.set zero
    block loop
      local.get g local.get n i32.ge_s br_if 1
      local.get g i32.const 5 i32.shl local.tee px v128.load ${X_BYTE} local.tee v0
      f64x2.promote_low_f32x4 local.set p0
      local.get v0 local.get v0 shuffle.2301 f64x2.promote_low_f32x4 local.set p1
      local.get px v128.load ${X_BYTE + 16} local.tee v1 f64x2.promote_low_f32x4 local.set p2
      local.get v1 local.get v1 shuffle.2301 f64x2.promote_low_f32x4 local.set p3
      ${candidate(0, "e1")}
      local.get g i32.const 3 i32.shl local.get e1 f64.store ${ERR_BYTE}
      ${STORE_CODES}
      local.get g i32.const 0 i32.store8 ${WIN_BYTE}
      local.get px i32.load ${PAR_BYTE + 20} i32.eqz i32.eqz
      if
        ${candidate(16, "e2")}
        local.get e2 local.get e1 f64.lt
        if
          local.get g i32.const 3 i32.shl local.get e2 f64.store ${ERR_BYTE}
          ${STORE_CODES}
          local.get g i32.const 1 i32.store8 ${WIN_BYTE}
        end
      end
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end`,
};

/** Views of the module's memory and its entry point. */
export interface PairKernel {
  /** The chunk's values, 8 per group. */
  readonly x: Float32Array;
  /** Per group 8 slots: min, range of the first candidate at 0, 1; of the second at 4, 5. */
  readonly par: Float32Array;
  /** The chosen candidate's squared error per group. */
  readonly err: Float64Array;
  /** The chosen candidate's codes, 8 per group. */
  readonly codes: Uint8Array;
  /** 1 where the second candidate was chosen. */
  readonly win: Uint8Array;
  /** Evaluates groups 0 … n − 1 (n ≤ {@link PAIR_CHUNK}) for a format with `qmax` levels. */
  readonly pairs: (n: number, qmax: number) => void;
}

let kernel: PairKernel | undefined;

/**
 * The kernel, assembled and instantiated on the first call.
 *
 * @example
 * ```ts
 * import { pairKernel } from "./search_wasm.ts";
 * const k = pairKernel();
 * k.x.set([0, 1, 2, 3, 4, 5, 6, 7]);
 * k.par.set([0, 7, 0, 0, 0, 0, 0, 0]); // min 0, range 7; no second candidate
 * k.pairs(1, 7);
 * console.log(k.err[0], [...k.codes.subarray(0, 8)]); // 0 [0, 1, 2, 3, 4, 5, 6, 7]
 * ```
 */
export function pairKernel(): PairKernel {
  if (kernel) return kernel;
  const instance = new WebAssembly.Instance(
    new WebAssembly.Module(assembleModule([["pairs", PAIRS]], PAGES) as BufferSource),
  );
  const buf = (instance.exports.mem as WebAssembly.Memory).buffer;
  kernel = {
    x: new Float32Array(buf, X_BYTE, PAIR_CHUNK * HQS_GROUP),
    par: new Float32Array(buf, PAR_BYTE, PAIR_CHUNK * 8),
    err: new Float64Array(buf, ERR_BYTE, PAIR_CHUNK),
    codes: new Uint8Array(buf, CODES_BYTE, PAIR_CHUNK * HQS_GROUP),
    win: new Uint8Array(buf, WIN_BYTE, PAIR_CHUNK),
    pairs: instance.exports.pairs as (n: number, qmax: number) => void,
  };
  return kernel;
}
