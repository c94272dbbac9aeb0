/**
 * Decoder mappers (reference §5.3): the LLaMA naming shared by LLaMA 1/2/3, Mistral, Mixtral,
 * Qwen2/2.5/3, Gemma 1/2/3, Phi-3 and the generic fallback, and Qwen v1's GPT-style naming.
 * Biases are kept (unlike the original, §15 item 13).
 *
 * @module
 */
import { BLOCK_PREFIX } from "../hnf/constants.ts";
import { decoderExpect, decoderRequired, withExpect } from "./shapes.ts";
import type { IgnoredTensor, Mapper, MapResult, MoeDims, TensorClass, TextDims } from "./types.ts";

/** Names of buffers that are never weights (reference §5.2). */
const IGNORED_BUFFERS = /(rotary_emb|inv_freq|_float_tensor|position_ids)/;

/**
 * `{ ignore }` for a runtime buffer (rotary caches, position ids: reference §5.2), else `null`.
 *
 * @example
 * ```ts
 * import { ignoredBuffer } from "./llama.ts";
 * console.log(ignoredBuffer("model.rotary_emb.inv_freq"));
 * // { ignore: "runtime buffer, recomputed by the runtime" }
 * ```
 */
export function ignoredBuffer(name: string): IgnoredTensor | null {
  return IGNORED_BUFFERS.test(name)
    ? { ignore: "runtime buffer, recomputed by the runtime" }
    : null;
}

/** Per-layer suffix (after `layers.N.`) → canonical suffix and class. */
const LAYER_MAP: Record<string, [string, TensorClass]> = {};
for (const p of ["q", "k", "v", "o", "qkv"]) {
  LAYER_MAP[`self_attn.${p}_proj.weight`] = [`attn.${p}_proj.weight`, "matrix"];
  LAYER_MAP[`self_attn.${p}_proj.bias`] = [`attn.${p}_proj.bias`, "fp16"];
}
for (
  const [hf, canon] of [["gate_proj", "gate"], ["up_proj", "up"], ["down_proj", "down"], [
    "gate_up_proj",
    "gate_up",
  ]]
) {
  LAYER_MAP[`mlp.${hf}.weight`] = [`mlp.${canon}.weight`, "matrix"];
  LAYER_MAP[`mlp.${hf}.bias`] = [`mlp.${canon}.bias`, "fp16"];
}
for (
  const [hf, canon] of [
    ["input_layernorm", "ln_attn_in"],
    ["post_attention_layernorm", "ln_attn_out"],
    ["pre_feedforward_layernorm", "ln_pre_ffn"],
    ["post_feedforward_layernorm", "ln_post_ffn"],
  ]
) {
  LAYER_MAP[`${hf}.weight`] = [`${canon}.weight`, "fp16"];
  LAYER_MAP[`${hf}.bias`] = [`${canon}.bias`, "fp16"];
}
LAYER_MAP["self_attn.q_norm.weight"] = ["attn.q_norm.weight", "fp16"];
LAYER_MAP["self_attn.k_norm.weight"] = ["attn.k_norm.weight", "fp16"];
LAYER_MAP["block_sparse_moe.gate.weight"] = ["moe.gate.weight", "fp16"];

/** Mixtral expert weights: w1 = gate, w3 = up, w2 = down. */
const EXPERT = /^block_sparse_moe\.experts\.(\d+)\.(w1|w2|w3)\.weight$/;
const EXPERT_PART: Record<string, string> = { w1: "gate", w3: "up", w2: "down" };

/** Qwen v1 per-layer names (after `transformer.h.N.`); w2 is the SiLU-gated half. */
const QWEN1_LAYER_MAP: Record<string, [string, TensorClass]> = {
  "ln_1.weight": ["ln_attn_in.weight", "fp16"],
  "ln_2.weight": ["ln_attn_out.weight", "fp16"],
  "attn.c_attn.weight": ["attn.qkv_proj.weight", "matrix"],
  "attn.c_attn.bias": ["attn.qkv_proj.bias", "fp16"],
  "attn.c_proj.weight": ["attn.o_proj.weight", "matrix"],
  "attn.c_proj.bias": ["attn.o_proj.bias", "fp16"],
  "mlp.w1.weight": ["mlp.up.weight", "matrix"],
  "mlp.w2.weight": ["mlp.gate.weight", "matrix"],
  "mlp.c_proj.weight": ["mlp.down.weight", "matrix"],
};

/** Options of {@link decoderCore}. */
export interface DecoderOptions {
  /** Tied embeddings: an `lm_head.weight` in the checkpoint is ignored, not written. */
  tied?: boolean;
  /** Qwen v1 naming (`transformer.h.N.*`). */
  qwen1?: boolean;
  /** Decoder dimensions: when given, every tensor carries its expected shape (shapes.ts). */
  dims?: TextDims;
  /** Mixture-of-experts routing of `dims`' model. */
  moe?: MoeDims;
}

/**
 * Maps a decoder-relative name (`embed_tokens.weight`, `norm.weight`, `layers.N.…`, or
 * `lm_head.weight`) to its canonical suffix and class, without block or prefix.
 *
 * @example
 * ```ts
 * import { decoderCore } from "./llama.ts";
 * console.log(decoderCore("layers.0.mlp.up_proj.weight", {})); // ["layer0.mlp.up.weight", "matrix", false]
 * ```
 *
 * @param rest The name after the model root (`model.`, `language_model.model.`, …).
 * @param opts Tied embeddings, Qwen v1 naming.
 * @returns `[canonical, class, isEmbedding]`, `{ ignore }`, or `null` when unknown.
 */
export function decoderCore(
  rest: string,
  opts: DecoderOptions,
): [string, TensorClass, boolean] | { ignore: string } | null {
  const buffer = ignoredBuffer(rest);
  if (buffer) return buffer;
  if (rest === "lm_head.weight") {
    return opts.tied
      ? { ignore: "tied to the token embedding (tie_word_embeddings); not written" }
      : ["lm_head.weight", "fp16", false];
  }
  if (rest === "lm_head.bias") return ["lm_head.bias", "fp16", false];
  if (opts.qwen1) {
    if (rest === "wte.weight") return ["token_embedding.weight", "fp16", true];
    if (rest === "ln_f.weight") return ["final_norm.weight", "fp16", false];
    const m = /^h\.(\d+)\.(.+)$/.exec(rest);
    const hit = m && QWEN1_LAYER_MAP[m[2]];
    return m && hit ? [`layer${m[1]}.${hit[0]}`, hit[1], false] : null;
  }
  if (rest === "embed_tokens.weight") return ["token_embedding.weight", "fp16", true];
  if (rest === "norm.weight") return ["final_norm.weight", "fp16", false];
  if (rest === "norm.bias") return ["final_norm.bias", "fp16", false];
  const m = /^layers\.(\d+)\.(.+)$/.exec(rest);
  if (!m) return null;
  const hit = LAYER_MAP[m[2]];
  if (hit) return [`layer${m[1]}.${hit[0]}`, hit[1], false];
  const e = EXPERT.exec(m[2]);
  if (e) return [`layer${m[1]}.moe.experts.${e[1]}.${EXPERT_PART[e[2]]}.weight`, "matrix", false];
  return null;
}

/**
 * Wraps a {@link decoderCore} answer into a mapped tensor of `block`, with its prefix (§5.4).
 *
 * @example
 * ```ts
 * import { decoderCore, placed } from "./llama.ts";
 * console.log(placed(decoderCore("norm.weight", {}), 7));
 * // { name: "cortex.final_norm.weight", block: 7, class: "fp16" }
 * ```
 */
export function placed(
  hit: ReturnType<typeof decoderCore>,
  block: number,
  opts: Pick<DecoderOptions, "dims" | "moe"> = {},
): MapResult {
  if (hit === null || !Array.isArray(hit)) return hit;
  const prefix = BLOCK_PREFIX[block] ?? "";
  const out = { name: `${prefix}${hit[0]}`, block, class: hit[1] };
  const expect = opts.dims ? decoderExpect(hit[0], opts.dims, opts.moe) : undefined;
  return withExpect(hit[2] ? { ...out, embedding: true } : out, expect);
}

/**
 * Creates the LLaMA-naming decoder mapper writing into `block` (0 text, 7 cortex, 8 code).
 * Qwen v1 checkpoints use `transformer.*`; everything else uses `model.*` and `lm_head.*`.
 *
 * @example
 * ```ts
 * import { llamaMapper } from "./llama.ts";
 * const m = llamaMapper("llama", 0);
 * console.log(m.map("model.layers.3.mlp.down_proj.weight", [8, 16]));
 * // { name: "text.layer3.mlp.down.weight", block: 0, class: "matrix" }
 * ```
 */
export function llamaMapper(family: string, block: number, opts: DecoderOptions = {}): Mapper {
  const root = opts.qwen1 ? "transformer." : "model.";
  return {
    family,
    required: opts.dims ? decoderRequired(BLOCK_PREFIX[block] ?? "", opts.dims, opts.moe) : [],
    map(hfName: string): MapResult {
      if (hfName.startsWith("lm_head.")) return placed(decoderCore(hfName, opts), block, opts);
      if (!hfName.startsWith(root)) return ignoredBuffer(hfName);
      return placed(decoderCore(hfName.slice(root.length), opts), block, opts);
    },
  };
}
