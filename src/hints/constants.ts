/**
 * On-disk constants of the binary execution hints block 0xB, named as the reference names
 * them. Section numbers refer to `HNFv9-reference.md`.
 *
 * @module
 */

/** §11.3: header magic, `"HINT"` read as a little-endian u32 (bytes `54 4E 49 48`). */
export const HINTS_MAGIC = 0x48494e54;
/** §11.3: `version_major` the runtime requires. */
export const HINTS_VERSION_MAJOR = 1;
/** §11.3: `version_minor` written by the reference writer. */
export const HINTS_VERSION_MINOR = 0;
/** §11.3: size of the ExecutionHintsBin header. */
export const HINTS_HEADER_SIZE = 64;
/** §11.3: size of one TextModelConfigBin. */
export const TEXT_CONFIG_BIN_SIZE = 128;
/** §11.3: size of one VisionModelConfigBin. */
export const VISION_CONFIG_BIN_SIZE = 64;
/** §11.3: the block is zero-padded to a multiple of this. */
export const HINTS_ALIGN = 32;
/** §11.3: ASCII marker of the Gemma-4 text extension, stored at header offset 52. */
export const GM4X_MARKER = "GM4X";
/** §11.3: GM4X per-layer record size. */
export const GM4X_RECORD_SIZE = 40;
/** §11.3: GM4X extension header size (the size must be 32 + 40 × layers). */
export const GM4X_HEADER_SIZE = 32;

/** §11.3: header `flags` bits (which configs the block holds). */
export const HintsFlag = {
  /** §11.3 bit 0. */
  TEXT: 0x01,
  /** §11.3 bit 1. */
  VISION: 0x02,
  /** §11.3 bit 2. */
  AUDIO: 0x04,
  /** §11.3 bit 3. */
  CODE: 0x08,
  /** §11.3 bit 4. */
  CORTEX: 0x10,
} as const;

/** §11.3: TextModelConfigBin `flags` bits. */
export const TextConfigFlag = {
  /** §11.3 0x01. */
  ATTENTION_BIAS: 0x01,
  /** §11.3 0x02. */
  MLP_BIAS: 0x02,
  /** §11.3 0x04. */
  NORM_BIAS: 0x04,
  /** §11.3 0x08. */
  USE_QK_NORM: 0x08,
  /** §11.3 0x10. */
  PARALLEL_ATTENTION: 0x10,
  /** §11.3 0x20. */
  TIE_WORD_EMBEDDINGS: 0x20,
  /** §11.3 0x40: never set (unknown to the C++ reader); `partial_rotary_factor` carries it. */
  ROPE_PARTIAL: 0x40,
} as const;

/** §11.3: `arch` enum, by the JSON `arch` string. The C++ adds 15 = gemma4 (needs GM4X). */
export const ARCH_CODES: Readonly<Record<string, number>> = {
  unknown: 0,
  llama: 1,
  llama2: 2,
  llama3: 3,
  "llama3.1": 3,
  "llama3.2": 3,
  qwen: 4,
  qwen2: 5,
  "qwen2.5": 5,
  phi3: 6,
  phi4: 7,
  phi: 7,
  gemma: 8,
  gemma2: 9,
  mistral: 10,
  mixtral: 11,
  deepseek: 12,
  deepseek2: 12,
  clip: 13,
  siglip: 14,
  gemma4: 15,
};
/** §11.3: the arch code that requires a GM4X extension. */
export const ARCH_GEMMA4 = 15;

/** §11.3: `attention_type` enum. */
export const ATTENTION_TYPES: readonly string[] = ["mha", "gqa", "mqa"];
/** §11.3: `qkv_layout` enum. */
export const QKV_LAYOUTS: readonly string[] = ["separate", "fused"];
/** §9, §11.3: `dtype` enum. */
export const DTYPES: readonly string[] = ["fp16", "bf16", "fp32"];
/** §11.3: `mlp_type` enum. */
export const MLP_TYPES: readonly string[] = [
  "swiglu",
  "swiglu_fused",
  "geglu",
  "gated",
  "standard",
];
/** §11.3: `mlp_activation` enum (`gelu_new` is the tanh approximation). */
export const MLP_ACTIVATIONS: readonly string[] = ["silu", "gelu", "gelu_new", "relu"];
/** §11.3: `norm_type` enum. */
export const NORM_TYPES: readonly string[] = ["rmsnorm", "layernorm"];
/** §11.3: `rope_type` enum (the C++ adds 8 = proportional). */
export const ROPE_TYPES: readonly string[] = [
  "default",
  "llama3",
  "linear",
  "dynamic",
  "yarn",
  "longrope",
  "su",
  "none",
  "proportional",
];
/** §11.3: VisionModelConfigBin `encoder_type` enum (4 = gemma4 needs GM4V). */
export const ENCODER_TYPES: readonly string[] = ["clip", "siglip", "vit", "eva", "gemma4"];
/** §11.3: VisionModelConfigBin `projector_type` enum. */
export const PROJECTOR_TYPES: readonly string[] = ["linear", "mlp", "resampler"];

/** Runtime contract §5.2: header byte offsets of the Gemma 4 pointers in `reserved[20]`. */
export const Gemma4HeaderAt = {
  /** GM4X offset (u32, relative to the block). */
  GM4X_OFFSET: 44,
  /** GM4X size (u32): 32 + 40 × layers. */
  GM4X_SIZE: 48,
  /** ASCII "GM4X" marker, required when the text arch is gemma4. */
  GM4X_MARKER: 52,
  /** GM4V offset (u32); 0 unless the vision encoder is gemma4. */
  GM4V_OFFSET: 56,
  /** GM4V size (u32): 96. */
  GM4V_SIZE: 60,
} as const;
/** Runtime contract §5.2: GM4X (and GM4V) `version`. */
export const GM4X_VERSION = 1;
/** Runtime contract §5.6: GM4V magic. */
export const GM4V_MARKER = "GM4V";
/** Runtime contract §5.6: GM4V record size. */
export const GM4V_SIZE = 96;
/** Runtime contract §5.6: VisionModelConfigBin `encoder_type` of Gemma 4. */
export const ENCODER_GEMMA4 = 4;
/** Runtime contract §5.2: GM4X layer `rope_type` of proportional RoPE (else plain RoPE). */
export const ROPE_PROPORTIONAL = 8;

/** Runtime contract §5.2: GM4X header `flags`. */
export const Gemma4Flag = {
  /** Bit 0: per-layer embeddings. */
  PLE: 0x01,
  /** Bit 1: per-layer output scalar. */
  LAYER_SCALAR: 0x02,
  /** Bit 2: final logit softcap. */
  LOGIT_SOFTCAP: 0x04,
  /** Bit 3: KV-shared layers. */
  SHARED_KV: 0x08,
  /** Bit 4: double-wide MLP in the shared layers. */
  DOUBLE_WIDE_MLP: 0x10,
  /** Bit 5: four norms per block. */
  FOUR_NORM_BLOCK: 0x20,
} as const;

/** Runtime contract §5.6: GM4V `flags`; the runtime requires exactly these bits. */
export const GM4V_FLAGS = 0xfdfd;
/** Runtime contract §5.6: GM4V flag bits the runtime rejects (standardize, normalize). */
export const GM4V_REJECTED_FLAGS = 0x0202;
