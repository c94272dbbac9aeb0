/**
 * Summaries of HTF blobs for `inspect` and the conversion report.
 *
 * @module
 */

import { DomainFlag, EncodingType, NORMALIZER_TYPE_METASPACE, TextFlag } from "./constants.ts";
import type {
  HtfContents,
  HtfDomain,
  HtfDomainSummary,
  TokenizerKind,
  TokenizerSummary,
} from "./types.ts";

function kindOf(d: HtfDomain): TokenizerKind {
  const t = d.text;
  if (!t) return "none";
  if (t.encodingType === EncodingType.UNIGRAM) return "unigram";
  if (t.encodingType === EncodingType.WORDPIECE) return "wordpiece";
  if (t.flags & TextFlag.BYTE_LEVEL) return "byte-level-bpe";
  if (t.normalizerType === NORMALIZER_TYPE_METASPACE) return "sentencepiece-bpe";
  return "bpe";
}

/**
 * Summarizes a parsed HTF blob: algorithm, sizes and special ids of every domain, with the
 * primary domain's values at the top.
 *
 * @example
 * ```ts ignore
 * import { describeHtf, readHtf } from "./mod.ts";
 * const s = describeHtf(readHtf(blob));
 * console.log(`${s.type}, ${s.vocabSize} tokens, ${s.merges} merges`);
 * ```
 *
 * @param contents A parsed blob from `readHtf`.
 */
export function describeHtf(contents: HtfContents): TokenizerSummary {
  const domains: HtfDomainSummary[] = contents.domains.map((d) => ({
    index: d.index,
    name: d.name,
    primary: (d.flags & DomainFlag.IS_PRIMARY) !== 0,
    kind: kindOf(d),
    vocabSize: d.text ? new Set(d.vocab.map((v) => v.id)).size : 0,
    addedTokens: d.added.length,
    // Specials are usually in the vocab and in added_tokens at once: count each id once.
    tokenIds: new Set([...d.vocab.map((v) => v.id), ...d.added.map((a) => a.id)]).size,
    merges: d.merges.length / 2,
    specials: {
      bos: d.text?.bosTokenId ?? -1,
      eos: d.text?.eosTokenId ?? -1,
      pad: d.text?.padTokenId ?? -1,
      unk: d.text?.unkTokenId ?? -1,
    },
  }));
  const p = domains.find((d) => d.primary) ?? domains[0];
  return {
    type: p.kind,
    vocabSize: p.vocabSize,
    merges: p.merges,
    addedTokens: p.addedTokens,
    tokenIds: p.tokenIds,
    specials: p.specials,
    domains,
    blobSize: contents.header.totalSize,
  };
}
