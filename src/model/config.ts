/**
 * Reads config.json and checks the keys the converter depends on.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import { fsError } from "../io.ts";
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
export async function readConfig(dir: string): Promise<JsonObject> {
  const path = `${dir}/config.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw fsError(e, path, "not found (a model folder needs config.json)");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new HeliosError("BAD_CONFIG", `${path}: invalid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new HeliosError("BAD_CONFIG", `${path}: expected a JSON object`);
  }
  return parsed as JsonObject;
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
      `${where}: '${key}' must be a positive integer, got ${JSON.stringify(v)}`,
    );
  }
  return v;
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
      `${where}: '${key}' must be a non-negative integer, got ${JSON.stringify(v)}`,
    );
  }
  return v;
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
      `${where}: '${key}' must be a number, got ${JSON.stringify(v)}`,
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
      `${where}: 'tie_word_embeddings' must be a boolean, got ${JSON.stringify(tie)}`,
    );
  }
  const rope = readRope(c, where);
  const layerTypes = readLayerTypes(c, numLayers, where);
  return {
    numLayers,
    hiddenSize,
    intermediateSize: optInt(c, "intermediate_size", 0, where),
    numHeads,
    numKvHeads,
    headDim: explicitHeadDim || hiddenSize / numHeads,
    vocabSize: optInt(c, "vocab_size", 0, where),
    maxPositions: optInt(c, "max_position_embeddings", 0, where),
    ropeTheta: rope.global.theta,
    rope,
    ...(layerTypes ? { layerTypes } : {}),
    rmsNormEps: optNum(c, "rms_norm_eps", 1e-6, where),
    tieWordEmbeddings: tie === true,
  };
}
