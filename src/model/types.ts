/**
 * Types shared by the model readers and the per-family mappers.
 *
 * @module
 */

/** Which CLI slot a model came from (reference §12): decides the target block. */
export type TowerRole = "text" | "vision" | "audio" | "cortex" | "code";

/** How a tensor is stored: FP16 always, or a weight matrix that follows `--quant`. */
export type TensorClass = "fp16" | "matrix";

/**
 * What a tensor is for, which decides its format under a `--quant` preset
 * (`src/convert/presets.ts`): `attention` projections, `mlp` (and expert) matrices, the
 * `lm_head` logits matrix, the token `embedding`, any other weight `matrix`, or `fixed` (kept
 * FP16: norms, biases, routers, vectors).
 */
export type TensorRole = "attention" | "mlp" | "lm_head" | "embedding" | "matrix" | "fixed";

/** Where a source tensor goes. */
export interface MappedTensor {
  /** Final HELIOS name, block prefix included (reference §5.4), e.g. `text.layer0.attn.q_proj.weight`. */
  name: string;
  /** Target block id (reference §3). */
  block: number;
  /** Storage class. */
  class: TensorClass;
  /** Token embedding (for `--embeddings` and the tied-embedding rule). */
  embedding?: boolean;
  /** Role for the quantization presets, when the name rules of `ROLE_RULES` do not say it. */
  role?: TensorRole;
  /**
   * Further targets written from the same source tensor, each with its own name, class and
   * dtype (e.g. a tied embedding also written as `text.lm_head.weight`). The plan also adds
   * the `lm_head` copy of tied decoders itself (`--lm-head copy`), through the same path.
   */
  copies?: Omit<MappedTensor, "copies">[];
  /** Target shape when it differs from the source's (same element count; `[]` is kept). */
  shape?: number[];
  /**
   * A clamp bound: ±inf in the source is written as ±65504 (an FP16 clamp at the FP16 range is
   * no clamp) and counted, instead of failing as a non-finite weight.
   */
  saturate?: boolean;
  /**
   * The shape the config implies, checked before anything is written (absent: not checked).
   * See `src/model/shapes.ts`.
   */
  expect?: ExpectedShape;
}

/** The shape a config implies for a tensor; `null` dimensions are not checked. */
export interface ExpectedShape {
  /** Dimensions, `null` where the config does not say (for example no `vocab_size`). */
  shape: readonly (number | null)[];
  /** Where they come from, for the error, e.g. "vocab_size × hidden_size". */
  from: string;
  /** Set when the tensor cannot exist under this config (a layer past `num_hidden_layers`). */
  unexpected?: string;
}

/**
 * A tensor an architecture cannot run without, by final name: satisfied when every name of
 * any one alternative is mapped (for example separate q/k/v projections or one fused qkv).
 */
export interface RequiredTensor {
  /** Alternatives; each is a set of final names that must all be present. */
  anyOf: readonly (readonly string[])[];
}

/**
 * A tensor the checkpoint lacks but the target layout needs: a copy of another source tensor
 * (a tied `lm_head`, the KV projections of a KV-shared layer) or a constant (a missing clamp).
 */
export interface SynthesizedTensor extends MappedTensor {
  /** The source tensor copied, or (for a constant) the tensor it belongs to, for the report. */
  from: string;
  /** Write this value in every element instead of the source's data. */
  fill?: number;
  /** Why the tensor is synthesized, for the report. */
  reason: string;
}

/** A tensor deliberately not written (buffers such as `rotary_emb.inv_freq`), with the reason. */
export interface IgnoredTensor {
  /** Why it is not written. */
  ignore: string;
}

/** A mapper's answer: mapped, deliberately ignored, or `null` for unknown. */
export type MapResult = MappedTensor | IgnoredTensor | null;

import type { RopeSpec } from "./rope.ts";

/** A JSON object as parsed from config.json. */
export type JsonObject = { [key: string]: unknown };

/** The dimensions of a decoder LLM, read and checked from config.json. */
export interface TextDims {
  /** `num_hidden_layers`. */
  numLayers: number;
  /** `hidden_size`. */
  hiddenSize: number;
  /** `intermediate_size` (0 when absent). */
  intermediateSize: number;
  /** `num_attention_heads`. */
  numHeads: number;
  /** `num_key_value_heads`, else `num_attention_heads`. */
  numKvHeads: number;
  /** Explicit `head_dim`, else hidden / heads. */
  headDim: number;
  /** `vocab_size` (0 when absent; the embedding rows decide). */
  vocabSize: number;
  /** `max_position_embeddings` (0 when absent). */
  maxPositions: number;
  /** The global RoPE base: `rope.global.theta` (10000 when the config gives none). */
  ropeTheta: number;
  /** RoPE from either config generation (`rope_parameters`, or `rope_theta`/`rope_scaling`). */
  rope: RopeSpec;
  /** `layer_types` (one attention type per layer), when the config has it. */
  layerTypes?: string[];
  /** `rms_norm_eps` (1e-6 when absent). */
  rmsNormEps: number;
  /** `tie_word_embeddings` (false when absent; the family's default for Gemma and Phi). */
  tieWordEmbeddings: boolean;
}

/** A mixture-of-experts decoder's routing, read from config.json. */
export interface MoeDims {
  /** `num_local_experts` (Mixtral) or `num_experts`. */
  numExperts: number;
  /** `num_experts_per_tok`. */
  expertsPerToken: number;
}

/** The dimensions of a vision encoder (CLIP or SigLIP), from `vision_config` or the root. */
export interface VisionDims {
  /** Encoder kind. */
  encoder: "clip" | "siglip";
  /** `hidden_size`. */
  hiddenSize: number;
  /** `num_hidden_layers`. */
  numLayers: number;
  /** `num_attention_heads`. */
  numHeads: number;
  /** `intermediate_size`. */
  intermediateSize: number;
  /** `image_size`. */
  imageSize: number;
  /** `patch_size`. */
  patchSize: number;
  /** `num_channels`. */
  numChannels: number;
  /** `layer_norm_eps`. */
  layerNormEps: number;
  /** `projection_dim` (0 when the encoder has no projection). */
  projectionDim: number;
  /** `hidden_act`. */
  hiddenAct: string;
}

/** The dimensions of an audio encoder (Whisper), from the root of config.json. */
export interface AudioDims {
  /** Encoder kind. */
  encoder: "whisper";
  /** `num_mel_bins`. */
  numMelBins: number;
  /** `d_model`. */
  hiddenSize: number;
  /** `encoder_layers`. */
  numLayers: number;
  /** `encoder_attention_heads`. */
  numHeads: number;
  /** `encoder_ffn_dim`. */
  ffnDim: number;
  /** `max_source_positions`. */
  maxSourcePositions: number;
  /** `activation_function`. */
  activation: string;
}

/** One Gemma 4 decoder layer, as GM4X records it (runtime contract §5.2). */
export interface Gemma4Layer {
  /** `layer_types[i]`: sliding-window or full (global) attention. */
  kind: "sliding" | "full";
  /** Head dim: `head_dim` for sliding layers, the global head dim for full ones. */
  headDim: number;
  /** MLP width (doubled in KV-shared layers when `use_double_wide_mlp`). */
  intermediateSize: number;
  /** `rope_parameters[kind].rope_type`: "default" or "proportional". */
  ropeType: string;
  /** `rope_parameters[kind].rope_theta`. */
  ropeTheta: number;
  /** `rope_parameters[kind].partial_rotary_factor` (1 when absent). */
  partialRotaryFactor: number;
  /** The layer whose KV cache this layer reads: itself, or for a shared layer its source. */
  kvSource: number;
}

/** A Gemma 4 vision tower (runtime contract §5.6). */
export interface Gemma4Vision {
  /** `hidden_size`. */
  hiddenSize: number;
  /** `num_hidden_layers`. */
  numLayers: number;
  /** `num_attention_heads` (= `num_key_value_heads`). */
  numHeads: number;
  /** `head_dim`. */
  headDim: number;
  /** `intermediate_size`. */
  intermediateSize: number;
  /** `patch_size`. */
  patchSize: number;
  /** `position_embedding_size`. */
  positionEmbeddingSize: number;
  /** `pooling_kernel_size`. */
  poolingKernelSize: number;
  /** Most soft tokens per image (`max_soft_tokens`, processor). */
  maxSoftTokens: number;
  /** `rope_parameters.rope_theta`. */
  ropeTheta: number;
  /** `rms_norm_eps`. */
  rmsNormEps: number;
  /** Pixel rescale factor (processor; 1/255). */
  rescaleFactor: number;
}

/** What a Gemma 4 checkpoint adds to the decoder dimensions (runtime contract §5.2, §5.5). */
export interface Gemma4Dims {
  /** Per-layer attention, widths and RoPE, in layer order. */
  layers: Gemma4Layer[];
  /** `sliding_window`. */
  slidingWindow: number;
  /** Head dim of full-attention layers (`global_head_dim` or `per_layer_config`). */
  globalHeadDim: number;
  /** `hidden_size_per_layer_input` (PLE width per layer). */
  pleHiddenSize: number;
  /** `num_kv_shared_layers`. */
  numKvSharedLayers: number;
  /** `use_double_wide_mlp` (and at least one shared layer). */
  doubleWideMlp: boolean;
  /** `final_logit_softcapping`, or null for none. */
  finalLogitSoftcap: number | null;
  /** Image, begin-of-image, end-of-image and pad token ids. */
  tokens: { image: number; boi: number; eoi: number; pad: number };
  /** The vision tower, for `gemma4` checkpoints with one. */
  vision?: Gemma4Vision;
}

/** A model folder's config, as the converter sees it. */
export interface ModelSpec {
  /** The model folder. */
  dir: string;
  /** CLI slot. */
  role: TowerRole;
  /** `model_type` as written (lower-cased), or "" when absent. */
  modelType: string;
  /** `architectures` as written. */
  architectures: string[];
  /** The mapper family chosen (for example "llama", "qwen2"). */
  family: string;
  /** How the family was detected, for the report. */
  detectedBy: string;
  /** Decoder dimensions, when the model has a text decoder. */
  text?: TextDims;
  /** The decoder's config object with the family's defaults filled in (`text_config` or root). */
  textConfig?: JsonObject;
  /** Mixture-of-experts routing, for MoE decoders. */
  moe?: MoeDims;
  /** Vision encoder dimensions, for vision models and multimodal checkpoints. */
  vision?: VisionDims;
  /** Audio encoder dimensions, for Whisper. */
  audio?: AudioDims;
  /** Gemma 4's per-layer structure and vision tower (`gemma4`, `gemma4_text`). */
  gemma4?: Gemma4Dims;
  /** The raw config.json. */
  config: JsonObject;
  /** Warnings for the report (fallbacks, oddities). */
  warnings: string[];
}

/** Maps one model's HF tensor names to HELIOS names. */
export interface Mapper {
  /** Family id, for the report. */
  readonly family: string;
  /** Maps a source tensor name (with its shape) to its target. */
  map(hfName: string, shape: readonly number[]): MapResult;
  /** Tensors the architecture requires (absent: nothing is required). */
  readonly required?: readonly RequiredTensor[];
  /** Tensors to write beyond the mapped ones, given every source name and shape. */
  synthesize?(present: ReadonlyMap<string, readonly number[]>): SynthesizedTensor[];
  /** Blocks written densely: no padding between tensors (the Gemma 4 vision block, §5.6). */
  readonly denseBlocks?: readonly number[];
  /** Write each block's tensors in name order (the certified Gemma 4 files are). */
  readonly orderByName?: boolean;
  /**
   * The `--quant` preset the runtime certified for this family (Gemma 4: `hq41k-m`), which any
   * HQ choice gives; FP16 stays FP16.
   */
  readonly certifiedPreset?: "hq41k-m";
}
