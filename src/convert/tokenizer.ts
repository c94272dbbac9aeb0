/**
 * Builds the HTF tokenizer block (0x9) from the towers' tokenizer files.
 *
 * @module
 */
import { buildHtfIsolated, type TokenizerSource } from "../htf/mod.ts";
import { RUNTIME_TOKENS, type RuntimeTokenizer } from "../runtime/report.ts";
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
  /** What the runtime report asks of the tokenizer: its domains with the tokens it looks for. */
  tokens: RuntimeTokenizer;
}

/**
 * Vocabulary files of more bytes than this, in all, are parsed in a worker of their own
 * (`buildHtfIsolated`): Gemma's 33 MB tokenizer.json costs ≈ 400 MiB of heap, which would
 * otherwise stay with the process while its tensors convert. Smaller ones (a few MB, tens of
 * MiB of heap) are parsed here, without a worker's start-up.
 */
export const ISOLATED_TOKENIZER_BYTES = 8 << 20;

/** Which HTF domain each CLI slot's tokenizer fills (reference §10.1); vision has none. */
const DOMAIN_OF: Readonly<Record<string, TokenizerSource["domain"] | undefined>> = {
  text: "text",
  cortex: "cortex",
  code: "code",
  audio: "audio",
};

/**
 * Returns the tokenizer block of a plan, or null when no tower has tokenizer files. Vocabulary
 * files over `isolateAbove` bytes in all (default {@link ISOLATED_TOKENIZER_BYTES}) are parsed in
 * a worker of their own, which `signal` stops.
 *
 * @example
 * ```ts ignore
 * import { buildTokenizerBlock } from "./tokenizer.ts";
 * const tok = await buildTokenizerBlock(plan);
 * ```
 */
export async function buildTokenizerBlock(
  plan: ConversionPlan,
  options: { isolateAbove?: number; signal?: AbortSignal } = {},
): Promise<TokenizerBlock | null> {
  const sources: TokenizerSource[] = [];
  for (const t of plan.towers) {
    const domain = DOMAIN_OF[t.role];
    if (domain) sources.push({ dir: t.spec.dir, domain });
  }
  if (sources.length === 0) return null;
  const htf = await buildHtfIsolated(sources, {
    probeTokens: RUNTIME_TOKENS,
    above: options.isolateAbove ?? ISOLATED_TOKENIZER_BYTES,
    signal: options.signal,
  });
  if (!htf) return null;
  const summary = htf.summary as unknown as Record<string, unknown>;
  return {
    blob: htf.blob,
    summary,
    manifest: {
      // §15 item 21: count the domains actually written, not the sources requested.
      tokenizer: {
        format: "HTF3",
        multi_domain: htf.summary.domains.length > 1,
        domains: htf.summary.domains.length,
        type: htf.summary.type,
        vocab_size: htf.summary.vocabSize,
        merges: htf.summary.merges,
      },
      tokenizer_extra: htf.manifestExtra,
    },
    warnings: htf.warnings,
    tokens: {
      domains: Object.entries(htf.probed).map(([name, found]) => ({
        name,
        vocab: found.map((token) => ({ token })),
        added: [],
      })),
    },
  };
}
