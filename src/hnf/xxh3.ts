/**
 * XXH3-64 (seed 0, the default secret) in WebAssembly: the long-input loop in SIMD (two 64-bit
 * accumulators per v128, `i64x2.extmul_low_i32x4_u` for the 32×32→64 products), the short and
 * final steps in scalar i64, following xxHash's reference (`xxhash.h` v0.8, as in hash-wasm's
 * `xxhash3.c`) operation by operation. Streaming keeps its state (accumulators, stripe count,
 * the last 256 input bytes) in the hasher object, so any number of hashers interleave on one
 * module; the module is assembled on first use (about a millisecond, against ≈ 35 ms of every
 * start for loading hash-wasm's 270 KB module, which stays the tests' oracle).
 *
 * @module
 */
import { assembleModule, type Func } from "../wasm_asm.ts";

/** The default 192-byte secret (kSecret). */
// deno-fmt-ignore
const SECRET = [
  0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
  0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
  0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
  0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
  0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
  0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
  0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
  0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
  0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
  0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
  0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
  0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
];

// xxHash's primes, as written for `i64.const` (the assembler reads them as 64-bit literals).
const PRIME32_1 = "0x9E3779B1";
const PRIME32_2 = "0x85EBCA77";
const PRIME32_3 = "0xC2B2AE3D";
const PRIME64_1 = "0x9E3779B185EBCA87";
const PRIME64_2 = "0xC2B2AE3D27D4EB4F";
const PRIME64_3 = "0x165667B19E3779F9";
const PRIME64_4 = "0x85EBCA77C2B2AE63";
const PRIME64_5 = "0x27D4EB2F165667C5";
const PRIME_MX1 = "0x165667919E3779F9";
const PRIME_MX2 = "0x9FB21C651E98DF25";
/** The accumulators' start (XXH3_INIT_ACC). */
const INIT_ACC = [
  PRIME32_3,
  PRIME64_1,
  PRIME64_2,
  PRIME64_3,
  PRIME64_4,
  PRIME32_2,
  PRIME64_5,
  PRIME32_1,
].map(BigInt);
/** Inputs up to this length hash by the short paths, without stripes. */
const MIDSIZE_MAX = 240;
/** Stripes per block: a scramble after each (secret 192 − 64 bytes, 8 consumed per stripe). */
const STRIPES_PER_BLOCK = 16;

/** Memory: the secret at 0, the accumulators at ACC_BYTE, the input area from IN_BYTE. */
const ACC_BYTE = 256;
/** Input bytes: the 256 bytes before IN_BYTE hold the stream's carry (its last 256 bytes). */
const IN_BYTE = 1024;
const CARRY = 256;
/** Input bytes per call. */
const CAP = 1 << 18;
const PAGES = Math.ceil((IN_BYTE + CAP) / 65536);

/** 64×64 → 128-bit product, the halves xor-ed (XXH3_mul128_fold64), from 32-bit partials. */
const FOLD: Func = {
  params: "a:i64 b:i64",
  result: "i64",
  locals: "ll:i64 hl:i64 lh:i64 cross:i64",
  code: `
    local.get a i64.const 0xffffffff i64.and local.get b i64.const 0xffffffff i64.and i64.mul
    local.set ll
    local.get a i64.const 32 i64.shr_u local.get b i64.const 0xffffffff i64.and i64.mul local.set hl
    local.get a i64.const 0xffffffff i64.and local.get b i64.const 32 i64.shr_u i64.mul local.set lh
    local.get ll i64.const 32 i64.shr_u local.get hl i64.const 0xffffffff i64.and i64.add
    local.get lh i64.add local.set cross
    ;; low 64 bits
    local.get cross i64.const 32 i64.shl local.get ll i64.const 0xffffffff i64.and i64.or
    ;; high 64 bits
    local.get hl i64.const 32 i64.shr_u local.get cross i64.const 32 i64.shr_u i64.add
    local.get a i64.const 32 i64.shr_u local.get b i64.const 32 i64.shr_u i64.mul i64.add
    i64.xor`,
};
const CALL_FOLD = "call 0";

/** XXH3_avalanche. */
const AVALANCHE: Func = {
  params: "h:i64",
  result: "i64",
  locals: "",
  code: `
    local.get h local.get h i64.const 37 i64.shr_u i64.xor i64.const ${PRIME_MX1} i64.mul
    local.tee h local.get h i64.const 32 i64.shr_u i64.xor`,
};
const CALL_AVALANCHE = "call 1";

/** XXH3_mix16B with seed 0: input at p, secret at s. */
const MIX16: Func = {
  params: "p:i32 s:i32",
  result: "i64",
  locals: "",
  code: `
    local.get p i64.load 0 local.get s i64.load 0 i64.xor
    local.get p i64.load 8 local.get s i64.load 8 i64.xor ${CALL_FOLD}`,
};
const CALL_MIX16 = "call 2";

/** accumulate_512 of the stripe at p with the secret at `secret` (an address expression). */
function stripe(secret: string): string {
  return [0, 1, 2, 3].map((j) => `
    local.get p v128.load ${16 * j} local.tee d
    ${secret} v128.load ${16 * j} v128.xor local.set dk
    local.get a${j} local.get d local.get d shuffle.2301 i64x2.add
    local.get dk local.get dk shuffle.0246 local.get dk local.get dk shuffle.1357
    i64x2.extmul_low_i32x4_u i64x2.add local.set a${j}`).join("");
}

const ACC_LOCALS = "a0:v128 a1:v128 a2:v128 a3:v128 d:v128 dk:v128";
const LOAD_ACC = [0, 1, 2, 3].map((j) =>
  `i32.const 0 v128.load ${ACC_BYTE + 16 * j} local.set a${j}`
)
  .join(" ");
const STORE_ACC = [0, 1, 2, 3].map((j) =>
  `i32.const 0 local.get a${j} v128.store ${ACC_BYTE + 16 * j}`
).join(" ");

/**
 * `n` ≥ 1 stripes from p, the first at stripe `k` of its block; a scramble (secret + 128) after
 * each block's last stripe. Returns the stripe count within the block afterwards.
 */
const STRIPES: Func = {
  params: "p:i32 n:i32 k:i32",
  result: "i32",
  locals: `${ACC_LOCALS} q:v128`,
  code: `
    i64.const ${PRIME32_1} i64x2.splat local.set q
    ${LOAD_ACC}
    loop
      ${stripe("local.get k i32.const 3 i32.shl")}
      local.get p i32.const 64 i32.add local.set p
      local.get k i32.const 1 i32.add local.tee k i32.const ${STRIPES_PER_BLOCK} i32.eq
      if
        ${
    [0, 1, 2, 3].map((j) => `
        local.get a${j} local.get a${j} i32.const 47 i64x2.shr_u v128.xor
        i32.const 0 v128.load ${128 + 16 * j} v128.xor local.get q i64x2.mul local.set a${j}`)
      .join("")
  }
        i32.const 0 local.set k
      end
      local.get n i32.const 1 i32.sub local.tee n br_if 0
    end
    ${STORE_ACC}
    local.get k`,
};

/** The last stripe (the input's last 64 bytes, at p) with the secret at 121. */
const LAST: Func = {
  params: "p:i32",
  result: "",
  locals: ACC_LOCALS,
  code: `${LOAD_ACC} ${stripe("i32.const 121")} ${STORE_ACC}`,
};

/** XXH3_mergeAccs of the accumulators (secret + 11), for a total length `len`. */
const MERGE: Func = {
  params: "len:i64",
  result: "i64",
  locals: "",
  code: `
    local.get len i64.const ${PRIME64_1} i64.mul
    ${
    [0, 1, 2, 3].map((i) => `
    i32.const 0 i64.load ${ACC_BYTE + 16 * i} i32.const 0 i64.load ${11 + 16 * i} i64.xor
    i32.const 0 i64.load ${ACC_BYTE + 16 * i + 8} i32.const 0 i64.load ${19 + 16 * i} i64.xor
    ${CALL_FOLD} i64.add`).join("")
  }
    ${CALL_AVALANCHE}`,
};

/** XXH64_avalanche of the i64 local h (left on the stack). */
const XXH64_AVALANCHE = `
  local.get h local.get h i64.const 33 i64.shr_u i64.xor i64.const ${PRIME64_2} i64.mul
  local.tee h local.get h i64.const 29 i64.shr_u i64.xor i64.const ${PRIME64_3} i64.mul
  local.tee h local.get h i64.const 32 i64.shr_u i64.xor`;

/** Byte swap of the i64 local x (left on the stack). */
const SWAP64 =
  [0, 1, 2, 3, 4, 5, 6, 7].map((b) =>
    `local.get x i64.const ${8 * b} i64.shr_u i64.const 255 i64.and i64.const ${56 - 8 * b} i64.shl`
  ).join(" ") + " i64.or".repeat(7);

/** XXH3 of `len` ≤ 240 bytes at p (len_0to16, 17to128, 129to240 with seed 0). */
const SHORT: Func = {
  params: "p:i32 len:i32",
  result: "i64",
  locals: "acc:i64 h:i64 x:i64 lo:i64 hi:i64 i:i32 n:i32",
  code: `
    local.get len i64.extend_i32_u i64.const ${PRIME64_1} i64.mul local.set acc
    local.get len i32.const 128 i32.gt_u
    if
      ${
    Array.from({ length: 8 }, (_, i) =>
      `local.get acc local.get p i32.const ${16 * i} i32.add i32.const ${16 * i} ${CALL_MIX16}
      i64.add local.set acc`).join(" ")
  }
      local.get acc ${CALL_AVALANCHE} local.set acc
      local.get len i32.const 4 i32.shr_u local.set n
      i32.const 8 local.set i
      block local.get n i32.const 8 i32.le_s br_if 0
      loop
        local.get acc local.get p local.get i i32.const 4 i32.shl i32.add
        local.get i i32.const 8 i32.sub i32.const 4 i32.shl i32.const 3 i32.add ${CALL_MIX16}
        i64.add local.set acc
        local.get i i32.const 1 i32.add local.tee i local.get n i32.lt_s br_if 0
      end end
      local.get acc local.get p local.get len i32.add i32.const 16 i32.sub i32.const 119
      ${CALL_MIX16} i64.add ${CALL_AVALANCHE} return
    end
    local.get len i32.const 16 i32.gt_u
    if
      ${
    [[96, 48, 64, 96, 112], [64, 32, 48, 64, 80], [32, 16, 32, 32, 48], [0, 0, 16, 0, 16]].map(
      ([above, off, back, s1, s2]) => `
      ${above > 0 ? `local.get len i32.const ${above} i32.gt_u if` : ""}
        local.get acc local.get p i32.const ${off} i32.add i32.const ${s1} ${CALL_MIX16} i64.add
        local.get p local.get len i32.add i32.const ${back} i32.sub i32.const ${s2} ${CALL_MIX16}
        i64.add local.set acc
      ${above > 0 ? "end" : ""}`,
    ).join("")
  }
      local.get acc ${CALL_AVALANCHE} return
    end
    local.get len i32.const 8 i32.gt_u
    if
      local.get p i64.load 0 i32.const 0 i64.load 24 i32.const 0 i64.load 32 i64.xor i64.xor
      local.set lo
      local.get p local.get len i32.add i32.const 8 i32.sub i64.load 0
      i32.const 0 i64.load 40 i32.const 0 i64.load 48 i64.xor i64.xor local.set hi
      local.get lo local.set x
      local.get len i64.extend_i32_u ${SWAP64} i64.add local.get hi i64.add
      local.get lo local.get hi ${CALL_FOLD} i64.add ${CALL_AVALANCHE} return
    end
    local.get len i32.const 4 i32.ge_u
    if
      ;; rrmxmx of (input2 + (input1 << 32)) ^ bitflip
      local.get p local.get len i32.add i32.const 4 i32.sub i64.load32_u 0
      local.get p i64.load32_u 0 i64.const 32 i64.shl i64.add
      i32.const 0 i64.load 8 i32.const 0 i64.load 16 i64.xor i64.xor local.tee h
      local.get h i64.const 49 i64.rotl local.get h i64.const 24 i64.rotl i64.xor i64.xor
      i64.const ${PRIME_MX2} i64.mul local.tee h
      local.get h i64.const 35 i64.shr_u local.get len i64.extend_i32_u i64.add i64.xor
      i64.const ${PRIME_MX2} i64.mul local.tee h
      local.get h i64.const 28 i64.shr_u i64.xor return
    end
    local.get len
    if
      ;; combined = c1 << 16 | c2 << 24 | c3 | len << 8, xor (secret[0..4) ^ secret[4..8))
      local.get p i64.load8_u 0 i64.const 16 i64.shl
      local.get p local.get len i32.const 1 i32.shr_u i32.add i64.load8_u 0 i64.const 24 i64.shl
      i64.or local.get p local.get len i32.add i32.const 1 i32.sub i64.load8_u 0 i64.or
      local.get len i64.extend_i32_u i64.const 8 i64.shl i64.or
      i32.const 0 i64.load32_u 0 i32.const 0 i64.load32_u 4 i64.xor i64.xor local.set h
      ${XXH64_AVALANCHE} return
    end
    i32.const 0 i64.load 56 i32.const 0 i64.load 64 i64.xor local.set h
    ${XXH64_AVALANCHE}`,
};

interface Module {
  stripes: (p: number, n: number, k: number) => number;
  last: (p: number) => void;
  merge: (len: bigint) => bigint;
  short: (p: number, len: number) => bigint;
  bytes: Uint8Array;
  acc: BigUint64Array;
}

let instance: Module | null = null;

/** The module, assembled and instantiated on first use in this thread. */
function module(): Module {
  if (instance) return instance;
  const code = assembleModule([
    ["fold", FOLD],
    ["avalanche", AVALANCHE],
    ["mix16", MIX16],
    ["stripes", STRIPES],
    ["last", LAST],
    ["merge", MERGE],
    ["short", SHORT],
  ], PAGES);
  const e = new WebAssembly.Instance(new WebAssembly.Module(code as BufferSource)).exports;
  const mem = (e.mem as WebAssembly.Memory).buffer;
  const bytes = new Uint8Array(mem);
  bytes.set(SECRET);
  return instance = {
    stripes: e.stripes as Module["stripes"],
    last: e.last as Module["last"],
    merge: e.merge as Module["merge"],
    short: e.short as Module["short"],
    bytes,
    acc: new BigUint64Array(mem, ACC_BYTE, 8),
  };
}

/**
 * An incremental XXH3-64 (seed 0) hasher: `update` any number of times, then `digest`.
 *
 * @example
 * ```ts
 * import { Xxh3Hasher } from "./xxh3.ts";
 * const h = new Xxh3Hasher();
 * h.update(new TextEncoder().encode("te"));
 * h.update(new TextEncoder().encode("xt"));
 * console.log(h.digest().toString(16)); // "4769fd1c60e8a611"
 * ```
 */
export class Xxh3Hasher {
  #acc = new BigUint64Array(INIT_ACC);
  /** The stream's last 256 bytes (fewer at the start: the rest is unused). */
  #carry = new Uint8Array(CARRY);
  /** Bytes at the carry's end not yet in a stripe: all of them up to 240 in total, else 1…64. */
  #pending = 0;
  #total = 0;
  /** Stripes done in the current block. */
  #k = 0;

  /** Feeds bytes. */
  update(input: Uint8Array): void {
    const m = module();
    for (let off = 0; off < input.length;) {
      const n = Math.min(CAP, input.length - off);
      m.bytes.set(this.#carry, IN_BYTE - CARRY);
      m.bytes.set(input.subarray(off, off + n), IN_BYTE);
      const len = this.#pending + n;
      this.#total += n;
      if (this.#total > MIDSIZE_MAX) {
        // Every whole stripe but the one holding the last byte: that one (or the stream's last
        // 64 bytes) is the final stripe, taken at the digest, as the one-shot hash does.
        const stripes = Math.floor((len - 1) / 64);
        if (stripes > 0) {
          m.acc.set(this.#acc);
          this.#k = m.stripes(IN_BYTE - this.#pending, stripes, this.#k);
          this.#acc.set(m.acc);
        }
        this.#pending = len - 64 * stripes;
      } else this.#pending = len;
      this.#carry.set(m.bytes.subarray(IN_BYTE + n - CARRY, IN_BYTE + n));
      off += n;
    }
  }

  /** The 64-bit digest of everything fed so far (the hasher is unchanged). */
  digest(): bigint {
    const m = module();
    m.bytes.set(this.#carry, IN_BYTE - CARRY);
    if (this.#total <= MIDSIZE_MAX) {
      return BigInt.asUintN(64, m.short(IN_BYTE - this.#total, this.#total));
    }
    m.acc.set(this.#acc);
    m.last(IN_BYTE - 64);
    return BigInt.asUintN(64, m.merge(BigInt(this.#total)));
  }
}
