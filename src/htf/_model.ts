/**
 * Reads the model part of a tokenizer folder: tokenizer.json, or vocab.json + merges.txt, or a
 * SentencePiece tokenizer.model, into one vocabulary, merge list and set of settings.
 *
 * @module
 */

import { HeliosError, quoteJson } from "../errors.ts";
import {
  asId,
  isObject,
  joinPath,
  type JsonObject,
  readBytesIf,
  readJsonObjectIf,
  readTextIf,
} from "./_files.ts";
import { analyzePipeline, type PipelineStyle } from "./_pipeline.ts";
import {
  deriveSentencePieceMerges,
  parseSentencePieceModel,
  PieceType,
  type SentencePieceModel,
  SpModelType,
} from "./sentencepiece.ts";
import type { TokenizerKind } from "./types.ts";

/** An added token with all of Hugging Face's flags. */
export interface AddedTokenSpec {
  /** Token id. */
  id: number;
  /** Token text. */
  content: string;
  /** Special token. */
  special: boolean;
  /** Strip spaces on the left. */
  lstrip: boolean;
  /** Strip spaces on the right. */
  rstrip: boolean;
  /** Match whole words only. */
  singleWord: boolean;
  /** Match after normalization. */
  normalized: boolean;
}

/** The model part of a tokenizer folder. */
export interface ModelPart {
  /** The file the vocabulary came from (for messages). */
  file: string;
  /** Algorithm. */
  kind: TokenizerKind;
  /** token → id. */
  vocab: Map<string, number>;
  /** Flat (left, right) id pairs in rank order. */
  merges: Uint32Array;
  /** The model's unk token text, if any. */
  unkToken?: string;
  /** The model's byte_fallback. */
  byteFallback: boolean;
  /** Space handling. */
  style: PipelineStyle;
  /** Added tokens declared next to the model (tokenizer.json added_tokens, SentencePiece specials). */
  added: AddedTokenSpec[];
  /** Whether the post-processor puts bos / eos around a single text. */
  post?: { addBos: boolean; addEos: boolean };
  /** The parsed SentencePiece model when the source was tokenizer.model. */
  sp?: SentencePieceModel;
}

const TOKENIZER_JSON = "tokenizer.json";
const VOCAB_JSON = "vocab.json";
const MERGES_TXT = "merges.txt";
const SP_MODEL_FILES = ["tokenizer.model", "spiece.model", "sentencepiece.bpe.model"];

/** Every file {@link loadModelPart} may parse, the vocabulary's (by far the largest of a folder). */
export const MODEL_FILES: readonly string[] = [
  TOKENIZER_JSON,
  VOCAB_JSON,
  MERGES_TXT,
  ...SP_MODEL_FILES,
];

/** Loads the model part of `dir`, or returns undefined when the folder has no vocabulary. */
export async function loadModelPart(
  dir: string,
  tokenizerConfig: JsonObject | undefined,
  warnings: string[],
): Promise<ModelPart | undefined> {
  const tjPath = joinPath(dir, TOKENIZER_JSON);
  const tj = await readJsonObjectIf(tjPath);
  if (tj !== undefined) {
    const part = fromTokenizerJson(tj, tjPath, warnings);
    if (part.vocab.size > 0) return part;
    const vm = await fromVocabMerges(dir, tokenizerConfig, warnings);
    if (vm) {
      vm.style = part.style;
      vm.added = part.added;
      return vm;
    }
    throw new HeliosError(
      "BAD_TOKENIZER",
      `${tjPath}: 'model.vocab' is empty and there is no vocab.json`,
    );
  }
  const vm = await fromVocabMerges(dir, tokenizerConfig, warnings);
  if (vm) return vm;
  for (const name of SP_MODEL_FILES) {
    const path = joinPath(dir, name);
    const bytes = await readBytesIf(path);
    if (bytes) return fromSentencePiece(parseSentencePieceModel(bytes, path), path, warnings);
  }
  return undefined;
}

function parseVocabObject(v: unknown, file: string, where: string): Map<string, number> {
  if (!isObject(v)) {
    throw new HeliosError("BAD_TOKENIZER", `${file}: '${where}' must be an object of token → id`);
  }
  // for…in, not Object.entries: the same keys in the same order (JSON.parse objects have no
  // inherited enumerable keys) without an array per entry; shared ids found on a sorted copy
  // rather than a second Map (Gemma's 262 144 entries: 0.5 s → 0.1 s). Any problem: the
  // entry-by-entry check below names the first one.
  const vocab = new Map<string, number>();
  const ids: number[] = [];
  for (const token in v) {
    const id = asId(v[token]);
    if (id === undefined) return checkVocabObject(v, file);
    vocab.set(token, id);
    ids.push(id);
  }
  const sorted = Int32Array.from(ids).sort();
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) return checkVocabObject(v, file);
  }
  return vocab;
}

/** The first bad entry of a vocab object, in order, as an error (else the vocab). */
function checkVocabObject(v: JsonObject, file: string): Map<string, number> {
  const vocab = new Map<string, number>();
  const seen = new Map<number, string>();
  for (const token in v) {
    const raw = v[token];
    const id = asId(raw);
    if (id === undefined) {
      throw new HeliosError(
        "BAD_TOKENIZER",
        `${file}: token ${JSON.stringify(token)} has id ${
          quoteJson(raw)
        }, not an integer in 0..2^31-1`,
      );
    }
    const other = seen.get(id);
    if (other !== undefined) {
      throw new HeliosError(
        "BAD_TOKENIZER",
        `${file}: tokens ${JSON.stringify(other)} and ${JSON.stringify(token)} share id ${id}`,
      );
    }
    seen.set(id, token);
    vocab.set(token, id);
  }
  return vocab;
}

/**
 * Turns merge entries ("a b" strings or ["a", "b"] pairs) into id pairs. Every part and every
 * joined token must be in the vocab: the runtime stops merging at a joined string it cannot find.
 */
function parseMerges(
  entries: readonly unknown[],
  vocab: Map<string, number>,
  file: string,
  subwordPrefix = "",
): Uint32Array {
  const out = new Uint32Array(entries.length * 2);
  // A plain loop without an array per merge: Gemma's 514 906 merges.
  for (let i = 0; i < entries.length; i++) {
    const m = entries[i];
    let a: unknown, b: unknown, parts = 0;
    if (typeof m === "string") {
      const sp = m.indexOf(" ");
      if (sp >= 0 && m.indexOf(" ", sp + 1) < 0) {
        a = m.slice(0, sp);
        b = m.slice(sp + 1);
        parts = 2;
      } else parts = m.split(" ").length;
    } else if (Array.isArray(m)) {
      a = m[0];
      b = m[1];
      parts = m.length;
    }
    if (parts !== 2 || typeof a !== "string" || typeof b !== "string") {
      throw new HeliosError(
        "BAD_TOKENIZER",
        `${file}: merge ${i} ${quoteJson(m)} is not two tokens`,
      );
    }
    const l = vocab.get(a);
    const r = vocab.get(b);
    if (l === undefined || r === undefined) {
      throw new HeliosError(
        "BAD_TOKENIZER",
        `${file}: merge ${i} ${quoteJson(m)} names ${
          JSON.stringify(l === undefined ? a : b)
        }, which is not in the vocab`,
      );
    }
    const joined = a +
      (subwordPrefix && b.startsWith(subwordPrefix) ? b.slice(subwordPrefix.length) : b);
    if (!vocab.has(joined)) {
      throw new HeliosError(
        "BAD_TOKENIZER",
        `${file}: merge ${i} ${quoteJson(m)} makes ${
          JSON.stringify(joined)
        }, which is not in the vocab`,
      );
    }
    out[2 * i] = l;
    out[2 * i + 1] = r;
  }
  return out;
}

function parseAddedList(v: unknown, file: string): AddedTokenSpec[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    throw new HeliosError("BAD_TOKENIZER", `${file}: 'added_tokens' must be an array`);
  }
  return v.map((t, i) => {
    const id = isObject(t) ? asId(t.id) : undefined;
    if (!isObject(t) || id === undefined || typeof t.content !== "string") {
      throw new HeliosError(
        "BAD_TOKENIZER",
        `${file}: added_tokens[${i}] needs an integer 'id' and a string 'content'`,
      );
    }
    return addedSpec(id, t);
  });
}

/** An {@link AddedTokenSpec} from a Hugging Face AddedToken object; absent flags are false. */
export function addedSpec(id: number, t: JsonObject): AddedTokenSpec {
  return {
    id,
    content: String(t.content),
    special: t.special === true,
    lstrip: t.lstrip === true,
    rstrip: t.rstrip === true,
    singleWord: t.single_word === true,
    normalized: t.normalized === true,
  };
}

function fromTokenizerJson(tj: JsonObject, file: string, warnings: string[]): ModelPart {
  const model = tj.model;
  if (!isObject(model)) throw new HeliosError("BAD_TOKENIZER", `${file}: 'model' is missing`);
  const type = model.type ??
    (Array.isArray(model.vocab) ? "Unigram" : model.merges ? "BPE" : "WordPiece");
  const style = analyzePipeline(tj, file, warnings);
  const shared = {
    file,
    style,
    added: parseAddedList(tj.added_tokens, file),
    post: postProcessor(tj.post_processor),
  };
  const unkToken = typeof model.unk_token === "string" ? model.unk_token : undefined;
  if (type === "BPE") {
    const vocab = parseVocabObject(model.vocab ?? {}, file, "model.vocab");
    const rawMerges = model.merges ?? [];
    if (!Array.isArray(rawMerges)) {
      throw new HeliosError("BAD_TOKENIZER", `${file}: 'model.merges' must be an array`);
    }
    const prefix = typeof model.continuing_subword_prefix === "string"
      ? model.continuing_subword_prefix
      : "";
    const suffix = typeof model.end_of_word_suffix === "string" ? model.end_of_word_suffix : "";
    if (prefix) {
      warnings.push(
        `${file}: continuing_subword_prefix ${
          JSON.stringify(prefix)
        } is not reproduced by the runtime (§17)`,
      );
    }
    if (suffix) {
      warnings.push(
        `${file}: end_of_word_suffix ${
          JSON.stringify(suffix)
        } (CLIP-style word ends) is not reproduced by the runtime (§17)`,
      );
    }
    if (model.ignore_merges === true) {
      warnings.push(`${file}: ignore_merges is not reproduced by the runtime (§17)`);
    }
    const merges = vocab.size > 0
      ? parseMerges(rawMerges, vocab, file, prefix)
      : new Uint32Array(0);
    const kind: TokenizerKind = style.byteLevel
      ? "byte-level-bpe"
      : style.metaspace
      ? "sentencepiece-bpe"
      : "bpe";
    return { ...shared, kind, vocab, merges, unkToken, byteFallback: model.byte_fallback === true };
  }
  if (type === "Unigram") {
    if (!Array.isArray(model.vocab)) {
      throw new HeliosError(
        "BAD_TOKENIZER",
        `${file}: Unigram 'model.vocab' must be an array of [piece, score]`,
      );
    }
    const vocab = new Map<string, number>();
    model.vocab.forEach((e, i) => {
      if (!Array.isArray(e) || typeof e[0] !== "string" || typeof e[1] !== "number") {
        throw new HeliosError(
          "BAD_TOKENIZER",
          `${file}: Unigram vocab entry ${i} is not [piece, score]`,
        );
      }
      if (!vocab.has(e[0])) vocab.set(e[0], i);
    });
    const unkId = asId(model.unk_id);
    warnings.push(unigramWarning(file));
    return {
      ...shared,
      kind: "unigram",
      vocab,
      merges: new Uint32Array(0),
      unkToken: unkId !== undefined ? (model.vocab[unkId] as [string])?.[0] : undefined,
      byteFallback: model.byte_fallback === true,
    };
  }
  if (type === "WordPiece") {
    const vocab = parseVocabObject(model.vocab ?? {}, file, "model.vocab");
    warnings.push(
      `${file}: WordPiece is written with encoding_type 2, a path §17 does not confirm; ids may differ from tokenizers.js`,
    );
    return {
      ...shared,
      kind: "wordpiece",
      vocab,
      merges: new Uint32Array(0),
      unkToken,
      byteFallback: false,
    };
  }
  throw new HeliosError(
    "BAD_TOKENIZER",
    `${file}: model type ${JSON.stringify(type)} is not supported (BPE, Unigram, WordPiece are)`,
  );
}

function unigramWarning(file: string): string {
  return `${file}: Unigram scores are dropped (HTF v1.3 vocab entries have no score the runtime can skip safely), ` +
    "and the runtime's Unigram path is a greedy longest match, not Viterbi (§17): ids will differ";
}

function postProcessor(pp: unknown): { addBos: boolean; addEos: boolean } | undefined {
  if (!isObject(pp) || pp.type !== "TemplateProcessing" || !Array.isArray(pp.single)) {
    return undefined;
  }
  const single = pp.single as unknown[];
  const isSpecial = (p: unknown) => isObject(p) && "SpecialToken" in p;
  return {
    addBos: isSpecial(single[0]),
    addEos: single.length > 1 && isSpecial(single[single.length - 1]),
  };
}

async function fromVocabMerges(
  dir: string,
  tokenizerConfig: JsonObject | undefined,
  warnings: string[],
): Promise<ModelPart | undefined> {
  const vPath = joinPath(dir, VOCAB_JSON);
  const raw = await readJsonObjectIf(vPath);
  if (raw === undefined) return undefined;
  const vocab = parseVocabObject(raw, vPath, VOCAB_JSON);
  const mPath = joinPath(dir, MERGES_TXT);
  const text = await readTextIf(mPath);
  let merges: Uint32Array = new Uint32Array(0);
  if (text !== undefined) {
    // Only a leading "#version" line is a comment: "# #" is a real GPT-2 merge.
    const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
    if (lines[0]?.startsWith("#version")) lines.shift();
    merges = parseMerges(lines.filter((l) => l.length > 0), vocab, mPath);
  } else warnings.push(`${mPath}: missing; the BPE vocabulary has no merges`);
  const cls = typeof tokenizerConfig?.tokenizer_class === "string"
    ? tokenizerConfig.tokenizer_class
    : "unknown";
  warnings.push(
    `${vPath}: no tokenizer.json; assumed a GPT-2 byte-level BPE with its regex pre-split (tokenizer_class ${cls}), which the runtime does not reproduce (§17)`,
  );
  return {
    file: vPath,
    kind: "byte-level-bpe",
    vocab,
    merges,
    style: {
      byteLevel: true,
      metaspace: false,
      prefix: tokenizerConfig?.add_prefix_space === true,
    },
    added: [],
    byteFallback: false,
  };
}

function fromSentencePiece(sp: SentencePieceModel, file: string, warnings: string[]): ModelPart {
  const vocab = new Map<string, number>();
  const added: AddedTokenSpec[] = [];
  sp.pieces.forEach((p, id) => {
    if (!vocab.has(p.piece)) vocab.set(p.piece, id);
    if (
      p.type === PieceType.CONTROL || p.type === PieceType.UNKNOWN ||
      p.type === PieceType.USER_DEFINED
    ) {
      added.push(addedSpec(id, { content: p.piece, special: p.type !== PieceType.USER_DEFINED }));
    }
  });
  if (sp.normalizerName !== "identity" || sp.hasPrecompiledCharsmap) {
    warnings.push(
      `${file}: SentencePiece normalizer ${
        JSON.stringify(sp.normalizerName)
      } is not reproduced by the runtime (§17)`,
    );
  }
  if (sp.removeExtraWhitespaces) {
    warnings.push(
      `${file}: remove_extra_whitespaces (runs of spaces collapse) is not reproduced by the runtime (§17)`,
    );
  }
  const bpe = sp.modelType === SpModelType.BPE;
  if (!bpe && sp.modelType !== SpModelType.UNIGRAM) {
    throw new HeliosError(
      "BAD_TOKENIZER",
      `${file}: SentencePiece model_type ${sp.modelType} is not supported (1 Unigram, 2 BPE are)`,
    );
  }
  if (!bpe) warnings.push(unigramWarning(file));
  return {
    file,
    kind: bpe ? "sentencepiece-bpe" : "unigram",
    vocab,
    merges: bpe ? deriveSentencePieceMerges(sp.pieces) : new Uint32Array(0),
    style: { byteLevel: false, metaspace: true, prefix: sp.addDummyPrefix },
    added,
    unkToken: sp.pieces[sp.unkId]?.piece,
    byteFallback: sp.byteFallback,
    sp,
  };
}
