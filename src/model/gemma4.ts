/**
 * The Gemma 4 mapper (runtime contract §5.4, §5.6, §5.10): the text decoder to block 0 and the
 * vision tower to block 1 under the names the runtime's validators demand, with each tensor's
 * dtype in the certified compact profile (the `hq41k-m` preset); the audio tower is not converted (the runtime has no
 * audio contract). What the checkpoint lacks is synthesized: the tied `lm_head` (a copy of the
 * embedding), the K/V projections and K norm of KV-shared layers that Transformers 5 drops (the
 * source layer's), and missing vision clamps (±65504, no clamp for FP16 activations).
 *
 * @module
 */
import { BlockId } from "../hnf/constants.ts";
import { F16_MAX } from "../hqs/f16.ts";
import { ignoredBuffer } from "./llama.ts";
import type {
  Gemma4Dims,
  MappedTensor,
  Mapper,
  MapResult,
  RequiredTensor,
  SynthesizedTensor,
  TowerRole,
} from "./types.ts";

const T = BlockId.TEXT_MODEL;
const V = BlockId.VISION;

/**
 * A tensor's dtype in the certified compact profile (§5.4). FP16 ones are class `fp16`; the
 * others are matrices whose preset role gives that dtype under `hq41k-m` (attention and the
 * other matrices hq51k, MLP hq41k; `src/convert/presets.ts`).
 */
type Compact = "fp16" | "hq41k" | "hq51k";

/** Text tensors outside the layers: HF suffix → HELIOS suffix, compact dtype. */
const TEXT_TOP: Record<string, [string, Compact]> = {
  "embed_tokens.weight": ["token_embedding.weight", "fp16"],
  "embed_tokens_per_layer.weight": ["ple.token_embedding.weight", "hq51k"],
  "per_layer_model_projection.weight": ["ple.model_projection.weight", "hq51k"],
  "per_layer_projection_norm.weight": ["ple.projection_norm.weight", "fp16"],
  "norm.weight": ["final_norm.weight", "fp16"],
};

/** Per-layer text tensors (after `layers.N.`): the validator's names and compact dtypes. */
const TEXT_LAYER: Record<string, [string, Compact]> = {
  "input_layernorm.weight": ["ln_attn_in.weight", "fp16"],
  "self_attn.q_proj.weight": ["attn.q_proj.weight", "hq51k"],
  "self_attn.k_proj.weight": ["attn.k_proj.weight", "hq51k"],
  "self_attn.v_proj.weight": ["attn.v_proj.weight", "hq51k"],
  "self_attn.o_proj.weight": ["attn.o_proj.weight", "hq51k"],
  "self_attn.q_norm.weight": ["attn.q_norm.weight", "fp16"],
  "self_attn.k_norm.weight": ["attn.k_norm.weight", "fp16"],
  "post_attention_layernorm.weight": ["ln_attn_post.weight", "fp16"],
  "pre_feedforward_layernorm.weight": ["ln_mlp_in.weight", "fp16"],
  "mlp.gate_proj.weight": ["mlp.gate.weight", "hq41k"],
  "mlp.up_proj.weight": ["mlp.up.weight", "hq41k"],
  "mlp.down_proj.weight": ["mlp.down.weight", "hq41k"],
  "post_feedforward_layernorm.weight": ["ln_mlp_post.weight", "fp16"],
  "per_layer_input_gate.weight": ["ple.input_gate.weight", "hq51k"],
  "per_layer_projection.weight": ["ple.projection.weight", "hq51k"],
  "post_per_layer_input_norm.weight": ["ln_ple_post.weight", "fp16"],
  "layer_scalar": ["layer_scalar", "fp16"],
};

/** The tensors of a KV-shared layer the runtime never reads but the validator requires. */
const SHARED_KV = ["self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.k_norm.weight"];

/** Vision linears: HF module (after `encoder.layers.N.`) → HELIOS module. */
const VISION_LINEAR: Record<string, string> = {
  "self_attn.q_proj": "attn.q_proj",
  "self_attn.k_proj": "attn.k_proj",
  "self_attn.v_proj": "attn.v_proj",
  "self_attn.o_proj": "attn.o_proj",
  "mlp.gate_proj": "mlp.gate",
  "mlp.up_proj": "mlp.up",
  "mlp.down_proj": "mlp.down",
};
const VISION_NORM: Record<string, string> = {
  "input_layernorm.weight": "ln_attn_in.weight",
  "post_attention_layernorm.weight": "ln_attn_post.weight",
  "pre_feedforward_layernorm.weight": "ln_mlp_in.weight",
  "post_feedforward_layernorm.weight": "ln_mlp_post.weight",
  "self_attn.q_norm.weight": "attn.q_norm.weight",
  "self_attn.k_norm.weight": "attn.k_norm.weight",
};
const CLAMPS = ["input_min", "input_max", "output_min", "output_max"] as const;
const VISION_TOP: Record<string, string> = {
  "model.vision_tower.patch_embedder.input_proj.weight": "vision.patch_embed.input_proj.weight",
  "model.vision_tower.patch_embedder.position_embedding_table":
    "vision.patch_embed.position_embedding.weight",
  "model.embed_vision.embedding_projection.weight": "vision.projector.weight",
};

const AUDIO = /^model\.(audio_tower|embed_audio)\./;
const AUDIO_REASON =
  "Gemma 4 audio tower: the HELIOS runtime has no audio contract (runtime contract §5.1)";

/** The validator's reference keeps a separate lm_head, in FP16 files too (§5.4). */
const LM_HEAD: MappedTensor = {
  name: "text.lm_head.weight",
  block: T,
  class: "matrix",
  role: "lm_head",
};

const text = (name: string, compact: Compact, tied = false): MappedTensor => ({
  name: `text.${name}`,
  block: T,
  class: compact === "fp16" ? "fp16" : "matrix",
  ...(name === "token_embedding.weight" ? { embedding: true } : {}),
  ...(name === "token_embedding.weight" && tied ? { copies: [LM_HEAD] } : {}),
  ...(name.endsWith("layer_scalar") ? { shape: [1] } : {}),
});
/** A vision tensor: FP16 whatever `--quant` says (the vision validator accepts only FP16). */
const vision = (name: string, matrix = false): MappedTensor => ({
  name,
  block: V,
  class: matrix ? "matrix" : "fp16",
  ...(matrix ? { role: "fixed" as const } : {}),
});

/** The decoder root of a name (`model.language_model.`, or `model.` for `gemma4_text`). */
function textRest(name: string): string | null {
  if (name.startsWith("model.language_model.")) return name.slice("model.language_model.".length);
  if (name.startsWith("model.") && !/^model\.(vision_tower|embed_vision)\./.test(name)) {
    return AUDIO.test(name) ? null : name.slice("model.".length);
  }
  return null;
}

function mapText(rest: string, tied: boolean): MapResult {
  const top = TEXT_TOP[rest];
  if (top) return text(top[0], top[1], tied);
  const m = /^layers\.(\d+)\.(.+)$/.exec(rest);
  const hit = m && TEXT_LAYER[m[2]];
  if (m && hit) return text(`layer${m[1]}.${hit[0]}`, hit[1]);
  if (rest === "lm_head.weight") {
    return tied
      ? { ignore: "tied to the token embedding; written as its hq51k copy text.lm_head.weight" }
      : text("lm_head.weight", "hq51k");
  }
  return ignoredBuffer(rest);
}

function mapVision(name: string): MapResult {
  const top = VISION_TOP[name];
  if (top) return vision(top, !top.includes("position_embedding"));
  const m = /^model\.vision_tower\.encoder\.layers\.(\d+)\.(.+)$/.exec(name);
  if (!m) return ignoredBuffer(name);
  const norm = VISION_NORM[m[2]];
  if (norm) return vision(`vision.layer${m[1]}.${norm}`);
  const lin = /^(.+)\.(linear\.weight|input_min|input_max|output_min|output_max)$/.exec(m[2]);
  const target = lin && VISION_LINEAR[lin[1]];
  if (!lin || !target) return null;
  if (lin[2] === "linear.weight") return vision(`vision.layer${m[1]}.${target}.weight`, true);
  return { ...vision(`vision.layer${m[1]}.${target}.${lin[2]}`), shape: [], saturate: true };
}

/** The decoder root the checkpoint uses, from its embedding's name. */
function textRoot(present: ReadonlyMap<string, readonly number[]>): string {
  return present.has("model.language_model.embed_tokens.weight")
    ? "model.language_model."
    : "model.";
}

function synthesizeText(
  g: Gemma4Dims,
  present: ReadonlyMap<string, readonly number[]>,
): SynthesizedTensor[] {
  const root = textRoot(present);
  const out: SynthesizedTensor[] = [];
  for (const [i, layer] of g.layers.entries()) {
    if (layer.kvSource === i) continue;
    for (const suffix of SHARED_KV) {
      const own = `${root}layers.${i}.${suffix}`;
      const from = `${root}layers.${layer.kvSource}.${suffix}`;
      if (present.has(own) || !present.has(from)) continue;
      out.push({
        ...text(`layer${i}.${TEXT_LAYER[suffix][0]}`, TEXT_LAYER[suffix][1]),
        from,
        reason: `KV-shared layer ${i} reads layer ${layer.kvSource}'s cache; the checkpoint ` +
          `lacks its own copy, so layer ${layer.kvSource}'s is written (runtime contract §5.10)`,
      });
    }
  }
  return out;
}

function synthesizeClamps(
  g: Gemma4Dims,
  present: ReadonlyMap<string, readonly number[]>,
): SynthesizedTensor[] {
  const out: SynthesizedTensor[] = [];
  for (let i = 0; i < (g.vision?.numLayers ?? 0); i++) {
    for (const [hf, target] of Object.entries(VISION_LINEAR)) {
      const base = `model.vision_tower.encoder.layers.${i}.${hf}`;
      for (const field of CLAMPS) {
        if (present.has(`${base}.${field}`) || !present.has(`${base}.linear.weight`)) continue;
        out.push({
          ...vision(`vision.layer${i}.${target}.${field}`),
          shape: [],
          from: `${base}.linear.weight`,
          fill: field.endsWith("min") ? -F16_MAX : F16_MAX,
          reason: "missing clamp written as ±65504 (no clamp for FP16; runtime contract §5.10)",
        });
      }
    }
  }
  return out;
}

/**
 * What the validators need from the checkpoint itself (the rest is synthesized): every text
 * tensor (a KV-shared layer's K/V/K-norm may come from its source layer), and every vision
 * weight (clamps may be missing).
 */
function gemma4Required(g: Gemma4Dims, withText: boolean): RequiredTensor[] {
  const one = (n: string): RequiredTensor => ({ anyOf: [[n]] });
  const out: RequiredTensor[] = [];
  if (withText) {
    for (const [name] of Object.values(TEXT_TOP)) out.push(one(`text.${name}`));
    for (const [i, layer] of g.layers.entries()) {
      for (const [suffix, [name]] of Object.entries(TEXT_LAYER)) {
        const own = `text.layer${i}.${name}`;
        const shared = layer.kvSource !== i && SHARED_KV.includes(suffix);
        out.push(shared ? { anyOf: [[own], [`text.layer${layer.kvSource}.${name}`]] } : one(own));
      }
    }
  }
  if (g.vision) {
    for (const name of Object.values(VISION_TOP)) out.push(one(name));
    for (let i = 0; i < g.vision.numLayers; i++) {
      for (const name of Object.values(VISION_NORM)) out.push(one(`vision.layer${i}.${name}`));
      for (const name of Object.values(VISION_LINEAR)) {
        out.push(one(`vision.layer${i}.${name}.weight`));
      }
    }
  }
  return out;
}

/**
 * Creates the Gemma 4 mapper for a `gemma4` or `gemma4_text` spec. As `--text` it writes the
 * decoder (and the vision tower of a `gemma4` checkpoint); as `--vision` only the vision tower.
 *
 * @example
 * ```ts
 * import { gemma4Mapper } from "./gemma4.ts";
 * const m = gemma4Mapper({
 *   layers: [], slidingWindow: 512, globalHeadDim: 512, pleHiddenSize: 256,
 *   numKvSharedLayers: 0, doubleWideMlp: false, finalLogitSoftcap: 30,
 *   tokens: { image: 258880, boi: 255999, eoi: 258882, pad: 0 },
 * }, "text", true);
 * console.log(m.map("model.language_model.layers.3.mlp.down_proj.weight", [1536, 6144]));
 * // { name: "text.layer3.mlp.down.weight", block: 0, class: "matrix" }
 * ```
 *
 * @param g The Gemma 4 structure from `readGemma4`.
 * @param role The CLI slot: "text" writes both towers, "vision" only the vision tower.
 * @param tied `tie_word_embeddings` (Gemma 4 ties; the lm_head is then a copy).
 */
export function gemma4Mapper(g: Gemma4Dims, role: TowerRole, tied: boolean): Mapper {
  const withText = role !== "vision";
  return {
    family: "gemma4",
    denseBlocks: [V],
    orderByName: true,
    required: gemma4Required(g, withText),
    certifiedPreset: "hq41k-m",
    map(hfName: string): MapResult {
      if (AUDIO.test(hfName)) return { ignore: AUDIO_REASON };
      const rest = hfName === "lm_head.weight" ? hfName : textRest(hfName);
      if (rest !== null) {
        if (!withText) return { ignore: "Gemma 4 language model given as --vision; not written" };
        return mapText(rest, tied);
      }
      return g.vision ? mapVision(hfName) : null;
    },
    synthesize(present): SynthesizedTensor[] {
      return [
        ...(withText ? synthesizeText(g, present) : []),
        ...synthesizeClamps(g, present),
      ];
    },
  };
}
