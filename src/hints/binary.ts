/**
 * The binary execution hints block 0xB (reference §11.3): builder, the runtime's validity
 * checks, and a decoder for `inspect`. The builder encodes the same flat records as the JSON,
 * read with the runtime's `from_json` defaults, so the two blocks agree.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import {
  ARCH_CODES,
  ARCH_GEMMA4,
  ATTENTION_TYPES,
  DTYPES,
  ENCODER_GEMMA4,
  ENCODER_TYPES,
  Gemma4HeaderAt,
  GM4X_MARKER,
  HINTS_ALIGN,
  HINTS_HEADER_SIZE,
  HINTS_MAGIC,
  HINTS_VERSION_MAJOR,
  HINTS_VERSION_MINOR,
  HintsFlag,
  MLP_ACTIVATIONS,
  MLP_TYPES,
  NORM_TYPES,
  PROJECTOR_TYPES,
  QKV_LAYOUTS,
  ROPE_TYPES,
  TEXT_CONFIG_BIN_SIZE,
  TextConfigFlag,
  VISION_CONFIG_BIN_SIZE,
} from "./constants.ts";
import { collectSections, HintFloat, type HintRecord, type HintsTower } from "./derive.ts";
import {
  checkGm4v,
  checkGm4x,
  type DecodedGemma4,
  decodeGm4v,
  decodeGm4x,
  encodeGm4v,
  encodeGm4x,
} from "./gemma4.ts";

function numOf(rec: HintRecord, key: string, fallback: number): number {
  const v = rec.get(key);
  if (v instanceof HintFloat) return v.value;
  return typeof v === "number" ? v : fallback;
}

function boolOf(rec: HintRecord, key: string): boolean {
  return rec.get(key) === true;
}

function enumOf(rec: HintRecord, key: string, table: readonly string[], fallback: number): number {
  const v = rec.get(key);
  const i = typeof v === "string" ? table.indexOf(v) : -1;
  return i >= 0 ? i : fallback;
}

/** The largest finite f32. */
const F32_MAX = 3.4028234663852886e38;

/**
 * A value for a binary field of `bits` (u32, i32) or f32, refused rather than wrapped or
 * turned into Inf when it does not fit (config values are range-checked before; this is the
 * last guard, so the hints never say something else than the JSON).
 */
function fit(v: number, kind: "u32" | "i32" | "f32", field: string): number {
  const ok = kind === "f32" ? Number.isFinite(v) && Math.abs(v) <= F32_MAX : Number.isInteger(v) &&
    (kind === "u32" ? v >= 0 && v <= 0xffffffff : v >= -0x80000000 && v <= 0x7fffffff);
  if (!ok) {
    throw new HeliosError(
      "BAD_HINTS",
      `Execution hint '${field}' is ${v}, which does not fit its ${kind} field`,
    );
  }
  return v;
}

function setU32(dv: DataView, at: number, v: number, field: string): void {
  dv.setUint32(at, fit(v, "u32", field), true);
}

function setF32(dv: DataView, at: number, v: number, field: string): void {
  dv.setFloat32(at, fit(v, "f32", field), true);
}

/** A u32 field as [key, value]: the key names the field when its value does not fit. */
const num = (rec: HintRecord, key: string, fallback: number): [string, number] => [
  key,
  numOf(rec, key, fallback),
];

/** An enum field as [key, index], like {@link num}. */
const enm = (
  rec: HintRecord,
  key: string,
  table: readonly string[],
  fallback: number,
): [string, number] => [key, enumOf(rec, key, table, fallback)];

function writeText(dv: DataView, at: number, rec: HintRecord): void {
  const headDim = numOf(rec, "head_dim", 128);
  const floats: [string, number][] = [
    ["rope_theta", 10000],
    ["rope_scaling_factor", 1],
    ["partial_rotary_factor", 1],
    ["rms_norm_eps", 1e-6],
    ["layer_norm_eps", 1e-5],
  ];
  floats.forEach(([k, d], i) => setF32(dv, at + 4 * i, numOf(rec, k, d), k));
  const u32: [string, number][] = [
    num(rec, "num_hidden_layers", 32),
    num(rec, "hidden_size", 4096),
    num(rec, "intermediate_size", 11008),
    num(rec, "vocab_size", 32000),
    num(rec, "max_position_embeddings", 4096),
    num(rec, "rope_dim", headDim),
    num(rec, "num_attention_heads", 32),
    num(rec, "num_key_value_heads", 8),
    ["head_dim", headDim],
    enm(rec, "attention_type", ATTENTION_TYPES, 1),
    enm(rec, "qkv_layout", QKV_LAYOUTS, 0),
    ["arch", ARCH_CODES[String(rec.get("arch"))] ?? 0],
    enm(rec, "dtype", DTYPES, 1),
    enm(rec, "mlp_type", MLP_TYPES, 0),
    enm(rec, "mlp_activation", MLP_ACTIVATIONS, 0),
    enm(rec, "norm_type", NORM_TYPES, 0),
    enm(rec, "rope_type", ROPE_TYPES, 0),
  ];
  u32.forEach(([k, v], i) => setU32(dv, at + 24 + 4 * i, v, k));
  let flags = 0;
  if (boolOf(rec, "attention_bias")) flags |= TextConfigFlag.ATTENTION_BIAS;
  if (boolOf(rec, "mlp_bias")) flags |= TextConfigFlag.MLP_BIAS;
  if (boolOf(rec, "norm_bias")) flags |= TextConfigFlag.NORM_BIAS;
  if (boolOf(rec, "use_qk_norm")) flags |= TextConfigFlag.USE_QK_NORM;
  if (boolOf(rec, "parallel_attention")) flags |= TextConfigFlag.PARALLEL_ATTENTION;
  if (boolOf(rec, "tie_word_embeddings")) flags |= TextConfigFlag.TIE_WORD_EMBEDDINGS;
  dv.setUint32(at + 92, flags, true);
}

function writeVision(dv: DataView, at: number, rec: HintRecord): void {
  const projector = rec.get("projector_type");
  const u32: [string, number][] = [
    enm(rec, "encoder_arch", ENCODER_TYPES, 0),
    num(rec, "image_size", 224),
    num(rec, "patch_size", 14),
    num(rec, "hidden_size", 1024),
    num(rec, "num_hidden_layers", 24),
    num(rec, "num_attention_heads", 16),
    num(rec, "intermediate_size", 4096),
    num(rec, "num_channels", 3),
  ];
  u32.forEach(([k, v], i) => setU32(dv, at + 4 * i, v, k));
  setF32(dv, at + 32, numOf(rec, "layer_norm_eps", 1e-5), "layer_norm_eps");
  setU32(
    dv,
    at + 36,
    projector === "none" ? 0 : numOf(rec, "projection_dim", 0),
    "projection_dim",
  );
  setU32(dv, at + 40, enumOf(rec, "projector_type", PROJECTOR_TYPES, 0), "projector_type");
  setU32(dv, at + 44, numOf(rec, "num_image_tokens", 0), "num_image_tokens");
  dv.setInt32(at + 48, fit(numOf(rec, "image_token_id", -1), "i32", "image_token_id"), true);
  dv.setUint32(at + 52, 0, true);
}

/**
 * Builds the binary block 0xB: the 64-byte header, then a TextModelConfigBin for each of text,
 * code and cortex present, and a VisionModelConfigBin when a vision tower exists.
 *
 * @example
 * ```ts ignore
 * import { buildHintsBinary } from "./binary.ts";
 * const bin = buildHintsBinary([{ spec, tensors }]); // 192 bytes for a text LLM
 * ```
 *
 * @param towers Each converted model with its final mapped tensors.
 * @returns The block, or `null` when no tower has a binary form (for example audio only).
 */
export function buildHintsBinary(towers: HintsTower[]): Uint8Array | null {
  const s = collectSections(towers);
  const text = s.get("text");
  const vision = s.get("vision");
  const code = s.get("code");
  const cortex = s.get("cortex");
  if (!text && !vision && !code && !cortex) return null;
  const gm4 = gemma4Extensions(towers, text, vision);
  const records = HINTS_HEADER_SIZE + (text ? TEXT_CONFIG_BIN_SIZE : 0) +
    (vision ? VISION_CONFIG_BIN_SIZE : 0) + (code ? TEXT_CONFIG_BIN_SIZE : 0) +
    (cortex ? TEXT_CONFIG_BIN_SIZE : 0);
  const size = records + (gm4.gm4x?.length ?? 0) + (gm4.gm4v?.length ?? 0);
  const out = new Uint8Array(Math.ceil(size / HINTS_ALIGN) * HINTS_ALIGN);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, HINTS_MAGIC, true);
  dv.setUint16(4, HINTS_VERSION_MAJOR, true);
  dv.setUint16(6, HINTS_VERSION_MINOR, true);
  let at = HINTS_HEADER_SIZE;
  let flags = 0;
  if (text) {
    dv.setUint32(8, at, true);
    dv.setUint16(32, 1, true);
    writeText(dv, at, text);
    flags |= HintsFlag.TEXT;
    at += TEXT_CONFIG_BIN_SIZE;
  }
  if (vision) {
    dv.setUint32(12, at, true);
    dv.setUint16(34, 1, true);
    writeVision(dv, at, vision);
    flags |= HintsFlag.VISION;
    at += VISION_CONFIG_BIN_SIZE;
  }
  if (code) {
    dv.setUint32(20, at, true);
    dv.setUint16(38, 1, true);
    writeText(dv, at, code);
    flags |= HintsFlag.CODE;
    at += TEXT_CONFIG_BIN_SIZE;
  }
  if (cortex) {
    dv.setUint32(24, at, true);
    writeText(dv, at, cortex);
    flags |= HintsFlag.CORTEX;
    at += TEXT_CONFIG_BIN_SIZE;
  }
  dv.setUint32(40, flags, true);
  // Gemma 4 extensions after the records, their pointers in the header's reserved bytes.
  if (gm4.gm4x) {
    out.set(gm4.gm4x, at);
    dv.setUint32(Gemma4HeaderAt.GM4X_OFFSET, at, true);
    dv.setUint32(Gemma4HeaderAt.GM4X_SIZE, gm4.gm4x.length, true);
    out.set(new TextEncoder().encode(GM4X_MARKER), Gemma4HeaderAt.GM4X_MARKER);
    at += gm4.gm4x.length;
  }
  if (gm4.gm4v) {
    out.set(gm4.gm4v, at);
    dv.setUint32(Gemma4HeaderAt.GM4V_OFFSET, at, true);
    dv.setUint32(Gemma4HeaderAt.GM4V_SIZE, gm4.gm4v.length, true);
  }
  validateHintsBinary(out);
  return out;
}

/** GM4X when the text record is Gemma 4's, GM4V when the vision record is (§5.2, §5.6). */
function gemma4Extensions(
  towers: HintsTower[],
  text: HintRecord | undefined,
  vision: HintRecord | undefined,
): { gm4x?: Uint8Array; gm4v?: Uint8Array } {
  const g = towers.find((t) => t.spec.gemma4)?.spec.gemma4;
  if (!g) return {};
  return {
    ...(text?.get("arch") === "gemma4" ? { gm4x: encodeGm4x(g) } : {}),
    ...(vision?.get("encoder_arch") === "gemma4" && g.vision
      ? { gm4v: encodeGm4v(g, g.vision, numOf(vision, "projection_dim", 0)) }
      : {}),
  };
}

function bad(message: string): never {
  throw new HeliosError("BAD_HINTS", `Execution hints (block 0xB): ${message}`);
}

function fits(offset: number, size: number, length: number): boolean {
  return offset + size <= length;
}

function checkTextAt(dv: DataView, off: number, where: string): void {
  if (!fits(off, TEXT_CONFIG_BIN_SIZE, dv.byteLength)) {
    bad(`${where} config at ${off} does not fit in ${dv.byteLength} bytes`);
  }
  if (dv.getUint32(off + 68, true) === ARCH_GEMMA4) {
    if (where !== "text") bad(`the ${where} config has arch gemma4, which only the text slot runs`);
    checkGm4x(dv, off);
  }
}

/**
 * Applies the C++ runtime's checks on block 0xB (§11.3); a block failing any of them makes
 * the runtime refuse to open the file.
 *
 * @example
 * ```ts
 * import { validateHintsBinary } from "./binary.ts";
 * try {
 *   validateHintsBinary(new Uint8Array(16));
 * } catch (e) {
 *   console.log((e as { code: string }).code); // "BAD_HINTS"
 * }
 * ```
 *
 * @param bytes The block's bytes.
 * @throws {HeliosError} `BAD_HINTS` naming the first failed check.
 */
export function validateHintsBinary(bytes: Uint8Array): void {
  if (bytes.byteLength < HINTS_HEADER_SIZE) {
    bad(`${bytes.byteLength} bytes, shorter than the ${HINTS_HEADER_SIZE}-byte header`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0, true);
  if (magic !== HINTS_MAGIC) bad(`magic 0x${magic.toString(16)} is not 0x48494e54 ("HINT")`);
  const major = dv.getUint16(4, true);
  if (major !== HINTS_VERSION_MAJOR) bad(`version_major ${major} is not 1`);
  const textOff = dv.getUint32(8, true);
  if (dv.getUint16(32, true) !== 0 && textOff === 0) {
    bad(`num_text_models is ${dv.getUint16(32, true)} but text_offset is 0`);
  }
  if (textOff > 0) checkTextAt(dv, textOff, "text");
  const visionOff = dv.getUint32(12, true);
  const gm4vOff = dv.getUint32(56, true);
  const gm4vSize = dv.getUint32(60, true);
  let gemma4Vision = false;
  if (visionOff > 0) {
    if (dv.getUint16(34, true) !== 1) {
      bad(`vision_offset is set but num_vision_models is ${dv.getUint16(34, true)}, not 1`);
    }
    if (!fits(visionOff, VISION_CONFIG_BIN_SIZE, bytes.byteLength)) {
      bad(`vision config at ${visionOff} does not fit in ${bytes.byteLength} bytes`);
    }
    const enc = dv.getUint32(visionOff, true);
    if (enc > ENCODER_GEMMA4) bad(`vision encoder_type ${enc} is above ${ENCODER_GEMMA4}`);
    gemma4Vision = enc === ENCODER_GEMMA4;
    if (gemma4Vision) checkGm4v(dv, visionOff, textOff);
  }
  if ((gm4vOff !== 0 || gm4vSize !== 0) && !gemma4Vision) {
    bad(`a GM4V extension pointer is set without a gemma4 vision config`);
  }
  const codeOff = dv.getUint32(20, true);
  if (codeOff > 0) checkTextAt(dv, codeOff, "code");
  const cortexOff = dv.getUint32(24, true);
  if (cortexOff > 0) checkTextAt(dv, cortexOff, "cortex");
}

/** A decoded TextModelConfigBin, enums as names. */
export type DecodedTextConfig = Record<string, number | string | boolean>;

/** A decoded block 0xB, for `inspect`. */
export interface DecodedHints {
  /** Header version `major.minor`. */
  version: string;
  /** Header flags (which configs are present). */
  flags: number;
  /** The text config, when present. */
  text?: DecodedTextConfig;
  /** The vision config, when present. */
  vision?: DecodedTextConfig;
  /** The code LLM's config, when present. */
  code?: DecodedTextConfig;
  /** The cortex LLM's config, when present. */
  cortex?: DecodedTextConfig;
  /** Gemma 4's per-layer extension, when present. */
  gm4x?: DecodedGemma4;
  /** Gemma 4's vision extension, when present. */
  gm4v?: DecodedGemma4;
}

const name = (table: readonly string[], i: number): string => table[i] ?? `unknown(${i})`;

function decodeText(dv: DataView, at: number): DecodedTextConfig {
  const u = (o: number) => dv.getUint32(at + o, true);
  const flags = u(92);
  const archCode = u(68);
  const arch = Object.entries(ARCH_CODES).find(([, c]) => c === archCode)?.[0] ?? "unknown";
  return {
    rope_theta: dv.getFloat32(at, true),
    rope_scaling_factor: dv.getFloat32(at + 4, true),
    partial_rotary_factor: dv.getFloat32(at + 8, true),
    rms_norm_eps: dv.getFloat32(at + 12, true),
    layer_norm_eps: dv.getFloat32(at + 16, true),
    num_hidden_layers: u(24),
    hidden_size: u(28),
    intermediate_size: u(32),
    vocab_size: u(36),
    max_position_embeddings: u(40),
    rope_dim: u(44),
    num_attention_heads: u(48),
    num_key_value_heads: u(52),
    head_dim: u(56),
    attention_type: name(ATTENTION_TYPES, u(60)),
    qkv_layout: name(QKV_LAYOUTS, u(64)),
    arch,
    dtype: name(DTYPES, u(72)),
    mlp_type: name(MLP_TYPES, u(76)),
    mlp_activation: name(MLP_ACTIVATIONS, u(80)),
    norm_type: name(NORM_TYPES, u(84)),
    rope_type: name(ROPE_TYPES, u(88)),
    attention_bias: (flags & TextConfigFlag.ATTENTION_BIAS) !== 0,
    mlp_bias: (flags & TextConfigFlag.MLP_BIAS) !== 0,
    norm_bias: (flags & TextConfigFlag.NORM_BIAS) !== 0,
    use_qk_norm: (flags & TextConfigFlag.USE_QK_NORM) !== 0,
    parallel_attention: (flags & TextConfigFlag.PARALLEL_ATTENTION) !== 0,
    tie_word_embeddings: (flags & TextConfigFlag.TIE_WORD_EMBEDDINGS) !== 0,
  };
}

function decodeVision(dv: DataView, at: number): DecodedTextConfig {
  const u = (o: number) => dv.getUint32(at + o, true);
  return {
    encoder_type: name(ENCODER_TYPES, u(0)),
    image_size: u(4),
    patch_size: u(8),
    hidden_size: u(12),
    num_hidden_layers: u(16),
    num_attention_heads: u(20),
    intermediate_size: u(24),
    num_channels: u(28),
    layer_norm_eps: dv.getFloat32(at + 32, true),
    projection_dim: u(36),
    projector_type: name(PROJECTOR_TYPES, u(40)),
    num_image_tokens: u(44),
    image_token_id: dv.getInt32(at + 48, true),
    flags: u(52),
  };
}

/**
 * Validates and decodes block 0xB into plain objects with enum names, for `inspect`.
 *
 * @example
 * ```ts ignore
 * import { decodeHintsBinary } from "./binary.ts";
 * console.log(decodeHintsBinary(bytes).text?.arch); // "llama3"
 * ```
 *
 * @param bytes The block's bytes.
 * @returns The decoded header and configs.
 * @throws {HeliosError} `BAD_HINTS` when the runtime would reject the block.
 */
export function decodeHintsBinary(bytes: Uint8Array): DecodedHints {
  validateHintsBinary(bytes);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: DecodedHints = {
    version: `${dv.getUint16(4, true)}.${dv.getUint16(6, true)}`,
    flags: dv.getUint32(40, true),
  };
  const textOff = dv.getUint32(8, true);
  if (textOff > 0) out.text = decodeText(dv, textOff);
  const visionOff = dv.getUint32(12, true);
  if (visionOff > 0) out.vision = decodeVision(dv, visionOff);
  const codeOff = dv.getUint32(20, true);
  if (codeOff > 0) out.code = decodeText(dv, codeOff);
  const cortexOff = dv.getUint32(24, true);
  if (cortexOff > 0) out.cortex = decodeText(dv, cortexOff);
  const gm4x = decodeGm4x(dv);
  if (gm4x) out.gm4x = gm4x;
  const gm4v = decodeGm4v(dv);
  if (gm4v) out.gm4v = gm4v;
  return out;
}
