/**
 * The execution hints JSON block 0xA (reference §11.1), written for the runtime's textual
 * scanner (§16): compact, flat sub-objects, floats always with a decimal point, and no string
 * value equal to any key name.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import {
  BLOCK_WORDS,
  collectSections,
  HintFloat,
  type HintRecord,
  type HintsTower,
} from "./derive.ts";

function floatText(v: HintFloat): string {
  return Number.isInteger(v.value) ? v.value.toFixed(1) : String(v.value);
}

function valueText(v: HintRecord extends Map<string, infer V> ? V : never): string {
  if (v instanceof HintFloat) return floatText(v);
  if (Array.isArray(v)) return `[${v.map(floatText).join(",")}]`;
  return JSON.stringify(v);
}

function recordText(rec: HintRecord): string {
  return `{${[...rec].map(([k, v]) => `${JSON.stringify(k)}:${valueText(v)}`).join(",")}}`;
}

/** Fails if a string value equals a key name (the runtime would find the value first, §16). */
function checkScannerSafe(sections: Map<string, HintRecord>): void {
  const keys = new Set<string>(BLOCK_WORDS);
  for (const rec of sections.values()) for (const k of rec.keys()) keys.add(k);
  for (const [name, rec] of sections) {
    for (const [k, v] of rec) {
      if (typeof v === "string" && (keys.has(v) || /[{}"\\]/.test(v))) {
        throw new HeliosError(
          "BAD_HINTS",
          `Hint '${name}.${k}' has the value '${v}', which the runtime's scanner would misread`,
        );
      }
    }
  }
}

/**
 * Builds the JSON block 0xA for the converted towers.
 *
 * @example
 * ```ts ignore
 * import { buildHintsJson } from "./json.ts";
 * const json = buildHintsJson([{ spec, tensors }]);
 * // {"text_enabled":true,"text":{"arch":"llama",...}}
 * ```
 *
 * @param towers Each converted model with its final mapped tensors.
 * @returns Compact JSON text; `{}` when no tower has hints.
 */
export function buildHintsJson(towers: HintsTower[]): string {
  const sections = collectSections(towers);
  checkScannerSafe(sections);
  const parts: string[] = [];
  for (const [name, rec] of sections) {
    parts.push(`"${name}_enabled":true`, `"${name}":${recordText(rec)}`);
  }
  return `{${parts.join(",")}}`;
}
