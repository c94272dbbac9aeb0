/**
 * Picks the mapper family from config.json (reference §5.2), without the original's silent
 * fallback: an unsupported model is a clear error.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import type { JsonObject } from "./types.ts";

/** Families this build maps, with the `model_type` values that select them. */
export const SUPPORTED_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  llama: ["llama"],
  mistral: ["mistral"],
  qwen2: ["qwen2"],
};

/** The detected family and how it was found. */
export interface Detection {
  /** Family id (a key of {@link SUPPORTED_FAMILIES}). */
  family: string;
  /** Human-readable reason, for the report. */
  detectedBy: string;
}

/**
 * Detects the family from `model_type`, else `architectures[0]`.
 *
 * @example
 * ```ts
 * import { detectFamily } from "./detect.ts";
 * console.log(detectFamily({ model_type: "qwen2" }, "config.json").family); // "qwen2"
 * ```
 */
export function detectFamily(config: JsonObject, where: string): Detection {
  const modelType = typeof config.model_type === "string" ? config.model_type.toLowerCase() : "";
  for (const [family, types] of Object.entries(SUPPORTED_FAMILIES)) {
    if (types.includes(modelType)) return { family, detectedBy: `model_type "${modelType}"` };
  }
  const archs = Array.isArray(config.architectures) ? config.architectures : [];
  const arch0 = typeof archs[0] === "string" ? archs[0] : "";
  if (!modelType && arch0) {
    const a = arch0.toLowerCase();
    for (const family of Object.keys(SUPPORTED_FAMILIES)) {
      if (a.startsWith(family)) return { family, detectedBy: `architectures[0] "${arch0}"` };
    }
  }
  const what = modelType
    ? `model_type "${modelType}"`
    : arch0
    ? `architecture "${arch0}"`
    : "no model_type";
  throw new HeliosError(
    "UNSUPPORTED_MODEL",
    `${where}: unsupported model (${what}); supported: ${
      Object.values(SUPPORTED_FAMILIES).flat().join(", ")
    }`,
  );
}
