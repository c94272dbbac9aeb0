/**
 * The non-tensor blocks of a conversion: tokenizer (0x9), execution hints JSON (0xA) and
 * binary (0xB), and the header flags, all derived from the plan.
 *
 * @module
 */
import { BlockId, HnfFlag } from "../hnf/constants.ts";
import { buildHintsBinary, buildHintsJson, type HintsTower } from "../hints/mod.ts";
import type { RuntimeTokenizer } from "../runtime/report.ts";
import { headerFlagsFor } from "../model/mod.ts";
import type { ConversionPlan } from "./plan.ts";
import { buildTokenizerBlock } from "./tokenizer.ts";

/** Non-tensor blocks and flags derived from a plan. */
export interface ConversionExtras {
  /** Blocks by id (0x9, 0xA, 0xB), each written whole. */
  blocks: Map<number, Uint8Array>;
  /** Header flags. */
  flags: number;
  /** Extra top-level manifest keys. */
  manifest: Record<string, unknown>;
  /** Tokenizer summary for the report (null without a tokenizer). */
  tokenizer: Record<string, unknown> | null;
  /** The tokens the runtime rules look for, as the tokenizer block holds them (null without one). */
  tokenizerTokens: RuntimeTokenizer | null;
  /** Warnings for the report. */
  warnings: string[];
}

/** Options of {@link buildExtras}. */
export interface ExtrasOptions {
  /** Write a tokenizer block (default true). */
  tokenizer?: boolean;
  /** Cancels a large tokenizer's build (its worker is stopped). */
  signal?: AbortSignal;
}

/**
 * Builds the tokenizer and hints blocks and the header flags of a plan.
 *
 * @example
 * ```ts ignore
 * import { buildExtras } from "./extras.ts";
 * const extras = await buildExtras(plan, {});
 * ```
 */
export async function buildExtras(
  plan: ConversionPlan,
  options: ExtrasOptions,
): Promise<ConversionExtras> {
  const blocks = new Map<number, Uint8Array>();
  const warnings: string[] = [];
  const manifest: Record<string, unknown> = {};
  let tokenizer: Record<string, unknown> | null = null;
  let tokenizerTokens: RuntimeTokenizer | null = null;
  if (options.tokenizer ?? true) {
    const tok = await buildTokenizerBlock(plan, { signal: options.signal });
    if (tok) {
      blocks.set(BlockId.TOKENIZER, tok.blob);
      tokenizer = tok.summary;
      tokenizerTokens = tok.tokens;
      Object.assign(manifest, tok.manifest);
      warnings.push(...tok.warnings);
      const ids = Number(tok.summary.tokenIds ?? 0);
      const emb = plan.tensors.find((t) =>
        t.block === BlockId.TEXT_MODEL && t.name.endsWith("token_embedding.weight")
      );
      if (emb && ids > emb.shape[0]) {
        warnings.push(
          `the tokenizer has ${ids} tokens but ${emb.name} has ${
            emb.shape[0]
          } rows: ids past the last row cannot be embedded (wrong tokenizer?)`,
        );
      }
    } else {
      warnings.push("no tokenizer files found: the file has no tokenizer block (0x9)");
    }
  }
  const towers: HintsTower[] = plan.towers.map((tower, i) => ({
    spec: tower.spec,
    tensors: plan.tensors.filter((t) => t.tower === i).map((t) => ({
      name: t.name,
      shape: t.shape,
    })),
  }));
  const json = buildHintsJson(towers);
  blocks.set(BlockId.EXECUTION_HINTS, new TextEncoder().encode(json));
  const bin = buildHintsBinary(towers);
  if (bin) blocks.set(BlockId.EXEC_HINTS_BIN, bin);
  // Tower flags come from the mapped tensors (model/mod.ts); the writer's own blocks add theirs.
  let flags = headerFlagsFor(plan.tensors);
  if (blocks.has(BlockId.TOKENIZER)) flags |= HnfFlag.HAS_TOKENIZER;
  if (blocks.has(BlockId.EXEC_HINTS_BIN)) flags |= HnfFlag.HAS_EXEC_HINTS_BIN;
  return { blocks, flags, manifest, tokenizer, tokenizerTokens, warnings };
}
