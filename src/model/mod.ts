/**
 * Model folders: config.json → {@link ModelSpec}, and per-family name mappers.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import { BlockId } from "../hnf/constants.ts";
import { readConfig, readTextDims } from "./config.ts";
import { detectFamily } from "./detect.ts";
import { llamaMapper } from "./llama.ts";
import type { Mapper, ModelSpec, TowerRole } from "./types.ts";

export type * from "./types.ts";
export { readConfig, readTextDims, textConfigOf } from "./config.ts";
export { detectFamily, SUPPORTED_FAMILIES } from "./detect.ts";

/** The block a role's decoder tensors go to (reference §3, §12). */
export const ROLE_BLOCK: Readonly<Record<TowerRole, number>> = {
  text: BlockId.TEXT_MODEL,
  vision: BlockId.VISION,
  audio: BlockId.AUDIO,
  cortex: BlockId.CORTEX,
  code: BlockId.CODE_EXEC,
};

/**
 * Reads a model folder's config.json and detects its family.
 *
 * @example
 * ```ts ignore
 * import { loadModelSpec } from "./mod.ts";
 * const spec = await loadModelSpec("models/llama", "text");
 * console.log(spec.family, spec.text?.numLayers);
 * ```
 */
export async function loadModelSpec(dir: string, role: TowerRole): Promise<ModelSpec> {
  const config = await readConfig(dir);
  const where = `${dir}/config.json`;
  const { family, detectedBy } = detectFamily(config, where);
  const modelType = typeof config.model_type === "string" ? config.model_type.toLowerCase() : "";
  const architectures = Array.isArray(config.architectures)
    ? config.architectures.filter((a): a is string => typeof a === "string")
    : [];
  return {
    dir,
    role,
    modelType,
    architectures,
    family,
    detectedBy,
    text: readTextDims(config, where),
    config,
    warnings: [],
  };
}

/**
 * Returns the mapper for a spec.
 *
 * @example
 * ```ts ignore
 * import { loadModelSpec, mapperFor } from "./mod.ts";
 * const mapper = mapperFor(await loadModelSpec("models/llama", "text"));
 * ```
 */
export function mapperFor(spec: ModelSpec): Mapper {
  const block = ROLE_BLOCK[spec.role];
  switch (spec.family) {
    case "llama":
    case "mistral":
    case "qwen2":
      return llamaMapper(spec.family, block);
  }
  throw new HeliosError("UNSUPPORTED_MODEL", `No mapper for family '${spec.family}'`);
}
