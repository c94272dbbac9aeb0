/**
 * Reads a tokenizer.json's normalizer, pre-tokenizer and decoder, and decides which of the
 * runtime's tokenizer paths reproduces them (§17). Everything the runtime cannot reproduce
 * becomes a warning; nothing is dropped silently.
 *
 * @module
 */

import { isObject, type JsonObject } from "./_files.ts";

/** What the pipeline says about the text before the model sees it. */
export interface PipelineStyle {
  /** A ByteLevel pre-tokenizer or decoder is defined. */
  byteLevel: boolean;
  /** Spaces become "▁" (normalizer Replace " "→"▁", or a Metaspace pre-tokenizer). */
  metaspace: boolean;
  /** A prefix is put in front: ByteLevel add_prefix_space, Prepend "▁", or Metaspace prepend. */
  prefix: boolean;
}

const SP = "\u2581";

function flatten(node: unknown, listKey: string): JsonObject[] {
  if (!isObject(node)) return [];
  if (node.type === "Sequence" && Array.isArray(node[listKey])) {
    return (node[listKey] as unknown[]).flatMap((n) => flatten(n, listKey));
  }
  return [node];
}

function patternString(p: unknown): string | undefined {
  return isObject(p) && typeof p.String === "string" ? p.String : undefined;
}

function describe(n: JsonObject): string {
  const type = String(n.type);
  if (isObject(n.pattern)) {
    const pat = n.pattern.String ?? n.pattern.Regex;
    return `${type}(${JSON.stringify(pat)})`;
  }
  return type;
}

/**
 * Analyses the pipeline of a parsed tokenizer.json, pushing one warning per component that the
 * runtime cannot reproduce. `file` names the file in the warnings.
 */
export function analyzePipeline(tj: JsonObject, file: string, warnings: string[]): PipelineStyle {
  const style: PipelineStyle = { byteLevel: false, metaspace: false, prefix: false };
  const lost = (what: string, why: string) =>
    warnings.push(`${file}: ${what} is not reproduced by the runtime (${why})`);

  for (const n of flatten(tj.normalizer, "normalizers")) {
    if (n.type === "Prepend" && n.prepend === SP) style.prefix = true;
    else if (n.type === "Replace" && patternString(n.pattern) === " " && n.content === SP) {
      style.metaspace = true;
    } else lost(`normalizer ${describe(n)}`, "§17: only Prepend '▁' and Replace ' '→'▁' are");
  }

  let regexSplit = false;
  for (const n of flatten(tj.pre_tokenizer, "pretokenizers")) {
    if (n.type === "ByteLevel") {
      style.byteLevel = true;
      if (n.add_prefix_space === true) style.prefix = true;
      if (n.use_regex !== false) regexSplit = true;
    } else if (n.type === "Metaspace" && (n.replacement ?? SP) === SP) {
      style.metaspace = true;
      const scheme = typeof n.prepend_scheme === "string"
        ? n.prepend_scheme
        : n.add_prefix_space === false
        ? "never"
        : "always";
      if (scheme !== "never") style.prefix = true;
      if (scheme === "first") {
        lost(
          "Metaspace prepend_scheme 'first'",
          "the runtime puts the prefix in front of every segment between added tokens",
        );
      }
    } else if (n.type === "Split") regexSplit = true;
    else lost(`pre-tokenizer ${describe(n)}`, "§17: the runtime does no pre-tokenization");
  }
  if (regexSplit) {
    lost(
      "the regex pre-split",
      "§17: the whole segment is one word, so merges can fire across the original chunk " +
        "boundaries, e.g. GPT-2 'end.\\n\\nNew' gives one 'ĊĊ' instead of two 'Ċ'",
    );
  }

  for (const n of flatten(tj.decoder, "decoders")) {
    if (n.type === "ByteLevel") style.byteLevel = true;
    else if (n.type === "Strip") lost("decoder Strip", "§17: the Strip decoder is not");
    else if (
      !["Replace", "ByteFallback", "Fuse", "Metaspace"].includes(String(n.type))
    ) lost(`decoder ${describe(n)}`, "§17: only the byte-level and SentencePiece decoders are");
  }

  if (style.byteLevel && style.metaspace) {
    warnings.push(
      `${file}: both byte-level and '▁' space handling are defined; written as byte-level`,
    );
    style.metaspace = false;
  }
  return style;
}
