/**
 * The Gemma 4 tokenizer as HTF (runtime contract §5.7): Gemma 4 shares Gemma 3's vocabulary
 * and merges and renames a few specials, so the Gemma 3 fixture with those renames (made in a
 * temporary folder, never copied into the repository) stands for it. The HTF must carry the
 * runtime's settings and reproduce the ids of the runtime's own Gemma 4 tokenizer test.
 * Skipped when ../shared/fixtures is absent.
 */
import assert from "node:assert/strict";
import { buildHtf, readHtf } from "../src/htf/mod.ts";
import { FIXTURES, fixturesPresent, tempDir } from "./_helpers.ts";
import { simulateRuntime } from "./_tokenizers/runtime_sim.ts";

const ignore = !fixturesPresent();

/** Gemma 4's names for ids that Gemma 3 calls otherwise (fixture SOURCE.md). */
const RENAMED: Record<number, string> = {
  98: "<|think|>",
  100: "<|channel>",
  101: "<channel|>",
  105: "<|turn>",
  106: "<turn|>",
  258880: "<|image|>",
  258881: "<|audio|>",
};

/** Writes the Gemma 3 tokenizer with Gemma 4's special names and EOS into a temp folder. */
async function gemma4Tokenizer(): Promise<string> {
  const dir = await tempDir("gemma4_tok_");
  const tj = JSON.parse(await Deno.readTextFile(`${FIXTURES}gemma3-tokenizer/tokenizer.json`));
  const vocab = tj.model.vocab as Record<string, number>;
  for (const [id, name] of Object.entries(RENAMED)) {
    const old = Object.keys(vocab).find((k) => vocab[k] === Number(id))!;
    delete vocab[old];
    vocab[name] = Number(id);
    tj.added_tokens.find((a: { id: number }) => a.id === Number(id)).content = name;
  }
  await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify(tj));
  const cfg = JSON.parse(
    await Deno.readTextFile(`${FIXTURES}gemma3-tokenizer/tokenizer_config.json`),
  );
  for (const [id, name] of Object.entries(RENAMED)) cfg.added_tokens_decoder[id].content = name;
  cfg.eos_token = "<eos>";
  cfg.add_bos_token = false;
  delete cfg.chat_template;
  await Deno.writeTextFile(`${dir}/tokenizer_config.json`, JSON.stringify(cfg));
  return dir;
}

/** tests/test_gemma4_tokenizer.cpp's vectors (no BOS). */
const VECTORS: [string, number[]][] = [
  ["Hello world", [9259, 1902]],
  ["Hola socio, ¿cómo estás?", [21529, 29944, 236764, 7196, 88565, 64135, 236881]],
  ["línea 1\nlínea 2", [58740, 17802, 236743, 236770, 107, 58740, 17802, 236743, 236778]],
  ["Unicode: café, 日本語, 😀", [123540, 236787, 33443, 236764, 33375, 238582, 236764, 163543]],
  ["  espacios  dobles ", [138, 24132, 59615, 138, 46959, 1074, 236743]],
  ["<|turn>user\nHola<turn|>\n<|turn>model\n", [105, 2364, 107, 21529, 106, 107, 105, 4368, 107]],
  ["\u{10FFFF}", [482, 381, 429, 429]],
];

Deno.test({
  name: "Gemma 4 tokenizer: HTF settings of §5.7 and the runtime's test vectors",
  ignore,
}, async () => {
  const r = await buildHtf([{ dir: await gemma4Tokenizer(), domain: "text" }]);
  assert.ok(r);
  assert.equal(r.summary.type, "sentencepiece-bpe");
  assert.deepEqual([r.summary.vocabSize, r.summary.merges], [262144, 514906]);
  const domain = readHtf(r.blob).domains[0];
  const t = domain.text!;
  assert.deepEqual([t.bosTokenId, t.eosTokenId, t.padTokenId, t.unkTokenId], [2, 1, 0, 3]);
  assert.equal(t.flags & 0x01, 0, "not byte-level");
  assert.equal(t.modelFlags & 0x01, 1, "byte fallback");
  assert.deepEqual([t.normalizerType, t.decoderType], [1, 1], "metaspace normalizer and decoder");
  assert.equal(t.behaviourFlags & 0x01, 0, "add-BOS by default off");
  const added = new Map(domain.added.map((a) => [a.content, a.id]));
  for (const [id, name] of Object.entries(RENAMED)) assert.equal(added.get(name), Number(id));
  assert.equal(added.get("<bos>"), 2);
  for (const [text, ids] of VECTORS) {
    assert.deepEqual(simulateRuntime(domain, text), ids, JSON.stringify(text));
  }
});
