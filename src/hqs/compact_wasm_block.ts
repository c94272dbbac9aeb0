/**
 * The compact search's driver (a listing for `wasm_asm.ts`): a whole batch of super-blocks in
 * one call, so that the per-block steps (fast path, model, refits, choice, results) run without a
 * crossing into JavaScript and back for each. It follows `compact_search.ts`' description step by
 * step, in the same f64 operations (f16 rounding as a `Float16Array` store, decoding by table).
 *
 * @module
 */
import type { Func } from "../wasm_asm.ts";
import {
  CFG_BYTE,
  CODES_BYTE,
  CUR_J_BYTE,
  CUR_K_BYTE,
  F16_TABLE_BYTE,
  FAST_CODES_BYTE,
  G_MAX_BYTE,
  G_MIN_BYTE,
  OUT_BITS_BYTE,
  OUT_CODES_BYTE,
  OUT_ERR_BYTE,
  OUT_J_BYTE,
  OUT_K_BYTE,
  PT_COVER_BYTE,
  REFIT_BYTE,
  SAVED_BYTE,
  XIN_BYTE,
} from "./compact_wasm_memory.ts";

/**
 * The module's functions in index order (a listing calls function i as `call i`): cands must be
 * 0 and anchors 1, as the model listings call them so.
 */
export const COMPACT_FUNC_NAMES: readonly string[] = [
  "cands",
  "anchors",
  "model",
  "points",
  "assignPoints",
  "assignWindows",
  "exact",
  "refit",
  "load",
  "fastJ",
  "fastK",
  "f16",
  "tables",
  "search",
  "fmaProbe",
];

/** `call` of the module's function `name`. */
function call(name: string): string {
  return `call ${COMPACT_FUNC_NAMES.indexOf(name)}`;
}

const F16_MAX = 65504;
/** The tuning entry i (f64) on the stack. */
const cfg = (i: number) => `i32.const 0 f64.load ${CFG_BYTE + 8 * i}`;
/** The f16 bits in local `b` decoded (by table) to f64 on the stack. */
const dec = (b: string) =>
  `local.get ${b} i32.const 2 i32.shl f32.load ${F16_TABLE_BYTE} f64.promote_f32`;

/** Local `out` = f16 bits of the largest f16 ≤ v (v clamped to ±F16_MAX; v is updated). */
function f16Down(v: string, out: string): string {
  return `local.get ${v} f64.const ${F16_MAX} f64.min f64.const ${-F16_MAX} f64.max local.tee ${v}
    ${call("f16")} local.set ${out}
    ${dec(out)} local.get ${v} f64.gt
    if
      local.get ${out} i32.const 1 i32.add
      i32.const ${0x8001} local.get ${out} i32.const 1 i32.sub local.get ${out} i32.eqz select
      local.get ${out} i32.const ${0x8000} i32.and select local.set ${out}
    end`;
}

/** Local `out` = f16 bits of the least non-negative f16 ≥ v (0 unless v > 0; v is updated). */
function f16UpPos(v: string, out: string): string {
  return `i32.const 0 local.set ${out}
    local.get ${v} f64.const 0 f64.gt
    if
      local.get ${v} f64.const ${F16_MAX} f64.min local.tee ${v} ${call("f16")} local.set ${out}
      ${dec(out)} local.get ${v} f64.lt
      if local.get ${out} i32.const 1 i32.add local.set ${out} end
    end`;
}

/** Local `out` = f16 bits nearest to v clamped to [lo, F16_MAX] (NaN gives lo). */
function f16Clamp(v: string, lo: number, out: string): string {
  return `local.get ${v} f64.const ${lo} local.get ${v} f64.const ${lo} f64.ge select
    f64.const ${F16_MAX} f64.min ${call("f16")} local.set ${out}`;
}

/** Copies 32 bytes from `from` to `to` (constant offsets). */
const copy32 = (from: number, to: number) =>
  `i32.const 0 i32.const 0 v128.load ${from} v128.store ${to}
  i32.const 0 i32.const 0 v128.load ${from + 16} v128.store ${to + 16}`;

const FAST_K = SAVED_BYTE, FAST_J = SAVED_BYTE + 32;
const BEST_K = SAVED_BYTE + 64, BEST_J = SAVED_BYTE + 96;

/**
 * Stores the result of block b: the f16 globals in locals {p}D, {p}M, {p}B, the group codes at
 * k / j, the element codes at `codes` and the error in local e.
 */
function result(p: string, k: number, j: number, codes: number, e: string): string {
  const copies = Array.from(
    { length: 16 },
    (_, i) =>
      `local.get o i32.const 0 v128.load ${codes + 16 * i} v128.store ${OUT_CODES_BYTE + 16 * i}`,
  )
    .join("\n    ");
  return `local.get b i32.const 8 i32.shl local.set o
    ${copies}
    local.get b i32.const 5 i32.shl local.tee o i32.const 0 v128.load ${k} v128.store ${OUT_K_BYTE}
    local.get o i32.const 0 v128.load ${k + 16} v128.store ${OUT_K_BYTE + 16}
    local.get o i32.const 0 v128.load ${j} v128.store ${OUT_J_BYTE}
    local.get o i32.const 0 v128.load ${j + 16} v128.store ${OUT_J_BYTE + 16}
    local.get b i32.const 1 i32.shl local.tee o local.get ${p}D i32.store16 ${OUT_BITS_BYTE}
    local.get o local.get ${p}M i32.store16 ${OUT_BITS_BYTE + 2048}
    local.get o local.get ${p}B i32.store16 ${OUT_BITS_BYTE + 4096}
    local.get b i32.const 3 i32.shl local.get ${e} f64.store ${OUT_ERR_BYTE}`;
}

/** Sets the lattice tables of the f16 globals in locals {p}D, {p}M, {p}B. */
const tablesOf = (p: string) =>
  `${dec(`${p}D`)} ${dec(`${p}M`)} ${dec(`${p}B`)} local.get qmax local.get cm ${call("tables")}`;

/** The exact local group search on the globals {p}D, {p}M, {p}B (tables set), to local `to`. */
const windows = (p: string, to: string) =>
  `${dec(`${p}D`)} ${dec(`${p}M`)} ${dec(`${p}B`)} local.get qmax local.get cm
  ${cfg(4)} ${cfg(5)} ${cfg(6)} ${call("assignWindows")} local.set ${to}`;

/**
 * The fast path: min_base / d_min cover the group minima from below (f16 rounded down / up),
 * then fastJ / fastK set the tables and every group's codes and the f16 d_scale covers the widest
 * reach. Its exact error goes to fastErr, its codes to FAST_CODES_BYTE.
 */
const FAST = `f64.const Infinity local.set lo  f64.const -Infinity local.set hi
  i32.const 0 local.set g
  block loop
    local.get g i32.const 32 i32.ge_s br_if 1
    local.get g i32.const 3 i32.shl f64.load ${G_MIN_BYTE} local.tee v local.get lo f64.lt
    if local.get v local.set lo end
    local.get v local.get hi f64.gt if local.get v local.set hi end
    local.get g i32.const 1 i32.add local.set g
    br 0
  end end
  ${f16Down("lo", "fB")}
  local.get hi ${dec("fB")} f64.sub local.set v
  ${f16UpPos("v", "fM")}
  ${dec("fB")} ${dec("fM")} local.get cm ${call("fastJ")} local.set v
  ${f16UpPos("v", "fD")}
  ${dec("fD")} local.get qmax local.get cm ${call("fastK")}
  i32.const ${FAST_CODES_BYTE} local.get qmax ${call("exact")} local.set fastErr`;

/**
 * The model search (hq31k, hq41k): d_scale covers the widest group, the points are built, and
 * (d_min, min_base) searched on them for each d_min scaling and phase; mD / mM / mB the best, ok
 * whether any had a finite model error.
 */
const MODEL_SEARCH = `${dec("fM")} local.get cmf f64.div local.set delta
  ${cfg(10)} local.get delta f64.mul local.get delta f64.mul local.set slack
  f64.const 0 local.set r  i32.const 0 local.set g
  block loop
    local.get g i32.const 32 i32.ge_s br_if 1
    local.get g i32.const 3 i32.shl local.tee i f64.load ${G_MAX_BYTE}
    local.get i f64.load ${G_MIN_BYTE} f64.sub local.tee v local.get r f64.gt
    if local.get v local.set r end
    local.get g i32.const 1 i32.add local.set g
    br 0
  end end
  ${f16UpPos("r", "dB")}
  ${dec("dB")} local.tee ds f64.const 0 f64.const 0 local.get qmax local.get cm ${call("tables")}
  ${cfg(7)} local.get cmf local.get ds f64.div f64.const 0 local.get ds f64.const 0 f64.gt select
  local.get qmax local.get cm local.get slack ${cfg(8)} i32.trunc_sat_f64_s ${cfg(9)}
  ${call("points")}
  i32.const 0 f64.load ${PT_COVER_BYTE} local.set top
  i32.const 0 f64.load ${PT_COVER_BYTE + 8} local.set bot
  local.get top local.get bot f64.gt i32.eqz if local.get bot local.set top end
  f64.const Infinity local.set best
  i32.const 0 local.set a
  block loop
    local.get a ${cfg(11)} i32.trunc_sat_f64_s i32.ge_s br_if 1
    local.get top local.get bot f64.sub
    local.get a i32.const 3 i32.shl f64.load ${CFG_BYTE + 8 * 12} f64.mul local.set m0
    i32.const 0 local.set c
    block loop
      local.get c ${cfg(15)} i32.trunc_sat_f64_s i32.ge_s br_if 1
      local.get bot local.get c i32.const 3 i32.shl f64.load ${CFG_BYTE + 8 * 16}
      local.get m0 f64.mul local.get cmf f64.div f64.sub local.set v
      ${f16Clamp("v", -F16_MAX, "t")}
      local.get top ${dec("t")} local.tee mb f64.sub local.tee v local.get m0 local.get v
      local.get m0 f64.gt select local.set v
      ${f16UpPos("v", "i")}
      ${dec("i")} local.get cmf f64.div local.set delta
      local.get mb local.get delta f64.const 1 local.get delta f64.div f64.const 0 local.get delta
      f64.const 0 f64.gt select local.get cmf local.get best ${call("model")} local.tee v
      local.get best f64.lt
      if
        local.get v local.set best
        local.get dB local.set mD  local.get i local.set mM  local.get t local.set mB
      end
      local.get c i32.const 1 i32.add local.set c
      br 0
    end end
    local.get a i32.const 1 i32.add local.set a
    br 0
  end end`;

/** The nine refit sums at REFIT_BYTE, by index. */
const S = (i: number) => `i32.const 0 f64.load ${REFIT_BYTE + 8 * i}`;

/**
 * A least-squares refit of (minBase, dMin, dScale) with the codes fixed, by Cramer's rule in
 * `refitGlobals`' order of operations; leaves gB, gM, gD, or ok = 0 when singular.
 */
const REFIT_SOLVE = `local.get qmax local.get cmf ${call("refit")}
  ${S(3)} ${S(5)} f64.mul ${S(4)} ${S(4)} f64.mul f64.sub local.set c00
  ${S(1)} ${S(5)} f64.mul ${S(4)} ${S(2)} f64.mul f64.sub local.set c01
  ${S(1)} ${S(4)} f64.mul ${S(3)} ${S(2)} f64.mul f64.sub local.set c02
  ${S(0)} local.get c00 f64.mul ${S(1)} local.get c01 f64.mul f64.sub
  ${S(2)} local.get c02 f64.mul f64.add local.set det
  local.get det f64.abs f64.const 1e-9 ${S(0)} ${S(3)} f64.mul ${S(5)} f64.mul f64.mul f64.gt
  local.set ok
  ${S(6)} local.get c00 f64.mul
  ${S(1)} ${S(7)} ${S(5)} f64.mul ${S(4)} ${S(8)} f64.mul f64.sub f64.mul f64.sub
  ${S(2)} ${S(7)} ${S(4)} f64.mul ${S(3)} ${S(8)} f64.mul f64.sub f64.mul f64.add
  local.get det f64.div local.set gB
  ${S(0)} ${S(7)} ${S(5)} f64.mul ${S(4)} ${S(8)} f64.mul f64.sub f64.mul
  ${S(6)} local.get c01 f64.mul f64.sub
  ${S(2)} ${S(1)} ${S(8)} f64.mul ${S(7)} ${S(2)} f64.mul f64.sub f64.mul f64.add
  local.get det f64.div local.set gM
  ${S(0)} ${S(3)} ${S(8)} f64.mul ${S(4)} ${S(7)} f64.mul f64.sub f64.mul
  ${S(1)} ${S(1)} ${S(8)} f64.mul ${S(7)} ${S(2)} f64.mul f64.sub f64.mul f64.sub
  ${S(6)} local.get c02 f64.mul f64.add
  local.get det f64.div local.set gD
  ;; finite: x − x is 0 exactly for finite x, NaN otherwise
  local.get ok
  local.get gB local.get gB f64.sub f64.const 0 f64.eq i32.and
  local.get gM local.get gM f64.sub f64.const 0 f64.eq i32.and
  local.get gD local.get gD f64.sub f64.const 0 f64.eq i32.and local.set ok`;

/** One block's search, after load: the steps of `compact_search.ts`, its result stored. */
const BLOCK = `${FAST}
  local.get mse i32.eqz local.get fastErr f64.const 0 f64.eq i32.or
  if ${result("f", CUR_K_BYTE, CUR_J_BYTE, FAST_CODES_BYTE, "fastErr")} br 1 end
  ${copy32(CUR_K_BYTE, FAST_K)} ${copy32(CUR_J_BYTE, FAST_J)}
  ${cfg(2)} f64.const 0 f64.ne
  if
    ${MODEL_SEARCH}
    local.get best f64.const Infinity f64.lt
    if
      ${tablesOf("m")}
    else
      local.get fD local.set mD  local.get fM local.set mM  local.get fB local.set mB
      ${tablesOf("m")}
    end
    ${dec("mB")} local.get cmf ${dec("mM")} local.tee v f64.div f64.const 0 local.get v f64.const 0
    f64.gt select local.get qmax local.get cm ${call("assignPoints")} local.set e
    local.get mD local.set cD  local.get mM local.set cM  local.get mB local.set cB
  else
    local.get fD local.set cD  local.get fM local.set cM  local.get fB local.set cB
    ${windows("c", "e")}
  end
  local.get cD local.set bD  local.get cM local.set bM  local.get cB local.set bB
  ${copy32(CUR_K_BYTE, BEST_K)} ${copy32(CUR_J_BYTE, BEST_J)}
  i32.const 0 local.set round
  block loop
    local.get round ${cfg(3)} i32.trunc_sat_f64_s i32.ge_s br_if 1
    ${REFIT_SOLVE}
    local.get ok i32.eqz br_if 1
    ${f16Clamp("gD", 0, "i")} ${f16Clamp("gM", 0, "t")} ${f16Clamp("gB", -F16_MAX, "a")}
    ;; a fixed point: the next round would repeat this one
    local.get i local.get cD i32.eq local.get t local.get cM i32.eq i32.and
    local.get a local.get cB i32.eq i32.and br_if 1
    local.get i local.set cD  local.get t local.set cM  local.get a local.set cB
    ${tablesOf("c")}
    ${windows("c", "e2")}
    local.get e2 local.get e f64.lt
    if
      local.get e2 local.set e
      local.get cD local.set bD  local.get cM local.set bM  local.get cB local.set bB
      ${copy32(CUR_K_BYTE, BEST_K)} ${copy32(CUR_J_BYTE, BEST_J)}
    end
    local.get round i32.const 1 i32.add local.set round
    br 0
  end end
  ;; chosen on the search's errors; judged on the exact f32 decode against the fast path's
  local.get e local.get fastErr f64.lt
  if
    local.get bD local.get cD i32.ne local.get bM local.get cM i32.ne i32.or
    local.get bB local.get cB i32.ne i32.or
    if ${tablesOf("b")} end
    ${copy32(BEST_K, CUR_K_BYTE)} ${copy32(BEST_J, CUR_J_BYTE)}
    i32.const ${CODES_BYTE} local.get qmax ${call("exact")} local.tee err local.get fastErr f64.lt
    if ${result("b", BEST_K, BEST_J, CODES_BYTE, "err")} br 2 end
  end
  ${result("f", FAST_K, FAST_J, FAST_CODES_BYTE, "fastErr")}`;

/**
 * search(n, mse): the super-blocks 0 … n − 1 of the input batch, each loaded and searched (the
 * fast path only when mse is 0), with the tuning at CFG_BYTE; results at OUT_*_BYTE.
 */
export const SEARCH: Func = {
  params: "n:i32 mse:i32",
  result: "",
  locals: `b:i32 g:i32 i:i32 t:i32 a:i32 c:i32 o:i32 ok:i32 round:i32 cm:i32
    fD:i32 fM:i32 fB:i32 cD:i32 cM:i32 cB:i32 bD:i32 bM:i32 bB:i32 mD:i32 mM:i32 mB:i32 dB:i32
    qmax:f64 cmf:f64 fastErr:f64 e:f64 e2:f64 err:f64 lo:f64 hi:f64 v:f64 r:f64 ds:f64 mb:f64
    delta:f64 slack:f64 top:f64 bot:f64 best:f64 m0:f64
    c00:f64 c01:f64 c02:f64 det:f64 gB:f64 gM:f64 gD:f64`,
  code: `
    ${cfg(0)} local.set qmax  ${cfg(1)} local.tee cmf i32.trunc_sat_f64_s local.set cm
    block loop
      local.get b local.get n i32.ge_s br_if 1
      local.get b i32.const 10 i32.shl i32.const ${XIN_BYTE} i32.add ${call("load")}
      block
        ${BLOCK}
      end
      local.get b i32.const 1 i32.add local.set b
      br 0
    end end`,
};
