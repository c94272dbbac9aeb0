/**
 * Round trips of synthetic tokenizers: tokenizer.json → HTF → tokenizer.json gives the same ids
 * in tokenizers.js, and the runtime's BPE path (simulated from the HTF alone) agrees.
 */

import { assert, assertEquals } from "./_tokenizers/assert.ts";
import { Tokenizer } from "@huggingface/tokenizers";
import { buildHtf, htfToTokenizerJson, readHtf } from "../src/htf/mod.ts";
import {
  byteLevelBpe,
  CORPUS,
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
  const dir = await tempTokenizerDir({ "tokenizer.json": tj });
  try {
    const r = await buildHtf([{ dir, domain: "text" }]);
    assert(r);
    const contents = readHtf(r.blob);
    return { r, contents, rebuilt: htfToTokenizerJson(contents) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a byte-level BPE survives HTF exactly: same ids in tokenizers.js on the whole corpus", async () => {
  const tj = byteLevelBpe();
  const { r, contents, rebuilt } = await roundTrip(tj);
  assertEquals(r.summary.type, "byte-level-bpe");
  const t = contents.domains[0].text!;
  assertEquals([t.encodingType, t.flags, t.unkTokenId], [0, 0x01, -1]);
  assertEquals([
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
    assertEquals(copy.encode(text, { add_special_tokens: false }).ids, a, JSON.stringify(text));
    if (a.length > 0) assertEquals(copy.decode(a), original.decode(a));
  }
});

Deno.test("merges given as JSON pairs are kept, identical to 'a b' strings", async () => {
  const asStrings = await roundTrip(byteLevelBpe());
  const asPairs = await roundTrip(byteLevelBpe({ arrayMerges: true }));
  assert(asPairs.contents.domains[0].merges.length / 2 > 50);
  assertEquals(asPairs.r.blob, asStrings.r.blob);
});

Deno.test("add_prefix_space comes from the ByteLevel pre-tokenizer (flag 0x02)", async () => {
  const tj = byteLevelBpe({ addPrefixSpace: true });
  const { contents, rebuilt } = await roundTrip(tj);
  assertEquals(contents.domains[0].text!.flags, 0x03);
  for (const text of TEXTS) assertEquals(ids(rebuilt, text), ids(tj, text), JSON.stringify(text));
});

Deno.test("a SentencePiece-style BPE with byte fallback gets §17's settings and the same ids", async () => {
  const tj = sentencePieceBpe();
  const { r, contents, rebuilt } = await roundTrip(tj);
  assertEquals(r.summary.type, "sentencepiece-bpe");
  const d = contents.domains[0];
  const t = d.text!;
  assertEquals([
    t.encodingType,
    t.flags,
    t.decoderType,
    t.normalizerType,
    t.modelFlags & 1,
    t.unkTokenId,
  ], [0, 0x02, 1, 1, 1, 0]);
  // The " " alias carries the id of "▁" and comes immediately before it.
  const at = d.vocab.findIndex((v) => v.token === " ");
  assertEquals(d.vocab[at + 1].token, "\u2581");
  assertEquals(d.vocab[at].id, d.vocab[at + 1].id);
  assertEquals(d.vocab.length, t.vocabSize + 1);
  assert(r.warnings.some((w) => w.includes("Strip")));
  for (const text of TEXTS) {
    const a = ids(tj, text);
    assertEquals(ids(rebuilt, text), a, JSON.stringify(text));
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
      assertEquals(simulateRuntime(contents.domains[0], text), ids(tj, text), JSON.stringify(text));
    }
    for (const text of simple) {
      assertEquals(simulateRuntime(contents.domains[0], text), ids(tj, text), JSON.stringify(text));
    }
    assertEquals(
      simulateRuntime(contents.domains[0], "<|im_start|>Hello world<s>"),
      ids(tj, "<|im_start|>Hello world<s>"),
    );
  }
});

Deno.test("a Unigram tokenizer keeps its vocab but loses its scores, with warnings", async () => {
  const tj = unigram();
  const { r, contents, rebuilt } = await roundTrip(tj);
  assertEquals(r.summary.type, "unigram");
  assertEquals(contents.domains[0].text!.encodingType, 3);
  assert(r.warnings.some((w) => w.includes("Unigram scores are dropped")));
  const pieces = (tj.model as { vocab: [string, number][] }).vocab.map((p) => p[0]);
  assertEquals((rebuilt.model as { vocab: [string, number][] }).vocab.map((p) => p[0]), pieces);
  assertEquals(contents.domains[0].merges.length, 0);
});
