/**
 * Real tokenizers from ../shared/fixtures (skipped when that folder is absent): each survives
 * HTF with the same ids in tokenizers.js, matches its published test vector, and the runtime's
 * BPE path (simulated from the HTF) agrees where §17 says it can.
 */

import assert from "node:assert/strict";
import { Tokenizer } from "@huggingface/tokenizers";
import { buildHtf, readHtf } from "../src/htf/mod.ts";
import { parseSentencePieceModel } from "../src/htf/sentencepiece.ts";
import { FIXTURES, fixturesPresent, tempDir } from "./_helpers.ts";
import { CORPUS, htfRoundTrip } from "./_tokenizers/synthetic.ts";
import { sentencePieceBpeEncode, simulateRuntime } from "./_tokenizers/runtime_sim.ts";

const ignore = !fixturesPresent();

const readJson = async (path: string) => JSON.parse(await Deno.readTextFile(FIXTURES + path));
const encode = (tj: unknown, cfg: unknown, text: string) =>
  new Tokenizer(tj as object, cfg as object).encode(text, { add_special_tokens: false }).ids;

/** A temporary folder whose files are symlinks to fixture files (the fixtures are never copied). */
async function linkDir(links: Record<string, string>): Promise<string> {
  const dir = await tempDir("htf_fixture_");
  for (const [name, target] of Object.entries(links)) {
    await Deno.symlink(FIXTURES + target, `${dir}/${name}`);
  }
  return dir;
}

Deno.test({
  name: "phi-3 (Llama-2 SentencePiece BPE): same ids on the corpus and the Llama-2 test vector",
  ignore,
}, async () => {
  const dir = FIXTURES + "phi3-mini-tokenizer";
  const { r, contents, rebuilt } = await htfRoundTrip(dir);
  const tj = await readJson("phi3-mini-tokenizer/tokenizer.json");
  const cfg = await readJson("phi3-mini-tokenizer/tokenizer_config.json");
  assert.equal(r.summary.type, "sentencepiece-bpe");
  assert.deepStrictEqual([r.summary.vocabSize, r.summary.merges, r.summary.addedTokens], [
    32000,
    61249,
    14,
  ]);
  // <unk>, <s>, </s> are in the vocab and in added_tokens: 32,011 distinct ids, not 32,014.
  assert.equal(r.summary.tokenIds, 32011);
  const texts = [...CORPUS, "<|user|>\nHi there<|end|>\n<|assistant|>", "<s>[INST] x [/INST]</s>"];
  for (const text of texts) {
    assert.deepStrictEqual(encode(rebuilt, cfg, text), encode(tj, cfg, text), JSON.stringify(text));
  }
  const vector = await readJson("phi3-mini-tokenizer/llama_encoded.json");
  assert.deepStrictEqual(encode(rebuilt, cfg, vector.text), vector.token_ids.slice(1));
  // §17: the runtime's BPE path matched the Llama-2 test vector with these settings.
  assert.deepStrictEqual(
    simulateRuntime(contents.domains[0], vector.text),
    vector.token_ids.slice(1),
  );
  assert.ok(r.warnings.some((w) => w.includes("lstrip/rstrip")));
  assert.ok(typeof r.manifestExtra.chat_template_b64 === "string");
});

Deno.test({
  name: "whisper large-v3 (byte-level BPE, 1609 added tokens): same ids, v2 text ids, AUDIO domain",
  ignore,
}, async () => {
  const dir = FIXTURES + "whisper-large-v3-config-tokenizer";
  const { r, rebuilt } = await htfRoundTrip(dir);
  const tj = await readJson("whisper-large-v3-config-tokenizer/tokenizer.json");
  assert.deepStrictEqual([r.summary.type, r.summary.vocabSize, r.summary.addedTokens], [
    "byte-level-bpe",
    50257,
    1609,
  ]);
  assert.equal(r.summary.tokenIds, 51866);
  const texts = [...CORPUS, "<|startoftranscript|><|en|><|transcribe|> Hello<|0.00|>"];
  for (const text of texts) {
    assert.deepStrictEqual(encode(rebuilt, {}, text), encode(tj, {}, text), JSON.stringify(text));
  }
  const vector = await readJson("whisper-large-v3-config-tokenizer/whisper_large_v2_encoded.json");
  const textIds = (vector.token_ids as number[]).filter((id) => id < 50257);
  assert.deepStrictEqual(encode(rebuilt, {}, vector.text), textIds);
  const both = await buildHtf([{ dir, domain: "text" }, { dir, domain: "audio" }]);
  assert.ok(both);
  const audio = readHtf(both.blob).domains[1].audio!;
  assert.deepStrictEqual([
    audio.nMels,
    audio.hiddenSize,
    audio.numHiddenLayers,
    audio.sotTokenId,
    audio.eotTokenId,
  ], [128, 1280, 32, 50258, 50257]);
});

Deno.test({
  name: "gpt-2 vocab.json + merges.txt (with its '# #' merges): the published ids",
  ignore,
}, async () => {
  const dir = await linkDir({
    "vocab.json": "gpt2-bpe/gpt2.vocab",
    "merges.txt": "gpt2-bpe/gpt2.merges.txt",
  });
  const { r, contents, rebuilt } = await htfRoundTrip(dir);
  assert.deepStrictEqual([r.summary.vocabSize, r.summary.merges], [50257, 50000]);
  const vector = await readJson("gpt2-bpe/gpt2_encoded_tokens.json");
  assert.deepStrictEqual(encode(rebuilt, {}, vector.text), vector.token_ids);
  for (const text of ["Hello world", "the lazy dog", "Fatouville est une commune"]) {
    assert.deepStrictEqual(
      simulateRuntime(contents.domains[0], text),
      encode(rebuilt, {}, text),
      text,
    );
  }
  // §17's known divergence, reported as a warning rather than hidden.
  assert.ok(r.warnings.some((w) => w.includes("regex pre-split")));
});

Deno.test({
  name: "clip: vocab, merges and added tokens survive; lowercase and </w> are reported",
  ignore,
}, async () => {
  const { r, rebuilt } = await htfRoundTrip(FIXTURES + "clip-vit-b32-tokenizer");
  const tj = await readJson("clip-vit-b32-tokenizer/tokenizer.json");
  const model = rebuilt.model as { vocab: Record<string, number>; merges: [string, string][] };
  // Compared as entries, so that the key order is checked too.
  assert.deepStrictEqual(Object.entries(model.vocab), Object.entries(tj.model.vocab));
  assert.deepStrictEqual(model.merges.map((m) => m.join(" ")), tj.model.merges);
  assert.ok(
    r.warnings.some((w) => w.includes("Lowercase")) && r.warnings.some((w) => w.includes("</w>")),
  );
});

for (
  const [name, file] of [["v1", "tokenizer.model.v1"], [
    "v3",
    "mistral_instruct_tokenizer_240323.model.v3",
  ]]
) {
  Deno.test({
    name: `mistral ${name} tokenizer.model: derived merges reproduce SentencePiece's own BPE`,
    ignore,
  }, async () => {
    const dir = await linkDir({ "tokenizer.model": `mistral-sentencepiece/${file}` });
    const { r, contents, rebuilt } = await htfRoundTrip(dir);
    assert.equal(r.summary.type, "sentencepiece-bpe");
    const sp = parseSentencePieceModel(await Deno.readFile(`${dir}/tokenizer.model`), file);
    const t = contents.domains[0].text!;
    assert.deepStrictEqual([
      t.encodingType,
      t.flags,
      t.decoderType,
      t.normalizerType,
      t.modelFlags,
      t.unkTokenId,
    ], [0, 2, 1, 1, 1, 0]);
    const vector = await readJson("phi3-mini-tokenizer/llama_encoded.json");
    for (const text of [...CORPUS, vector.text]) {
      const expected = sentencePieceBpeEncode(sp.pieces, text);
      assert.deepStrictEqual(encode(rebuilt, {}, text), expected, JSON.stringify(text));
      assert.deepStrictEqual(
        simulateRuntime(contents.domains[0], text),
        expected,
        JSON.stringify(text),
      );
    }
  });
}

Deno.test({
  name: "chat templates from tokenizer_config.json and chat_template.jinja come back byte for byte",
  ignore,
}, async () => {
  const tiny = {
    model: { type: "BPE", vocab: { a: 0 }, merges: [] },
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, use_regex: false },
  };
  for (const model of ["gemma", "qwen2.5", "qwen3", "phi-4-mini", "smollm3", "gpt-oss"]) {
    const dir = await linkDir({
      "tokenizer_config.json": `chat-templates/${model}/tokenizer_config.json`,
    });
    await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify(tiny));
    const jinja = `${FIXTURES}chat-templates/${model}/chat_template.jinja`;
    const hasJinja = await Deno.stat(jinja).then(() => true, () => false);
    if (hasJinja) await Deno.symlink(jinja, `${dir}/chat_template.jinja`);
    const r = await buildHtf([{ dir, domain: "text" }]);
    assert.ok(r);
    const cfg = await readJson(`chat-templates/${model}/tokenizer_config.json`);
    const expected = typeof cfg.chat_template === "string"
      ? cfg.chat_template
      : await Deno.readTextFile(jinja);
    const b64 = r.manifestExtra.chat_template_b64 as string;
    assert.deepStrictEqual(
      new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))),
      expected,
      model,
    );
    assert.ok(!JSON.stringify(r.manifestExtra).includes("tensors"));
  }
});
