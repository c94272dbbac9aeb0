/**
 * Types shared by the model readers and the per-family mappers.
 *
 * @module
 */

/** Which CLI slot a model came from (reference §12): decides the target block. */
export type TowerRole = "text" | "vision" | "audio" | "cortex" | "code";

/** How a tensor is stored: FP16 always, or a weight matrix that follows `--quant`. */
export type TensorClass = "fp16" | "matrix";

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
}

/** A tensor deliberately not written (buffers such as `rotary_emb.inv_freq`), with the reason. */
export interface IgnoredTensor {
  /** Why it is not written. */
  ignore: string;
}

/** A mapper's answer: mapped, deliberately ignored, or `null` for unknown. */
export type MapResult = MappedTensor | IgnoredTensor | null;

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
  /** `rope_theta` (10000 when absent). */
  ropeTheta: number;
  /** `rms_norm_eps` (1e-6 when absent). */
  rmsNormEps: number;
  /** `tie_word_embeddings` (false when absent). */
  tieWordEmbeddings: boolean;
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
}
