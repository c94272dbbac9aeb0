/**
 * Rebuilds a Hugging Face tokenizer.json object from an HTF domain, using only what the blob
 * holds. Encoding a text with the rebuilt tokenizer and with the original one, and getting the
 * same ids, proves that the HTF lost nothing the encoding depends on.
 *
 * @module
 */

import { HeliosError } from "../errors.ts";
import {
  AddedFlag,
  DomainFlag,
  DomainType,
  EncodingType,
  MODEL_FLAG_BYTE_FALLBACK,
  NORMALIZER_TYPE_METASPACE,
  TextFlag,
} from "./constants.ts";
import type { HtfContents } from "./types.ts";

const SP = "\u2581";

/**
 * A tokenizer.json object (format 1.0) built from domain `domainIndex` (default: the primary
 * domain). Byte-level BPE gets a ByteLevel pre-tokenizer with GPT-2's regex (HTF does not
 * store a pre-tokenizer; GPT-2's is the standard one), SentencePiece-style BPE gets
 * Prepend/Replace normalizers and the Llama decoder. Unigram vocabularies come back with zero
 * scores, since HTF v1.3 cannot hold scores.
 *
 * @example
 * ```ts ignore
 * import { readHtf, htfToTokenizerJson } from "./mod.ts";
 * import { Tokenizer } from "@huggingface/tokenizers";
 * const tj = htfToTokenizerJson(readHtf(blob));
 * const ids = new Tokenizer(tj, {}).encode("Hello", { add_special_tokens: false }).ids;
 * ```
 *
 * @param contents A parsed blob from `readHtf`.
 * @param domainIndex Which domain; must be TEXT or CODE.
 */
export function htfToTokenizerJson(
  contents: HtfContents,
  domainIndex?: number,
): Record<string, unknown> {
  const d = domainIndex === undefined
    ? contents.domains.find((x) => x.flags & DomainFlag.IS_PRIMARY)
    : contents.domains[domainIndex];
  if (!d || !d.text || (d.type !== DomainType.TEXT && d.type !== DomainType.CODE)) {
    throw new HeliosError(
      "BAD_HTF",
      `HTF: domain ${domainIndex ?? "primary"} is not a TEXT or CODE domain`,
    );
  }
  const t = d.text;
  // Later entries win: the SentencePiece " " alias is written before "▁" with the same id.
  const idToToken = new Map<number, string>();
  for (const v of d.vocab) idToToken.set(v.id, v.token);
  const tokenOf = (id: number) => idToToken.get(id) ?? d.added.find((a) => a.id === id)?.content;
  const merges: [string, string][] = [];
  for (let i = 0; i < d.merges.length; i += 2) {
    merges.push([tokenOf(d.merges[i])!, tokenOf(d.merges[i + 1])!]);
  }
  const added = d.added.map((a) => ({
    id: a.id,
    content: a.content,
    single_word: (a.flags & AddedFlag.SINGLE_WORD) !== 0,
    lstrip: (a.flags & AddedFlag.LSTRIP) !== 0,
    rstrip: (a.flags & AddedFlag.RSTRIP) !== 0,
    normalized: (a.flags & AddedFlag.NORMALIZED) !== 0,
    special: (a.flags & AddedFlag.SPECIAL) !== 0,
  }));
  const unkToken = t.unkTokenId >= 0 ? tokenOf(t.unkTokenId) ?? null : null;
  const prefix = (t.flags & TextFlag.ADD_PREFIX_SPACE) !== 0;
  const byteFallback = (t.modelFlags & MODEL_FLAG_BYTE_FALLBACK) !== 0;
  const out: Record<string, unknown> = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
  };

  if (t.encodingType === EncodingType.UNIGRAM) {
    const vocab: [string, number][] = [];
    for (const [id, tok] of [...idToToken].sort((a, b) => a[0] - b[0])) vocab[id] = [tok, 0];
    out.pre_tokenizer = {
      type: "Metaspace",
      replacement: SP,
      prepend_scheme: prefix ? "always" : "never",
      split: true,
    };
    out.decoder = {
      type: "Metaspace",
      replacement: SP,
      prepend_scheme: prefix ? "always" : "never",
      split: true,
    };
    out.model = {
      type: "Unigram",
      unk_id: t.unkTokenId >= 0 ? t.unkTokenId : null,
      vocab,
      byte_fallback: byteFallback,
    };
    return out;
  }
  const vocab: Record<string, number> = {};
  for (const [id, tok] of [...idToToken].sort((a, b) => a[0] - b[0])) vocab[tok] = id;
  if (t.encodingType === EncodingType.WORDPIECE) {
    out.model = {
      type: "WordPiece",
      unk_token: unkToken ?? "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab,
    };
    return out;
  }
  if (t.flags & TextFlag.BYTE_LEVEL) {
    out.pre_tokenizer = {
      type: "ByteLevel",
      add_prefix_space: prefix,
      trim_offsets: true,
      use_regex: true,
    };
    out.post_processor = {
      type: "ByteLevel",
      add_prefix_space: true,
      trim_offsets: false,
      use_regex: true,
    };
    out.decoder = {
      type: "ByteLevel",
      add_prefix_space: true,
      trim_offsets: true,
      use_regex: true,
    };
  } else if (t.normalizerType === NORMALIZER_TYPE_METASPACE) {
    const normalizers: unknown[] = [];
    if (prefix) normalizers.push({ type: "Prepend", prepend: SP });
    normalizers.push({ type: "Replace", pattern: { String: " " }, content: SP });
    out.normalizer = { type: "Sequence", normalizers };
    const decoders: unknown[] = [
      { type: "Replace", pattern: { String: SP }, content: " " },
      { type: "ByteFallback" },
      { type: "Fuse" },
    ];
    if (prefix) decoders.push({ type: "Strip", content: " ", start: 1, stop: 0 });
    out.decoder = { type: "Sequence", decoders };
  } else if (byteFallback) {
    out.decoder = { type: "Sequence", decoders: [{ type: "ByteFallback" }, { type: "Fuse" }] };
  }
  out.model = {
    type: "BPE",
    dropout: null,
    unk_token: unkToken,
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: t.normalizerType === NORMALIZER_TYPE_METASPACE,
    byte_fallback: byteFallback,
    ignore_merges: false,
    vocab,
    merges,
  };
  return out;
}
