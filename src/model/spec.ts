/**
 * config.json → {@link ModelSpec}: per family, which sub-configs hold the decoder, the vision
 * encoder and the audio encoder, with the defaults Transformers applies when a key is absent.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import { optInt, optNum, positiveInt, readTextDims, subConfig } from "./config.ts";
import { detectFamily, FAMILY_KIND } from "./detect.ts";
import { readGemma4 } from "./gemma4_config.ts";
import { checkGenericConfig } from "./generic.ts";
import type { AudioDims, JsonObject, ModelSpec, MoeDims, TowerRole, VisionDims } from "./types.ts";

/** Transformers' defaults for decoder sub-configs of multimodal checkpoints (often omitted). */
const TEXT_DEFAULTS: Readonly<Record<string, JsonObject>> = {
  llama: {
    hidden_size: 4096,
    intermediate_size: 11008,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    vocab_size: 32000,
    max_position_embeddings: 2048,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    hidden_act: "silu",
  },
  mistral: {
    hidden_size: 4096,
    intermediate_size: 14336,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    vocab_size: 32000,
    max_position_embeddings: 131072,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    sliding_window: 4096,
    hidden_act: "silu",
  },
  gemma3_text: {
    hidden_size: 2304,
    intermediate_size: 9216,
    num_hidden_layers: 26,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    head_dim: 256,
    vocab_size: 262208,
    max_position_embeddings: 131072,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    rope_local_base_freq: 10000,
    query_pre_attn_scalar: 256,
    sliding_window: 4096,
    sliding_window_pattern: 6,
    hidden_activation: "gelu_pytorch_tanh",
    tie_word_embeddings: true,
  },
};

/** Transformers' vision-config defaults (CLIPVisionConfig, SiglipVisionConfig). */
const VISION_DEFAULTS: Readonly<Record<"clip" | "siglip", JsonObject>> = {
  clip: {
    hidden_size: 768,
    intermediate_size: 3072,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    num_channels: 3,
    image_size: 224,
    patch_size: 32,
    layer_norm_eps: 1e-5,
    hidden_act: "quick_gelu",
  },
  siglip: {
    hidden_size: 768,
    intermediate_size: 3072,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    num_channels: 3,
    image_size: 224,
    patch_size: 16,
    layer_norm_eps: 1e-6,
    hidden_act: "gelu_pytorch_tanh",
  },
};

/** Keys whose default, when filled in, deserves a warning (they size tensors). */
const STRUCTURAL = new Set([
  "hidden_size",
  "intermediate_size",
  "num_hidden_layers",
  "num_attention_heads",
  "num_key_value_heads",
  "head_dim",
  "vocab_size",
  "image_size",
  "patch_size",
  "num_channels",
]);

/** Families whose `tie_word_embeddings` defaults to true in Transformers. */
const TIED_BY_DEFAULT = new Set([
  "gemma",
  "gemma2",
  "gemma3_text",
  "gemma3",
  "gemma4",
  "gemma4_text",
]);

function withDefaults(
  c: JsonObject,
  defaults: JsonObject,
  what: string,
  warnings: string[],
): JsonObject {
  const filled = Object.keys(defaults).filter((k) => c[k] === undefined && STRUCTURAL.has(k));
  if (filled.length > 0) {
    warnings.push(`${what} lacks ${filled.join(", ")}; using the Transformers defaults`);
  }
  return { ...defaults, ...c };
}

/** The decoder config with family defaults and Qwen v1's key names normalized. */
function decoderConfig(
  family: string,
  config: JsonObject,
  where: string,
  warnings: string[],
): JsonObject {
  let c: JsonObject;
  if (family === "gemma4") {
    c = { ...subConfig(config, "text_config") };
  } else if (family === "llava" || family === "gemma3") {
    const t = subConfig(config, "text_config") ?? {};
    const type = family === "gemma3"
      ? "gemma3_text"
      : typeof t.model_type === "string" && TEXT_DEFAULTS[t.model_type]
      ? t.model_type
      : "llama";
    c = withDefaults(t, TEXT_DEFAULTS[type], `${where}: text_config`, warnings);
    if (c.model_type === undefined) c.model_type = type;
  } else {
    c = { ...config };
  }
  if (family === "qwen") {
    // Qwen v1: w1/w2 are each intermediate_size / 2 wide; other names differ from LLaMA.
    c.intermediate_size = Math.floor(positiveInt(c, "intermediate_size", where) / 2);
    c.rms_norm_eps = c.layer_norm_epsilon ?? 1e-6;
    c.rope_theta = c.rotary_emb_base ?? 10000;
    c.max_position_embeddings = c.max_position_embeddings ?? c.seq_length;
    if (c.head_dim === undefined && c.kv_channels !== undefined) c.head_dim = c.kv_channels;
  }
  if (c.tie_word_embeddings === undefined && config.tie_word_embeddings !== undefined) {
    c.tie_word_embeddings = config.tie_word_embeddings;
  }
  if (c.tie_word_embeddings === undefined && TIED_BY_DEFAULT.has(family)) {
    c.tie_word_embeddings = true;
  }
  return c;
}

function readMoe(c: JsonObject, where: string): MoeDims {
  const key = c.num_local_experts !== undefined ? "num_local_experts" : "num_experts";
  const numExperts = positiveInt(c, key, where);
  const expertsPerToken = positiveInt(c, "num_experts_per_tok", where);
  if (expertsPerToken > numExperts) {
    throw new HeliosError(
      "BAD_CONFIG",
      `${where}: num_experts_per_tok ${expertsPerToken} is more than the ${numExperts} experts`,
    );
  }
  return { numExperts, expertsPerToken };
}

/**
 * Reads a CLIP or SigLIP vision encoder's dimensions from `vision_config` (or the root),
 * filling Transformers' defaults for absent keys (with a warning).
 *
 * @example
 * ```ts
 * import { readVisionDims } from "./spec.ts";
 * const v = readVisionDims({ vision_config: { hidden_size: 1024, patch_size: 14 } }, "clip", "c", []);
 * console.log(v.hiddenSize, v.numLayers); // 1024 12
 * ```
 */
export function readVisionDims(
  config: JsonObject,
  encoder: "clip" | "siglip",
  where: string,
  warnings: string[],
): VisionDims {
  const raw = subConfig(config, "vision_config") ?? config;
  const c = withDefaults(raw, VISION_DEFAULTS[encoder], `${where}: vision config`, warnings);
  const act = typeof c.hidden_act === "string"
    ? c.hidden_act
    : String(VISION_DEFAULTS[encoder].hidden_act);
  return {
    encoder,
    hiddenSize: positiveInt(c, "hidden_size", where),
    numLayers: positiveInt(c, "num_hidden_layers", where),
    numHeads: positiveInt(c, "num_attention_heads", where),
    intermediateSize: positiveInt(c, "intermediate_size", where),
    imageSize: positiveInt(c, "image_size", where),
    patchSize: positiveInt(c, "patch_size", where),
    numChannels: positiveInt(c, "num_channels", where),
    layerNormEps: optNum(c, "layer_norm_eps", 1e-5, where),
    projectionDim: optInt(raw, "projection_dim", optInt(config, "projection_dim", 0, where), where),
    hiddenAct: act,
  };
}

/**
 * Reads a Whisper encoder's dimensions from `audio_config` when present, else the root of
 * config.json.
 *
 * @example
 * ```ts
 * import { readAudioDims } from "./spec.ts";
 * const a = readAudioDims({
 *   d_model: 384, encoder_layers: 4, encoder_attention_heads: 6, encoder_ffn_dim: 1536,
 * }, "config.json");
 * console.log(a.numMelBins); // 80
 * ```
 */
export function readAudioDims(config: JsonObject, where: string): AudioDims {
  const c = subConfig(config, "audio_config") ?? config;
  return {
    encoder: "whisper",
    numMelBins: optInt(c, "num_mel_bins", 80, where) || 80,
    hiddenSize: positiveInt(c, "d_model", where),
    numLayers: positiveInt(c, "encoder_layers", where),
    numHeads: positiveInt(c, "encoder_attention_heads", where),
    ffnDim: positiveInt(c, "encoder_ffn_dim", where),
    maxSourcePositions: optInt(c, "max_source_positions", 1500, where) || 1500,
    activation: typeof c.activation_function === "string" ? c.activation_function : "gelu",
  };
}

const DECODER_ROLES: ReadonlySet<TowerRole> = new Set(["text", "cortex", "code"]);

/**
 * Builds a {@link ModelSpec} from a parsed config.json, without I/O (the part of
 * `loadModelSpec` after reading the file). A vision or audio model needs no decoder keys.
 *
 * @example
 * ```ts
 * import { specFromConfig } from "./spec.ts";
 * const spec = specFromConfig({
 *   model_type: "llama", hidden_size: 256, num_hidden_layers: 2, num_attention_heads: 4,
 * }, "text", "models/tiny");
 * console.log(spec.family, spec.text?.headDim); // "llama" 64
 * ```
 *
 * @param config The parsed config.json.
 * @param role The CLI slot it was given in.
 * @param dir The model folder (for messages and the report).
 * @throws {HeliosError} `UNSUPPORTED_MODEL` for unknown models or a decoder given as
 * `--vision`/`--audio`; `BAD_CONFIG` for missing or malformed keys.
 */
export function specFromConfig(
  config: JsonObject,
  role: TowerRole,
  dir: string,
  processor?: JsonObject,
): ModelSpec {
  const where = `${dir}/config.json`;
  const { family, detectedBy } = detectFamily(config, where);
  const warnings: string[] = [];
  const kind = FAMILY_KIND[family] ?? "decoder";
  const modelType = typeof config.model_type === "string" ? config.model_type.toLowerCase() : "";
  const architectures = Array.isArray(config.architectures)
    ? config.architectures.filter((a): a is string => typeof a === "string")
    : [];
  const spec: ModelSpec = {
    dir,
    role,
    modelType,
    architectures,
    family,
    detectedBy,
    config,
    warnings,
  };
  if (kind === "decoder" && !DECODER_ROLES.has(role)) {
    throw new HeliosError(
      "UNSUPPORTED_MODEL",
      `${where}: --${role} expects ${
        role === "vision"
          ? "a vision encoder (clip, siglip) or a multimodal checkpoint" +
            " (llava, gemma3)"
          : "an audio encoder (whisper)"
      }, got the ${family} decoder`,
    );
  }
  if ((kind === "vision" && role !== "vision") || (kind === "audio" && role !== "audio")) {
    warnings.push(
      `${where}: ${family} is ${kind === "vision" ? "a vision" : "an audio"} encoder given as ` +
        `--${role}; it is written to the ${kind} block`,
    );
  }
  if ((kind === "decoder" || kind === "multimodal") && DECODER_ROLES.has(role)) {
    const tc = decoderConfig(family, config, where, warnings);
    spec.textConfig = tc;
    spec.text = readTextDims(tc, where);
    if (family === "generic") warnings.push(checkGenericConfig(tc, spec.text, where));
    if (family === "mixtral" || tc.num_local_experts !== undefined) spec.moe = readMoe(tc, where);
  }
  if (family === "gemma4" || family === "gemma4_text") {
    if (role !== "text" && role !== "vision") {
      throw new HeliosError(
        "UNSUPPORTED_MODEL",
        `${where}: Gemma 4 converts as --text (or --vision for its vision tower), not --${role}: the runtime runs it from the text block only`,
      );
    }
    spec.gemma4 = readGemma4(config, processor, where, warnings);
    return spec;
  }
  if (kind === "vision" || kind === "multimodal") {
    const encoder = family === "gemma3" || family === "siglip" ||
        String(subConfig(config, "vision_config")?.model_type ?? "").includes("siglip")
      ? "siglip"
      : "clip";
    spec.vision = readVisionDims(config, encoder, where, warnings);
  }
  if (kind === "audio") spec.audio = readAudioDims(config, where);
  return spec;
}
