/**
 * Round trips of synthetic tokenizers: tokenizer.json → HTF → tokenizer.json gives the same ids
 * in tokenizers.js, and the runtime's BPE path (simulated from the HTF alone) agrees.
 */

import assert from "node:assert/strict";
import { Tokenizer } from "@huggingface/tokenizers";
import {
  byteLevelBpe,
  CORPUS,
  htfRoundTrip,
  sentencePieceBpe,
  tempTokenizerDir,
  unigram,
} from "./_tokenizers/synthetic.ts";
import { simulateRuntime } from "./_tokenizers/runtime_sim.ts";

const SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|user|>", "<s>", "</s>"];
const TEXTS = [
  ...CORPUS,
  ...CORPUS.slice(0, 4).map((t, i) =>
    `${SPECIALS[i % SPECIALS.length]}${t} ${SPECIALS[(i + 2) % SPECIALS.length]} tail`
  ),
];

function ids(tj: unknown, text: string): number[] {
  return new Tokenizer(tj as object, {}).encode(text, { add_special_tokens: false }).ids;
}

async function roundTrip(tj: Record<string, unknown>) {
  return await htfRoundTrip(await tempTokenizerDir({ "tokenizer.json": tj }));
}

Deno.test("a byte-level BPE survives HTF exactly: same ids in tokenizers.js on the whole corpus", async () => {
  const tj = byteLevelBpe();
  const { r, contents, rebuilt } = await roundTrip(tj);
  assert.equal(r.summary.type, "byte-level-bpe");
  const t = contents.domains[0].text!;
  assert.deepStrictEqual([t.encodingType, t.flags, t.unkTokenId], [0, 0x01, -1]);
  assert.deepStrictEqual([
    t.preTokenizerType,
    t.decoderType,
    t.behaviourFlags,
    t.normalizerType,
    t.modelFlags,
  ], [0, 0, 0, 0, 0]);
  const original = new Tokenizer(tj, {});
  const copy = new Tokenizer(rebuilt, {});
  for (const text of TEXTS) {
    const a = original.encode(text, { add_special_tokens: false }).ids;
    assert.deepStrictEqual(
      copy.encode(text, { add_special_tokens: false }).ids,
      a,
      JSON.stringify(text),
    );
    if (a.length > 0) assert.deepStrictEqual(copy.decode(a), original.decode(a));
  }
});

Deno.test("merges given as JSON pairs are kept, identical to 'a b' strings", async () => {
  const asStrings = await roundTrip(byteLevelBpe());
  const asPairs = await roundTrip(byteLevelBpe({ arrayMerges: true }));
  assert.ok(asPairs.contents.domains[0].merges.length / 2 > 50);
  assert.deepStrictEqual(asPairs.r.blob, asStrings.r.blob);
});

Deno.test("add_prefix_space comes from the ByteLevel pre-tokenizer (flag 0x02)", async () => {
  const tj = byteLevelBpe({ addPrefixSpace: true });
  const { contents, rebuilt } = await roundTrip(tj);
  assert.deepStrictEqual(contents.domains[0].text!.flags, 0x03);
  for (const text of TEXTS) {
    assert.deepStrictEqual(ids(rebuilt, text), ids(tj, text), JSON.stringify(text));
  }
});

Deno.test("a SentencePiece-style BPE with byte fallback gets §17's settings and the same ids", async () => {
  const tj = sentencePieceBpe();
  const { r, contents, rebuilt } = await roundTrip(tj);
  assert.equal(r.summary.type, "sentencepiece-bpe");
  const d = contents.domains[0];
  const t = d.text!;
  assert.deepStrictEqual([
    t.encodingType,
    t.flags,
    t.decoderType,
    t.normalizerType,
    t.modelFlags & 1,
    t.unkTokenId,
  ], [0, 0x02, 1, 1, 1, 0]);
  // The " " alias carries the id of "▁" and comes immediately before it.
  const at = d.vocab.findIndex((v) => v.token === " ");
  assert.deepStrictEqual(d.vocab[at + 1].token, "\u2581");
  assert.deepStrictEqual(d.vocab[at].id, d.vocab[at + 1].id);
  assert.deepStrictEqual(d.vocab.length, t.vocabSize + 1);
  assert.ok(r.warnings.some((w) => w.includes("Strip")));
  for (const text of TEXTS) {
    const a = ids(tj, text);
    assert.deepStrictEqual(ids(rebuilt, text), a, JSON.stringify(text));
  }
});

Deno.test("the runtime's BPE path, simulated from the HTF alone, matches tokenizers.js on simple text", async () => {
  const simple = [
    "Hello world",
    "the quick brown fox jumps over the lazy dog",
    "return total",
    "El perro está aquí",
    "你好 🤗",
  ];
  for (
    const [tj, extra] of [[byteLevelBpe(), []], [sentencePieceBpe(), [
      "a  b   c",
      "  x\n\n y",
    ]]] as const
  ) {
    const { contents } = await roundTrip(tj);
    for (const text of extra) {
      assert.deepStrictEqual(
        simulateRuntime(contents.domains[0], text),
        ids(tj, text),
        JSON.stringify(text),
      );
    }
    for (const text of simple) {
      assert.deepStrictEqual(
        simulateRuntime(contents.domains[0], text),
        ids(tj, text),
        JSON.stringify(text),
      );
    }
    assert.deepStrictEqual(
      simulateRuntime(contents.domains[0], "<|im_start|>Hello world<s>"),
      ids(tj, "<|im_start|>Hello world<s>"),
    );
  }
});

Deno.test("a Unigram tokenizer keeps its vocab but loses its scores, with warnings", async () => {
  const tj = unigram();
  const { r, contents, rebuilt } = await roundTrip(tj);
  assert.equal(r.summary.type, "unigram");
  assert.deepStrictEqual(contents.domains[0].text!.encodingType, 3);
  assert.ok(r.warnings.some((w) => w.includes("Unigram scores are dropped")));
  const pieces = (tj.model as { vocab: [string, number][] }).vocab.map((p) => p[0]);
  assert.deepStrictEqual(
    (rebuilt.model as { vocab: [string, number][] }).vocab.map((p) => p[0]),
    pieces,
  );
  assert.deepStrictEqual(contents.domains[0].merges.length, 0);
});
