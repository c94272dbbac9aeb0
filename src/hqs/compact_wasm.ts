/**
 * The hot loops of the compact search (§7.6) in WebAssembly SIMD (f64x2 lanes): the squared
 * errors of one 8-element group for a row of lattice starts, the model's anchored least-squares
 * statistics, and the model error of a min grid. The module is assembled here, at load time,
 * from the WAT-like listings below, so there is no binary to trust and nothing to build. It is
 * deterministic: no NaN reaches it and every f64 operation it uses is exactly rounded (sums may
 * associate differently from a scalar loop, in the last bit).
 *
 * Memory (bytes): results at 0…63, the block's 256 values (f64) at {@link XB_BYTE}, the min
 * lattice at {@link MINS_BYTE}, the model points at {@link PT_POS_BYTE} / {@link PT_ERR_BYTE}
 * with their counts at {@link N_PTS_BYTE}. The memory never grows, so views stay valid.
 *
 * @module
 */

/** Byte offset of the block's values (256 × f64) in the module's memory. */
export const XB_BYTE = 64;
/** Byte offset of the min lattice (256 × f64). */
export const MINS_BYTE = XB_BYTE + 256 * 8;
/** Most model points per group. */
export const MAX_POINTS = 32;
/** Byte offset of the model points' lattice starts (32 groups × 32 × f64). */
export const PT_POS_BYTE = MINS_BYTE + 256 * 8;
/** Byte offset of the model points' errors (32 groups × 32 × f64). */
export const PT_ERR_BYTE = PT_POS_BYTE + 32 * MAX_POINTS * 8;
/** Byte offset of the point counts (32 × u8; each group's list padded to an even length). */
export const N_PTS_BYTE = PT_ERR_BYTE + 32 * MAX_POINTS * 8;
/** Byte offset of the block's values as f32 (256 × f32), for {@link rowErrors}. */
export const XB32_BYTE = N_PTS_BYTE + 64;
/** Byte offset of the groups' minima (32 × f64). */
export const G_MIN_BYTE = XB32_BYTE + 256 * 4;
/** Byte offset of the groups' maxima (32 × f64). */
export const G_MAX_BYTE = G_MIN_BYTE + 32 * 8;
/** Byte offset of the step lattice (256 × f64). */
export const STEPS_BYTE = G_MAX_BYTE + 32 * 8;
/** Byte offset of the model points' q_scale codes (32 groups × 32 × u8). */
export const PT_K_BYTE = STEPS_BYTE + 256 * 8;
/** Byte offset of the groups' current q_scale codes (32 × u8). */
export const CUR_K_BYTE = PT_K_BYTE + 32 * MAX_POINTS;
/** Byte offset of the groups' current q_min codes (32 × u8). */
export const CUR_J_BYTE = CUR_K_BYTE + 32;
/**
 * Byte offset of two f64 the points kernel leaves: the highest of the groups' lowest points and
 * the lowest of their highest points (the span the min grid must cover).
 */
export const PT_COVER_BYTE = CUR_J_BYTE + 32;
/** Byte offset of the element codes {@link exactWasm} writes for the chosen parameters (256 × u8). */
export const CODES_BYTE = PT_COVER_BYTE + 16;
/** Byte offset of the element codes of the fast path's parameters (256 × u8). */
export const FAST_CODES_BYTE = CODES_BYTE + 256;
/** Byte offset of the nine least-squares sums {@link refitSums} leaves (9 × f64). */
export const REFIT_BYTE = FAST_CODES_BYTE + 256;
/** Byte offset of a batch of input values (f32), from the second 64 KiB page on. */
export const XIN_BYTE = 65536;
/** Super-blocks the input batch at {@link XIN_BYTE} holds. */
export const XIN_BLOCKS = 1024;

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
  "i64.const": [[0x42], "s"],
  "i64.and": [[0x83], ""],
  "i64.add": [[0x7c], ""],
  "i64.eqz": [[0x50], ""],
  "i64.reinterpret_f64": [[0xbd], ""],
  "f64.reinterpret_i64": [[0xbf], ""],
  "i32.eq": [[0x46], ""],
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
interface Func {
  params: string;
  result: string;
  locals: string;
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
    else out.push(...new Uint8Array(new Float64Array([Number(a)]).buffer));
  }
  out.push(0x0b);
  return [...leb(out.length), ...out];
}

// Codes of one f64x2 pair at `u` = x − m: q = clamp(floor(u·inv + ½), 0, qMax), the same codes as
// the scalar search's (t ≤ 0 ? 0 : t ≥ qMax ? qMax : (t + ½) | 0).
const ROUND = `local.get inv f64x2.mul local.get half f64x2.add f64x2.floor
  local.get zero f64x2.pmax local.get vq f64x2.pmin`;

/**
 * row(xg, step, inv, qMax, jp, n, best) → the index of the candidate with the smallest error
 * strictly below `best`, or −1; that error goes to memory[0]. Candidate i is the lattice
 * (f64 at jp + 8i, step) on the group's 8 f32 values at byte xg. It runs in f32x4 lanes: the
 * values, the lattice (f32 tables) are exact in f32; the codes and the error may differ from an
 * f64 evaluation in the last bits, which only matters between near-equal candidates (the chosen
 * parameters are judged on the exact decode afterwards).
 */
const ROUND32 = `local.get inv f32x4.mul local.get half f32x4.add f32x4.floor
  local.get zero f32x4.pmax local.get vq f32x4.pmin`;
function rowTerm(k: number): string {
  return `local.get x${k} local.get m f32x4.sub local.tee u ${ROUND32} local.set q
    local.get u local.get q local.get vstep f32x4.mul f32x4.sub local.tee u local.get u f32x4.mul`;
}
/** The lane vector of the candidate at jp + off into local `to`. */
function rowAcc(off: number, to: string): string {
  return `local.get jp f64.load ${off} f32.demote_f64 f32x4.splat local.set m
    ${rowTerm(0)} ${rowTerm(1)} f32x4.add local.set ${to}`;
}
/** Candidate i + lane of a transposed four: its sum (lane of acc) against best. */
function rowPick(lane: number): string {
  return `local.get acc f32x4.extract_lane ${lane} f64.promote_f32 local.tee e local.get best f64.lt
    if local.get e local.set best local.get i i32.const ${lane} i32.add local.set bi end`;
}
const ROW: Func = {
  params: "xg:i32 step:f64 inv1:f64 qmax:f64 jp:i32 n:i32 best:f64",
  result: "i32",
  locals: `x0:v128 x1:v128 vstep:v128 inv:v128 vq:v128 half:v128 zero:v128
    m:v128 u:v128 q:v128 acc:v128 a1:v128 a2:v128 a3:v128 e:f64 i:i32 bi:i32`,
  code: `
    local.get xg v128.load 0 local.set x0   local.get xg v128.load 16 local.set x1
    local.get step f32.demote_f64 f32x4.splat local.set vstep
    local.get inv1 f32.demote_f64 f32x4.splat local.set inv
    local.get qmax f32.demote_f64 f32x4.splat local.set vq
    f64.const 0.5 f32.demote_f64 f32x4.splat local.set half
    i32.const -1 local.set bi
    ;; four candidates at a time: their lane vectors transposed, so that each sum is the same
    ;; ((l0 + l1) + l2) + l3 as below; a lane can only win if it is ≤ best in f32
    block loop
      local.get i i32.const 4 i32.add local.get n i32.gt_s br_if 1
      ${rowAcc(0, "acc")} ${rowAcc(8, "a1")} ${rowAcc(16, "a2")} ${rowAcc(24, "a3")}
      local.get acc local.get a1 shuffle.0415 local.tee u
      local.get a2 local.get a3 shuffle.0415 local.tee q shuffle.0145
      local.get u local.get q shuffle.2367 f32x4.add
      local.get acc local.get a1 shuffle.2637 local.tee u
      local.get a2 local.get a3 shuffle.2637 local.tee q shuffle.0145 f32x4.add
      local.get u local.get q shuffle.2367 f32x4.add local.tee acc
      local.get best f32.demote_f64 f32x4.splat f32x4.le v128.any_true
      if ${rowPick(0)} ${rowPick(1)} ${rowPick(2)} ${rowPick(3)} end
      local.get i i32.const 4 i32.add local.set i
      local.get jp i32.const 32 i32.add local.set jp
      br 0
    end end
    block loop
      local.get i local.get n i32.ge_s br_if 1
      local.get jp f64.load 0 f32.demote_f64 f32x4.splat local.set m
      ${rowTerm(0)} ${rowTerm(1)} f32x4.add
      local.tee acc f32x4.extract_lane 0 local.get acc f32x4.extract_lane 1 f32.add
      local.get acc f32x4.extract_lane 2 f32.add local.get acc f32x4.extract_lane 3 f32.add
      f64.promote_f32 local.tee e
      local.get best f64.lt
      if local.get e local.set best local.get i local.set bi end
      local.get i i32.const 1 i32.add local.set i
      local.get jp i32.const 8 i32.add local.set jp
      br 0
    end end
    i32.const 0 local.get best f64.store 0
    local.get bi`,
};

/**
 * anchors(xg, lo, hi, s, inv, qMax, m0): least-squares statistics of the group's values against
 * the lattice (step s) anchored at its minimum `lo` and at its maximum `hi` (start m0 = hi −
 * qMax·s): Σd, Σd², the highest code; then Σd, Σd², the lowest code; to memory[8…56). It runs on
 * the f32 values (at XB32_BYTE + 32·g) in f32x4 lanes, half the vectors of f64x2: the statistics
 * only rank the model's points, and the chosen codes are refitted and judged exactly later.
 */
const SUMS = (at: number, qLane: string) =>
  `i32.const 0 local.get sr f32x4.extract_lane 0 local.get sr f32x4.extract_lane 1 f32.add
  local.get sr f32x4.extract_lane 2 local.get sr f32x4.extract_lane 3 f32.add f32.add
  f64.promote_f32 f64.store ${at}
  i32.const 0 local.get srr f32x4.extract_lane 0 local.get srr f32x4.extract_lane 1 f32.add
  local.get srr f32x4.extract_lane 2 local.get srr f32x4.extract_lane 3 f32.add f32.add
  f64.promote_f32 f64.store ${at + 8}
  i32.const 0 local.get qx local.get qx local.get qx shuffle.2301 ${qLane} local.tee q local.get q
  local.get q shuffle.1032 ${qLane} f32x4.extract_lane 0 f64.promote_f32 f64.store ${at + 16}`;
function anchorTerm(k: number): string {
  return `local.get x${k} local.get lo f32x4.sub local.tee u ${ROUND32} local.tee q
    local.get qx f32x4.pmax local.set qx
    local.get u local.get q local.get vs f32x4.mul f32x4.sub local.tee u
    local.get sr f32x4.add local.set sr  local.get u local.get u f32x4.mul local.get srr f32x4.add
    local.set srr`;
}
function anchorTopTerm(k: number): string {
  return `local.get hi local.get x${k} f32x4.sub ${ROUND32} local.set q
    local.get vq local.get q f32x4.sub local.tee q local.get qx f32x4.pmin local.set qx
    local.get x${k} local.get m0 f32x4.sub local.get q local.get vs f32x4.mul f32x4.sub local.tee u
    local.get sr f32x4.add local.set sr  local.get u local.get u f32x4.mul local.get srr f32x4.add
    local.set srr`;
}
const ANCHORS: Func = {
  params: "xg:i32 lo1:f64 hi1:f64 s:f64 inv1:f64 qmax:f64 m01:f64",
  result: "",
  locals: `x0:v128 x1:v128 lo:v128 hi:v128 vs:v128 inv:v128 vq:v128 half:v128
    zero:v128 m0:v128 u:v128 q:v128 sr:v128 srr:v128 qx:v128`,
  code: `
    local.get xg v128.load 0 local.set x0   local.get xg v128.load 16 local.set x1
    local.get lo1 f32.demote_f64 f32x4.splat local.set lo
    local.get hi1 f32.demote_f64 f32x4.splat local.set hi
    local.get s f32.demote_f64 f32x4.splat local.set vs
    local.get inv1 f32.demote_f64 f32x4.splat local.set inv
    local.get qmax f32.demote_f64 f32x4.splat local.set vq
    f64.const 0.5 f32.demote_f64 f32x4.splat local.set half
    local.get m01 f32.demote_f64 f32x4.splat local.set m0
    ${anchorTerm(0)} ${anchorTerm(1)}
    ${SUMS(8, "f32x4.pmax")}
    local.get zero local.tee sr local.set srr  local.get vq local.set qx
    ${anchorTopTerm(0)} ${anchorTopTerm(1)}
    ${SUMS(32, "f32x4.pmin")}`,
};

/**
 * model(minBase, delta, inv, codeMax, bound) → Σ over groups of the least, over the group's
 * points, of err + 8·(minBase + j·delta − pos)² with j = clamp(floor((pos − minBase)·inv + ½), 0,
 * codeMax); returns as soon as the sum reaches `bound`.
 */
const MODEL: Func = {
  params: "mb1:f64 delta1:f64 inv1:f64 cm:f64 bound:f64",
  result: "f64",
  locals: `mb:v128 delta:v128 inv:v128 vq:v128 half:v128 zero:v128 eight:v128 best:v128
    j:v128 p:v128 total:f64 g:i32 pp:i32 pend:i32`,
  code: `
    local.get mb1 f64x2.splat local.set mb  local.get delta1 f64x2.splat local.set delta
    local.get inv1 f64x2.splat local.set inv  local.get cm f64x2.splat local.set vq
    f64.const 0.5 f64x2.splat local.set half  f64.const 8 f64x2.splat local.set eight
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const ${MAX_POINTS * 8} i32.mul i32.const ${PT_POS_BYTE} i32.add
      local.tee pp
      local.get g i32.load8_u ${N_PTS_BYTE} i32.const 1 i32.add i32.const -2 i32.and
      i32.const 3 i32.shl i32.add local.set pend
      f64.const Infinity f64x2.splat local.set best
      block loop
        local.get pp local.get pend i32.ge_s br_if 1
        local.get pp v128.load 0 local.tee p local.get mb f64x2.sub ${ROUND} local.set j
        local.get mb local.get j local.get delta f64x2.mul f64x2.add local.get p f64x2.sub
        local.tee j local.get eight f64x2.mul local.get j f64x2.mul
        local.get pp v128.load ${PT_ERR_BYTE - PT_POS_BYTE} f64x2.add
        local.get best f64x2.pmin local.set best
        local.get pp i32.const 16 i32.add local.set pp
        br 0
      end end
      local.get total local.get best f64x2.extract_lane 0 local.get best f64x2.extract_lane 1
      f64.min f64.add local.tee total local.get bound f64.ge
      if local.get total return end
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end
    local.get total`,
};

/** Appends the point (pos on the stack's top expression, err, k) to the group's list. */
function addPoint(pos: string): string {
  return `local.get o local.get n i32.add i32.const 3 i32.shl local.tee i ${pos}
    f64.store ${PT_POS_BYTE}
    local.get i local.get e f64.store ${PT_ERR_BYTE}
    local.get o local.get n i32.add local.get k i32.store8 ${PT_K_BYTE}
    local.get n i32.const 1 i32.add local.set n`;
}

/** Σd, Σd² of an anchor (results at `at`, `at + 8`) to e (clamped at 0) and the mean Σd/8. */
function anchorPoint(at: number): string {
  return `i32.const 0 f64.load ${at} local.set sr
    i32.const 0 f64.load ${at + 8} local.get sr local.get sr f64.mul f64.const 0.125 f64.mul f64.sub
    local.tee e f64.const 0 f64.lt if f64.const 0 local.set e end`;
}

/**
 * points(alpha, kUnit, qMax, codeMax, slack, win, shift): for every group and q_scale codes k0 …
 * k0 + win − 1 (k0 = ⌈alpha·range·kUnit⌉, at least 1, at most codeMax), the least-squares lattice
 * starts anchored at the group's minimum and maximum (anchors) with their errors, and, when
 * shift ≥ 1, each one's shift by one step if the codes leave room; a near-constant group (k0 <
 * 1) also gets its mean with step 0. Points above the group's least error + `slack` are dropped;
 * each list is padded to an even length. At most 1 + 4·win points: win ≤ 7 fits MAX_POINTS.
 * Also leaves, at PT_COVER_BYTE, the highest of the groups' lowest kept points and the lowest of
 * their highest.
 */
const POINTS: Func = {
  params: "alpha:f64 kunit:f64 qmax:f64 cm:i32 slack:f64 win:i32 shift:f64",
  result: "",
  locals: `g:i32 n:i32 k:i32 k1:i32 o:i32 i:i32 w:i32 xg:i32
    lo:f64 hi:f64 s:f64 m0:f64 e:f64 sr:f64 sx:f64 v:f64 cut:f64 pa:f64 pb:f64 top:f64 bot:f64`,
  code: `
    f64.const -Infinity local.set top  f64.const Infinity local.set bot
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const ${MAX_POINTS} i32.mul local.set o
      i32.const 0 local.set n
      local.get g i32.const 64 i32.mul i32.const ${XB_BYTE} i32.add local.set xg
      local.get g i32.const 3 i32.shl local.tee i f64.load ${G_MIN_BYTE} local.set lo
      local.get i f64.load ${G_MAX_BYTE} local.set hi
      local.get alpha local.get hi local.get lo f64.sub f64.mul local.get kunit f64.mul f64.ceil
      i32.trunc_sat_f64_s local.tee k
      i32.const 1 i32.lt_s
      if
        ;; near-constant group: a zero step at the mean
        f64.const 0 local.set sx  f64.const 0 local.set e
        i32.const 0 local.set i
        block loop
          local.get i i32.const 64 i32.ge_s br_if 1
          local.get xg local.get i i32.add f64.load 0 local.tee v local.get sx f64.add local.set sx
          local.get e local.get v local.get v f64.mul f64.add local.set e
          local.get i i32.const 8 i32.add local.set i
          br 0
        end end
        local.get e local.get sx local.get sx f64.mul f64.const 0.125 f64.mul f64.sub
        local.tee e f64.const 0 f64.lt if f64.const 0 local.set e end
        i32.const 0 local.set k
        ${addPoint("local.get sx f64.const 0.125 f64.mul")}
        i32.const 1 local.set k
      end
      local.get k local.get cm i32.gt_s if local.get cm local.set k end
      local.get k local.get win i32.add i32.const 1 i32.sub local.tee k1 local.get cm i32.gt_s
      if local.get cm local.set k1 end
      block loop
        local.get k local.get k1 i32.gt_s br_if 1
        local.get k i32.const 3 i32.shl f64.load ${STEPS_BYTE} local.tee s f64.const 0 f64.gt
        if
          local.get hi local.get qmax local.get s f64.mul f64.sub local.set m0
          local.get g i32.const 32 i32.mul i32.const ${XB32_BYTE} i32.add
          local.get lo local.get hi local.get s f64.const 1 local.get s f64.div
          local.get qmax local.get m0 call 1
          ${anchorPoint(8)}
          ${addPoint("local.get lo local.get sr f64.const 0.125 f64.mul f64.add")}
          local.get qmax i32.const 0 f64.load 24 f64.sub f64.const 1 f64.ge
          local.get shift f64.const 1 f64.ge i32.and
          if ${
    addPoint("local.get lo local.get sr f64.const 0.125 f64.mul f64.add local.get s f64.sub")
  } end
          ${anchorPoint(32)}
          ${addPoint("local.get m0 local.get sr f64.const 0.125 f64.mul f64.add")}
          i32.const 0 f64.load 48 f64.const 1 f64.ge
          local.get shift f64.const 1 f64.ge i32.and
          if ${
    addPoint("local.get m0 local.get sr f64.const 0.125 f64.mul f64.add local.get s f64.add")
  } end
        end
        local.get k i32.const 1 i32.add local.set k
        br 0
      end end
      ;; prune: keep the points within slack of the group's least error
      f64.const Infinity local.set cut
      i32.const 0 local.set i
      block loop
        local.get i local.get n i32.ge_s br_if 1
        local.get cut local.get o local.get i i32.add i32.const 3 i32.shl f64.load ${PT_ERR_BYTE}
        f64.min local.set cut
        local.get i i32.const 1 i32.add local.set i
        br 0
      end end
      local.get cut local.get slack f64.add local.set cut
      i32.const 0 local.set i  i32.const 0 local.set w
      f64.const Infinity local.set pa  f64.const -Infinity local.set pb
      block loop
        local.get i local.get n i32.ge_s br_if 1
        local.get o local.get i i32.add i32.const 3 i32.shl f64.load ${PT_ERR_BYTE}
        local.get cut f64.le
        if
          local.get o local.get w i32.add i32.const 3 i32.shl
          local.get o local.get i i32.add i32.const 3 i32.shl f64.load ${PT_POS_BYTE}
          local.tee v local.get pa f64.lt if local.get v local.set pa end
          local.get v local.get pb f64.gt if local.get v local.set pb end
          local.get v f64.store ${PT_POS_BYTE}
          local.get o local.get w i32.add i32.const 3 i32.shl
          local.get o local.get i i32.add i32.const 3 i32.shl f64.load ${PT_ERR_BYTE}
          f64.store ${PT_ERR_BYTE}
          local.get o local.get w i32.add
          local.get o local.get i i32.add i32.load8_u ${PT_K_BYTE}
          i32.store8 ${PT_K_BYTE}
          local.get w i32.const 1 i32.add local.set w
        end
        local.get i i32.const 1 i32.add local.set i
        br 0
      end end
      local.get pb local.get bot f64.lt if local.get pb local.set bot end
      local.get pa local.get top f64.gt if local.get pa local.set top end
      local.get g local.get w i32.store8 ${N_PTS_BYTE}
      local.get w i32.const 1 i32.and
      if
        ;; pad to a whole f64x2 pair with a point that never wins
        local.get o local.get w i32.add i32.const 3 i32.shl local.tee i
        local.get o i32.const 3 i32.shl f64.load ${PT_POS_BYTE} f64.store ${PT_POS_BYTE}
        local.get i f64.const Infinity f64.store ${PT_ERR_BYTE}
      end
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end
    i32.const 0 local.get top f64.store ${PT_COVER_BYTE}
    i32.const 0 local.get bot f64.store ${PT_COVER_BYTE + 8}`,
};

/** Calls row on codes (k, j0 … j1) of group g and keeps the best in best / bk / bj. */
const ROW_CALL = `local.get k i32.const 3 i32.shl f64.load ${STEPS_BYTE} local.set s
  local.get g i32.const 32 i32.mul i32.const ${XB32_BYTE} i32.add
  local.get s f64.const 1 local.get s f64.div f64.const 0 local.get s f64.const 0 f64.gt select
  local.get qmax local.get j0 i32.const 3 i32.shl i32.const ${MINS_BYTE} i32.add
  local.get j1 local.get j0 i32.sub i32.const 1 i32.add local.get best call 0 local.tee i
  i32.const 0 i32.ge_s
  if i32.const 0 f64.load 0 local.set best local.get k local.set bk
    local.get j0 local.get i i32.add local.set bj end`;

/** Stores group g's (bk, bj) and adds its error to total; the loop's tail. */
const GROUP_END = `local.get g local.get bk i32.store8 ${CUR_K_BYTE}
  local.get g local.get bj i32.store8 ${CUR_J_BYTE}
  local.get total local.get best f64.add local.set total
  local.get g i32.const 1 i32.add local.set g`;

/**
 * assignPoints(minBase, jUnit, qMax, codeMax) → Σ best errors: each group takes the best of the
 * two min-grid codes around each of its points (q_scale the point's), into the current codes.
 */
const ASSIGN_POINTS: Func = {
  params: "mb:f64 junit:f64 qmax:f64 cm:i32",
  result: "f64",
  locals: `g:i32 p:i32 pend:i32 k:i32 j0:i32 j1:i32 i:i32 bk:i32 bj:i32
    s:f64 best:f64 t:f64 total:f64`,
  code: `
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const ${MAX_POINTS} i32.mul local.tee p
      local.get g i32.load8_u ${N_PTS_BYTE} i32.add local.set pend
      f64.const Infinity local.set best  i32.const 0 local.set bk  i32.const 0 local.set bj
      block loop
        local.get p local.get pend i32.ge_s br_if 1
        local.get p i32.load8_u ${PT_K_BYTE} local.set k
        local.get p i32.const 3 i32.shl f64.load ${PT_POS_BYTE} local.get mb f64.sub
        local.get junit f64.mul f64.floor local.tee t f64.const 0 f64.lt
        if f64.const 0 local.set t end
        local.get t local.get cm f64.convert_i32_s f64.gt if local.get cm f64.convert_i32_s local.set t end
        local.get t i32.trunc_sat_f64_s local.tee j0
        local.get j0 i32.const 1 i32.add local.get j0 local.get j0 local.get cm i32.lt_s select
        local.set j1
        ${ROW_CALL}
        local.get p i32.const 1 i32.add local.set p
        br 0
      end end
      ${GROUP_END}
      br 0
    end end
    local.get total`,
};

/** f64 → i32 for values already clamped into [0, 255]. */
const TO_I32 = "i32.trunc_sat_f64_s";

/**
 * assignWindows(dScale, dMin, minBase, qMax, codeMax, spanF, maxK, maxJ, warm) → Σ best errors:
 * each group searches q_scale codes from "clips half a step at each end" up to spanF × range +
 * one min-grid step (at most maxK), and for each the q_min codes whose lattice reaches both ends
 * within half a step (centred when too short; at most maxJ); warm: the current codes first.
 * Arithmetic in f64 as the scalar search had it.
 */
const ASSIGN_WINDOWS: Func = {
  params: `dscale:f64 dmin:f64 mb:f64 qmax:f64 cm:i32 spanf:f64 maxk:f64 maxj:f64 warm:i32`,
  result: "f64",
  locals: `g:i32 k:i32 khi:i32 j0:i32 j1:i32 i:i32 bk:i32 bj:i32
    kunit:f64 junit:f64 dm:f64 cmf:f64 lo:f64 hi:f64 r:f64 klo:f64 khif:f64 s:f64 span:f64
    a:f64 z:f64 a0:f64 a1:f64 c:f64 best:f64 total:f64`,
  code: `
    local.get cm f64.convert_i32_s local.set cmf
    local.get cmf local.get dscale f64.div f64.const 0 local.get dscale f64.const 0 f64.gt select
    local.set kunit
    local.get cmf local.get dmin f64.div f64.const 0 local.get dmin f64.const 0 f64.gt select
    local.set junit
    local.get dmin local.get cmf f64.div local.set dm
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const 3 i32.shl local.tee i f64.load ${G_MIN_BYTE} local.set lo
      local.get i f64.load ${G_MAX_BYTE} local.tee hi local.get lo f64.sub local.set r
      local.get r local.get qmax f64.mul local.get qmax f64.const 1 f64.add f64.div
      local.get kunit f64.mul f64.floor local.set klo
      local.get r local.get spanf f64.mul local.get dm f64.add local.get kunit f64.mul f64.ceil
      local.set khif
      local.get klo f64.const 0 f64.lt if f64.const 0 local.set klo end
      local.get khif local.get cmf f64.gt if local.get cmf local.set khif end
      local.get klo local.get khif f64.gt if local.get khif local.set klo end
      local.get khif local.get klo f64.sub local.get maxk f64.ge
      if local.get klo local.get maxk f64.add f64.const 1 f64.sub local.set khif end
      f64.const Infinity local.set best  i32.const 0 local.set bk  i32.const 0 local.set bj
      local.get warm
      if
        local.get g i32.load8_u ${CUR_K_BYTE} local.tee k local.set bk
        local.get g i32.load8_u ${CUR_J_BYTE} local.tee j0 local.tee j1 local.set bj
        f64.const Infinity local.set best
        ${ROW_CALL}
        local.get g i32.load8_u ${CUR_K_BYTE} local.set bk
        local.get g i32.load8_u ${CUR_J_BYTE} local.set bj
        i32.const 0 f64.load 0 local.set best
      end
      local.get klo ${TO_I32} local.set k  local.get khif ${TO_I32} local.set khi
      block loop
        local.get k local.get khi i32.gt_s br_if 1
        local.get k i32.const 3 i32.shl f64.load ${STEPS_BYTE} local.tee s
        local.get qmax f64.mul local.set span
        local.get hi local.get span f64.sub f64.const 0.5 local.get s f64.mul f64.sub local.set a
        local.get lo f64.const 0.5 local.get s f64.mul f64.add local.set z
        local.get a local.get z f64.gt
        if f64.const 0.5 local.get lo local.get hi f64.add local.get span f64.sub f64.mul
          local.tee a local.set z end
        local.get a local.get mb f64.sub local.get junit f64.mul f64.ceil local.set a0
        local.get z local.get mb f64.sub local.get junit f64.mul f64.floor local.set a1
        local.get a0 local.get a1 f64.gt
        if
          f64.const 0.5 local.get a local.get z f64.add f64.const 2 local.get mb f64.mul f64.sub
          f64.mul local.get junit f64.mul f64.floor local.tee a0 f64.const 1 f64.add local.set a1
        end
        local.get a1 local.get a0 f64.sub local.get maxj f64.ge
        if
          f64.const 0.5 local.get a0 local.get a1 f64.add local.get maxj f64.sub f64.const 1 f64.add
          f64.mul f64.floor local.tee c local.set a0
          local.get c local.get maxj f64.add f64.const 1 f64.sub local.set a1
        end
        local.get a0 f64.const 0 f64.lt if f64.const 0 local.set a0 end
        local.get a1 local.get cmf f64.gt if local.get cmf local.set a1 end
        local.get a0 local.get a1 f64.gt
        if f64.const 0 local.get cmf local.get a1 f64.const 0 f64.lt select
          local.tee a0 local.set a1 end
        local.get a0 ${TO_I32} local.set j0  local.get a1 ${TO_I32} local.set j1
        ${ROW_CALL}
        local.get k i32.const 1 i32.add local.set k
        br 0
      end end
      ${GROUP_END}
      br 0
    end end
    local.get total`,
};

/**
 * Rounds lane L of s (f64, the rounded sum whose rounding error is err) to odd when err ≠ 0, so
 * that its demotion to f32 is the correctly rounded f32 of the exact sum (as fmaF32 does).
 */
function toOdd(lane: number): string {
  return `local.get s f64x2.extract_lane ${lane} local.tee sl i64.reinterpret_f64 local.tee sb
    i64.const 1 i64.and i64.eqz
    local.get err f64x2.extract_lane ${lane} local.tee el f64.const 0 f64.ne i32.and
    if
      local.get s
      local.get sb
      i64.const 1 i64.const -1 local.get el f64.const 0 f64.gt local.get sl f64.const 0 f64.gt
      i32.eq select i64.add f64.reinterpret_i64 f64x2.replace_lane ${lane} local.set s
    end`;
}
function exactTerm(k: number): string {
  return `local.get xg v128.load ${16 * k} local.tee x local.get vmin f64x2.sub ${ROUND} local.set q
    local.get co local.get q f64x2.extract_lane 0 ${TO_I32_} i32.store8 ${2 * k}
    local.get co local.get q f64x2.extract_lane 1 ${TO_I32_} i32.store8 ${2 * k + 1}
    local.get q local.get vs f64x2.mul local.tee a local.get vmin f64x2.add local.tee s
    local.get a f64x2.sub local.set bb
    local.get a local.get s local.get bb f64x2.sub f64x2.sub local.get vmin local.get bb f64x2.sub
    f64x2.add local.tee err local.get zero f64x2.ne v128.any_true
    if ${toOdd(0)} ${toOdd(1)} end
    local.get x local.get s f32x4.demote_f64x2_zero f64x2.promote_low_f32x4 f64x2.sub local.tee a
    local.get a f64x2.mul local.get acc f64x2.add local.set acc`;
}
const TO_I32_ = "i32.trunc_sat_f64_s";

/**
 * exact(codes, qMax) → the exact squared error (runtime f32 decode, fused multiply-add) of the
 * block's values on the lattices (steps[curK[g]], mins[curJ[g]]); the codes go to byte \`codes\`.
 */
const EXACT: Func = {
  params: "codes:i32 qmax:f64",
  result: "f64",
  locals: `g:i32 xg:i32 co:i32 st:f64 sl:f64 el:f64 sb:i64
    x:v128 vmin:v128 vs:v128 inv:v128 vq:v128 half:v128 zero:v128 q:v128 a:v128 s:v128 bb:v128
    err:v128 acc:v128`,
  code: `
    local.get qmax f64x2.splat local.set vq  f64.const 0.5 f64x2.splat local.set half
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const 64 i32.mul i32.const ${XB_BYTE} i32.add local.set xg
      local.get g i32.const 8 i32.mul local.get codes i32.add local.set co
      local.get g i32.load8_u ${CUR_K_BYTE} i32.const 3 i32.shl f64.load ${STEPS_BYTE}
      local.tee st f64x2.splat local.set vs
      f64.const 1 local.get st f64.div f64.const 0 local.get st f64.const 0 f64.gt select
      f64x2.splat local.set inv
      local.get g i32.load8_u ${CUR_J_BYTE} i32.const 3 i32.shl f64.load ${MINS_BYTE}
      f64x2.splat local.set vmin
      ${exactTerm(0)} ${exactTerm(1)} ${exactTerm(2)} ${exactTerm(3)}
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end
    local.get acc f64x2.extract_lane 0 local.get acc f64x2.extract_lane 1 f64.add`,
};

function refitTerm(k: number): string {
  return `local.get xg v128.load ${16 * k} local.tee x local.get vmin f64x2.sub ${ROUND} local.tee q
    local.get sq f64x2.add local.set sq  local.get q local.get q f64x2.mul local.get sqq f64x2.add
    local.set sqq  local.get x local.get sx f64x2.add local.set sx
    local.get q local.get x f64x2.mul local.get sqx f64x2.add local.set sqx`;
}
const HSUM = (v: string) =>
  `local.get ${v} f64x2.extract_lane 0 local.get ${v} f64x2.extract_lane 1 f64.add`;
/**
 * refit(qMax, codeMax): the sums of the least-squares refit of (minBase, dMin, dScale) with the
 * current codes fixed (x̂ = minBase + dMin·a + dScale·c·q, a = j/C, c = k/(C·Qmax)): Σ1, Σa, Σc·q,
 * Σa², Σa·c·q, Σc²q², Σx, Σa·x, Σc·q·x, to REFIT_BYTE.
 */
const REFIT: Func = {
  params: "qmax:f64 cm:f64",
  result: "",
  locals: `g:i32 xg:i32 st:f64 a:f64 ca:f64 gq:f64 gx:f64
    s1:f64 sa:f64 sc:f64 saa:f64 sac:f64 scc:f64 tx:f64 sax:f64 scx:f64
    x:v128 vmin:v128 inv:v128 vq:v128 half:v128 zero:v128 q:v128 sq:v128 sqq:v128 sx:v128 sqx:v128`,
  code: `
    local.get qmax f64x2.splat local.set vq  f64.const 0.5 f64x2.splat local.set half
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const 64 i32.mul i32.const ${XB_BYTE} i32.add local.set xg
      local.get g i32.load8_u ${CUR_J_BYTE} f64.convert_i32_s local.get cm f64.div local.set a
      local.get g i32.load8_u ${CUR_K_BYTE} f64.convert_i32_s local.get cm local.get qmax f64.mul f64.div local.set ca
      local.get g i32.load8_u ${CUR_K_BYTE} i32.const 3 i32.shl f64.load ${STEPS_BYTE} local.set st
      f64.const 1 local.get st f64.div f64.const 0 local.get st f64.const 0 f64.gt select
      f64x2.splat local.set inv
      local.get g i32.load8_u ${CUR_J_BYTE} i32.const 3 i32.shl f64.load ${MINS_BYTE}
      f64x2.splat local.set vmin
      local.get zero local.tee sq local.tee sqq local.tee sx local.set sqx
      ${refitTerm(0)} ${refitTerm(1)} ${refitTerm(2)} ${refitTerm(3)}
      ${HSUM("sq")} local.set gq  ${HSUM("sx")} local.set gx
      local.get s1 f64.const 8 f64.add local.set s1
      local.get sa f64.const 8 local.get a f64.mul f64.add local.set sa
      local.get saa f64.const 8 local.get a f64.mul local.get a f64.mul f64.add local.set saa
      local.get sc local.get ca local.get gq f64.mul f64.add local.set sc
      local.get scc local.get ca local.get ca f64.mul ${HSUM("sqq")} f64.mul f64.add local.set scc
      local.get sac local.get a local.get ca f64.mul local.get gq f64.mul f64.add local.set sac
      local.get tx local.get gx f64.add local.set tx
      local.get sax local.get a local.get gx f64.mul f64.add local.set sax
      local.get scx local.get ca ${HSUM("sqx")} f64.mul f64.add local.set scx
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end
    i32.const 0 local.get s1 f64.store ${REFIT_BYTE}
    i32.const 0 local.get sa f64.store ${REFIT_BYTE + 8}
    i32.const 0 local.get sc f64.store ${REFIT_BYTE + 16}
    i32.const 0 local.get saa f64.store ${REFIT_BYTE + 24}
    i32.const 0 local.get sac f64.store ${REFIT_BYTE + 32}
    i32.const 0 local.get scc f64.store ${REFIT_BYTE + 40}
    i32.const 0 local.get tx f64.store ${REFIT_BYTE + 48}
    i32.const 0 local.get sax f64.store ${REFIT_BYTE + 56}
    i32.const 0 local.get scx f64.store ${REFIT_BYTE + 64}`,
};

/** Masks non-finite lanes of v (f32x4) to 0: v − v is 0 exactly for the finite ones. */
const FINITE = (v: string) =>
  `local.get ${v} local.get ${v} local.get ${v} f32x4.sub local.tee t local.get t f32x4.eq v128.and
  local.set ${v}`;
/** The least (op pmin) or greatest (pmax) lane of a and b, as f64, to `to`. */
const REDUCE = (op: string, to: string) =>
  `local.get a local.get b ${op} local.tee t local.get t local.get t shuffle.2301 ${op}
  local.tee t local.get t local.get t shuffle.1032 ${op} f32x4.extract_lane 0 f64.promote_f32
  local.set ${to}`;

/**
 * load(src): the super-block of f32 values at byte src, non-finite ones as 0, to the values (f64
 * and f32) and the groups' minima / maxima. A zero extreme (whose sign depends on which zero
 * came first) is found again in order, as \`v < lo\` / \`v > hi\` would.
 */
const LOAD: Func = {
  params: "src:i32",
  result: "",
  locals: "g:i32 i:i32 o:i32 lo:f64 hi:f64 v:f64 a:v128 b:v128 t:v128",
  code: `
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const 5 i32.shl local.tee o local.get src i32.add local.tee i
      v128.load 0 local.set a  local.get i v128.load 16 local.set b
      ${FINITE("a")} ${FINITE("b")}
      local.get o local.get a v128.store ${XB32_BYTE}
      local.get o local.get b v128.store ${XB32_BYTE + 16}
      local.get o i32.const 1 i32.shl local.tee i local.get a f64x2.promote_low_f32x4
      v128.store ${XB_BYTE}
      local.get i local.get a local.get a shuffle.2301 f64x2.promote_low_f32x4 v128.store ${
    XB_BYTE + 16
  }
      local.get i local.get b f64x2.promote_low_f32x4 v128.store ${XB_BYTE + 32}
      local.get i local.get b local.get b shuffle.2301 f64x2.promote_low_f32x4 v128.store ${
    XB_BYTE + 48
  }
      ${REDUCE("f32x4.pmin", "lo")} ${REDUCE("f32x4.pmax", "hi")}
      local.get lo f64.const 0 f64.eq local.get hi f64.const 0 f64.eq i32.or
      if
        f64.const Infinity local.set lo  f64.const -Infinity local.set hi
        local.get o i32.const 1 i32.shl local.set i
        local.get i i32.const 64 i32.add local.set o
        block loop
          local.get i local.get o i32.ge_s br_if 1
          local.get i f64.load ${XB_BYTE} local.tee v local.get lo f64.lt
          if local.get v local.set lo end
          local.get v local.get hi f64.gt if local.get v local.set hi end
          local.get i i32.const 8 i32.add local.set i
          br 0
        end end
      end
      local.get g i32.const 3 i32.shl local.tee i local.get lo f64.store ${G_MIN_BYTE}
      local.get i local.get hi f64.store ${G_MAX_BYTE}
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end`,
};

/**
 * fastJ(minBase, dMin, codeMax) → the widest group's reach above its min: the fast path's first
 * half. Fills the min lattice (f32 operations as latticeTables has them), gives each group the
 * highest min at or below its minimum (curJ) and returns max(gMax − mins[j]).
 */
const FAST_J: Func = {
  params: "mb:f64 dmin:f64 cm:i32",
  result: "f64",
  locals: "c:i32 g:i32 j:i32 junit:f64 gm:f64 t:f64 need:f64 cmf:f64",
  code: `
    local.get cm f64.convert_i32_s local.set cmf
    block loop
      local.get c local.get cm i32.gt_s br_if 1
      local.get c i32.const 3 i32.shl
      local.get mb f32.demote_f64
      local.get dmin f32.demote_f64 local.get c f32.convert_i32_s f32.mul
      local.get cm f32.convert_i32_s f32.div f32.add f64.promote_f32 f64.store ${MINS_BYTE}
      local.get c i32.const 1 i32.add local.set c
      br 0
    end end
    local.get cmf local.get dmin f64.div f64.const 0 local.get dmin f64.const 0 f64.gt select
    local.set junit
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const 3 i32.shl f64.load ${G_MIN_BYTE} local.tee gm local.get mb f64.sub
      local.get junit f64.mul f64.floor local.set t
      local.get t local.get cmf f64.gt if local.get cmf local.set t end
      local.get t f64.const 0 f64.lt if f64.const 0 local.set t end
      local.get t ${TO_I32} local.set j
      block loop
        local.get j i32.const 0 i32.le_s br_if 1
        local.get j i32.const 3 i32.shl f64.load ${MINS_BYTE} local.get gm f64.gt i32.eqz br_if 1
        local.get j i32.const 1 i32.sub local.set j
        br 0
      end end
      block loop
        local.get j local.get cm i32.ge_s br_if 1
        local.get j i32.const 3 i32.shl f64.load ${MINS_BYTE + 8} local.get gm f64.le i32.eqz
        br_if 1
        local.get j i32.const 1 i32.add local.set j
        br 0
      end end
      local.get g local.get j i32.store8 ${CUR_J_BYTE}
      local.get g i32.const 3 i32.shl f64.load ${G_MAX_BYTE}
      local.get j i32.const 3 i32.shl f64.load ${MINS_BYTE} f64.sub local.tee t
      local.get need f64.gt if local.get t local.set need end
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end
    local.get need`,
};

/**
 * fastK(dScale, qMax, codeMax): the fast path's second half. Fills the step lattice (f32
 * operations as latticeTables has them) and gives each group the least q_scale whose span reaches
 * its maximum from its min (curK).
 */
const FAST_K: Func = {
  params: "dscale:f64 qmax:f64 cm:i32",
  result: "",
  locals: "c:i32 g:i32 k:i32 kunit:f64 r:f64 t:f64 cmf:f64",
  code: `
    local.get cm f64.convert_i32_s local.set cmf
    block loop
      local.get c local.get cm i32.gt_s br_if 1
      local.get c i32.const 3 i32.shl
      local.get dscale f32.demote_f64 local.get c f32.convert_i32_s f32.mul
      local.get cm f32.convert_i32_s f32.div local.get qmax f32.demote_f64 f32.div
      f64.promote_f32 f64.store ${STEPS_BYTE}
      local.get c i32.const 1 i32.add local.set c
      br 0
    end end
    local.get cmf local.get dscale f64.div f64.const 0 local.get dscale f64.const 0 f64.gt select
    local.set kunit
    block loop
      local.get g i32.const 32 i32.ge_s br_if 1
      local.get g i32.const 3 i32.shl f64.load ${G_MAX_BYTE}
      local.get g i32.load8_u ${CUR_J_BYTE} i32.const 3 i32.shl f64.load ${MINS_BYTE} f64.sub
      local.tee r local.get kunit f64.mul f64.ceil local.set t
      local.get t local.get cmf f64.gt if local.get cmf local.set t end
      local.get t f64.const 0 f64.lt if f64.const 0 local.set t end
      local.get t ${TO_I32} local.set k
      block loop
        local.get k local.get cm i32.ge_s br_if 1
        local.get k i32.const 3 i32.shl f64.load ${STEPS_BYTE} local.get qmax f64.mul
        local.get r f64.lt i32.eqz br_if 1
        local.get k i32.const 1 i32.add local.set k
        br 0
      end end
      block loop
        local.get k i32.const 0 i32.le_s br_if 1
        local.get k i32.const 3 i32.shl f64.load ${STEPS_BYTE - 8} local.get qmax f64.mul
        local.get r f64.ge i32.eqz br_if 1
        local.get k i32.const 1 i32.sub local.set k
        br 0
      end end
      local.get g local.get k i32.store8 ${CUR_K_BYTE}
      local.get g i32.const 1 i32.add local.set g
      br 0
    end end`,
};

const FUNCS: [string, Func][] = [
  ["row", ROW],
  ["anchors", ANCHORS],
  ["model", MODEL],
  ["points", POINTS],
  ["assignPoints", ASSIGN_POINTS],
  ["assignWindows", ASSIGN_WINDOWS],
  ["exact", EXACT],
  ["refit", REFIT],
  ["load", LOAD],
  ["fastJ", FAST_J],
  ["fastK", FAST_K],
];

function section(id: number, body: number[]): number[] {
  return [id, ...leb(body.length), ...body];
}

function moduleBytes(): Uint8Array {
  const types: number[] = [FUNCS.length];
  const exports: number[] = [FUNCS.length + 1, 3, 0x6d, 0x65, 0x6d, 2, 0]; // "mem"
  const code: number[] = [FUNCS.length];
  FUNCS.forEach(([name, f], i) => {
    const params = f.params.split(/\s+/).filter((t) => t).map((t) => TYPES[t.split(":")[1]]);
    const result = f.result === "" ? [0] : [1, TYPES[f.result]];
    types.push(0x60, params.length, ...params, ...result);
    exports.push(name.length, ...[...name].map((c) => c.charCodeAt(0)), 0, i);
    code.push(...assemble(f));
  });
  const funcs = [FUNCS.length, ...FUNCS.map((_, i) => i)];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, types),
    ...section(3, funcs),
    ...section(5, [1, 0, 1 + (XIN_BLOCKS * 1024) / 65536]), // one memory: scratch + input batch
    ...section(7, exports),
    ...section(10, code),
  ]);
}

const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes() as BufferSource));
const memory = instance.exports.mem as WebAssembly.Memory;

/**
 * The fast path's first half (see FAST_J): fills the min lattice for (minBase, dMin), sets every
 * group's q_min code (the highest min at or below the group's minimum) and returns the span the
 * step lattice must then cover, max over groups of gMax − mins[q_min].
 *
 * @example
 * ```ts
 * import { fastMins, G_MAX_BYTE, G_MIN_BYTE, wasmF64 } from "./compact_wasm.ts";
 * wasmF64(G_MIN_BYTE, 32).fill(0);
 * wasmF64(G_MAX_BYTE, 32).fill(1);
 * console.log(fastMins(0, 0, 15)); // 1
 * ```
 */
export const fastMins = instance.exports.fastJ as (
  minBase: number,
  dMin: number,
  codeMax: number,
) => number;

/**
 * The fast path's second half (see FAST_K): fills the step lattice for dScale and sets every
 * group's q_scale code (the least whose span reaches the group's maximum from its min).
 *
 * @example
 * ```ts
 * import { fastSteps, STEPS_BYTE, wasmF64 } from "./compact_wasm.ts";
 * fastSteps(1, 7, 15);
 * console.log(wasmF64(STEPS_BYTE, 16)[15]); // 0.1428571492433548
 * ```
 */
export const fastSteps = instance.exports.fastK as (
  dScale: number,
  qMax: number,
  codeMax: number,
) => void;

/**
 * Errors of a row of candidates of one group (values at {@link XB32_BYTE}): `rowErrors(xByte,
 * step, 1 / step, qMax, minsByte, n, best)` returns the index of the best candidate strictly below `best` (−1 if none) and leaves
 * its error in {@link RESULTS}[0].
 *
 * @example
 * ```ts
 * import { MINS_BYTE, RESULTS, rowErrors, wasmF32, wasmF64, XB32_BYTE } from "./compact_wasm.ts";
 * wasmF32(XB32_BYTE, 8).set([0, 1, 2, 3, 4, 5, 6, 7]);
 * wasmF64(MINS_BYTE, 2).set([0, 0.5]);
 * console.log(rowErrors(XB32_BYTE, 1, 1, 15, MINS_BYTE, 2, Infinity), RESULTS[0]); // 0 0
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
 * Anchored statistics of one group (8 f32 values at `xByte`, lattice step `s`, computed in f32):
 * `anchorStats(xByte, lo, hi, s, 1 / s, qMax, hi − qMax·s)` leaves Σd, Σd², max code (anchored at
 * `lo`) in {@link RESULTS}[1…3] and Σd, Σd², min code (anchored at `hi`) in {@link RESULTS}[4…6].
 *
 * @example
 * ```ts
 * import { anchorStats, RESULTS, wasmF32, XB32_BYTE } from "./compact_wasm.ts";
 * wasmF32(XB32_BYTE, 8).set([0, 1, 2, 3, 4, 5, 6, 7]);
 * anchorStats(XB32_BYTE, 0, 7, 1, 1, 15, -8);
 * console.log(RESULTS[2], RESULTS[3], RESULTS[6]); // 0 7 8
 * ```
 */
export const anchorStats = instance.exports.anchors as (
  xByte: number,
  lo: number,
  hi: number,
  s: number,
  inv: number,
  qMax: number,
  m0: number,
) => void;

/**
 * Model error of a min grid over the points at {@link PT_POS_BYTE} / {@link PT_ERR_BYTE}:
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
 * The model's points of every group (see the `points` listing): `buildModelPoints(alpha, kUnit,
 * qMax, codeMax, slackErr, kWin, maxShift)` on the values, group minima / maxima and steps in memory; writes the
 * points at {@link PT_POS_BYTE}, {@link PT_ERR_BYTE}, {@link PT_K_BYTE} and {@link N_PTS_BYTE}.
 *
 * @example
 * ```ts
 * import { buildModelPoints, N_PTS_BYTE, wasmU8 } from "./compact_wasm.ts";
 * buildModelPoints(0.9, 0, 15, 15, 0, 3, 1); // all-zero block: one constant point per group
 * console.log(wasmU8(N_PTS_BYTE, 1)[0]); // 1
 * ```
 */
export const buildModelPoints = instance.exports.points as (
  alpha: number,
  kUnit: number,
  qMax: number,
  codeMax: number,
  slackErr: number,
  kWin: number,
  maxShift: number,
) => void;

/**
 * Exact (f64 search, f32 rows) assignment from the model's points (see the `assignPoints`
 * listing): `assignFromPointsWasm(minBase, jUnit, qMax, codeMax)`; codes at {@link CUR_K_BYTE} /
 * {@link CUR_J_BYTE}.
 *
 * @example
 * ```ts
 * import { assignFromPointsWasm, N_PTS_BYTE, wasmU8 } from "./compact_wasm.ts";
 * wasmU8(N_PTS_BYTE, 32).fill(0);
 * console.log(assignFromPointsWasm(0, 1, 15, 15)); // Infinity
 * ```
 */
export const assignFromPointsWasm = instance.exports.assignPoints as (
  minBase: number,
  jUnit: number,
  qMax: number,
  codeMax: number,
) => number;

/**
 * Local window search of every group (see the `assignWindows` listing):
 * `assignWindowsWasm(dScale, dMin, minBase, qMax, codeMax, spanF, maxK, maxJ, warm)`.
 *
 * @example
 * ```ts
 * import { assignWindowsWasm } from "./compact_wasm.ts";
 * console.log(typeof assignWindowsWasm); // function
 * ```
 */
export const assignWindowsWasm = instance.exports.assignWindows as (
  dScale: number,
  dMin: number,
  minBase: number,
  qMax: number,
  codeMax: number,
  spanF: number,
  maxK: number,
  maxJ: number,
  warm: number,
) => number;

/**
 * Exact squared error (the runtime's f32 decode) of the block on the lattices of the current codes
 * (see the \`exact\` listing): \`exactWasm(codesByte, qMax)\`; the element codes go to \`codesByte\`.
 *
 * @example
 * ```ts
 * import { CODES_BYTE, exactWasm, wasmF64, XB_BYTE } from "./compact_wasm.ts";
 * wasmF64(XB_BYTE, 256).fill(0);
 * console.log(exactWasm(CODES_BYTE, 15) >= 0); // true
 * ```
 */
export const exactWasm = instance.exports.exact as (codesByte: number, qMax: number) => number;

/**
 * The nine least-squares sums of the refit of the globals (see the \`refit\` listing):
 * \`refitSums(qMax, codeMax)\` leaves them at {@link REFIT_BYTE}.
 *
 * @example
 * ```ts
 * import { REFIT_BYTE, refitSums, wasmF64 } from "./compact_wasm.ts";
 * refitSums(15, 15);
 * console.log(wasmF64(REFIT_BYTE, 9)[0]); // 256
 * ```
 */
export const refitSums = instance.exports.refit as (qMax: number, codeMax: number) => void;

/**
 * Loads the super-block of f32 values at byte \`src\` (see the \`load\` listing): values at
 * {@link XB_BYTE} / {@link XB32_BYTE}, group extremes at {@link G_MIN_BYTE} / {@link G_MAX_BYTE}.
 *
 * @example
 * ```ts
 * import { G_MAX_BYTE, loadBlockWasm, wasmF32, wasmF64, XIN_BYTE } from "./compact_wasm.ts";
 * wasmF32(XIN_BYTE, 256).fill(1).set([Infinity, 3]);
 * loadBlockWasm(XIN_BYTE);
 * console.log(wasmF64(G_MAX_BYTE, 1)[0]); // 3
 * ```
 */
export const loadBlockWasm = instance.exports.load as (src: number) => void;

/**
 * A Uint8Array view of the module's memory.
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
 * A Float32Array view of the module's memory.
 *
 * @example
 * ```ts
 * import { wasmF32, XB32_BYTE } from "./compact_wasm.ts";
 * console.log(wasmF32(XB32_BYTE, 256).length); // 256
 * ```
 */
export function wasmF32(byteOffset: number, length: number): Float32Array {
  return new Float32Array(memory.buffer, byteOffset, length);
}

/**
 * A Float64Array view of the module's memory.
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
 * The module's results: [0] the error of {@link rowErrors}' best candidate, [1…6] the
 * statistics of {@link anchorStats}.
 *
 * @example
 * ```ts
 * import { RESULTS } from "./compact_wasm.ts";
 * console.log(RESULTS.length); // 8
 * ```
 */
export const RESULTS: Float64Array = wasmF64(0, 8);
