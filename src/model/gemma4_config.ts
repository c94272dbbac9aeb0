/**
 * Reads a Gemma 4 config (`gemma4` with `text_config`/`vision_config`, or a text-only
 * `gemma4_text`) and its `processor_config.json` into {@link Gemma4Dims}, refusing with a
 * one-line reason every variant the HELIOS runtime cannot run (runtime contract §5.5, §5.10).
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import { optInt, optNum, positiveInt, subConfig } from "./config.ts";
import { readLayerTypes, readRope, type RopeParams, type RopeSpec } from "./rope.ts";
import type { Gemma4Dims, Gemma4Layer, Gemma4Vision, JsonObject } from "./types.ts";

/** The RoPE types the runtime's Gemma 4 path computes (§5.2: 8 = proportional, else plain). */
const ROPE_TYPES = new Set(["default", "proportional"]);

/** Defaults of `rope_parameters` per layer kind (Gemma4TextConfig). */
const ROPE_DEFAULTS: Readonly<Record<"sliding" | "full", RopeParams>> = {
  sliding: { type: "default", theta: 10000, factor: 1, factorGiven: false, partialRotaryFactor: 1 },
  full: {
    type: "proportional",
    theta: 1000000,
    factor: 1,
    factorGiven: false,
    partialRotaryFactor: 0.25,
  },
};

function refuse(where: string, what: string): never {
  throw new HeliosError("UNSUPPORTED_MODEL", `${where}: ${what}`);
}

/** Refuses the variants §5.5 lists: MoE block, k = v, bidirectional, other global KV heads. */
function refuseVariants(c: JsonObject, kvHeads: number, where: string): void {
  if (c.enable_moe_block === true) {
    refuse(where, "Gemma 4 with a MoE block (enable_moe_block) is not runnable by HELIOS");
  }
  if (c.attention_k_eq_v === true) {
    refuse(where, "Gemma 4 with attention_k_eq_v is not runnable by HELIOS (no k = v attention)");
  }
  const bidi = c.use_bidirectional_attention;
  if (bidi !== undefined && bidi !== null && bidi !== false) {
    refuse(
      where,
      `Gemma 4 with use_bidirectional_attention ${
        JSON.stringify(bidi)
      } is not runnable by HELIOS (causal attention only)`,
    );
  }
  const globalKv = c.num_global_key_value_heads;
  if (typeof globalKv === "number" && globalKv !== kvHeads) {
    refuse(
      where,
      `Gemma 4 with num_global_key_value_heads ${globalKv} ≠ num_key_value_heads ${kvHeads} is not runnable by HELIOS (one KV width)`,
    );
  }
}

/** `per_layer_config[i]` (Transformers ≥ 5.15 writes the full layers' overrides there). */
function perLayer(c: JsonObject, i: number): JsonObject | undefined {
  const all = subConfig(c, "per_layer_config");
  return all ? subConfig(all, String(i)) : undefined;
}

/** A layer kind's RoPE, from the shared reader's per-layer-type entries (`rope.ts`). */
function ropeOf(rope: RopeSpec, kind: "sliding" | "full", where: string, warnings: string[]) {
  const key = kind === "sliding" ? "sliding_attention" : "full_attention";
  let r = rope.byLayerType?.[key];
  if (!r) {
    warnings.push(`no rope_parameters.${key}; using the Gemma 4 defaults`);
    r = ROPE_DEFAULTS[kind];
  }
  if (!ROPE_TYPES.has(r.type) || (r.factorGiven && r.factor !== 1)) {
    refuse(
      where,
      `Gemma 4 rope_parameters.${key}.rope_type '${r.type}'${
        r.factorGiven ? ` (factor ${r.factor})` : ""
      } is not runnable by HELIOS (default or proportional only, unscaled)`,
    );
  }
  if (!(r.theta > 0) || !(r.partialRotaryFactor > 0 && r.partialRotaryFactor <= 1)) {
    throw new HeliosError(
      "BAD_CONFIG",
      `${where}: rope_parameters.${key} needs rope_theta > 0 and 0 < partial_rotary_factor ≤ 1, got ${r.theta} and ${r.partialRotaryFactor}`,
    );
  }
  return { ropeType: r.type, ropeTheta: r.theta, partialRotaryFactor: r.partialRotaryFactor };
}

/** The per-layer records: kind, head dim, width, RoPE and KV source (§5.2). */
function readLayers(
  c: JsonObject,
  numLayers: number,
  headDim: number,
  kvHeads: number,
  where: string,
  warnings: string[],
): { layers: Gemma4Layer[]; globalHeadDim: number; shared: number; doubleWide: boolean } {
  const types = readLayerTypes(c, numLayers, where);
  if (!types) {
    throw new HeliosError("BAD_CONFIG", `${where}: Gemma 4 needs layer_types (one per layer)`);
  }
  const kinds = types.map((t, i) => {
    if (t === "sliding_attention") return "sliding" as const;
    if (t === "full_attention") return "full" as const;
    throw new HeliosError("BAD_CONFIG", `${where}: layer_types[${i}] is ${JSON.stringify(t)}`);
  });
  const firstFull = kinds.indexOf("full");
  const fromPerLayer = firstFull >= 0 ? perLayer(c, firstFull) : undefined;
  const globalHeadDim = optInt(c, "global_head_dim", 0, where) ||
    (fromPerLayer ? optInt(fromPerLayer, "head_dim", 0, where) : 0) || headDim;
  for (const [i, k] of kinds.entries()) {
    const p = perLayer(c, i);
    const kv = p && optInt(p, "num_key_value_heads", kvHeads, where);
    if (kv !== undefined && kv !== kvHeads) {
      refuse(
        where,
        `Gemma 4 layer ${i} (${k}) has ${kv} KV heads ≠ num_key_value_heads ${kvHeads}; HELIOS runs one KV width`,
      );
    }
  }
  const shared = optInt(c, "num_kv_shared_layers", 0, where);
  const firstShared = numLayers - shared;
  if (shared > 0 && firstShared <= 0) {
    throw new HeliosError(
      "BAD_CONFIG",
      `${where}: num_kv_shared_layers ${shared} leaves no layer with its own KV cache (${numLayers} layers)`,
    );
  }
  const doubleWide = c.use_double_wide_mlp === true && shared > 0;
  const rawInter = c.intermediate_size;
  const interOf = (i: number): number =>
    Array.isArray(rawInter)
      ? positiveInt({ intermediate_size: rawInter[i] }, "intermediate_size", where)
      : positiveInt(c, "intermediate_size", where);
  const spec = readRope(c, where);
  const rope = {
    sliding: ropeOf(spec, "sliding", where, warnings),
    full: ropeOf(spec, "full", where, warnings),
  };
  const layers = kinds.map((kind, i): Gemma4Layer => {
    let kvSource = i;
    if (i >= firstShared) {
      kvSource = kinds.lastIndexOf(kind, firstShared - 1);
      if (kvSource < 0) {
        refuse(
          where,
          `Gemma 4 KV-shared layer ${i} (${kind}) has no earlier ${kind} layer to share with`,
        );
      }
    }
    const inter = interOf(i) * (doubleWide && i >= firstShared ? 2 : 1);
    return {
      kind,
      headDim: kind === "full" ? globalHeadDim : headDim,
      intermediateSize: inter,
      ...rope[kind],
      kvSource,
    };
  });
  return { layers, globalHeadDim, shared, doubleWide };
}

/** The image settings of `processor_config.json` that GM4V fixes (§5.5, §5.6). */
function readProcessor(processor: JsonObject | undefined, where: string) {
  const ip = processor ? subConfig(processor, "image_processor") ?? processor : {};
  const at = `${where.replace(/config\.json$/, "processor_config.json")}`;
  const bool = (k: string, want: boolean) => {
    if (typeof ip[k] === "boolean" && ip[k] !== want) {
      refuse(at, `image_processor.${k} ${ip[k]} is not what the HELIOS Gemma 4 runner does`);
    }
  };
  bool("do_normalize", false);
  bool("do_convert_rgb", true);
  bool("do_rescale", true);
  bool("do_resize", true);
  const resample = optInt(ip, "resample", 3, at);
  if (resample !== 3) {
    refuse(at, `image_processor.resample ${resample}: HELIOS resizes bicubic (3)`);
  }
  return {
    patchSize: optInt(ip, "patch_size", 0, at),
    poolingKernelSize: optInt(ip, "pooling_kernel_size", 0, at),
    maxSoftTokens: optInt(ip, "max_soft_tokens", 0, at),
    rescaleFactor: optNum(ip, "rescale_factor", 1 / 255, at),
  };
}

function readVision(config: JsonObject, processor: JsonObject | undefined, where: string) {
  const v = subConfig(config, "vision_config")!;
  const p = readProcessor(processor, where);
  const numHeads = positiveInt(v, "num_attention_heads", where);
  const kv = optInt(v, "num_key_value_heads", numHeads, where);
  if (kv !== numHeads) {
    refuse(where, `Gemma 4 vision with ${kv} KV heads ≠ ${numHeads} heads is not runnable`);
  }
  if (v.standardize === true) {
    refuse(where, "Gemma 4 vision with standardize is not runnable by HELIOS");
  }
  const hiddenSize = positiveInt(v, "hidden_size", where);
  const headDim = optInt(v, "head_dim", 0, where) || hiddenSize / numHeads;
  if (headDim * numHeads !== hiddenSize) {
    throw new HeliosError(
      "BAD_CONFIG",
      `${where}: vision heads ${numHeads} × head_dim ${headDim} ≠ hidden_size ${hiddenSize}`,
    );
  }
  const patchSize = positiveInt(v, "patch_size", where);
  if (p.patchSize && p.patchSize !== patchSize) {
    throw new HeliosError(
      "BAD_CONFIG",
      `${where}: processor patch_size ${p.patchSize} ≠ vision_config.patch_size ${patchSize}`,
    );
  }
  const pool = p.poolingKernelSize || optInt(v, "pooling_kernel_size", 3, where);
  if (pool !== 3) {
    refuse(where, `Gemma 4 vision pooling_kernel_size ${pool}: the HELIOS runner pools 3 × 3`);
  }
  const rope = subConfig(v, "rope_parameters");
  const vision: Gemma4Vision = {
    hiddenSize,
    numLayers: positiveInt(v, "num_hidden_layers", where),
    numHeads,
    headDim,
    intermediateSize: positiveInt(v, "intermediate_size", where),
    patchSize,
    positionEmbeddingSize: positiveInt(v, "position_embedding_size", where),
    poolingKernelSize: pool,
    maxSoftTokens: p.maxSoftTokens || optInt(v, "default_output_length", 280, where) || 280,
    ropeTheta: rope ? optNum(rope, "rope_theta", 100, where) : 100,
    rmsNormEps: optNum(v, "rms_norm_eps", 1e-6, where),
    rescaleFactor: p.rescaleFactor,
  };
  return vision;
}

/**
 * Reads the Gemma 4 structure of a config (`text_config` of a `gemma4` checkpoint, or the root
 * of a `gemma4_text` one), refusing what the runtime cannot run.
 *
 * @example
 * ```ts
 * import { readGemma4 } from "./gemma4_config.ts";
 * const g = readGemma4({
 *   model_type: "gemma4_text", hidden_size: 256, num_hidden_layers: 2, num_attention_heads: 2,
 *   num_key_value_heads: 1, head_dim: 128, global_head_dim: 256, intermediate_size: 512,
 *   hidden_size_per_layer_input: 256, layer_types: ["sliding_attention", "full_attention"],
 * }, undefined, "config.json", []);
 * console.log(g.layers[1].headDim); // 256
 * ```
 *
 * @param config The parsed config.json.
 * @param processor The parsed processor_config.json, when present.
 * @param where The config path, for messages.
 * @param warnings Receives fallbacks worth reporting.
 * @throws {HeliosError} `UNSUPPORTED_MODEL` for variants the runtime cannot run, `BAD_CONFIG`
 * for missing or malformed keys.
 */
export function readGemma4(
  config: JsonObject,
  processor: JsonObject | undefined,
  where: string,
  warnings: string[],
): Gemma4Dims {
  const c = subConfig(config, "text_config") ?? config;
  const numLayers = positiveInt(c, "num_hidden_layers", where);
  const numHeads = positiveInt(c, "num_attention_heads", where);
  const kvHeads = optInt(c, "num_key_value_heads", numHeads, where) || numHeads;
  const hidden = positiveInt(c, "hidden_size", where);
  const headDim = optInt(c, "head_dim", 0, where) || hidden / numHeads;
  refuseVariants(c, kvHeads, where);
  const ple = optInt(c, "hidden_size_per_layer_input", 0, where);
  if (ple === 0) {
    refuse(
      where,
      "Gemma 4 without per-layer embeddings (hidden_size_per_layer_input 0) is not runnable by HELIOS",
    );
  }
  const vocab = optInt(c, "vocab_size", 262144, where);
  const plevocab = optInt(c, "vocab_size_per_layer_input", vocab, where);
  if (plevocab !== vocab) {
    refuse(
      where,
      `Gemma 4 with vocab_size_per_layer_input ${plevocab} ≠ vocab_size ${vocab} does not fit the runtime's PLE table`,
    );
  }
  const { layers, globalHeadDim, shared, doubleWide } = readLayers(
    c,
    numLayers,
    headDim,
    kvHeads,
    where,
    warnings,
  );
  const cap = c.final_logit_softcapping;
  const dims: Gemma4Dims = {
    layers,
    slidingWindow: optInt(c, "sliding_window", 512, where),
    globalHeadDim,
    pleHiddenSize: ple,
    numKvSharedLayers: shared,
    doubleWideMlp: doubleWide,
    finalLogitSoftcap: typeof cap === "number" && cap > 0 ? cap : null,
    tokens: {
      image: optInt(config, "image_token_id", 258880, where),
      boi: optInt(config, "boi_token_id", 255999, where),
      eoi: optInt(config, "eoi_token_id", 258882, where),
      pad: optInt(c, "pad_token_id", 0, where),
    },
  };
  if (subConfig(config, "vision_config")) dims.vision = readVision(config, processor, where);
  return dims;
}
