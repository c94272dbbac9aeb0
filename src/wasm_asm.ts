/**
 * A small WebAssembly assembler for the kernels (the HQS searches, the FP16 conversion, XXH3):
 * WAT-like listings (stack instructions, one token each, named locals, `;;` comments) to a
 * module's bytes, at load time, so there is no binary to trust and nothing to build. Only the
 * instructions the kernels use are known; an unknown one is an error when the module is
 * assembled.
 *
 * @module
 */

/** The 16 byte-lane immediates of an i8x16.shuffle that picks these f32 lanes. */
function lanes32(l: number[]): number[] {
  return l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);
}

/** Opcodes (core spec §5.4; SIMD ones are 0xfd + LEB128) and their immediates. */
const OPS: Record<string, [number[], string]> = {
  "block": [[0x02, 0x40], ""],
  "loop": [[0x03, 0x40], ""],
  "if": [[0x04, 0x40], ""],
  "end": [[0x0b], ""],
  "br": [[0x0c], "u"],
  "br_if": [[0x0d], "u"],
  "return": [[0x0f], ""],
  "local.get": [[0x20], "local"],
  "local.set": [[0x21], "local"],
  "local.tee": [[0x22], "local"],
  "i32.load8_u": [[0x2d, 0], "u"],
  "f64.store": [[0x39, 3], "u"],
  "i32.const": [[0x41], "s"],
  "f64.const": [[0x44], "f64"],
  "i32.ge_s": [[0x4e], ""],
  "f64.lt": [[0x63], ""],
  "f64.ge": [[0x66], ""],
  "i32.add": [[0x6a], ""],
  "i32.mul": [[0x6c], ""],
  "i32.and": [[0x71], ""],
  "i32.or": [[0x72], ""],
  "i32.shl": [[0x74], ""],
  "f64.add": [[0xa0], ""],
  "f64.min": [[0xa4], ""],
  "f64.max": [[0xa5], ""],
  "v128.load": [[0xfd, 0x00, 4], "u"],
  "v128.load64_splat": [[0xfd, 0x0a, 3], "u"],
  "f64x2.splat": [[0xfd, 0x14], ""],
  "f64x2.extract_lane": [[0xfd, 0x21], "u"],
  "f64x2.floor": [[0xfd, 0x75], ""],
  "f64x2.add": [[0xfd, 0xf0, 0x01], ""],
  "f64x2.sub": [[0xfd, 0xf1, 0x01], ""],
  "f64x2.mul": [[0xfd, 0xf2, 0x01], ""],
  "f64x2.pmin": [[0xfd, 0xf6, 0x01], ""],
  "f64x2.pmax": [[0xfd, 0xf7, 0x01], ""],
  "f64.load": [[0x2b, 3], "u"],
  "i32.store8": [[0x3a, 0], "u"],
  "select": [[0x1b], ""],
  "f64.floor": [[0x9c], ""],
  "f64.ne": [[0x62], ""],
  "call": [[0x10], "u"],
  "i32.lt_s": [[0x48], ""],
  "i32.gt_s": [[0x4a], ""],
  "i32.sub": [[0x6b], ""],
  "f64.gt": [[0x64], ""],
  "f64.le": [[0x65], ""],
  "f64.sub": [[0xa1], ""],
  "f64.mul": [[0xa2], ""],
  "f64.div": [[0xa3], ""],
  "f64.ceil": [[0x9b], ""],
  "f64.convert_i32_s": [[0xb7], ""],
  "i32.trunc_sat_f64_s": [[0xfc, 0x02], ""],
  "f32.add": [[0x92], ""],
  "f32.mul": [[0x94], ""],
  "f32.div": [[0x95], ""],
  "f32.convert_i32_s": [[0xb2], ""],
  "i32.eqz": [[0x45], ""],
  "i32.le_s": [[0x4c], ""],
  "f32.demote_f64": [[0xb6], ""],
  "f64.promote_f32": [[0xbb], ""],
  "f32x4.splat": [[0xfd, 0x13], ""],
  "f32x4.extract_lane": [[0xfd, 0x1f], "u"],
  "f32x4.floor": [[0xfd, 0x68], ""],
  "f32x4.add": [[0xfd, 0xe4, 0x01], ""],
  "f32x4.sub": [[0xfd, 0xe5, 0x01], ""],
  "f32x4.mul": [[0xfd, 0xe6, 0x01], ""],
  "f32x4.pmin": [[0xfd, 0xea, 0x01], ""],
  "f32x4.pmax": [[0xfd, 0xeb, 0x01], ""],
  "f64x2.ne": [[0xfd, 0x48], ""],
  "f32x4.le": [[0xfd, 0x45], ""],
  "f32x4.eq": [[0xfd, 0x41], ""],
  "v128.and": [[0xfd, 0x4e], ""],
  "v128.store": [[0xfd, 0x0b, 4], "u"],
  "f32.load": [[0x2a, 2], "u"],
  "f32.store": [[0x38, 2], "u"],
  "f64.eq": [[0x61], ""],
  "shuffle.2301": [[0xfd, 0x0d, ...lanes32([2, 3, 0, 1])], ""],
  "shuffle.1032": [[0xfd, 0x0d, ...lanes32([1, 0, 3, 2])], ""],
  // i8x16.shuffle by f32 lanes (0…3 the first operand's, 4…7 the second's)
  "shuffle.0415": [[0xfd, 0x0d, ...lanes32([0, 4, 1, 5])], ""],
  "shuffle.2637": [[0xfd, 0x0d, ...lanes32([2, 6, 3, 7])], ""],
  "shuffle.0145": [[0xfd, 0x0d, ...lanes32([0, 1, 4, 5])], ""],
  "shuffle.2367": [[0xfd, 0x0d, ...lanes32([2, 3, 6, 7])], ""],
  "v128.any_true": [[0xfd, 0x53], ""],
  "f32x4.demote_f64x2_zero": [[0xfd, 0x5e], ""],
  "f64x2.promote_low_f32x4": [[0xfd, 0x5f], ""],
  "f64x2.replace_lane": [[0xfd, 0x22], "u"],
  "i64.const": [[0x42], "s64"],
  "i64.and": [[0x83], ""],
  "i64.add": [[0x7c], ""],
  "i64.eqz": [[0x50], ""],
  "i64.reinterpret_f64": [[0xbd], ""],
  "f64.reinterpret_i64": [[0xbf], ""],
  "i32.eq": [[0x46], ""],
  "v128.load32_splat": [[0xfd, 0x09, 2], "u"],
  "f32x4.lt": [[0xfd, 0x43], ""],
  "i8x16.splat": [[0xfd, 0x0f], ""],
  "i8x16.add": [[0xfd, 0x6e], ""],
  "f64x2.ceil": [[0xfd, 0x74], ""],
  "f64x2.lt": [[0xfd, 0x49], ""],
  "f64x2.gt": [[0xfd, 0x4a], ""],
  "f64x2.ge": [[0xfd, 0x4c], ""],
  "v128.bitselect": [[0xfd, 0x52], ""],
  "f64x2.div": [[0xfd, 0xf3, 0x01], ""],
  "else": [[0x05], ""],
  "f32x4.div": [[0xfd, 0xe7, 0x01], ""],
  "i32x4.trunc_sat_f32x4_s": [[0xfd, 0xf8, 0x01], ""],
  "i16x8.narrow_i32x4_u": [[0xfd, 0x86, 0x01], ""],
  "i8x16.narrow_i16x8_u": [[0xfd, 0x66], ""],
  "i64x2.extract_lane": [[0xfd, 0x1d], "u"],
  "i64.store": [[0x37, 3], "u"],
  "i32.load": [[0x28, 2], "u"],
  "i32.store": [[0x36, 2], "u"],
  "f64.abs": [[0x99], ""],
  "i64.shl": [[0x86], ""],
  "i64.shr_u": [[0x88], ""],
  "i64.or": [[0x84], ""],
  "i64.extend_i32_s": [[0xac], ""],
  "i32.wrap_i64": [[0xa7], ""],
  "i32.shr_s": [[0x75], ""],
  "i32.shr_u": [[0x76], ""],
  "i32.xor": [[0x73], ""],
  "i32.ctz": [[0x68], ""],
  "i32.ne": [[0x47], ""],
  "i32.ge_u": [[0x4f], ""],
  "shuffle.0246": [[0xfd, 0x0d, ...lanes32([0, 2, 4, 6])], ""],
  "shuffle.1357": [[0xfd, 0x0d, ...lanes32([1, 3, 5, 7])], ""],
  "i32x4.splat": [[0xfd, 0x11], ""],
  "i32x4.extract_lane": [[0xfd, 0x1b], "u"],
  "i32x4.ge_s": [[0xfd, 0x3f], ""],
  "v128.andnot": [[0xfd, 0x4f], ""],
  "v128.or": [[0xfd, 0x50], ""],
  "f32x4.nearest": [[0xfd, 0x6a], ""],
  "i32x4.extend_low_i16x8_u": [[0xfd, 0xa9, 0x01], ""],
  "i32x4.extend_high_i16x8_u": [[0xfd, 0xaa, 0x01], ""],
  "i32x4.shl": [[0xfd, 0xab, 0x01], ""],
  "i32x4.add": [[0xfd, 0xae, 0x01], ""],
  "i32x4.sub": [[0xfd, 0xb1, 0x01], ""],
  "i16x8.splat": [[0xfd, 0x10], ""],
  "i16x8.gt_s": [[0xfd, 0x31], ""],
  "i16x8.min_s": [[0xfd, 0x96, 0x01], ""],
  "i16x8.shl": [[0xfd, 0x8b, 0x01], ""],
  "i16x8.sub": [[0xfd, 0x91, 0x01], ""],
  "i64.load": [[0x29, 3], "u"],
  "i64.load8_u": [[0x31, 0], "u"],
  "i64.load32_u": [[0x35, 2], "u"],
  "i64.sub": [[0x7d], ""],
  "i64.mul": [[0x7e], ""],
  "i64.xor": [[0x85], ""],
  "i64.rotl": [[0x89], ""],
  "i64.extend_i32_u": [[0xad], ""],
  "i32.gt_u": [[0x4b], ""],
  "v128.xor": [[0xfd, 0x51], ""],
  "i64x2.splat": [[0xfd, 0x12], ""],
  "i64x2.shr_u": [[0xfd, 0xcd, 0x01], ""],
  "i64x2.add": [[0xfd, 0xce, 0x01], ""],
  "i64x2.mul": [[0xfd, 0xd5, 0x01], ""],
  "i64x2.extmul_low_i32x4_u": [[0xfd, 0xde, 0x01], ""],
  // relaxed SIMD: deterministic (as v128.bitselect) for masks whose lanes are all ones or all
  // zeros, such as comparison results; one blend instruction instead of three logic ones
  "i32x4.relaxed_laneselect": [[0xfd, 0x8b, 0x02], ""],
  "i64x2.relaxed_laneselect": [[0xfd, 0x8c, 0x02], ""],
  "shuffle.0000": [[0xfd, 0x0d, ...lanes32([0, 0, 0, 0])], ""],
  "shuffle.1111": [[0xfd, 0x0d, ...lanes32([1, 1, 1, 1])], ""],
  "shuffle.2222": [[0xfd, 0x0d, ...lanes32([2, 2, 2, 2])], ""],
  "shuffle.3333": [[0xfd, 0x0d, ...lanes32([3, 3, 3, 3])], ""],
  "i32.store16": [[0x3b, 1], "u"],
  // relaxed SIMD: fused or not as the machine has it; used only once a probe showed it fused
  "f32x4.relaxed_madd": [[0xfd, 0x85, 0x02], ""],
};
const TYPES: Record<string, number> = { i32: 0x7f, i64: 0x7e, f64: 0x7c, v128: 0x7b };

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

/** Signed LEB128 of a 64-bit constant (decimal or 0x… hex; values ≥ 2⁶³ wrap, as in C). */
function sleb64(text: string): number[] {
  let n = BigInt.asIntN(64, BigInt(text));
  const out: number[] = [];
  for (;;) {
    const b = Number(n & 127n);
    n >>= 7n;
    if ((n === 0n && (b & 64) === 0) || (n === -1n && (b & 64) !== 0)) return [...out, b];
    out.push(b | 128);
  }
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 127;
    n >>= 7;
    if ((n === 0 && (b & 64) === 0) || (n === -1 && (b & 64) !== 0)) return [...out, b];
    out.push(b | 128);
  }
}

/** One function: its signature, its locals ("name:type …") and its listing. */
export interface Func {
  /** Parameters, "name:type" separated by white space (types i32, i64, f64, v128). */
  params: string;
  /** The result type, or "" for none. */
  result: string;
  /** Further locals, as `params`. */
  locals: string;
  /** The listing: instructions with their immediates, `;;` comments. */
  code: string;
}

/** Assembles a function body: locals declared one by one, then the listing's instructions. */
function assemble(f: Func): number[] {
  const names = new Map<string, number>();
  const decl = (s: string) => s.split(/\s+/).filter((t) => t).map((t) => t.split(":"));
  const params = decl(f.params), locals = decl(f.locals);
  for (const [n] of [...params, ...locals]) names.set(n, names.size);
  const out: number[] = [...leb(locals.length)];
  for (const [, t] of locals) out.push(1, TYPES[t]);
  const toks = f.code.replace(/;;[^\n]*/g, "").split(/\s+/).filter((t) => t);
  for (let i = 0; i < toks.length; i++) {
    const op = OPS[toks[i]];
    if (op === undefined) throw new Error(`unknown instruction "${toks[i]}"`);
    out.push(...op[0]);
    const imm = op[1];
    if (imm === "") continue;
    const a = toks[++i];
    if (imm === "local") {
      const idx = names.get(a);
      if (idx === undefined) throw new Error(`unknown local "${a}"`);
      out.push(...leb(idx));
    } else if (imm === "u") out.push(...leb(Number(a)));
    else if (imm === "s") out.push(...sleb(Number(a)));
    else if (imm === "s64") out.push(...sleb64(a));
    else out.push(...new Uint8Array(new Float64Array([Number(a)]).buffer));
  }
  out.push(0x0b);
  return [...leb(out.length), ...out];
}

function section(id: number, body: number[]): number[] {
  return [id, ...leb(body.length), ...body];
}

/**
 * A module of `funcs` (exported under their names, function i is `call i`) and one memory of
 * `pages` 64 KiB pages, exported as "mem".
 *
 * @example
 * ```ts
 * import { assembleModule } from "./wasm_asm.ts";
 * const bytes = assembleModule([["one", {
 *   params: "",
 *   result: "f64",
 *   locals: "",
 *   code: "f64.const 1",
 * }]], 1);
 * const m = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource));
 * console.log((m.exports.one as () => number)()); // 1
 * ```
 */
export function assembleModule(
  funcs: readonly (readonly [string, Func])[],
  pages: number,
): Uint8Array {
  const types: number[] = [funcs.length];
  const exports: number[] = [funcs.length + 1, 3, 0x6d, 0x65, 0x6d, 2, 0]; // "mem"
  const code: number[] = [funcs.length];
  funcs.forEach(([name, f], i) => {
    const params = f.params.split(/\s+/).filter((t) => t).map((t) => TYPES[t.split(":")[1]]);
    const result = f.result === "" ? [0] : [1, TYPES[f.result]];
    types.push(0x60, params.length, ...params, ...result);
    exports.push(name.length, ...[...name].map((c) => c.charCodeAt(0)), 0, i);
    code.push(...assemble(f));
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, types),
    ...section(3, [funcs.length, ...funcs.map((_, i) => i)]),
    ...section(5, [1, 0, ...leb(pages)]),
    ...section(7, exports),
    ...section(10, code),
  ]);
}
