/**
 * RoPE as config.json states it, in both generations of the format: Transformers 4.x top-level
 * `rope_theta` + `rope_scaling` (plus Gemma 3's `rope_local_base_freq`), and Transformers 5.x
 * `rope_parameters`, either one flat object or one object per layer type (`full_attention`,
 * `sliding_attention`, …). The one place that reads RoPE; hints and mappers read the result.
 *
 * @module
 */
import { HeliosError, quoteJson } from "../errors.ts";
import { optNum, subConfig } from "./config.ts";
import type { JsonObject } from "./types.ts";

/** One RoPE parameter set (one layer type's, or the model's when there is only one). */
export interface RopeParams {
  /** `rope_type` (or the older `type`): `default`, `llama3`, `linear`, `yarn`, … */
  type: string;
  /** Base frequency `rope_theta` (Transformers' 10000 when absent). */
  theta: number;
  /** `factor` of scaled types (1 when absent). */
  factor: number;
  /** Whether `factor` was given (longrope derives it from the context lengths otherwise). */
  factorGiven: boolean;
  /** llama3: `low_freq_factor`. */
  lowFreqFactor?: number;
  /** llama3: `high_freq_factor`. */
  highFreqFactor?: number;
  /** yarn: `beta_fast`. */
  betaFast?: number;
  /** yarn: `beta_slow`. */
  betaSlow?: number;
  /** yarn/longrope: `attention_factor`. */
  attentionFactor?: number;
  /** `original_max_position_embeddings` (inside the RoPE object, else at the config's top). */
  originalMaxPositions?: number;
  /** longrope: `long_factor`. */
  longFactor?: number[];
  /** longrope: `short_factor`. */
  shortFactor?: number[];
  /** `partial_rotary_factor` (inside the RoPE object, else top-level, else `rotary_pct`; 1). */
  partialRotaryFactor: number;
}

/** The RoPE of a decoder: the global parameters and, when the config has them, per layer type. */
export interface RopeSpec {
  /**
   * The parameters of global (full) attention: the flat object, the `full_attention` entry of
   * a per-layer-type object, or the top-level keys.
   */
  global: RopeParams;
  /**
   * Per layer type (`full_attention`, `sliding_attention`, …) when the config distinguishes
   * them: Transformers 5 per-layer-type `rope_parameters`, or Gemma 3's 4.x
   * `rope_local_base_freq` (read as `sliding_attention` with rope type `default`).
   */
  byLayerType?: Readonly<Record<string, RopeParams>>;
  /** Where the values came from, for messages and the report. */
  source: "rope_parameters" | "rope_parameters per layer type" | "rope_theta/rope_scaling";
}

function num(o: JsonObject, key: string, where: string): number | undefined {
  return optNum(o, key, undefined, where);
}

function numbers(o: JsonObject, key: string): number[] | undefined {
  const v = o[key];
  return Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x))
    ? v as number[]
    : undefined;
}

/**
 * Reads one RoPE object (`rope_parameters`, one of its per-layer-type entries, or
 * `rope_scaling`), with `top` (the decoder config) supplying the values 4.x keeps at the top.
 */
function readParams(
  o: JsonObject | undefined,
  top: JsonObject,
  theta: number | undefined,
  where: string,
): RopeParams {
  const r = o ?? {};
  const rawType = r.rope_type ?? r.type ?? "default";
  if (typeof rawType !== "string") {
    throw new HeliosError(
      "BAD_CONFIG",
      `${where}: 'rope_type' must be a string, got ${quoteJson(rawType)}`,
    );
  }
  const factor = num(r, "factor", where);
  const p: RopeParams = {
    type: rawType,
    theta: num(r, "rope_theta", where) ?? theta ?? 10000,
    factor: factor ?? 1,
    factorGiven: factor !== undefined,
    partialRotaryFactor: num(r, "partial_rotary_factor", where) ??
      num(top, "partial_rotary_factor", where) ?? num(top, "rotary_pct", where) ?? 1,
  };
  const opt: [keyof RopeParams, string][] = [
    ["lowFreqFactor", "low_freq_factor"],
    ["highFreqFactor", "high_freq_factor"],
    ["betaFast", "beta_fast"],
    ["betaSlow", "beta_slow"],
    ["attentionFactor", "attention_factor"],
  ];
  for (const [field, key] of opt) {
    const v = num(r, key, where);
    if (v !== undefined) (p as unknown as Record<string, number>)[field] = v;
  }
  const origMax = num(r, "original_max_position_embeddings", where) ??
    num(top, "original_max_position_embeddings", where);
  if (origMax !== undefined) p.originalMaxPositions = origMax;
  const long = numbers(r, "long_factor");
  if (long) p.longFactor = long;
  const short = numbers(r, "short_factor");
  if (short) p.shortFactor = short;
  return p;
}

/** Whether a `rope_parameters` object holds one object per layer type rather than values. */
function isPerLayerType(rp: JsonObject): boolean {
  const values = Object.values(rp);
  return values.length > 0 &&
    values.every((v) => typeof v === "object" && v !== null && !Array.isArray(v));
}

/**
 * Reads the RoPE of a decoder config (the `text_config` of a multimodal checkpoint, or the
 * root), from `rope_parameters` when present, else from `rope_theta`/`rope_scaling`.
 *
 * @example
 * ```ts
 * import { readRope } from "./rope.ts";
 * const flat = readRope({
 *   rope_parameters: { rope_type: "llama3", rope_theta: 500000, factor: 8 },
 * }, "config.json");
 * console.log(flat.global.type, flat.global.theta); // "llama3" 500000
 * const perType = readRope({
 *   rope_parameters: {
 *     full_attention: { rope_type: "linear", factor: 8, rope_theta: 1000000 },
 *     sliding_attention: { rope_type: "default", rope_theta: 10000 },
 *   },
 * }, "config.json");
 * console.log(perType.global.theta, perType.byLayerType?.sliding_attention.theta); // 1000000 10000
 * ```
 *
 * @param c The decoder config.
 * @param where The config path, for messages.
 * @throws {HeliosError} `BAD_CONFIG` for a malformed value, or a per-layer-type object without a
 * `full_attention` entry when it has several.
 */
export function readRope(c: JsonObject, where: string): RopeSpec {
  const rp = subConfig(c, "rope_parameters");
  if (rp && isPerLayerType(rp)) {
    const byLayerType: Record<string, RopeParams> = {};
    for (const [type, o] of Object.entries(rp)) {
      byLayerType[type] = readParams(
        o as JsonObject,
        c,
        undefined,
        `${where}: rope_parameters.${type}`,
      );
    }
    const types = Object.keys(byLayerType);
    const global = byLayerType.full_attention ??
      (types.length === 1 ? byLayerType[types[0]] : null);
    if (!global) {
      throw new HeliosError(
        "BAD_CONFIG",
        `${where}: rope_parameters has layer types ${
          types.join(", ")
        } but no 'full_attention' entry to take the global RoPE from`,
      );
    }
    return { global, byLayerType, source: "rope_parameters per layer type" };
  }
  if (rp) {
    return {
      global: readParams(rp, c, num(c, "rope_theta", where), where),
      source: "rope_parameters",
    };
  }
  const scaling = subConfig(c, "rope_scaling");
  const global = readParams(scaling, c, num(c, "rope_theta", where), where);
  const local = num(c, "rope_local_base_freq", where);
  if (local === undefined) return { global, source: "rope_theta/rope_scaling" };
  // Gemma 3 (4.x): sliding layers use plain RoPE at the local base; rope_scaling is global only.
  return {
    global,
    byLayerType: {
      full_attention: global,
      sliding_attention: readParams(undefined, c, local, where),
    },
    source: "rope_theta/rope_scaling",
  };
}

/**
 * Reads `layer_types` (Transformers ≥ 4.53 and 5.x: one attention type per layer, such as
 * `sliding_attention` / `full_attention`), checking it has one string per layer.
 *
 * @example
 * ```ts
 * import { readLayerTypes } from "./rope.ts";
 * console.log(readLayerTypes({ layer_types: ["sliding_attention", "full_attention"] }, 2, "c"));
 * // ["sliding_attention", "full_attention"]
 * ```
 *
 * @returns The list, or `undefined` when the config has none.
 * @throws {HeliosError} `BAD_CONFIG` when it is not a list of `numLayers` strings.
 */
export function readLayerTypes(
  c: JsonObject,
  numLayers: number,
  where: string,
): string[] | undefined {
  const v = c.layer_types;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string") || v.length !== numLayers) {
    throw new HeliosError(
      "BAD_CONFIG",
      `${where}: 'layer_types' must list one attention type per layer (${numLayers}), got ${
        JSON.stringify(v).slice(0, 80)
      }`,
    );
  }
  return v as string[];
}
