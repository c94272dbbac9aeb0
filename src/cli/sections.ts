/**
 * Decoded views of the non-tensor blocks (tokenizer, hints) for `inspect`.
 *
 * @module
 */
import type { HnfFile } from "../hnf/reader.ts";
import { decodeHintsBinary } from "../hints/mod.ts";
import { describeHtf, readHtf } from "../htf/mod.ts";
import { assessRuntime, type RuntimeReport } from "../runtime/report.ts";

/** What {@link inspectSections} finds in a file's non-tensor blocks. */
export interface InspectSections {
  /** Printable tokenizer and hints sections, each block that does not decode marked so. */
  sections: Record<string, unknown>;
  /**
   * The "runs in" report, from the tensors, JSON hints and tokenizer (blocks that do not decode
   * count as absent, as the runtime treats them).
   */
  runtime: RuntimeReport;
}

/**
 * Decodes the tokenizer and execution-hint blocks of a file once, for its printable sections
 * and its "runs in" report. A block that does not decode is reported as such in its section and
 * its problem added to `errors` (the caller decides: `inspect` prints the report, then fails).
 *
 * @example
 * ```ts ignore
 * import { inspectSections } from "./sections.ts";
 * const { sections, runtime } = await inspectSections(hnf);
 * ```
 */
export async function inspectSections(
  hnf: HnfFile,
  errors: string[] = [],
): Promise<InspectSections> {
  const out: Record<string, unknown> = {};
  let tokenizer = null;
  let hintsJson: Record<string, unknown> | null = null;
  const tok = await hnf.readBlock(0x9);
  if (tok.length) {
    try {
      tokenizer = readHtf(tok);
      const s = describeHtf(tokenizer);
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
      hintsJson = JSON.parse(new TextDecoder().decode(hints));
      out.hints = hintsJson;
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
  const runtime = assessRuntime({ tensors: hnf.tensors, hints: hintsJson, tokenizer });
  return { sections: out, runtime };
}
