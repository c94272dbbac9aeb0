/**
 * On-disk constants of the HNFv9.1 container, named as the reference names them.
 * Section numbers refer to `HNFv9-reference.md`.
 *
 * @module
 */

/** §2: file magic `"HNFv9\0\0\0"`. */
export const HNF_MAGIC: Uint8Array = new Uint8Array([0x48, 0x4e, 0x46, 0x76, 0x39, 0, 0, 0]);
/** §2: header version_major. */
export const HNF_VERSION_MAJOR = 9;
/** §2: header version_minor. */
export const HNF_VERSION_MINOR = 1;
/** §4 (deviation, docs/HNFv9.md): manifest `version`, consistent with the header. */
export const HNF_MANIFEST_VERSION = "9.1";
/** §2: header size in bytes. */
export const HNF_HEADER_SIZE = 64;
/** §2: number of block-table entries. */
export const HNF_BLOCK_COUNT = 16;
/** §3: size of one block-table entry. */
export const HNF_BLOCK_ENTRY_SIZE = 32;
/** §1: first byte after header and table. */
export const HNF_DATA_START = HNF_HEADER_SIZE + HNF_BLOCK_COUNT * HNF_BLOCK_ENTRY_SIZE;
/** §1: alignment of blocks, the manifest and (our choice) every tensor. */
export const HNF_ALIGN = 32;
/**
 * §2 offset of the header's `reserved` u32, which holds our manifest checksum (docs/HNFv9.md):
 * the low 32 bits of XXH3-64 over header bytes 0x00–0x3B followed by the manifest. The runtime
 * reads this field into its header struct and never uses it.
 */
export const HNF_MANIFEST_CHECK_OFFSET = 0x3c;

/** §3: block ids (table positions). */
export const BlockId = {
  /** §3: text LLM tensors (`text.`). */
  TEXT_MODEL: 0x0,
  /** §3: vision encoder tensors (`vision.`). */
  VISION: 0x1,
  /** §3: audio encoder tensors (`audio.`). */
  AUDIO: 0x2,
  /** §3: unused. */
  VIDEO: 0x3,
  /** §3: unused. */
  SPATIAL_3D: 0x4,
  /** §3: unused. */
  PERSONALITY: 0x5,
  /** §3: unused. */
  MEMORY: 0x6,
  /** §3: second LLM (`cortex.`). */
  CORTEX: 0x7,
  /** §3: code LLM (`code.`). */
  CODE_EXEC: 0x8,
  /** §3: HTF tokenizer blob. */
  TOKENIZER: 0x9,
  /** §3, §11.1: execution hints JSON. */
  EXECUTION_HINTS: 0xa,
  /** §3, §11.3: execution hints binary. */
  EXEC_HINTS_BIN: 0xb,
  /** §3: unused. */
  TOOLS: 0xc,
  /** §3: unused. */
  EXPERT_ROUTER: 0xd,
  /** §3: unused. */
  RESERVED_0: 0xe,
  /** §3: unused. */
  RESERVED_1: 0xf,
} as const;

/** A block id, 0–15. */
export type BlockId = typeof BlockId[keyof typeof BlockId];

/** §3: the exact block name strings used in the manifest `block` field, by id. */
export const BLOCK_NAMES: readonly string[] = [
  "text_model",
  "vision",
  "audio",
  "video",
  "spatial_3d",
  "personality",
  "memory",
  "cortex",
  "code_exec",
  "tokenizer",
  "execution_hints",
  "exec_hints_bin",
  "tools",
  "expert_router",
  "reserved_0",
  "reserved_1",
];

/** §5.4: the tensor-name prefix of each tensor block. */
export const BLOCK_PREFIX: Readonly<Partial<Record<number, string>>> = {
  0x0: "text.",
  0x1: "vision.",
  0x2: "audio.",
  0x7: "cortex.",
  0x8: "code.",
};

/** §2: header flag bits. */
export const HnfFlag = {
  /** §2 bit 0. */
  HAS_VISION: 0x0001,
  /** §2 bit 1. */
  HAS_AUDIO: 0x0002,
  /** §2 bit 2. */
  HAS_VIDEO: 0x0004,
  /** §2 bit 3. */
  HAS_SPATIAL: 0x0008,
  /** §2 bit 4. */
  HAS_PERSONALITY: 0x0010,
  /** §2 bit 5. */
  HAS_MEMORY: 0x0020,
  /** §2 bit 6. */
  HAS_CORTEX: 0x0040,
  /** §2 bit 7. */
  HAS_CODE_EXEC: 0x0080,
  /** §2 bit 8 (set truthfully here, never by v0.2.1). */
  HAS_TOKENIZER: 0x0100,
  /** §2 bit 9 (set truthfully here, never by v0.2.1). */
  HAS_EXEC_HINTS_BIN: 0x0200,
  /** §2 bit 10. */
  HAS_TOOLS: 0x0400,
  /** §2 bit 11. */
  HAS_EXPERT_ROUTER: 0x0800,
  /** §2 bit 12 (set truthfully here, never by v0.2.1). */
  IS_MOE: 0x1000,
  /** §2 bit 13. */
  IS_MULTIMODAL: 0x2000,
} as const;

/** The tensor dtype strings this package writes in the manifest (§4, §7.6). */
export type TensorDtype = "fp16" | "hq4k" | "hq5k" | "hq31k" | "hq41k" | "hq51k" | "hq62k";

/** §9, §7.6: bytes per 256-element super-block of each HQ dtype. */
export const HQ_BLOCK_BYTES: Readonly<Record<string, number>> = {
  hq4k: 256,
  hq5k: 288,
  hq31k: 136,
  hq41k: 168,
  hq51k: 200,
  hq62k: 264,
};

/** §9: bytes per element of the plain dtypes the runtime registers. */
export const PLAIN_DTYPE_BYTES: Readonly<Record<string, number>> = {
  fp32: 4,
  fp16: 2,
  bf16: 2,
  fp8: 1,
  int8: 1,
  int32: 4,
};

/**
 * The element count of a shape (1 for a scalar).
 *
 * @example
 * ```ts
 * import { numelOf } from "./constants.ts";
 * console.log(numelOf([4, 256])); // 1024
 * ```
 */
export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * The exact payload size the runtime requires for `numel` elements of `dtype` (§13 item 6), or
 * `undefined` for an unknown dtype.
 *
 * @example
 * ```ts
 * import { dtypeByteSize } from "./constants.ts";
 * console.log(dtypeByteSize("hq5k", 300)); // 576
 * ```
 */
export function dtypeByteSize(dtype: string, numel: number): number | undefined {
  const hq = HQ_BLOCK_BYTES[dtype];
  if (hq !== undefined) return Math.ceil(numel / 256) * hq;
  const plain = PLAIN_DTYPE_BYTES[dtype];
  return plain === undefined ? undefined : numel * plain;
}
