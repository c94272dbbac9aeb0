/**
 * Model folders: config.json → {@link ModelSpec}, per-family name mappers, and the header
 * flags that follow from what was mapped.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import { BlockId, HnfFlag } from "../hnf/constants.ts";
import { readConfig, readProcessorConfig } from "./config.ts";
import { multimodalMapper, visionMapper, whisperMapper } from "./encoders.ts";
import { gemma4Mapper } from "./gemma4.ts";
import { llamaMapper } from "./llama.ts";
import { specFromConfig } from "./spec.ts";
import type { MappedTensor, Mapper, ModelSpec, TowerRole } from "./types.ts";

export type * from "./types.ts";
export { readConfig, readProcessorConfig, readTextDims, textConfigOf } from "./config.ts";
export { readGemma4 } from "./gemma4_config.ts";
export { gemma4Mapper } from "./gemma4.ts";
export {
  ARCHITECTURE_FAMILIES,
  detectFamily,
  type Detection,
  FAMILY_KIND,
  type FamilyKind,
  SUPPORTED_FAMILIES,
} from "./detect.ts";
export { readAudioDims, readVisionDims, specFromConfig } from "./spec.ts";
export { readLayerTypes, readRope, type RopeParams, type RopeSpec } from "./rope.ts";
export {
  audioExpect,
  audioRequired,
  type CheckedTensor,
  checkMappedTensors,
  decoderExpect,
  decoderRequired,
  visionExpect,
  visionRequired,
  withExpect,
} from "./shapes.ts";
export { decoderCore, type DecoderOptions, llamaMapper } from "./llama.ts";
export {
  multimodalMapper,
  type MultimodalOptions,
  visionCore,
  visionMapper,
  whisperMapper,
} from "./encoders.ts";

/** The block a role's decoder tensors go to (reference §3, §12). */
export const ROLE_BLOCK: Readonly<Record<TowerRole, number>> = {
  text: BlockId.TEXT_MODEL,
  vision: BlockId.VISION,
  audio: BlockId.AUDIO,
  cortex: BlockId.CORTEX,
  code: BlockId.CODE_EXEC,
};

/**
 * Reads a model folder's config.json and detects its family. Vision and audio models need no
 * decoder keys; multimodal checkpoints get both `text` (when given as a decoder slot) and
 * `vision`.
 *
 * @example
 * ```ts ignore
 * import { loadModelSpec } from "./mod.ts";
 * const spec = await loadModelSpec("models/llama", "text");
 * console.log(spec.family, spec.text?.numLayers);
 * ```
 */
export async function loadModelSpec(dir: string, role: TowerRole): Promise<ModelSpec> {
  return specFromConfig(await readConfig(dir), role, dir, await readProcessorConfig(dir));
}

/**
 * Returns the mapper for a spec. A mapper returns a {@link MappedTensor} (its `block` says
 * where it goes: a multimodal checkpoint spans blocks 0/7/8 and 1), `{ ignore }` for tensors
 * deliberately not written, or `null` for unknown names, which the converter must list.
 *
 * @example
 * ```ts ignore
 * import { loadModelSpec, mapperFor } from "./mod.ts";
 * const mapper = mapperFor(await loadModelSpec("models/llama", "text"));
 * ```
 */
export function mapperFor(spec: ModelSpec): Mapper {
  const block = ROLE_BLOCK[spec.role];
  const tied = spec.text?.tieWordEmbeddings ?? false;
  // The dimensions make every mapped tensor carry its expected shape (shapes.ts).
  const text = { dims: spec.text, moe: spec.moe };
  switch (spec.family) {
    case "llama":
    case "mistral":
    case "mixtral":
    case "qwen2":
    case "qwen3":
    case "gemma":
    case "gemma2":
    case "gemma3_text":
    case "phi3":
    case "generic":
      return llamaMapper(spec.family, block, { tied, ...text });
    case "qwen":
      return llamaMapper(spec.family, block, { tied, qwen1: true, ...text });
    case "llava":
    case "gemma3":
      return multimodalMapper(spec.family, {
        textBlock: spec.role === "vision" || spec.role === "audio" ? null : block,
        tied,
        text,
        vision: spec.vision,
      });
    case "gemma4":
    case "gemma4_text":
      return gemma4Mapper(spec.gemma4!, spec.role, tied);
    case "clip":
    case "siglip":
      return visionMapper(spec.family, spec.vision);
    case "whisper":
      return whisperMapper(spec.audio);
  }
  throw new HeliosError("UNSUPPORTED_MODEL", `No mapper for family '${spec.family}'`);
}

/**
 * The header flags (reference §2) that follow from the mapped tensors: HAS_VISION,
 * HAS_AUDIO and IS_MULTIMODAL when blocks 1/2 hold tensors, HAS_CORTEX and HAS_CODE_EXEC for
 * blocks 7/8, and IS_MOE when expert tensors were written. HAS_TOKENIZER and
 * HAS_EXEC_HINTS_BIN are the writer's to add.
 *
 * @example
 * ```ts
 * import { headerFlagsFor } from "./mod.ts";
 * const flags = headerFlagsFor([
 *   { name: "text.token_embedding.weight", block: 0 },
 *   { name: "vision.patch_embed.weight", block: 1 },
 * ]);
 * console.log(flags.toString(16)); // "2001"
 * ```
 *
 * @param tensors Every mapped tensor of every tower.
 * @returns The flag bits.
 */
export function headerFlagsFor(tensors: readonly Pick<MappedTensor, "name" | "block">[]): number {
  let flags = 0;
  for (const t of tensors) {
    if (t.block === BlockId.VISION) flags |= HnfFlag.HAS_VISION | HnfFlag.IS_MULTIMODAL;
    if (t.block === BlockId.AUDIO) flags |= HnfFlag.HAS_AUDIO | HnfFlag.IS_MULTIMODAL;
    if (t.block === BlockId.CORTEX) flags |= HnfFlag.HAS_CORTEX;
    if (t.block === BlockId.CODE_EXEC) flags |= HnfFlag.HAS_CODE_EXEC;
    if (/(^|\.)layer\d+\.moe\.experts\./.test(t.name)) flags |= HnfFlag.IS_MOE;
  }
  return flags;
}
