/**
 * Derives the flat execution-hint records (reference §11.1) from a tower's {@link ModelSpec}
 * and the tensors actually mapped for it. Both the JSON block 0xA and the binary block 0xB are
 * written from these records, so the two always agree.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import { subConfig, textConfigOf } from "../model/config.ts";
import type { JsonObject, ModelSpec, TextDims } from "../model/types.ts";
import { deriveGemma4Text, deriveGemma4Vision } from "./gemma4.ts";

/** A float-valued hint: always written with a decimal point, so the runtime reads a double. */
export class HintFloat {
  /**
   * Wraps a finite number.
   *
   * @param value The value.
   */
  constructor(readonly value: number) {
    if (!Number.isFinite(value)) {
      throw new HeliosError("BAD_HINTS", `Hint value ${value} is not a finite number`);
    }
  }
}

/** One flat hint value (the runtime skips nested objects, §11.2, so there are none). */
export type HintValue = string | number | boolean | HintFloat | HintFloat[];

/** An ordered, flat hint object (one JSON sub-object). */
export type HintRecord = Map<string, HintValue>;

/** A mapped tensor as the hint builders see it: final name and source shape. */
export interface HintsTensor {
  /** Final HELIOS name, block prefix included. */
  name: string;
  /** Shape as in the safetensors file. */
  shape: readonly number[];
}

/** One converted model (a CLI slot) and its final mapped tensors. */
export interface HintsTower {
  /** The model's spec, from `loadModelSpec`. */
  spec: ModelSpec;
  /** The final mapped tensors of that tower (every block it wrote into). */
  tensors: HintsTensor[];
}

/** The sections of the hints, in the order they are written. */
const HINTS_SECTIONS = ["text", "vision", "audio", "cortex", "code"] as const;

/** A section of the hints. */
export type HintsSection = typeof HINTS_SECTIONS[number];

/**
 * Section names and their `_enabled` flags: the runtime's scanner looks for them whether or not
 * a file has that section (contract §5.3), so a string value equal to one would be found in
 * place of the key.
 *
 * @example
 * ```ts ignore
 * import { BLOCK_WORDS } from "./derive.ts";
 * console.log(BLOCK_WORDS.has("vision_enabled")); // true
 * ```
 */
export const BLOCK_WORDS: ReadonlySet<string> = new Set(
  HINTS_SECTIONS.flatMap((n) => [n, `${n}_enabled`]),
);

const TEXT_PREFIX: Readonly<Record<string, string>> = {
  text: "text.",
  cortex: "cortex.",
  code: "code.",
};

const f = (v: number): HintFloat => new HintFloat(v);

function num(c: JsonObject, key: string): number | undefined {
  const v = c[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function str(c: JsonObject, key: string): string | undefined {
  const v = c[key];
  return typeof v === "string" ? v : undefined;
}

/** Strings copied from config.json must not disturb the runtime's textual scanner (§16). */
function safe(s: string | undefined): string | undefined {
  return s !== undefined && /^[A-Za-z0-9_.\-]{1,64}$/.test(s) && !BLOCK_WORDS.has(s)
    ? s
    : undefined;
}

/**
 * `torch_dtype` (or the newer `dtype`) → hint dtype; FP16 (what the file stores) when absent.
 *
 * @example
 * ```ts ignore
 * import { dtypeOf } from "./derive.ts";
 * console.log(dtypeOf(spec, { dtype: "bfloat16" })); // "bf16"
 * ```
 */
export function dtypeOf(spec: ModelSpec, c: JsonObject): string {
  const raw = str(c, "torch_dtype") ?? str(spec.config, "torch_dtype") ?? str(c, "dtype") ??
    str(spec.config, "dtype");
  switch (raw) {
    case "bfloat16":
      return "bf16";
    case "float32":
      return "fp32";
    default:
      return "fp16";
  }
}

/**
 * The text record's `attention_type`: "mha" when every query head has its own KV head, "mqa"
 * with one KV head, else "gqa".
 *
 * @example
 * ```ts
 * import { attentionTypeOf } from "./derive.ts";
 * console.log(attentionTypeOf(16, 8)); // "gqa"
 * ```
 */
export function attentionTypeOf(numHeads: number, numKvHeads: number): string {
  return numKvHeads === numHeads ? "mha" : numKvHeads === 1 ? "mqa" : "gqa";
}

/** HF activation name → the runtime's vocabulary (§11.3 mlp_activation). */
function activationOf(name: string): string {
  switch (name) {
    case "silu":
    case "swish":
      return "silu";
    case "gelu_pytorch_tanh":
    case "gelu_new":
    case "gelu_fast":
    case "gelu_python_tanh":
      return "gelu_new";
    case "relu":
      return "relu";
    default:
      return name.startsWith("gelu") ? "gelu" : name;
  }
}

const GEMMA = new Set(["gemma", "gemma2", "gemma3", "gemma3_text"]);

/** The decoder's own family (for multimodal checkpoints, the language model's). */
function decoderFamily(spec: ModelSpec, c: JsonObject): string {
  if (spec.family === "llava") return str(c, "model_type")?.toLowerCase() ?? "llama";
  if (spec.family === "gemma3") return "gemma3_text";
  return spec.family;
}

function archOf(family: string, ropeType: string, vocab: number): string {
  switch (family) {
    case "llama":
    case "generic":
      return ropeType === "llama3" || vocab >= 128000 ? "llama3" : "llama";
    case "gemma3_text":
      return "gemma3";
    default:
      return family;
  }
}

const ROPE_KNOWN = new Set(["default", "llama3", "linear", "dynamic", "yarn", "longrope", "su"]);

/** Writes the global RoPE the spec read from config.json (model/rope.ts) as flat keys. */
function ropeHints(r: HintRecord, d: TextDims): string {
  const g = d.rope.global;
  const type = g.type;
  if (!ROPE_KNOWN.has(type)) {
    throw new HeliosError(
      "BAD_CONFIG",
      `config.json: rope type '${type}' is not supported; known: ${[...ROPE_KNOWN].join(", ")}`,
    );
  }
  const origMax = g.originalMaxPositions;
  let factor = g.factor;
  if ((type === "longrope" || type === "su") && !g.factorGiven && origMax) {
    factor = d.maxPositions / origMax;
  }
  r.set("rope_type", type);
  r.set("rope_theta", f(g.theta));
  // The runtime divides every position by rope_scaling_factor whatever the type (contract
  // §3.6): only linear scaling means that. Other types get 1.0 (plain RoPE, right within the
  // original context) and keep their real factor under a key no runtime code reads.
  r.set("rope_scaling_factor", f(type === "linear" ? factor : 1));
  if (type !== "linear" && factor !== 1) r.set("rope_model_scaling_factor", f(factor));
  if (type === "llama3") {
    r.set("rope_low_freq_factor", f(g.lowFreqFactor ?? 1));
    r.set("rope_high_freq_factor", f(g.highFreqFactor ?? 4));
  }
  if (type === "yarn") {
    r.set("rope_beta_fast", f(g.betaFast ?? 32));
    r.set("rope_beta_slow", f(g.betaSlow ?? 1));
  }
  if (g.attentionFactor !== undefined) r.set("rope_attention_factor", f(g.attentionFactor));
  if (origMax !== undefined) r.set("original_max_position_embeddings", origMax);
  const prf = g.partialRotaryFactor;
  r.set("rope_dim", Math.floor(d.headDim * prf));
  r.set("rope_partial", prf < 1);
  r.set("partial_rotary_factor", f(prf));
  r.set("rope_interleaved", false);
  const local = d.rope.byLayerType?.sliding_attention;
  if (local !== undefined && local !== g) r.set("rope_local_theta", f(local.theta));
  return type;
}

/**
 * Gemma 3's period (n − 1 local layers, then one global) from Transformers-5 `layer_types`,
 * which replaced `sliding_window_pattern`; undefined when the list has no such period.
 */
function slidingPatternOf(types: readonly string[] | undefined): number | undefined {
  const period = (types?.indexOf("full_attention") ?? -1) + 1;
  if (!types || period === 0) return undefined;
  const periodic = types.every((t, i) =>
    t === ((i + 1) % period === 0 ? "full_attention" : "sliding_attention")
  );
  return periodic ? period : undefined;
}

function stripPrefix(tensors: HintsTensor[], prefix: string): Map<string, readonly number[]> {
  const out = new Map<string, readonly number[]>();
  for (const t of tensors) {
    if (t.name.startsWith(prefix)) out.set(t.name.slice(prefix.length), t.shape);
  }
  return out;
}

function anyName(names: Map<string, readonly number[]>, re: RegExp): boolean {
  for (const n of names.keys()) if (re.test(n)) return true;
  return false;
}

/**
 * Derives the text sub-object for a decoder tower written under `role`'s block prefix: the flat
 * record, in §11.1 key order plus the corrected extra keys.
 */
function deriveTextHints(
  spec: ModelSpec,
  tensors: HintsTensor[],
  role: HintsSection,
): HintRecord {
  const d = spec.text;
  if (!d) throw new HeliosError("BAD_HINTS", `${spec.dir}: no decoder dimensions for '${role}'`);
  const c = spec.textConfig ?? textConfigOf(spec.config);
  const names = stripPrefix(tensors, TEXT_PREFIX[role] ?? `${role}.`);
  const fam = decoderFamily(spec, c);
  const gemma = GEMMA.has(fam);
  const vocab = names.get("token_embedding.weight")?.[0] ?? d.vocabSize;
  const inter = names.get("layer0.mlp.gate.weight")?.[0] ||
    (names.get("layer0.mlp.gate_up.weight")?.[0] ?? 0) / 2 ||
    names.get("layer0.moe.experts.0.gate.weight")?.[0] || d.intermediateSize;
  const fused = names.has("layer0.mlp.gate_up.weight");
  const hiddenAct = gemma
    ? str(c, "hidden_activation") ?? "gelu_pytorch_tanh"
    : str(c, "hidden_act") ?? "silu";
  const moe = spec.moe !== undefined || anyName(names, /^layer\d+\.moe\./);

  const r: HintRecord = new Map();
  r.set("arch", archOf(fam, d.rope.global.type, vocab));
  const mt = safe(str(c, "model_type") ?? spec.modelType);
  if (mt) r.set("model_type", mt);
  r.set("dtype", dtypeOf(spec, c));
  r.set("num_hidden_layers", d.numLayers);
  r.set("hidden_size", d.hiddenSize);
  r.set("intermediate_size", inter);
  r.set("vocab_size", vocab);
  r.set("num_attention_heads", d.numHeads);
  r.set("num_key_value_heads", d.numKvHeads);
  r.set("head_dim", d.headDim);
  r.set("attention_type", attentionTypeOf(d.numHeads, d.numKvHeads));
  r.set("attention_bias", anyName(names, /^layer\d+\.attn\.(q|k|v|o|qkv)_proj\.bias$/));
  r.set("qkv_layout", names.has("layer0.attn.qkv_proj.weight") ? "fused" : "separate");
  r.set("use_qk_norm", anyName(names, /^layer\d+\.attn\.[qk]_norm\.weight$/));
  r.set("parallel_attention", false);
  r.set("kv_layout", "BHSD");
  r.set("mlp_type", gemma ? "geglu" : fused ? "swiglu_fused" : "swiglu");
  r.set("mlp_activation", activationOf(hiddenAct));
  const act = safe(hiddenAct);
  if (act) r.set("hidden_act", act);
  r.set("mlp_bias", anyName(names, /^layer\d+\.(mlp|moe\.experts\.\d+)\.\w+\.bias$/));
  r.set("norm_bias", anyName(names, /(^|\.)(ln_\w+|final_norm|q_norm|k_norm)\.bias$/));
  r.set("embedding_bias", names.has("token_embedding.bias"));
  r.set("lm_head_bias", names.has("lm_head.bias"));
  r.set("norm_type", "rmsnorm");
  r.set("rms_norm_eps", f(d.rmsNormEps));
  r.set("norm_weight_offset", f(gemma ? 1 : 0));
  r.set("embedding_scale", f(gemma ? Math.sqrt(d.hiddenSize) : 1));
  r.set("pre_norm", true);
  r.set("final_norm", names.has("final_norm.weight"));
  r.set("sandwich_norm", anyName(names, /^layer\d+\.ln_pre_ffn\.weight$/));
  const ropeType = ropeHints(r, d);
  r.set("tie_word_embeddings", d.tieWordEmbeddings || !names.has("lm_head.weight"));
  r.set("max_position_embeddings", d.maxPositions);
  const window = num(c, "sliding_window");
  const windowOn = window !== undefined && window > 0 && c.use_sliding_window !== false;
  r.set("sliding_window", windowOn ? window : 0);
  r.set(
    "sliding_window_pattern",
    !windowOn
      ? 0
      : fam === "gemma2"
      ? 2
      : fam === "gemma3_text"
      ? num(c, "sliding_window_pattern") ?? slidingPatternOf(d.layerTypes) ?? 6
      : 1,
  );
  r.set("moe_enabled", moe);
  if (moe) {
    r.set("num_local_experts", spec.moe?.numExperts ?? 0);
    r.set("num_experts_per_tok", spec.moe?.expertsPerToken ?? 0);
  }
  for (const k of ["attn_logit_softcapping", "final_logit_softcapping", "query_pre_attn_scalar"]) {
    const v = num(c, k);
    if (v !== undefined) r.set(k, f(v));
  }
  r.set("supports_flash_attention", true);
  r.set("supports_paged_attention", true);
  r.set("supports_sdpa", true);
  if (ropeType === "longrope" || ropeType === "su") {
    const g = d.rope.global;
    if (g.longFactor) r.set("rope_long_factor", g.longFactor.map(f));
    if (g.shortFactor) r.set("rope_short_factor", g.shortFactor.map(f));
  }
  return r;
}

const CLIP_VARIANTS: Readonly<Record<string, string>> = {
  "768/12/32": "vit-b-32",
  "768/12/16": "vit-b-16",
  "768/12/14": "vit-b-14",
  "1024/24/14": "vit-l-14",
  "1024/24/16": "vit-l-16",
  "1280/32/14": "vit-h-14",
  "1408/40/14": "vit-g-14",
  "1664/48/14": "vit-bigg-14",
};

/** Derives the vision sub-object (CLIP or SigLIP encoder, with the projector when present). */
function deriveVisionHints(spec: ModelSpec, tensors: HintsTensor[]): HintRecord {
  const v = spec.vision;
  if (!v) throw new HeliosError("BAD_HINTS", `${spec.dir}: no vision encoder dimensions`);
  const names = stripPrefix(tensors, "vision.");
  const proj = stripPrefix(tensors, "projector.vision.");
  const patches = (Math.floor(v.imageSize / v.patchSize)) ** 2;
  const cls = names.has("cls_token");
  const c = spec.config;
  const strategy = safe(str(c, "vision_feature_select_strategy"));
  const perImage = num(c, "mm_tokens_per_image");
  let tokens = patches + (cls ? 1 : 0);
  if (perImage !== undefined) tokens = perImage;
  else if (strategy === "default" && cls) tokens = patches;

  let projType = "none";
  let projOut = 0;
  let depth = 0;
  if (proj.has("linear1.weight")) {
    projType = "mlp";
    depth = proj.has("linear2.weight") ? 2 : 1;
    projOut = (proj.get("linear2.weight") ?? proj.get("linear1.weight"))![0];
  } else if (proj.has("input_projection.weight")) {
    projType = "linear";
    depth = 1;
    projOut = proj.get("input_projection.weight")![1];
  } else if (names.has("head.weight")) {
    projType = "linear";
    depth = 1;
    projOut = names.get("head.weight")![0];
  }

  const r: HintRecord = new Map();
  r.set("encoder_arch", v.encoder);
  r.set(
    "encoder_variant",
    CLIP_VARIANTS[`${v.hiddenSize}/${v.numLayers}/${v.patchSize}`] ?? "vit-unknown",
  );
  r.set("dtype", dtypeOf(spec, subConfig(c, "vision_config") ?? c));
  r.set("image_size", v.imageSize);
  r.set("patch_size", v.patchSize);
  r.set("num_channels", v.numChannels);
  r.set("hidden_size", v.hiddenSize);
  r.set("num_hidden_layers", v.numLayers);
  r.set("num_attention_heads", v.numHeads);
  r.set("head_dim", Math.floor(v.hiddenSize / v.numHeads));
  r.set("intermediate_size", v.intermediateSize);
  r.set("attention_type", "mha");
  r.set("attention_bias", anyName(names, /^layer\d+\.attn\.\w+_proj\.bias$/));
  r.set("mlp_type", "standard");
  r.set("mlp_activation", v.hiddenAct === "quick_gelu" ? "quick_gelu" : activationOf(v.hiddenAct));
  r.set("norm_type", "layernorm");
  r.set("layer_norm_eps", f(v.layerNormEps));
  r.set("has_cls_token", cls);
  r.set("pre_layernorm", names.has("pre_layernorm.weight"));
  r.set("num_image_tokens", tokens);
  r.set("projector_type", projType);
  r.set("projector_input_dim", projType === "none" ? 0 : v.hiddenSize);
  r.set("projector_output_dim", projOut);
  r.set("projector_depth", depth);
  r.set("projection_dim", projOut);
  const layer = num(c, "vision_feature_layer");
  if (layer !== undefined) r.set("vision_feature_layer", layer);
  if (strategy) r.set("vision_feature_select_strategy", strategy);
  if (perImage !== undefined) r.set("mm_tokens_per_image", perImage);
  r.set("image_token_id", num(c, "image_token_index") ?? num(c, "image_token_id") ?? -1);
  return r;
}

/** Derives the audio sub-object (Whisper encoder). */
function deriveAudioHints(spec: ModelSpec, tensors: HintsTensor[]): HintRecord {
  const a = spec.audio;
  if (!a) throw new HeliosError("BAD_HINTS", `${spec.dir}: no audio encoder dimensions`);
  const names = stripPrefix(tensors, "audio.");
  const r: HintRecord = new Map();
  r.set("encoder_arch", a.encoder);
  r.set("dtype", dtypeOf(spec, spec.config));
  r.set("num_mel_bins", a.numMelBins);
  r.set("hidden_size", a.hiddenSize);
  r.set("num_hidden_layers", a.numLayers);
  r.set("num_attention_heads", a.numHeads);
  r.set("head_dim", Math.floor(a.hiddenSize / a.numHeads));
  r.set("intermediate_size", a.ffnDim);
  r.set("max_source_positions", a.maxSourcePositions);
  r.set("attention_type", "mha");
  r.set("attention_bias", anyName(names, /^layer\d+\.attn\.\w+_proj\.bias$/));
  r.set("k_proj_bias", names.has("layer0.attn.k_proj.bias"));
  r.set("mlp_type", "standard");
  r.set("mlp_activation", activationOf(a.activation));
  r.set("norm_type", "layernorm");
  r.set("layer_norm_eps", f(1e-5));
  r.set("conv_layers", names.has("conv2.weight") ? 2 : names.has("conv1.weight") ? 1 : 0);
  r.set("conv_stride", 2);
  return r;
}

/**
 * Collects the hint sections of all towers: a decoder section for each text/cortex/code tower,
 * plus vision and audio from whichever tower carries those encoders (a LLaVA checkpoint given
 * as `--text` yields both `text` and `vision`).
 *
 * @example
 * ```ts ignore
 * import { collectSections } from "./derive.ts";
 * const sections = collectSections([{ spec, tensors }]);
 * console.log([...sections.keys()]); // ["text"]
 * ```
 *
 * @param towers The converted towers.
 * @returns Sections in write order: text, vision, audio, cortex, code.
 */
export function collectSections(towers: HintsTower[]): Map<HintsSection, HintRecord> {
  const found = new Map<HintsSection, HintRecord>();
  const put = (key: HintsSection, rec: HintRecord, dir: string) => {
    if (found.has(key)) {
      throw new HeliosError(
        "BAD_HINTS",
        `${dir}: a second model provides '${key}' hints; give each modality once`,
      );
    }
    found.set(key, rec);
  };
  for (const { spec, tensors } of towers) {
    const role = spec.role;
    if (spec.gemma4) {
      // Gemma 4 (runtime contract §5.3): its own records; GM4X/GM4V carry the rest.
      if (spec.text && role === "text") put("text", deriveGemma4Text(spec), spec.dir);
      if (tensors.some((t) => t.name.startsWith("vision."))) {
        const hidden = tensors.find((t) => t.name === "vision.projector.weight")?.shape[0] ?? 0;
        put("vision", deriveGemma4Vision(spec, hidden), spec.dir);
      }
      continue;
    }
    if (spec.text && (role === "text" || role === "cortex" || role === "code")) {
      put(role, deriveTextHints(spec, tensors, role), spec.dir);
    }
    if (spec.vision && tensors.some((t) => t.name.startsWith("vision."))) {
      put("vision", deriveVisionHints(spec, tensors), spec.dir);
    }
    if (spec.audio && tensors.some((t) => t.name.startsWith("audio."))) {
      put("audio", deriveAudioHints(spec, tensors), spec.dir);
    }
  }
  return new Map(HINTS_SECTIONS.filter((k) => found.has(k)).map((k) => [k, found.get(k)!]));
}
