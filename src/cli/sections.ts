/**
 * Decoded views of the non-tensor blocks (tokenizer, hints) for `inspect`.
 *
 * @module
 */
import type { HnfFile } from "../hnf/reader.ts";

/**
 * Returns printable sections for the tokenizer and execution-hint blocks of a file.
 *
 * @example
 * ```ts ignore
 * import { inspectSections } from "./sections.ts";
 * const sections = await inspectSections(hnf);
 * ```
 */
export async function inspectSections(hnf: HnfFile): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const hints = await hnf.readBlock(0xa);
  if (hints.length) {
    try {
      out.hints = JSON.parse(new TextDecoder().decode(hints));
    } catch {
      out.hints = "(not valid JSON)";
    }
  }
  return out;
}
