/**
 * Decoded views of the non-tensor blocks (tokenizer, hints) for `inspect`.
 *
 * @module
 */
import type { HnfFile } from "../hnf/reader.ts";
import { decodeHintsBinary } from "../hints/mod.ts";
import { describeHtf, readHtf } from "../htf/mod.ts";
import { assessRuntime, type RuntimeReport } from "../runtime/report.ts";

/**
 * Returns printable sections for the tokenizer and execution-hint blocks of a file. A block
 * that does not decode is reported as such in its section and its problem added to `errors`
 * (the caller decides: `inspect` prints the report, then fails).
 *
 * @example
 * ```ts ignore
 * import { inspectSections } from "./sections.ts";
 * const sections = await inspectSections(hnf);
 * ```
 */
export async function inspectSections(
  hnf: HnfFile,
  errors: string[] = [],
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const tok = await hnf.readBlock(0x9);
  if (tok.length) {
    try {
      const s = describeHtf(readHtf(tok));
      out.tokenizer = {
        type: s.type,
        vocab_size: s.vocabSize,
        merges: s.merges,
        added_tokens: s.addedTokens,
        specials: s.specials,
        domains: s.domains,
      };
    } catch (e) {
      out.tokenizer = `invalid HTF block: ${(e as Error).message}`;
      errors.push(`tokenizer block 0x9 does not decode: ${(e as Error).message}`);
    }
  }
  const hints = await hnf.readBlock(0xa);
  if (hints.length) {
    try {
      out.hints = JSON.parse(new TextDecoder().decode(hints));
    } catch (e) {
      out.hints = "(not valid JSON)";
      errors.push(`execution hints block 0xA is not valid JSON: ${(e as Error).message}`);
    }
  }
  const bin = await hnf.readBlock(0xb);
  if (bin.length) {
    try {
      out.hints_binary = decodeHintsBinary(bin);
    } catch (e) {
      out.hints_binary = `invalid: ${(e as Error).message}`;
      errors.push(`binary hints block 0xB does not decode: ${(e as Error).message}`);
    }
  }
  return out;
}

/**
 * The "runs in" report of a file, from its tensors, JSON hints and tokenizer (blocks that do
 * not decode count as absent, as the runtime treats them).
 *
 * @example
 * ```ts ignore
 * import { runtimeOfFile } from "./sections.ts";
 * console.log((await runtimeOfFile(hnf)).text?.runs);
 * ```
 */
export async function runtimeOfFile(hnf: HnfFile): Promise<RuntimeReport> {
  let hints: Record<string, unknown> | null = null;
  let tokenizer = null;
  try {
    const json = await hnf.readBlock(0xa);
    if (json.length) hints = JSON.parse(new TextDecoder().decode(json));
  } catch { /* absent for the runtime too */ }
  try {
    const tok = await hnf.readBlock(0x9);
    if (tok.length) tokenizer = readHtf(tok);
  } catch { /* idem */ }
  return assessRuntime({ tensors: hnf.tensors, hints, tokenizer });
}
