/**
 * The LLaMA-family mapper (LLaMA 1/2/3, Mistral, Qwen2), reference §5.3.
 *
 * @module
 */
import { BLOCK_PREFIX } from "../hnf/constants.ts";
import type { Mapper, MapResult, TensorClass } from "./types.ts";

/** Names of buffers that are never weights (reference §5.2). */
const IGNORED = /(rotary_emb|inv_freq|_float_tensor|position_ids)/;

const LAYER = /^model\.layers\.(\d+)\.(.+)$/;

/** Per-layer suffix → canonical suffix and class. */
const LAYER_MAP: Record<string, [string, TensorClass]> = {
  "self_attn.q_proj.weight": ["attn.q_proj.weight", "matrix"],
  "self_attn.k_proj.weight": ["attn.k_proj.weight", "matrix"],
  "self_attn.v_proj.weight": ["attn.v_proj.weight", "matrix"],
  "self_attn.o_proj.weight": ["attn.o_proj.weight", "matrix"],
  "self_attn.q_proj.bias": ["attn.q_proj.bias", "fp16"],
  "self_attn.k_proj.bias": ["attn.k_proj.bias", "fp16"],
  "self_attn.v_proj.bias": ["attn.v_proj.bias", "fp16"],
  "self_attn.o_proj.bias": ["attn.o_proj.bias", "fp16"],
  "mlp.gate_proj.weight": ["mlp.gate.weight", "matrix"],
  "mlp.up_proj.weight": ["mlp.up.weight", "matrix"],
  "mlp.down_proj.weight": ["mlp.down.weight", "matrix"],
  "mlp.gate_proj.bias": ["mlp.gate.bias", "fp16"],
  "mlp.up_proj.bias": ["mlp.up.bias", "fp16"],
  "mlp.down_proj.bias": ["mlp.down.bias", "fp16"],
  "input_layernorm.weight": ["ln_attn_in.weight", "fp16"],
  "post_attention_layernorm.weight": ["ln_attn_out.weight", "fp16"],
};

/**
 * Creates the LLaMA-family mapper writing into `block` (0 text, 7 cortex, 8 code).
 * Biases are kept when present (unlike the original, §15 item 13).
 *
 * @example
 * ```ts
 * import { llamaMapper } from "./llama.ts";
 * const m = llamaMapper("llama", 0);
 * console.log(m.map("model.layers.3.mlp.down_proj.weight", [8, 16]));
 * // { name: "text.layer3.mlp.down.weight", block: 0, class: "matrix" }
 * ```
 */
export function llamaMapper(family: string, block: number): Mapper {
  const prefix = BLOCK_PREFIX[block] ?? "";
  return {
    family,
    map(hfName: string): MapResult {
      if (IGNORED.test(hfName)) return { ignore: "runtime buffer, recomputed by the runtime" };
      if (hfName === "model.embed_tokens.weight") {
        return { name: `${prefix}token_embedding.weight`, block, class: "fp16", embedding: true };
      }
      if (hfName === "lm_head.weight") {
        return { name: `${prefix}lm_head.weight`, block, class: "fp16" };
      }
      if (hfName === "model.norm.weight") {
        return { name: `${prefix}final_norm.weight`, block, class: "fp16" };
      }
      const m = LAYER.exec(hfName);
      if (m) {
        const hit = LAYER_MAP[m[2]];
        if (hit) return { name: `${prefix}layer${m[1]}.${hit[0]}`, block, class: hit[1] };
      }
      return null;
    },
  };
}
