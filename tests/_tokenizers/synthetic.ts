/**
 * Small tokenizers generated in code for the HTF tests: a byte-level BPE (GPT-2/Qwen2 style),
 * a SentencePiece-style BPE with byte fallback (Llama 2/Mistral style) and a Unigram, each
 * trained on a tiny corpus so that vocab and merges agree the way real ones do; and the
 * helpers that write them to a folder and build their HTF.
 *
 * @module
 */

import assert from "node:assert/strict";
import { byteToUnicode } from "../../src/fixtures/tokenizer.ts";
import { buildHtf, htfToTokenizerJson, readHtf } from "../../src/htf/mod.ts";
import { tempDir } from "../_helpers.ts";

/** Training text: English, Spanish, code and whitespace, enough for a few hundred merges. */
const TRAIN_TEXT = [
  "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs there and back.",
  "El rápido zorro marrón salta sobre el perro perezoso. ¿Dónde está la estación de tren?",
  "function add(a, b) { return a + b; }\nconst total = add(1, 2);\n    if (total > 2) return total;",
  "def main():\n    for i in range(10):\n        print(i, 'hello world')\n\treturn None",
  "Tokenizers split text into tokens; tokens become ids; the ids go into the model.",
].join("\n");

/** The corpus every round-trip test encodes. */
export const CORPUS = [
  "Hello world! The quick brown fox.",
  "El niño comió piña en la mañana, ¿verdad? ¡Sí!",
  "你好，世界。今天天气很好。",
  "def f(x):\n    return x ** 2  # square\n\n\tprint(f(3))",
  "emoji 🤗🚀👍🏽 and flags 🇪🇸 mixed with text",
  "   leading spaces, trailing spaces    ",
  "multiple\n\n\nnewlines and\ttabs\t\tand  double  spaces",
  "",
  " ",
  "a",
  "ÀÉÎÕÜ àéîõü ßøæ — “quotes” ‘single’ …",
];

function train(
  words: Map<string, number>,
  vocab: Map<string, number>,
  numMerges: number,
): [string, string][] {
  const split = new Map<string, string[]>();
  for (const w of words.keys()) split.set(w, Array.from(w));
  const merges: [string, string][] = [];
  for (let m = 0; m < numMerges; m++) {
    const counts = new Map<string, number>();
    for (const [w, syms] of split) {
      const f = words.get(w)!;
      for (let i = 0; i + 1 < syms.length; i++) {
        const k = syms[i] + "\u0000" + syms[i + 1];
        counts.set(k, (counts.get(k) ?? 0) + f);
      }
    }
    let best: string | undefined;
    let bestCount = 0;
    for (const [k, c] of counts) {
      if (c > bestCount || (c === bestCount && k < best!)) [best, bestCount] = [k, c];
    }
    if (!best || bestCount < 2) break;
    const [a, b] = best.split("\u0000");
    merges.push([a, b]);
    if (!vocab.has(a + b)) vocab.set(a + b, vocab.size);
    for (const syms of split.values()) {
      for (let i = 0; i + 1 < syms.length; i++) {
        if (syms[i] === a && syms[i + 1] === b) syms.splice(i, 2, a + b);
      }
    }
  }
  return merges;
}

function countWords(pieces: string[]): Map<string, number> {
  const words = new Map<string, number>();
  for (const p of pieces) if (p) words.set(p, (words.get(p) ?? 0) + 1);
  return words;
}

/** A tokenizer.json added token with Hugging Face's flags: special, rstrip as given, the rest off. */
export function specialToken(id: number, content: string, rstrip = false): Record<string, unknown> {
  return {
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip,
    normalized: false,
    special: true,
  };
}

/** A byte-level BPE tokenizer.json (GPT-2 style) with two added special tokens. */
export function byteLevelBpe(
  opts: { arrayMerges?: boolean; addPrefixSpace?: boolean } = {},
): Record<string, unknown> {
  const table = byteToUnicode();
  const vocab = new Map<string, number>();
  for (const ch of table) vocab.set(ch, vocab.size);
  const enc = new TextEncoder();
  const chunks = TRAIN_TEXT.match(/ ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+/gu) ?? [];
  const words = countWords(chunks.map((c) => Array.from(enc.encode(c), (b) => table[b]).join("")));
  const merges = train(words, vocab, 300);
  const eot = vocab.size;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [specialToken(eot, "<|endoftext|>"), specialToken(eot + 1, "<|im_start|>")],
    normalizer: null,
    pre_tokenizer: {
      type: "ByteLevel",
      add_prefix_space: opts.addPrefixSpace ?? false,
      trim_offsets: true,
      use_regex: true,
    },
    post_processor: {
      type: "ByteLevel",
      add_prefix_space: true,
      trim_offsets: false,
      use_regex: true,
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges: opts.arrayMerges ? merges : merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** A Llama-2-style SentencePiece BPE tokenizer.json with byte fallback. */
export function sentencePieceBpe(): Record<string, unknown> {
  const vocab = new Map<string, number>([["<unk>", 0], ["<s>", 1], ["</s>", 2]]);
  for (let b = 0; b < 256; b++) {
    vocab.set(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`, vocab.size);
  }
  const normalized = TRAIN_TEXT.split("\n").map((l) => "\u2581" + l.replaceAll(" ", "\u2581"));
  for (const ch of [...new Set(Array.from(normalized.join("")))].sort()) vocab.set(ch, vocab.size);
  const words = countWords(normalized.flatMap((l) => l.split(/(?=\u2581)/u)));
  const merges = train(words, vocab, 300);
  const user = vocab.size;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      specialToken(0, "<unk>"),
      specialToken(1, "<s>"),
      specialToken(2, "</s>"),
      specialToken(user, "<|user|>"),
    ],
    normalizer: {
      type: "Sequence",
      normalizers: [{ type: "Prepend", prepend: "\u2581" }, {
        type: "Replace",
        pattern: { String: " " },
        content: "\u2581",
      }],
    },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [{ Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } },
    },
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: "\u2581" }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        { type: "Strip", content: " ", start: 1, stop: 0 },
      ],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "<unk>",
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** A small Unigram tokenizer.json (T5 style, Metaspace pre-tokenizer). */
export function unigram(): Record<string, unknown> {
  const pieces: [string, number][] = [["<unk>", 0], ["</s>", 0], ["\u2581", -2]];
  const seen = new Set(pieces.map((p) => p[0]));
  let score = -3;
  for (const w of TRAIN_TEXT.toLowerCase().split(/\s+/)) {
    for (const p of ["\u2581" + w, w, ...Array.from(w)]) {
      if (p && !seen.has(p)) {
        seen.add(p);
        pieces.push([p, score]);
        score -= 0.25;
      }
    }
  }
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [specialToken(1, "</s>")],
    normalizer: null,
    pre_tokenizer: {
      type: "Metaspace",
      replacement: "\u2581",
      prepend_scheme: "always",
      split: true,
    },
    post_processor: null,
    decoder: { type: "Metaspace", replacement: "\u2581", prepend_scheme: "always", split: true },
    model: { type: "Unigram", unk_id: 0, vocab: pieces, byte_fallback: false },
  };
}

/**
 * Writes `files` (name → JSON value, string or bytes) into a new temporary folder, removed
 * when the test module exits.
 */
export async function tempTokenizerDir(files: Record<string, unknown>): Promise<string> {
  const dir = await tempDir("htf_test_");
  for (const [name, value] of Object.entries(files)) {
    const path = `${dir}/${name}`;
    if (value instanceof Uint8Array) await Deno.writeFile(path, value);
    else await Deno.writeTextFile(path, typeof value === "string" ? value : JSON.stringify(value));
  }
  return dir;
}

/** Builds the HTF of tokenizer folder `dir` (as the primary TEXT domain) and reads it back. */
export async function htfRoundTrip(dir: string) {
  const r = await buildHtf([{ dir, domain: "text" }]);
  assert.ok(r, `no HTF for ${dir}`);
  const contents = readHtf(r.blob);
  return { r, contents, rebuilt: htfToTokenizerJson(contents) };
}
