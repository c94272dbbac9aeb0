/**
 * The generic fallback's contract: an unknown `*ForCausalLM` is converted as a LLaMA-style
 * decoder only when its config says nothing the hints cannot express. Configs with extra
 * scaling multipliers, a norm other than RMSNorm, parallel attention/MLP, clipped QKV or
 * latent (MLA) attention are refused with the keys at fault; the others are converted with a
 * warning that spells out every assumption.
 *
 * @module
 */
import { HeliosError, quoteJson } from "../errors.ts";
import type { JsonObject, TextDims } from "./types.ts";

const LAYER_NORM = "a norm other than RMSNorm";

/** A config key that changes the computation in a way no hint can state, and what it means. */
const INEXPRESSIBLE: readonly [RegExp, string][] = [
  [
    /multiplier$|^logits_scaling$|^logit_scale$|^scale_emb$|^scale_depth$|^dim_model_base$/,
    "extra scaling multipliers",
  ],
  [/^(layer_norm_eps|layer_norm_epsilon|norm_epsilon|norm_eps)$/, LAYER_NORM],
  [
    /^(use_parallel_residual|parallel_attn|parallel_attention|parallel_block|new_decoder_architecture)$/,
    "parallel attention and MLP",
  ],
  [/^clip_qkv$/, "clipped q/k/v activations"],
  [
    /^(kv_lora_rank|q_lora_rank|qk_rope_head_dim|qk_nope_head_dim|v_head_dim)$/,
    "latent (MLA) attention",
  ],
  [
    /^(n_shared_experts|shared_expert_intermediate_size|n_routed_experts|moe_intermediate_size)$/,
    "shared or fine-grained experts",
  ],
];

/** Values that say a feature is off (`false`, `null`, 0 for ranks). */
function isOff(key: string, v: unknown): boolean {
  if (v === null || v === undefined || v === false) return true;
  // A multiplier of exactly 1 computes what LLaMA computes.
  return /multiplier$|^logits_scaling$|^logit_scale$|^scale_emb$/.test(key) && v === 1;
}

/**
 * Checks that a config taken by the generic fallback can be expressed in the hints, and
 * returns the warning listing what was assumed (without a path: the plan adds the folder).
 *
 * @example
 * ```ts
 * import { checkGenericConfig } from "./generic.ts";
 * import { readTextDims } from "./config.ts";
 * const c = {
 *   model_type: "helioslm", hidden_size: 64, num_hidden_layers: 1, num_attention_heads: 4,
 *   rms_norm_eps: 1e-5,
 * };
 * console.log(checkGenericConfig(c, readTextDims(c, "c"), "c").startsWith("unknown")); // true
 * ```
 *
 * @param c The decoder config.
 * @param d Its dimensions (for the RoPE and norm values the warning quotes).
 * @param where The config path, for messages.
 * @throws {HeliosError} `UNSUPPORTED_MODEL` naming the keys the hints cannot express, or the
 * missing `rms_norm_eps` (nothing says the norm is an RMSNorm).
 */
export function checkGenericConfig(c: JsonObject, d: TextDims, where: string): string {
  const name = typeof c.model_type === "string" && c.model_type
    ? `model_type "${c.model_type}"`
    : `architecture "${Array.isArray(c.architectures) ? c.architectures[0] : "?"}"`;
  const found = new Map<string, string[]>();
  const rms = c.rms_norm_eps !== undefined;
  for (const [key, v] of Object.entries(c)) {
    for (const [re, what] of INEXPRESSIBLE) {
      if (rms && what === LAYER_NORM) continue;
      if (re.test(key) && !isOff(key, v)) {
        found.set(what, [...(found.get(what) ?? []), `${key}=${quoteJson(v)}`]);
      }
    }
  }
  if (!rms && !found.has(LAYER_NORM)) {
    // OLMo's config names no norm at all (a weightless LayerNorm); LLaMA's always has this key.
    found.set(LAYER_NORM, ["rms_norm_eps absent"]);
  }
  if (found.size > 0) {
    throw new HeliosError(
      "UNSUPPORTED_MODEL",
      `${where}: unknown ${name} cannot be converted as a LLaMA-style decoder: ${
        [...found].map(([what, keys]) => `${what} (${keys.join(", ")})`).join("; ")
      }; the hints cannot express this, so no file is written`,
    );
  }
  const act = typeof c.hidden_act === "string" ? c.hidden_act : "silu";
  const g = d.rope.global;
  // The plan prefixes spec warnings with the model folder; no path here.
  return `unknown ${name}; converting as a LLaMA-style decoder (generic mapper), ` +
    `assuming pre-norm RMSNorm (rms_norm_eps ${d.rmsNormEps}), gated MLP with '${act}', ` +
    `sequential residuals, no extra multipliers, RoPE ${g.type} theta ${g.theta}; every tensor ` +
    `must have a LLaMA name`;
}
