/**
 * Picks the mapper family from config.json (reference §5.2), without the original's silent
 * fallback: `model_type` first, then `architectures`, then a generic LLaMA-naming fallback for
 * unknown causal decoders (with a warning); anything else is a clear error.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import type { JsonObject } from "./types.ts";

/** Families this build maps, with the `model_type` values that select them. */
export const SUPPORTED_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  llama: ["llama"],
  mistral: ["mistral"],
  mixtral: ["mixtral"],
  qwen: ["qwen"],
  qwen2: ["qwen2"],
  qwen3: ["qwen3"],
  gemma: ["gemma"],
  gemma2: ["gemma2"],
  gemma3_text: ["gemma3_text"],
  gemma3: ["gemma3"],
  gemma4: ["gemma4"],
  gemma4_text: ["gemma4_text"],
  phi3: ["phi3"],
  llava: ["llava"],
  clip: ["clip", "clip_vision_model"],
  siglip: ["siglip", "siglip_vision_model"],
  whisper: ["whisper"],
};

/** `architectures[0]` values that select a family when `model_type` does not. */
export const ARCHITECTURE_FAMILIES: Readonly<Record<string, string>> = {
  LlamaForCausalLM: "llama",
  MistralForCausalLM: "mistral",
  MixtralForCausalLM: "mixtral",
  QWenLMHeadModel: "qwen",
  Qwen2ForCausalLM: "qwen2",
  Qwen3ForCausalLM: "qwen3",
  GemmaForCausalLM: "gemma",
  Gemma2ForCausalLM: "gemma2",
  Gemma3ForCausalLM: "gemma3_text",
  Gemma3ForConditionalGeneration: "gemma3",
  Gemma4ForConditionalGeneration: "gemma4",
  Gemma4ForCausalLM: "gemma4_text",
  Phi3ForCausalLM: "phi3",
  LlavaForConditionalGeneration: "llava",
  CLIPModel: "clip",
  CLIPVisionModel: "clip",
  CLIPVisionModelWithProjection: "clip",
  SiglipModel: "siglip",
  SiglipVisionModel: "siglip",
  WhisperForConditionalGeneration: "whisper",
  WhisperModel: "whisper",
};

/** What a family's checkpoint holds. */
export type FamilyKind = "decoder" | "multimodal" | "vision" | "audio";

/** The kind of each family (the generic fallback is a decoder). */
export const FAMILY_KIND: Readonly<Record<string, FamilyKind>> = {
  llava: "multimodal",
  gemma3: "multimodal",
  gemma4: "multimodal",
  clip: "vision",
  siglip: "vision",
  whisper: "audio",
};

/** The detected family and how it was found. */
export interface Detection {
  /** Family id (a key of {@link SUPPORTED_FAMILIES}, or "generic"). */
  family: string;
  /** Human-readable reason, for the report. */
  detectedBy: string;
}

const DECODER_KEYS = ["hidden_size", "num_hidden_layers", "num_attention_heads"];

/**
 * Detects the family from `model_type`, else `architectures[0]`, else the generic fallback
 * for causal decoders (`*ForCausalLM`, not encoder-decoder, with the decoder keys).
 *
 * @example
 * ```ts
 * import { detectFamily } from "./detect.ts";
 * console.log(detectFamily({ model_type: "qwen2" }, "config.json").family); // "qwen2"
 * ```
 */
export function detectFamily(config: JsonObject, where: string): Detection {
  const modelType = typeof config.model_type === "string" ? config.model_type.toLowerCase() : "";
  for (const [family, types] of Object.entries(SUPPORTED_FAMILIES)) {
    if (types.includes(modelType)) return { family, detectedBy: `model_type "${modelType}"` };
  }
  const archs = Array.isArray(config.architectures) ? config.architectures : [];
  const arch0 = typeof archs[0] === "string" ? archs[0] : "";
  const byArch = ARCHITECTURE_FAMILIES[arch0];
  if (byArch) return { family: byArch, detectedBy: `architectures[0] "${arch0}"` };
  const causal = /(ForCausalLM|LMHeadModel)$/.test(arch0);
  if (
    causal && config.is_encoder_decoder !== true &&
    DECODER_KEYS.every((k) => typeof config[k] === "number")
  ) {
    const what = modelType ? `model_type "${modelType}"` : `architecture "${arch0}"`;
    // Whether the config can be expressed is checked once its dimensions are read (generic.ts).
    return {
      family: "generic",
      detectedBy: `fallback: unknown ${what} with architectures[0] "${arch0}"`,
    };
  }
  const what = modelType
    ? `model_type "${modelType}"`
    : arch0
    ? `architecture "${arch0}"`
    : "no model_type";
  throw new HeliosError(
    "UNSUPPORTED_MODEL",
    `${where}: unsupported model (${what}); supported: ${
      Object.values(SUPPORTED_FAMILIES).flat().join(", ")
    }, and other *ForCausalLM decoders with LLaMA tensor names`,
  );
}
