/**
 * Execution hints: the JSON block 0xA and the binary block 0xB (reference §11), derived from
 * each tower's `ModelSpec` and the tensors actually mapped for it.
 *
 * ```ts ignore
 * import { buildHintsBinary, buildHintsJson } from "./mod.ts";
 * const towers = [{ spec, tensors: plan.map((t) => ({ name: t.name, shape: t.shape })) }];
 * const json = buildHintsJson(towers); // block 0xA
 * const bin = buildHintsBinary(towers); // block 0xB, or null
 * ```
 *
 * @module
 */
export { buildHintsJson } from "./json.ts";
export {
  buildHintsBinary,
  type DecodedHints,
  type DecodedTextConfig,
  decodeHintsBinary,
  validateHintsBinary,
} from "./binary.ts";
export type { HintsTensor, HintsTower } from "./derive.ts";
export type { DecodedGemma4 } from "./gemma4.ts";
