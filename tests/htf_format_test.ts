/**
 * HTF v1.3 bytes: golden header and domain table, checksum, strict reading, multi-domain
 * layout, manifest extras, and clear errors for malformed tokenizer files.
 */

import assert from "node:assert/strict";
import { xxhash3 } from "hash-wasm";
import {
  assertManifestSafe,
  buildHtf,
  describeHtf,
  htfToTokenizerJson,
  readHtf,
} from "../src/htf/mod.ts";
import { assertHeliosError } from "./_helpers.ts";
import {
  byteLevelBpe,
  sentencePieceBpe,
  specialToken,
  tempTokenizerDir,
} from "./_tokenizers/synthetic.ts";

function tinyTokenizer(): Record<string, unknown> {
  return {
    version: "1.0",
    added_tokens: [specialToken(3, "<eos>")],
    normalizer: null,
    pre_tokenizer: {
      type: "ByteLevel",
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: false,
    },
    decoder: { type: "ByteLevel" },
    model: { type: "BPE", vocab: { a: 0, b: 1, ab: 2, "<eos>": 3 }, merges: [["a", "b"]] },
  };
}

async function build(files: Record<string, unknown>) {
  return await buildHtf([{ dir: await tempTokenizerDir(files), domain: "text" }]);
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("golden bytes: header, domain table and TEXT domain of a four-token byte-level BPE", async () => {
  const r = await build({
    "tokenizer.json": tinyTokenizer(),
    "tokenizer_config.json": { eos_token: "<eos>" },
  });
  assert.ok(r);
  const b = r.blob;
  assert.equal(b.length, 192);
  assert.equal(
    hex(b.subarray(0, 24)),
    "48544633" + "3001" + "0200" + "01" + "00000000000000" + "c000000000000000",
  );
  const textHash = BigInt("0x" + await xxhash3("text"));
  const entry = new DataView(b.buffer, 32, 32);
  assert.deepStrictEqual([entry.getUint8(0), entry.getUint8(1), entry.getUint32(4, true)], [
    0,
    0x08 | 0x04 | 0x01,
    4,
  ]);
  assert.deepStrictEqual([
    entry.getBigUint64(8, true),
    entry.getBigUint64(16, true),
    entry.getBigUint64(24, true),
  ], [64n, 124n, textHash]);
  // TextDomainConfigBin: bos -1, eos 3, pad -1, unk -1, vocab 4, 1 added, BPE, byte-level.
  assert.equal(
    hex(b.subarray(64, 96)),
    "ffffffff" + "03000000" + "ffffffff" + "ffffffff" + "04000000" + "0100" + "00" + "01" +
      "0000000000000000",
  );
  // added: count 1; id 3, len 5, flags special; "<eos>" + 3 pad; then pad to 8.
  assert.equal(
    hex(b.subarray(96, 116)),
    "01000000" + "03000000" + "0500" + "01" + "00" + "3c656f733e000000",
  );
  // vocab: count 4 then entries; "<eos>" is ADDED|SPECIAL|CONTROL.
  assert.equal(
    hex(b.subarray(120, 136)),
    "04000000" + "00000000" + "0100" + "00" + "00" + "61000000",
  );
  const d = readHtf(b).domains[0];
  assert.deepStrictEqual(d.vocab.map((v) => [v.id, v.token, v.flags]), [[0, "a", 0], [1, "b", 0], [
    2,
    "ab",
    0,
  ], [3, "<eos>", 0x15]]);
  assert.deepStrictEqual(Array.from(d.merges), [0, 1]);
  // "<eos>" entry, then merges: count 1, (0, 1); then zero padding to 192.
  assert.equal(hex(b.subarray(160, 176)), "03000000" + "0500" + "15" + "00" + "3c656f733e000000");
  assert.equal(hex(b.subarray(176, 192)), "01000000" + "00000000" + "01000000" + "00000000");
});

Deno.test("the checksum is XXH3-64 over the blob with the checksum field zeroed, and is verified", async () => {
  const r = await build({ "tokenizer.json": tinyTokenizer() });
  assert.ok(r);
  const zeroed = r.blob.slice();
  zeroed.fill(0, 24, 32);
  const expected = BigInt("0x" + await xxhash3(zeroed));
  assert.equal(new DataView(r.blob.buffer).getBigUint64(24, true), expected);
  const flipped = r.blob.slice();
  flipped[100] ^= 0x40;
  await assertHeliosError(Promise.try(() => readHtf(flipped)), "BAD_HTF", /checksum/);
  await assertHeliosError(
    Promise.try(() => readHtf(r.blob.subarray(0, 96))),
    "BAD_HTF",
    /total_size/,
  );
  await assertHeliosError(
    Promise.try(() => readHtf(new TextEncoder().encode("HTF2" + "\0".repeat(60)))),
    "BAD_HTF",
    /HTF2/,
  );
});

Deno.test("a folder without tokenizer files gives no block and a warning, never the 64-byte empty HTF", async () => {
  assert.equal(await build({ "config.json": { model_type: "llama" } }), null);
});

Deno.test("text + code + cortex + audio domains are laid out 16-aligned with their own configs", async () => {
  const code = byteLevelBpe();
  (code.added_tokens as unknown[]).push(
    ...["<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"].map((content, i) =>
      specialToken(400 + i, content)
    ),
  );
  const dirs = [
    await tempTokenizerDir({ "tokenizer.json": sentencePieceBpe() }),
    await tempTokenizerDir({ "tokenizer.json": code }),
    await tempTokenizerDir({ "tokenizer.json": byteLevelBpe() }),
    await tempTokenizerDir({
      "config.json": {
        model_type: "whisper",
        num_mel_bins: 80,
        d_model: 384,
        encoder_layers: 4,
        encoder_attention_heads: 6,
        decoder_start_token_id: 50258,
        eos_token_id: 50257,
      },
      "preprocessor_config.json": {
        sampling_rate: 16000,
        n_fft: 400,
        hop_length: 160,
        chunk_length: 30,
      },
    }),
  ];
  const r = await buildHtf([
    { dir: dirs[0], domain: "text" },
    { dir: dirs[1], domain: "code" },
    { dir: dirs[2], domain: "cortex" },
    { dir: dirs[3], domain: "audio" },
  ]);
  assert.ok(r);
  const c = readHtf(r.blob);
  assert.deepStrictEqual(c.domains.map((d) => [d.type, d.name, d.flags]), [
    [0, "text", 0x0d],
    [3, "code", 0x05],
    [0, "cortex", 0x05],
    [2, "audio", 0],
  ]);
  for (const d of c.domains) assert.equal(d.dataOffset % 16, 0);
  assert.equal(r.blob.length % 32, 0);
  const k = c.domains[1].code!;
  assert.deepStrictEqual([k.baseDomainIndex, k.fimPrefix, k.fimMiddle, k.fimSuffix, k.flags], [
    0,
    400,
    401,
    402,
    1,
  ]);
  const a = c.domains[3].audio!;
  assert.deepStrictEqual([
    a.nMels,
    a.hiddenSize,
    a.numHiddenLayers,
    a.numAttentionHeads,
    a.sotTokenId,
    a.eotTokenId,
  ], [80, 384, 4, 6, 50258, 50257]);
  assert.deepStrictEqual(describeHtf(c).domains.map((d) => d.kind), [
    "sentencepiece-bpe",
    "byte-level-bpe",
    "byte-level-bpe",
    "none",
  ]);
  assert.ok(htfToTokenizerJson(c, 1).model !== undefined);
});

Deno.test("manifestExtra holds the chat template as base64, eos ids and generation defaults, scanner-safe", async () => {
  const template = "{% for m in messages %}{{ m['content'] }}{% endfor %}";
  const r = await build({
    "tokenizer.json": tinyTokenizer(),
    "tokenizer_config.json": { eos_token: "<eos>", chat_template: template, add_bos_token: false },
    "generation_config.json": {
      eos_token_id: [3, 1],
      temperature: 0.6,
      top_p: 0.9,
      do_sample: true,
      transformers_version: "4.46",
    },
  });
  assert.ok(r);
  // Compared as JSON text, so that the key order (which the manifest keeps) is checked too.
  const json = JSON.stringify(r.manifestExtra);
  assert.equal(
    json,
    JSON.stringify({
      chat_template_b64: btoa(template),
      eos_token_ids: [3, 1],
      add_bos_token: false,
      generation: { do_sample: true, temperature: 0.6, top_p: 0.9 },
    }),
  );
  assert.ok(!json.includes("tensors"));
  assertManifestSafe(r.manifestExtra);
  assert.equal(readHtf(r.blob).domains[0].vocab[1].flags, 0x04); // id 1 is in the eos list: CONTROL
  await assertHeliosError(
    Promise.try(() => assertManifestSafe({ x: "{" })),
    "INTERNAL",
    /\$\.x/,
  );
  await assertHeliosError(Promise.try(() => assertManifestSafe({ name: 1 })), "INTERNAL", /name/);
});

Deno.test("malformed tokenizer files fail with BAD_TOKENIZER naming the file and the problem", async () => {
  await assertHeliosError(
    build({ "tokenizer.json": "{ not json" }),
    "BAD_TOKENIZER",
    /tokenizer\.json: is not valid JSON/,
  );
  const unknownPart = tinyTokenizer();
  (unknownPart.model as { merges: unknown[] }).merges = [["a", "zz"]];
  await assertHeliosError(
    build({ "tokenizer.json": unknownPart }),
    "BAD_TOKENIZER",
    /names "zz", which is not in the vocab/,
  );
  const unknownJoin = tinyTokenizer();
  (unknownJoin.model as { merges: unknown[] }).merges = ["b a"];
  await assertHeliosError(
    build({ "tokenizer.json": unknownJoin }),
    "BAD_TOKENIZER",
    /makes "ba", which is not in the vocab/,
  );
  await assertHeliosError(
    build({ "vocab.json": { a: 0, b: 1 }, "merges.txt": "#version: 0.2\na b c\n" }),
    "BAD_TOKENIZER",
    /merges\.txt: merge 0/,
  );
  // A SentencePiece piece whose length runs past the end of the file.
  await assertHeliosError(
    build({ "tokenizer.model": new Uint8Array([0x0a, 0x08, 0x0a, 0x05, 0x61]) }),
    "BAD_TOKENIZER",
    /tokenizer\.model: length/,
  );
  await assertHeliosError(
    build({ "tokenizer.model": new Uint8Array([0x0a, 0x85]) }),
    "BAD_TOKENIZER",
    /truncated varint/,
  );
  await assertHeliosError(
    build({ "tokenizer.json": { model: { type: "WordLevel", vocab: {} } } }),
    "BAD_TOKENIZER",
    /WordLevel/,
  );
});

Deno.test("a vocab's first bad entry, in file order, is the one named: a shared id or an id that is not one", async () => {
  const withVocab = (vocab: Record<string, unknown>) => {
    const t = tinyTokenizer();
    (t.model as { vocab: unknown; merges: unknown[] }).vocab = vocab;
    (t.model as { merges: unknown[] }).merges = [];
    return build({ "tokenizer.json": t });
  };
  await assertHeliosError(
    withVocab({ a: 0, b: 1, c: 0, d: 1 }),
    "BAD_TOKENIZER",
    /tokens "a" and "c" share id 0$/,
  );
  await assertHeliosError(
    withVocab({ a: 0, b: 1.5, c: 0 }),
    "BAD_TOKENIZER",
    /token "b" has id 1\.5, not an integer in 0\.\.2\^31-1$/,
  );
  await assertHeliosError(
    withVocab({ a: 7, b: 7, c: -1 }),
    "BAD_TOKENIZER",
    /tokens "a" and "b" share id 7$/,
  );
  await assertHeliosError(withVocab({ a: 0, b: "1" }), "BAD_TOKENIZER", /token "b" has id "1"/);
  const ok = await withVocab({ b: 1, a: 0, ab: 2, "<eos>": 3 });
  assert.equal(ok?.summary.vocabSize, 4);
});
