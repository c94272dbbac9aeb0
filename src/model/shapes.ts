/**
 * What a config implies about a checkpoint's tensors: the expected shape of each mapped tensor
 * and the tensors an architecture cannot run without. Mappers attach an {@link ExpectedShape}
 * to each {@link MappedTensor} and declare their {@link RequiredTensor}s; the planner runs
 * {@link checkMappedTensors} once per tower, so a new mapper gets the checks by filling both.
 * Optional tensors (biases, extra norms, a tied `lm_head`) are checked when present, never
 * required.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import type {
  AudioDims,
  ExpectedShape,
  MappedTensor,
  MapResult,
  MoeDims,
  RequiredTensor,
  TextDims,
  VisionDims,
} from "./types.ts";

type Dim = number | null;

function exp(shape: Dim[], from: string): ExpectedShape {
  return { shape, from };
}

/** A tensor that cannot exist: its `what` index `i` is past the config's `key` count `n`. */
function past(what: string, i: number | string, key: string, n: number): ExpectedShape {
  return { shape: [], from: key, unexpected: `${what} ${i} is past ${key} ${n}` };
}

/** `n`, or `null` (unchecked) when the config leaves it 0 (absent). */
function known(n: number): Dim {
  return n > 0 ? n : null;
}

/**
 * Attaches `expect` to a mapped tensor (leaves ignored and unknown results alone).
 *
 * @example
 * ```ts
 * import { withExpect } from "./shapes.ts";
 * const m = withExpect({ name: "text.w", block: 0, class: "fp16" }, { shape: [2], from: "x" });
 * console.log(m); // { name: "text.w", block: 0, class: "fp16", expect: { shape: [2], from: "x" } }
 * ```
 */
export function withExpect(result: MapResult, expect: ExpectedShape | undefined): MapResult {
  if (result === null || "ignore" in result || expect === undefined) return result;
  return { ...result, expect };
}

const LAYER = /^layer(\d+)\.(.+)$/;
const EXPERT = /^moe\.experts\.(\d+)\.(gate|up|down)\.weight$/;

/**
 * The shape a decoder config implies for a canonical decoder name (without block prefix:
 * `token_embedding.weight`, `layer3.attn.q_proj.weight`, …), or `undefined` for a name it says
 * nothing about.
 *
 * @example
 * ```ts
 * import { decoderExpect } from "./shapes.ts";
 * const d = {
 *   numLayers: 2, hiddenSize: 64, intermediateSize: 128, numHeads: 4, numKvHeads: 2, headDim: 16,
 *   vocabSize: 100, maxPositions: 0, ropeTheta: 1e4, rmsNormEps: 1e-6, tieWordEmbeddings: false,
 * };
 * console.log(decoderExpect("layer1.attn.k_proj.weight", d)?.shape); // [32, 64]
 * ```
 */
export function decoderExpect(
  canon: string,
  d: TextDims,
  moe?: MoeDims,
): ExpectedShape | undefined {
  const h = d.hiddenSize;
  const vocab = known(d.vocabSize);
  switch (canon) {
    case "token_embedding.weight":
    case "lm_head.weight":
      return exp([vocab, h], "vocab_size × hidden_size");
    case "lm_head.bias":
      return exp([vocab], "vocab_size");
    case "final_norm.weight":
    case "final_norm.bias":
      return exp([h], "hidden_size");
  }
  const m = LAYER.exec(canon);
  if (!m) return undefined;
  const layer = Number(m[1]);
  const part = m[2];
  if (layer >= d.numLayers) return past("layer", layer, "num_hidden_layers", d.numLayers);
  const q = d.numHeads * d.headDim;
  const kv = d.numKvHeads * d.headDim;
  const inter = known(d.intermediateSize);
  const qFrom = "num_attention_heads·head_dim";
  const kvFrom = "num_key_value_heads·head_dim";
  switch (part) {
    case "attn.q_proj.weight":
      return exp([q, h], `${qFrom} × hidden_size`);
    case "attn.k_proj.weight":
    case "attn.v_proj.weight":
      return exp([kv, h], `${kvFrom} × hidden_size`);
    case "attn.qkv_proj.weight":
      return exp([q + 2 * kv, h], `(${qFrom} + 2·${kvFrom}) × hidden_size`);
    case "attn.o_proj.weight":
      return exp([h, q], `hidden_size × ${qFrom}`);
    case "attn.q_proj.bias":
      return exp([q], qFrom);
    case "attn.k_proj.bias":
    case "attn.v_proj.bias":
      return exp([kv], kvFrom);
    case "attn.qkv_proj.bias":
      return exp([q + 2 * kv], `${qFrom} + 2·${kvFrom}`);
    case "attn.o_proj.bias":
    case "mlp.down.bias":
      return exp([h], "hidden_size");
    case "attn.q_norm.weight":
    case "attn.k_norm.weight":
      return exp([d.headDim], "head_dim");
    case "mlp.gate.weight":
    case "mlp.up.weight":
      return exp([inter, h], "intermediate_size × hidden_size");
    case "mlp.gate_up.weight":
      return exp([inter === null ? null : 2 * inter, h], "2·intermediate_size × hidden_size");
    case "mlp.down.weight":
      return exp([h, inter], "hidden_size × intermediate_size");
    case "mlp.gate.bias":
    case "mlp.up.bias":
      return exp([inter], "intermediate_size");
    case "moe.gate.weight":
      return exp([moe ? moe.numExperts : null, h], "num_local_experts × hidden_size");
  }
  if (/^ln_[a-z_]+\.(weight|bias)$/.test(part)) return exp([h], "hidden_size");
  const e = EXPERT.exec(part);
  if (e) {
    if (moe && Number(e[1]) >= moe.numExperts) {
      return past("expert", e[1], "num_local_experts", moe.numExperts);
    }
    return e[2] === "down"
      ? exp([h, inter], "hidden_size × intermediate_size")
      : exp([inter, h], "intermediate_size × hidden_size");
  }
  return undefined;
}

/**
 * The tensors a decoder needs (final names with `prefix`): the token embedding, the final norm,
 * and in every layer the two norms, the attention projections (separate or fused) and an MLP
 * (gated, fused, or a router with all its experts). `lm_head` is not required: without it the
 * embedding is tied.
 *
 * @example
 * ```ts
 * import { decoderRequired } from "./shapes.ts";
 * const d = {
 *   numLayers: 1, hiddenSize: 64, intermediateSize: 128, numHeads: 4, numKvHeads: 2, headDim: 16,
 *   vocabSize: 100, maxPositions: 0, ropeTheta: 1e4, rmsNormEps: 1e-6, tieWordEmbeddings: false,
 * };
 * console.log(decoderRequired("text.", d)[0]); // { anyOf: [["text.token_embedding.weight"]] }
 * ```
 */
export function decoderRequired(prefix: string, d: TextDims, moe?: MoeDims): RequiredTensor[] {
  const one = (n: string): RequiredTensor => ({ anyOf: [[prefix + n]] });
  const out = [one("token_embedding.weight"), one("final_norm.weight")];
  for (let i = 0; i < d.numLayers; i++) {
    const l = `${prefix}layer${i}.`;
    out.push(one(`layer${i}.ln_attn_in.weight`), one(`layer${i}.ln_attn_out.weight`));
    out.push({
      anyOf: [
        ["q", "k", "v"].map((p) => `${l}attn.${p}_proj.weight`),
        [`${l}attn.qkv_proj.weight`],
      ],
    });
    out.push(one(`layer${i}.attn.o_proj.weight`));
    const mlp: string[][] = [
      [`${l}mlp.up.weight`, `${l}mlp.down.weight`],
      [`${l}mlp.gate_up.weight`, `${l}mlp.down.weight`],
    ];
    if (moe) {
      const experts = [`${l}moe.gate.weight`];
      for (let e = 0; e < moe.numExperts; e++) {
        for (const p of ["gate", "up", "down"]) experts.push(`${l}moe.experts.${e}.${p}.weight`);
      }
      mlp.push(experts);
    }
    out.push({ anyOf: mlp });
  }
  return out;
}

/**
 * The shape of an encoder layer tensor (`layerN.attn.*`, `layerN.mlp.fc1/fc2.*`, `ln1/ln2`), or
 * `undefined` for a name that is not one.
 */
function encoderLayerExpect(
  rest: string,
  dims: { hidden: number; inter: number; layers: number; layersKey: string; interKey: string },
): ExpectedShape | undefined {
  const m = LAYER.exec(rest);
  if (!m) return undefined;
  const layer = Number(m[1]);
  const part = m[2];
  if (layer >= dims.layers) return past("layer", layer, dims.layersKey, dims.layers);
  const { hidden: h, inter: f } = dims;
  if (/^attn\.[qkvo]_proj\.weight$/.test(part)) return exp([h, h], "hidden_size × hidden_size");
  if (/^attn\.[qkvo]_proj\.bias$/.test(part) || /^ln[12]\.(weight|bias)$/.test(part)) {
    return exp([h], "hidden_size");
  }
  switch (part) {
    case "mlp.fc1.weight":
      return exp([f, h], `${dims.interKey} × hidden_size`);
    case "mlp.fc1.bias":
      return exp([f], dims.interKey);
    case "mlp.fc2.weight":
      return exp([h, f], `hidden_size × ${dims.interKey}`);
    case "mlp.fc2.bias":
      return exp([h], "hidden_size");
  }
  return undefined;
}

function encoderRequired(prefix: string, layers: number, first: string[]): RequiredTensor[] {
  const out: RequiredTensor[] = first.map((n) => ({ anyOf: [[prefix + n]] }));
  for (let i = 0; i < layers; i++) {
    for (
      const p of [
        "attn.q_proj.weight",
        "attn.k_proj.weight",
        "attn.v_proj.weight",
        "attn.o_proj.weight",
        "mlp.fc1.weight",
        "mlp.fc2.weight",
        "ln1.weight",
        "ln2.weight",
      ]
    ) out.push({ anyOf: [[`${prefix}layer${i}.${p}`]] });
  }
  return out;
}

/**
 * The shape a CLIP/SigLIP config implies for a vision tensor (final name without `vision.`).
 *
 * @example
 * ```ts ignore
 * import { visionExpect } from "./shapes.ts";
 * console.log(visionExpect("patch_embed.weight", spec.vision!)?.shape); // [768, 3, 16, 16]
 * ```
 */
export function visionExpect(rest: string, v: VisionDims): ExpectedShape | undefined {
  const h = v.hiddenSize;
  const patches = (Math.floor(v.imageSize / v.patchSize)) ** 2;
  switch (rest) {
    case "patch_embed.weight":
      return exp(
        [h, v.numChannels, v.patchSize, v.patchSize],
        "hidden_size × num_channels × patch_size × patch_size",
      );
    case "patch_embed.bias":
    case "cls_token":
    case "pre_layernorm.weight":
    case "pre_layernorm.bias":
    case "post_layernorm.weight":
    case "post_layernorm.bias":
      return exp([h], "hidden_size");
    case "pos_embed.weight":
      return exp(
        [v.encoder === "clip" ? patches + 1 : patches, h],
        `(image_size/patch_size)²${v.encoder === "clip" ? " + 1" : ""} × hidden_size`,
      );
    case "head.weight":
      return exp([known(v.projectionDim), h], "projection_dim × hidden_size");
  }
  return encoderLayerExpect(rest, {
    hidden: h,
    inter: v.intermediateSize,
    layers: v.numLayers,
    layersKey: "num_hidden_layers",
    interKey: "intermediate_size",
  });
}

/**
 * The tensors a CLIP/SigLIP vision tower needs: the patch embedding and every layer's
 * attention, MLP and norms.
 *
 * @example
 * ```ts ignore
 * import { visionRequired } from "./shapes.ts";
 * console.log(visionRequired(spec.vision!).length);
 * ```
 */
export function visionRequired(v: VisionDims): RequiredTensor[] {
  return encoderRequired("vision.", v.numLayers, ["patch_embed.weight"]);
}

/**
 * The shape a Whisper config implies for an audio tensor (final name without `audio.`).
 *
 * @example
 * ```ts ignore
 * import { audioExpect } from "./shapes.ts";
 * console.log(audioExpect("conv1.weight", spec.audio!)?.shape); // [384, 80, 3]
 * ```
 */
export function audioExpect(rest: string, a: AudioDims): ExpectedShape | undefined {
  const h = a.hiddenSize;
  switch (rest) {
    case "conv1.weight":
      return exp([h, a.numMelBins, 3], "d_model × num_mel_bins × 3");
    case "conv2.weight":
      return exp([h, h, 3], "d_model × d_model × 3");
    case "conv1.bias":
    case "conv2.bias":
    case "ln_post.weight":
    case "ln_post.bias":
      return exp([h], "d_model");
    case "pos_embed.weight":
      return exp([a.maxSourcePositions, h], "max_source_positions × d_model");
  }
  return encoderLayerExpect(rest, {
    hidden: h,
    inter: a.ffnDim,
    layers: a.numLayers,
    layersKey: "encoder_layers",
    interKey: "encoder_ffn_dim",
  });
}

/**
 * The tensors a Whisper encoder needs: both convolutions and every layer's attention, MLP and
 * norms.
 *
 * @example
 * ```ts ignore
 * import { audioRequired } from "./shapes.ts";
 * console.log(audioRequired(spec.audio!).length);
 * ```
 */
export function audioRequired(a: AudioDims): RequiredTensor[] {
  return encoderRequired("audio.", a.numLayers, ["conv1.weight", "conv2.weight"]);
}

/** A mapped source tensor, as {@link checkMappedTensors} needs it. */
export interface CheckedTensor {
  /** Shard path. */
  file: string;
  /** Source (HF) name. */
  source: string;
  /** Source shape. */
  shape: readonly number[];
  /** The mapper's answer. */
  mapped: MappedTensor;
}

function fmt(shape: readonly Dim[]): string {
  return `[${shape.map((d) => d ?? "*").join(", ")}]`;
}

/**
 * Checks every mapped tensor against the shape its config implies, then that every required
 * tensor is there; the first problem is a `BAD_MODEL` error naming the tensor, the expected
 * and the found shape (or the missing tensor).
 *
 * @example
 * ```ts
 * import { checkMappedTensors } from "./shapes.ts";
 * checkMappedTensors([{
 *   file: "m.safetensors", source: "w", shape: [2],
 *   mapped: { name: "text.w", block: 0, class: "fp16", expect: { shape: [2], from: "x" } },
 * }], [{ anyOf: [["text.w"]] }], "models/m");
 * ```
 */
export function checkMappedTensors(
  tensors: readonly CheckedTensor[],
  required: readonly RequiredTensor[],
  dir: string,
): void {
  for (const t of tensors) {
    const e = t.mapped.expect;
    if (!e) continue;
    const where = `${t.file}: tensor '${t.source}'`;
    if (e.unexpected) {
      throw new HeliosError("BAD_MODEL", `${where}: ${e.unexpected} in ${dir}/config.json`);
    }
    const ok = t.shape.length === e.shape.length &&
      e.shape.every((d, i) => d === null || d === t.shape[i]);
    if (!ok) {
      throw new HeliosError(
        "BAD_MODEL",
        `${where} has shape ${fmt(t.shape)} but ${dir}/config.json implies ${
          fmt(e.shape)
        } (${e.from})`,
      );
    }
  }
  const names = new Set(tensors.map((t) => t.mapped.name));
  for (const r of required) {
    if (r.anyOf.some((alt) => alt.every((n) => names.has(n)))) continue;
    const missing = r.anyOf[0].filter((n) => !names.has(n));
    const others = r.anyOf.length > 1
      ? ` (or ${r.anyOf.slice(1).map((a) => a.join(" + ")).join(", or ")})`
      : "";
    throw new HeliosError(
      "BAD_MODEL",
      `${dir}: the checkpoint has no tensor for '${
        missing.join("' + '")
      }'${others}, which the architecture requires`,
    );
  }
}
