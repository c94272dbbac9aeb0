/**
 * Reads config.json and checks the keys the converter depends on.
 *
 * @module
 */
import { HeliosError, quoteJson } from "../errors.ts";
import { parseJson, readRegularFile } from "../io.ts";
import { readLayerTypes, readRope } from "./rope.ts";
import type { JsonObject, TextDims } from "./types.ts";

/**
 * Reads and parses `<dir>/config.json`.
 *
 * @example
 * ```ts ignore
 * import { readConfig } from "./config.ts";
 * const config = await readConfig("models/llama");
 * ```
 */
export function readConfig(dir: string): Promise<JsonObject> {
  return readJsonObject(`${dir}/config.json`, "not found (a model folder needs config.json)");
}

async function readJsonObject(path: string, missing: string): Promise<JsonObject> {
  const bytes = await readRegularFile(path, { code: "BAD_CONFIG", missing });
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HeliosError("BAD_CONFIG", `${path}: not valid UTF-8`);
  }
  const parsed = parseJson(text, path, "BAD_CONFIG");
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new HeliosError("BAD_CONFIG", `${path}: expected a JSON object`);
  }
  return parsed as JsonObject;
}

/**
 * Reads `<dir>/processor_config.json` when the folder has one (Gemma 4 keeps its image
 * settings there), else `undefined`.
 *
 * @example
 * ```ts ignore
 * import { readProcessorConfig } from "./config.ts";
 * const processor = await readProcessorConfig("models/gemma-4-E2B-it");
 * ```
 */
export async function readProcessorConfig(dir: string): Promise<JsonObject | undefined> {
  const path = `${dir}/processor_config.json`;
  try {
    await Deno.stat(path);
  } catch {
    return undefined;
  }
  return await readJsonObject(path, "unreadable");
}

/**
 * Returns `config[key]` when it is a JSON object (a sub-config such as `vision_config`), else
 * `undefined`.
 *
 * @example
 * ```ts
 * import { subConfig } from "./config.ts";
 * console.log(subConfig({ vision_config: { patch_size: 14 } }, "vision_config")); // { patch_size: 14 }
 * ```
 */
export function subConfig(config: JsonObject, key: string): JsonObject | undefined {
  const v = config[key];
  return typeof v === "object" && v !== null && !Array.isArray(v) ? v as JsonObject : undefined;
}

/**
 * Returns the sub-config holding the decoder keys: `text_config` when present (multimodal
 * checkpoints), else the root.
 *
 * @example
 * ```ts
 * import { textConfigOf } from "./config.ts";
 * console.log(textConfigOf({ text_config: { hidden_size: 8 } }).hidden_size); // 8
 * ```
 */
export function textConfigOf(config: JsonObject): JsonObject {
  return subConfig(config, "text_config") ?? config;
}

/** The largest integer any config key may hold: every one must fit the hints' i32/u32 fields. */
const MAX_CONFIG_INT = 0x7fffffff;

/**
 * Upper bounds of the integer keys that size tensors, far above any real model (the largest
 * today have ~200 layers, hidden 32768, vocabularies of 256 Ki) and low enough that products of
 * them stay exact; other integer keys are bounded by {@link MAX_CONFIG_INT}.
 */
const CONFIG_INT_LIMITS: Readonly<Record<string, number>> = {
  num_hidden_layers: 1 << 12,
  encoder_layers: 1 << 12,
  hidden_size: 1 << 20,
  d_model: 1 << 20,
  intermediate_size: 1 << 22,
  encoder_ffn_dim: 1 << 22,
  num_attention_heads: 1 << 12,
  encoder_attention_heads: 1 << 12,
  num_key_value_heads: 1 << 12,
  head_dim: 1 << 14,
  vocab_size: 1 << 24,
  num_local_experts: 1 << 12,
  num_experts: 1 << 12,
  num_experts_per_tok: 1 << 12,
  image_size: 1 << 16,
  patch_size: 1 << 16,
  num_channels: 1 << 10,
  num_mel_bins: 1 << 12,
};

/** Bounds of the float keys: [min, max], with `min` excluded when `open` is set. */
const CONFIG_FLOAT_LIMITS: Readonly<Record<string, { min: number; max: number; open?: boolean }>> =
  {
    rope_theta: { min: 0, max: 3.4e38, open: true },
    rms_norm_eps: { min: 0, max: 1 },
    layer_norm_eps: { min: 0, max: 1 },
  };

function checkIntLimit(v: number, key: string, where: string): number {
  const max = CONFIG_INT_LIMITS[key] ?? MAX_CONFIG_INT;
  if (v > max) {
    throw new HeliosError(
      "BAD_CONFIG",
      `${where}: '${key}' is ${v}, above the limit of ${max}`,
    );
  }
  return v;
}

/**
 * Reads a required positive integer key, failing with `BAD_CONFIG`.
 *
 * @example
 * ```ts
 * import { positiveInt } from "./config.ts";
 * console.log(positiveInt({ n: 4 }, "n", "config.json")); // 4
 * ```
 */
export function positiveInt(c: JsonObject, key: string, where: string): number {
  const v = c[key];
  if (v === undefined || v === null) {
    throw new HeliosError("BAD_CONFIG", `${where}: '${key}' is missing`);
  }
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
    throw new HeliosError(
      "BAD_CONFIG",
      `${where}: '${key}' must be a positive integer, got ${quoteJson(v)}`,
    );
  }
  return checkIntLimit(v, key, where);
}

/**
 * Reads an optional non-negative integer key, else `fallback`.
 *
 * @example
 * ```ts
 * import { optInt } from "./config.ts";
 * console.log(optInt({ n: 4 }, "n", 0, "config.json")); // 4
 * ```
 */
export function optInt(c: JsonObject, key: string, fallback: number, where: string): number {
  const v = c[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new HeliosError(
      "BAD_CONFIG",
      `${where}: '${key}' must be a non-negative integer, got ${quoteJson(v)}`,
    );
  }
  return checkIntLimit(v, key, where);
}

/** An optional key that sizes tensors: absent is 0 ("not given"), present must be positive. */
function optPositive(c: JsonObject, key: string, where: string): number {
  return c[key] === undefined || c[key] === null ? 0 : positiveInt(c, key, where);
}

/**
 * Reads an optional finite number key, else `fallback` (which may be `undefined`).
 *
 * @example
 * ```ts
 * import { optNum } from "./config.ts";
 * console.log(optNum({ n: 4 }, "n", 0, "config.json")); // 4
 * console.log(optNum({}, "n", undefined, "config.json")); // undefined
 * ```
 */
export function optNum<F extends number | undefined>(
  c: JsonObject,
  key: string,
  fallback: F,
  where: string,
): number | F {
  const v = c[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new HeliosError(
      "BAD_CONFIG",
      `${where}: '${key}' must be a number, got ${quoteJson(v)}`,
    );
  }
  const lim = CONFIG_FLOAT_LIMITS[key];
  if (lim && (v > lim.max || v < lim.min || (lim.open && v === lim.min))) {
    throw new HeliosError(
      "BAD_CONFIG",
      `${where}: '${key}' is ${v}, outside ${lim.open ? "(" : "["}${lim.min}, ${lim.max}]`,
    );
  }
  return v;
}

/**
 * Reads the decoder dimensions, failing with a clear error on a missing or malformed key. RoPE
 * comes from `rope_parameters` (Transformers 5, flat or per layer type) or from
 * `rope_theta`/`rope_scaling` (4.x); see {@link readRope}.
 *
 * @example
 * ```ts
 * import { readTextDims } from "./config.ts";
 * const dims = readTextDims({
 *   hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 100,
 * }, "config.json");
 * console.log(dims.headDim); // 16
 * ```
 */
export function readTextDims(config: JsonObject, where: string): TextDims {
  const c = textConfigOf(config);
  const hiddenSize = positiveInt(c, "hidden_size", where);
  const numLayers = positiveInt(c, "num_hidden_layers", where);
  const numHeads = positiveInt(c, "num_attention_heads", where);
  const numKvHeads = optInt(c, "num_key_value_heads", numHeads, where) || numHeads;
  if (numKvHeads > numHeads || numHeads % numKvHeads !== 0) {
    throw new HeliosError(
      "BAD_CONFIG",
      `${where}: num_key_value_heads ${numKvHeads} must divide num_attention_heads ${numHeads}`,
    );
  }
  const explicitHeadDim = optInt(c, "head_dim", 0, where);
  if (!explicitHeadDim && hiddenSize % numHeads !== 0) {
    throw new HeliosError(
      "BAD_CONFIG",
      `${where}: hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads} and no head_dim is given`,
    );
  }
  const tie = c.tie_word_embeddings ?? config.tie_word_embeddings;
  if (tie !== undefined && typeof tie !== "boolean") {
    throw new HeliosError(
      "BAD_CONFIG",
      `${where}: 'tie_word_embeddings' must be a boolean, got ${quoteJson(tie)}`,
    );
  }
  const rope = readRope(c, where);
  const layerTypes = readLayerTypes(c, numLayers, where);
  return {
    numLayers,
    hiddenSize,
    intermediateSize: optPositive(c, "intermediate_size", where),
    numHeads,
    numKvHeads,
    headDim: explicitHeadDim || hiddenSize / numHeads,
    vocabSize: optPositive(c, "vocab_size", where),
    maxPositions: optPositive(c, "max_position_embeddings", where),
    ropeTheta: rope.global.theta,
    rope,
    ...(layerTypes ? { layerTypes } : {}),
    rmsNormEps: optNum(c, "rms_norm_eps", 1e-6, where),
    tieWordEmbeddings: tie === true,
  };
}
