/**
 * Gemma 4 execution hints (runtime contract §5.2, §5.3): the flat text and vision records of
 * blocks 0xA/0xB, and the binary GM4X (per-layer) and GM4V (vision) extensions of block 0xB
 * with the runtime's own acceptance checks.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import { textConfigOf } from "../model/config.ts";
import type { Gemma4Dims, Gemma4Vision, ModelSpec } from "../model/types.ts";
import {
  Gemma4Flag,
  Gemma4HeaderAt,
  GM4V_FLAGS,
  GM4V_MARKER,
  GM4V_SIZE,
  GM4X_HEADER_SIZE,
  GM4X_MARKER,
  GM4X_RECORD_SIZE,
  GM4X_VERSION,
  HINTS_HEADER_SIZE,
  ROPE_PROPORTIONAL,
  TEXT_CONFIG_BIN_SIZE,
  VISION_CONFIG_BIN_SIZE,
} from "./constants.ts";
import { attentionTypeOf, dtypeOf, HintFloat, type HintRecord } from "./derive.ts";

const f = (v: number): HintFloat => new HintFloat(v);

function g4(spec: ModelSpec): Gemma4Dims {
  if (!spec.gemma4) throw new HeliosError("BAD_HINTS", `${spec.dir}: no Gemma 4 structure`);
  return spec.gemma4;
}

/**
 * The text record: the runtime's mock keys (arch `gemma4`, dimensions, local head dim) plus
 * `final_logit_softcapping` and what the binary TextModelConfigBin carries. Per-layer truth
 * (kinds, head dims, widths, RoPE) is GM4X's; the JSON only repeats the base values so that it
 * never contradicts the binary (JSON overrides it, §5.3).
 */
export function deriveGemma4Text(spec: ModelSpec): HintRecord {
  const g = g4(spec);
  const d = spec.text!;
  const c = spec.textConfig ?? textConfigOf(spec.config);
  const local = g.layers.find((l) => l.kind === "sliding") ?? g.layers[0];
  const r: HintRecord = new Map();
  r.set("arch", "gemma4");
  r.set("model_type", "gemma4_text");
  r.set("dtype", dtypeOf(spec, c));
  r.set("num_hidden_layers", d.numLayers);
  r.set("hidden_size", d.hiddenSize);
  r.set("intermediate_size", d.intermediateSize);
  r.set("vocab_size", d.vocabSize);
  r.set("num_attention_heads", d.numHeads);
  r.set("num_key_value_heads", d.numKvHeads);
  r.set("head_dim", d.headDim);
  r.set("attention_type", attentionTypeOf(d.numHeads, d.numKvHeads));
  r.set("qkv_layout", "separate");
  r.set("use_qk_norm", true);
  r.set("mlp_type", "geglu");
  r.set("mlp_activation", "gelu_new");
  r.set("norm_type", "rmsnorm");
  r.set("rms_norm_eps", f(d.rmsNormEps));
  r.set("rope_type", "default");
  r.set("rope_theta", f(local.ropeTheta));
  r.set("rope_scaling_factor", f(1));
  r.set("partial_rotary_factor", f(1));
  r.set("tie_word_embeddings", d.tieWordEmbeddings);
  r.set("max_position_embeddings", d.maxPositions);
  r.set("sliding_window", g.slidingWindow);
  r.set("global_head_dim", g.globalHeadDim);
  r.set("hidden_size_per_layer_input", g.pleHiddenSize);
  r.set("num_kv_shared_layers", g.numKvSharedLayers);
  if (g.finalLogitSoftcap !== null) r.set("final_logit_softcapping", f(g.finalLogitSoftcap));
  return r;
}

/**
 * The vision record. It has no `encoder_type` key: JSON overrides the binary, and the binary's
 * encoder_type 4 is what makes the runtime read GM4V (§5.3).
 */
export function deriveGemma4Vision(spec: ModelSpec, textHidden: number): HintRecord {
  const g = g4(spec);
  const v = g.vision!;
  const r: HintRecord = new Map();
  r.set("encoder_arch", "gemma4");
  r.set("dtype", "fp16");
  r.set("image_size", 0);
  r.set("patch_size", v.patchSize);
  r.set("num_channels", 3);
  r.set("hidden_size", v.hiddenSize);
  r.set("num_hidden_layers", v.numLayers);
  r.set("num_attention_heads", v.numHeads);
  r.set("head_dim", v.headDim);
  r.set("intermediate_size", v.intermediateSize);
  r.set("layer_norm_eps", f(v.rmsNormEps));
  r.set("projector_type", "linear");
  r.set("projection_dim", textHidden);
  r.set("num_image_tokens", v.maxSoftTokens);
  r.set("image_token_id", g.tokens.image);
  r.set("position_embedding_size", v.positionEmbeddingSize);
  r.set("pooling_kernel_size", v.poolingKernelSize);
  return r;
}

/** The GM4X header flags a config implies (§5.10 item 8: every bit it implies). */
function gemma4Flags(g: Gemma4Dims): number {
  let flags = Gemma4Flag.PLE | Gemma4Flag.LAYER_SCALAR | Gemma4Flag.FOUR_NORM_BLOCK;
  if (g.finalLogitSoftcap !== null) flags |= Gemma4Flag.LOGIT_SOFTCAP;
  if (g.numKvSharedLayers > 0) flags |= Gemma4Flag.SHARED_KV;
  if (g.doubleWideMlp) flags |= Gemma4Flag.DOUBLE_WIDE_MLP;
  return flags;
}

/**
 * Encodes GM4X: the 32-byte header and one 40-byte record per layer (§5.2).
 *
 * @example
 * ```ts ignore
 * import { encodeGm4x } from "./gemma4.ts";
 * const bytes = encodeGm4x(spec.gemma4!); // 32 + 40 × layers bytes
 * ```
 */
export function encodeGm4x(g: Gemma4Dims): Uint8Array {
  const out = new Uint8Array(GM4X_HEADER_SIZE + GM4X_RECORD_SIZE * g.layers.length);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode(GM4X_MARKER), 0);
  dv.setUint16(4, GM4X_VERSION, true);
  dv.setUint16(6, GM4X_RECORD_SIZE, true);
  dv.setUint32(8, g.layers.length, true);
  dv.setUint32(12, gemma4Flags(g), true);
  dv.setUint32(16, g.globalHeadDim, true);
  dv.setUint32(20, g.pleHiddenSize, true);
  dv.setUint32(24, g.numKvSharedLayers, true);
  for (const [i, l] of g.layers.entries()) {
    const at = GM4X_HEADER_SIZE + GM4X_RECORD_SIZE * i;
    dv.setUint32(at, l.kind === "full" ? 1 : 0, true);
    dv.setUint32(at + 4, l.kind === "full" ? 0 : g.slidingWindow, true);
    dv.setUint32(at + 8, l.headDim, true);
    dv.setUint32(at + 12, l.intermediateSize, true);
    dv.setUint32(at + 16, l.ropeType === "proportional" ? ROPE_PROPORTIONAL : 0, true);
    dv.setFloat32(at + 24, l.ropeTheta, true);
    dv.setFloat32(at + 28, l.partialRotaryFactor, true);
    // kv_share_group: parsed but unused by the runtime, −1 in its own mocks.
    dv.setInt32(at + 32, -1, true);
  }
  return out;
}

/**
 * Encodes GM4V, the 96-byte vision extension (§5.6).
 *
 * @example
 * ```ts ignore
 * import { encodeGm4v } from "./gemma4.ts";
 * const bytes = encodeGm4v(spec.gemma4!, spec.gemma4!.vision!, 1536); // 96 bytes
 * ```
 */
export function encodeGm4v(g: Gemma4Dims, v: Gemma4Vision, projectionDim: number): Uint8Array {
  const out = new Uint8Array(GM4V_SIZE);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode(GM4V_MARKER), 0);
  dv.setUint16(4, GM4X_VERSION, true);
  dv.setUint16(6, GM4V_SIZE, true);
  const u32 = [
    GM4V_FLAGS,
    v.numHeads,
    v.headDim,
    v.positionEmbeddingSize,
    v.poolingKernelSize,
    v.maxSoftTokens,
    projectionDim,
    v.patchSize,
  ];
  u32.forEach((x, i) => dv.setUint32(8 + 4 * i, x, true));
  [g.tokens.image, g.tokens.boi, g.tokens.eoi, g.tokens.pad].forEach((x, i) =>
    dv.setInt32(40 + 4 * i, x, true)
  );
  [v.ropeTheta, 1, v.rmsNormEps, v.rescaleFactor].forEach((x, i) =>
    dv.setFloat32(56 + 4 * i, x, true)
  );
  // resize multiple, resample (bicubic), activation (tanh GELU), patch order (HWC),
  // position order (x, y), reserved: the only values the runtime accepts.
  [v.patchSize * v.poolingKernelSize, 3, 1, 1, 1, 0].forEach((x, i) =>
    dv.setUint32(72 + 4 * i, x, true)
  );
  return out;
}

function bad(message: string): never {
  throw new HeliosError("BAD_HINTS", `Execution hints (block 0xB): ${message}`);
}

const marker = (dv: DataView, at: number): string =>
  String.fromCharCode(...[0, 1, 2, 3].map((i) => dv.getUint8(at + i)));

const inside = (off: number, size: number, length: number): boolean =>
  off <= length && size <= length - off;

const overlaps = (a: number, as: number, b: number, bs: number): boolean =>
  a < b + bs && b < a + as;

const finitePositive = (x: number): boolean => Number.isFinite(x) && x > 0;

/**
 * The runtime's GM4X checks (`parse_gemma4_extension`): marker, pointer inside the block,
 * magic, version, record size, layer count equal to the text config's, exact size, and each
 * record's fields.
 *
 * @example
 * ```ts ignore
 * import { checkGm4x } from "./gemma4.ts";
 * checkGm4x(new DataView(block.buffer), 64);
 * ```
 */
export function checkGm4x(dv: DataView, textOff: number): void {
  if (marker(dv, Gemma4HeaderAt.GM4X_MARKER) !== GM4X_MARKER) {
    bad("text arch gemma4 needs the GM4X marker at header byte 52");
  }
  const off = dv.getUint32(Gemma4HeaderAt.GM4X_OFFSET, true);
  const size = dv.getUint32(Gemma4HeaderAt.GM4X_SIZE, true);
  if (!inside(off, size, dv.byteLength) || size < GM4X_HEADER_SIZE) {
    bad(`GM4X extension at ${off} (${size} bytes) is outside the ${dv.byteLength}-byte block`);
  }
  if (marker(dv, off) !== GM4X_MARKER) bad(`GM4X extension at ${off} has no "GM4X" magic`);
  if (dv.getUint16(off + 4, true) !== GM4X_VERSION) bad("GM4X version must be 1");
  if (dv.getUint16(off + 6, true) !== GM4X_RECORD_SIZE) {
    bad(`GM4X record size must be ${GM4X_RECORD_SIZE}`);
  }
  const layers = dv.getUint32(off + 8, true);
  const textLayers = dv.getUint32(textOff + 24, true);
  if (layers === 0 || layers !== textLayers) {
    bad(`GM4X layer count ${layers} differs from the text config's ${textLayers} layers`);
  }
  if (size !== GM4X_HEADER_SIZE + GM4X_RECORD_SIZE * layers) {
    bad(`GM4X size ${size} must be ${GM4X_HEADER_SIZE} + ${GM4X_RECORD_SIZE} × ${layers}`);
  }
  for (let i = 0; i < layers; i++) {
    const at = off + GM4X_HEADER_SIZE + GM4X_RECORD_SIZE * i;
    if (
      dv.getUint32(at, true) > 1 || dv.getUint32(at + 16, true) > ROPE_PROPORTIONAL ||
      dv.getUint32(at + 8, true) === 0 || dv.getUint32(at + 12, true) === 0 ||
      !finitePositive(dv.getFloat32(at + 24, true)) ||
      !finitePositive(dv.getFloat32(at + 28, true))
    ) bad(`GM4X layer ${i} has invalid fields`);
  }
}

/**
 * The runtime's GM4V checks (`parse_gemma4_vision_extension`): size 96 inside the block, no
 * overlap with the header, the vision and text records or GM4X, magic, version, the exact
 * flags, and every field against the vision record.
 *
 * @example
 * ```ts ignore
 * import { checkGm4v } from "./gemma4.ts";
 * checkGm4v(new DataView(block.buffer), 192, 64);
 * ```
 */
export function checkGm4v(dv: DataView, visionOff: number, textOff: number): void {
  const off = dv.getUint32(Gemma4HeaderAt.GM4V_OFFSET, true);
  const size = dv.getUint32(Gemma4HeaderAt.GM4V_SIZE, true);
  if (!inside(off, size, dv.byteLength) || size !== GM4V_SIZE) {
    bad(`GM4V extension at ${off} (${size} bytes) is missing, truncated or not ${GM4V_SIZE} bytes`);
  }
  const gm4x = marker(dv, Gemma4HeaderAt.GM4X_MARKER) === GM4X_MARKER;
  if (
    overlaps(off, size, 0, HINTS_HEADER_SIZE) ||
    overlaps(off, size, visionOff, VISION_CONFIG_BIN_SIZE) ||
    (textOff > 0 && overlaps(off, size, textOff, TEXT_CONFIG_BIN_SIZE)) ||
    (gm4x && overlaps(
      off,
      size,
      dv.getUint32(Gemma4HeaderAt.GM4X_OFFSET, true),
      dv.getUint32(Gemma4HeaderAt.GM4X_SIZE, true),
    ))
  ) bad("GM4V extension overlaps another binary hints record");
  if (marker(dv, off) !== GM4V_MARKER) bad(`GM4V extension at ${off} has no "GM4V" magic`);
  if (dv.getUint16(off + 4, true) !== GM4X_VERSION || dv.getUint16(off + 6, true) !== GM4V_SIZE) {
    bad("GM4V version must be 1 and its record size 96");
  }
  const flags = dv.getUint32(off + 8, true);
  if (flags !== GM4V_FLAGS) {
    bad(`GM4V flags 0x${flags.toString(16)} request an unsupported vision contract (need 0xfdfd)`);
  }
  const u = (o: number) => dv.getUint32(off + o, true);
  const i = (o: number) => dv.getInt32(off + o, true);
  const fl = (o: number) => dv.getFloat32(off + o, true);
  const vu = (o: number) => dv.getUint32(visionOff + o, true);
  const heads = vu(20);
  const ok = vu(12) > 0 && vu(16) > 0 && heads > 0 && vu(24) > 0 && vu(28) === 3 &&
    vu(40) === 0 && u(12) === heads && heads * u(16) === vu(12) && u(20) > 0 && u(24) > 0 &&
    u(28) > 0 && u(32) > 0 && u(36) > 0 && u(36) === vu(8) && u(32) === vu(36) &&
    u(28) === vu(44) && i(40) === dv.getInt32(visionOff + 48, true) && i(40) >= 0 &&
    i(44) >= 0 && i(48) >= 0 && i(52) >= 0 && finitePositive(fl(56)) &&
    finitePositive(fl(60)) && finitePositive(fl(64)) && finitePositive(fl(68)) &&
    Math.abs(fl(64) - dv.getFloat32(visionOff + 32, true)) <= 1e-12 &&
    Math.abs(fl(60) - 1) <= 1e-6 && u(72) === u(36) * u(24) && u(76) === 3 && u(80) === 1 &&
    u(84) === 1 && u(88) === 1 && u(92) === 0;
  if (!ok) bad("GM4V fields are inconsistent with the vision config or unsupported");
}

/** A decoded GM4X or GM4V extension, for `inspect`. */
export type DecodedGemma4 = Record<string, number | string | Record<string, number>[]>;

/**
 * Decodes GM4X (header and per-layer records) from a validated block 0xB, or `undefined`.
 *
 * @example
 * ```ts ignore
 * import { decodeGm4x } from "./gemma4.ts";
 * console.log(decodeGm4x(new DataView(block.buffer))?.flags); // 63
 * ```
 */
export function decodeGm4x(dv: DataView): DecodedGemma4 | undefined {
  if (marker(dv, Gemma4HeaderAt.GM4X_MARKER) !== GM4X_MARKER) return undefined;
  const off = dv.getUint32(Gemma4HeaderAt.GM4X_OFFSET, true);
  const u = (o: number) => dv.getUint32(off + o, true);
  const layers: Record<string, number>[] = [];
  for (let i = 0; i < u(8); i++) {
    const at = off + GM4X_HEADER_SIZE + GM4X_RECORD_SIZE * i;
    layers.push({
      attention_kind: dv.getUint32(at, true),
      sliding_window: dv.getUint32(at + 4, true),
      head_dim: dv.getUint32(at + 8, true),
      intermediate_size: dv.getUint32(at + 12, true),
      rope_type: dv.getUint32(at + 16, true),
      rope_theta: dv.getFloat32(at + 24, true),
      partial_rotary_factor: dv.getFloat32(at + 28, true),
    });
  }
  return {
    version: dv.getUint16(off + 4, true),
    flags: u(12),
    global_head_dim: u(16),
    ple_hidden_size: u(20),
    num_kv_shared_layers: u(24),
    layers,
  };
}

/**
 * Decodes GM4V from a validated block 0xB, or `undefined` when there is none.
 *
 * @example
 * ```ts ignore
 * import { decodeGm4v } from "./gemma4.ts";
 * console.log(decodeGm4v(new DataView(block.buffer))?.flags); // 65021
 * ```
 */
export function decodeGm4v(dv: DataView): DecodedGemma4 | undefined {
  const off = dv.getUint32(Gemma4HeaderAt.GM4V_OFFSET, true);
  if (off === 0) return undefined;
  const u = (o: number) => dv.getUint32(off + o, true);
  const i = (o: number) => dv.getInt32(off + o, true);
  const fl = (o: number) => dv.getFloat32(off + o, true);
  return {
    version: dv.getUint16(off + 4, true),
    flags: u(8),
    num_key_value_heads: u(12),
    head_dim: u(16),
    position_embedding_size: u(20),
    pooling_kernel_size: u(24),
    max_soft_tokens: u(28),
    projection_dim: u(32),
    patch_size: u(36),
    image_token_id: i(40),
    boi_token_id: i(44),
    eoi_token_id: i(48),
    pad_token_id: i(52),
    rope_theta: fl(56),
    attention_scale: fl(60),
    rms_norm_eps: fl(64),
    rescale_factor: fl(68),
    resize_multiple: u(72),
    resample: u(76),
  };
}
