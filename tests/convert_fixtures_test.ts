/**
 * Real configs and tokenizers from ../shared/fixtures through the converter (skipped when that
 * folder is absent). The fixtures hold no weights: Whisper large-v3 gets a sparse safetensors
 * with its real tensor names and shapes, and each tokenizer rides on a tiny generated Llama.
 */
import assert from "node:assert/strict";
import { convert, generateModel, HnfFlag, openHnf, planConversion } from "../mod.ts";
import { buildExtras } from "../src/convert/mod.ts";
import { ARCHS, type TensorTemplate } from "../src/fixtures/archs.ts";
import { decodeHintsBinary } from "../src/hints/mod.ts";
import { describeHtf, readHtf } from "../src/htf/mod.ts";
import { parseSentencePieceModel } from "../src/htf/sentencepiece.ts";
import {
  FIXTURES,
  fixturesPresent,
  listDir,
  withTempDir,
  writeRawSafetensors,
} from "./_helpers.ts";

const ignore = !fixturesPresent();

type Json = Record<string, unknown>;

const WHISPER = "whisper-large-v3-config-tokenizer";
const WHISPER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "vocab.json",
  "merges.txt",
  "added_tokens.json",
  "special_tokens_map.json",
  "normalizer.json",
  "preprocessor_config.json",
];

/** Links fixture files into `dir` under the given names (the fixtures are never copied). */
async function link(dir: string, links: Record<string, string>): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, target] of Object.entries(links)) {
    await Deno.symlink(FIXTURES + target, `${dir}/${name}`);
  }
}

/**
 * Writes a safetensors header for `tensors` (F16) and extends the file to its full size without
 * writing data: the file is sparse, every value reads as zero.
 */
async function writeSparseSafetensors(path: string, tensors: TensorTemplate[]): Promise<void> {
  const header: Json = { __metadata__: { format: "pt" } };
  let off = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1) * 2;
    header[t.name] = { dtype: "F16", shape: t.shape, data_offsets: [off, off + n] };
    off += n;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  await writeRawSafetensors(path, json, new Uint8Array(0));
  await Deno.truncate(path, 8 + json.length + off); // the header is ASCII: one byte a character
}

/** Whisper's tensors with the shapes of a config (the generator's naming, real dimensions). */
function whisperTensors(config: Json, layers: number): TensorTemplate[] {
  const t = ARCHS.whisper("bench");
  const dm = config.d_model as number;
  const generated = t.config;
  for (const k of ["d_model", "encoder_ffn_dim", "num_mel_bins", "max_source_positions"]) {
    assert.equal(generated[k], config[k], `the generator's Whisper template has the real ${k}`);
  }
  return t.tensors
    .filter((x) => {
      const m = /layers\.(\d+)\./.exec(x.name);
      return !m || Number(m[1]) < layers;
    })
    .map((x) =>
      x.name === "model.decoder.embed_tokens.weight"
        ? { ...x, shape: [config.vocab_size as number, dm] }
        : x.name === "model.decoder.embed_positions.weight"
        ? { ...x, shape: [config.max_target_positions as number, dm] }
        : x
    );
}

async function whisperFolder(dir: string, layers?: number): Promise<Json> {
  await link(dir, Object.fromEntries(WHISPER_FILES.map((f) => [f, `${WHISPER}/${f}`])));
  const config = JSON.parse(await Deno.readTextFile(`${FIXTURES}${WHISPER}/config.json`)) as Json;
  if (layers === undefined) {
    await Deno.symlink(`${FIXTURES}${WHISPER}/config.json`, `${dir}/config.json`);
  } else {
    for (const k of ["encoder_layers", "decoder_layers", "num_hidden_layers"]) config[k] = layers;
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config, null, 2));
  }
  await writeSparseSafetensors(
    `${dir}/model.safetensors`,
    whisperTensors(config, config.encoder_layers as number),
  );
  return config;
}

const ENCODER_PER_LAYER = 15; // q/v/o weight+bias, k weight, 2 norms ×2, fc1/fc2 ×2

Deno.test({
  name: "plans Whisper large-v3 from its real config and tokenizer: audio block, hints, HTF",
  ignore,
}, async () => {
  await withTempDir(async (root) => {
    const config = await whisperFolder(`${root}/m`);
    const layers = config.encoder_layers as number;
    const plan = await planConversion({ models: { audio: `${root}/m` }, quant: "hq5k" });
    try {
      assert.equal(plan.tensors.length, 5 + layers * ENCODER_PER_LAYER + 2);
      assert.equal(plan.unmapped.length, 0, JSON.stringify(plan.unmapped.slice(0, 3)));
      assert.ok(plan.ignored.some((i) => i.name === "model.decoder.embed_tokens.weight"));
      for (const t of plan.tensors) {
        assert.equal(t.block, 2, t.name);
        assert.match(t.name, /^audio\./);
        const matrix = t.shape.length === 2 && t.class === "matrix";
        assert.equal(t.dtype, matrix ? "hq5k" : "fp16", t.name);
      }
      const fc1 = plan.tensors.find((t) => t.name === "audio.layer31.mlp.fc1.weight")!;
      assert.deepEqual([fc1.shape, fc1.dtype], [[config.encoder_ffn_dim, config.d_model], "hq5k"]);
      const conv1 = plan.tensors.find((t) => t.name === "audio.conv1.weight")!;
      assert.deepEqual(conv1.shape, [config.d_model, config.num_mel_bins, 3]);

      const extras = await buildExtras(plan, {});
      assert.equal(
        extras.flags,
        HnfFlag.HAS_AUDIO | HnfFlag.IS_MULTIMODAL | HnfFlag.HAS_TOKENIZER,
      );
      assert.ok(!extras.blocks.has(0xb), "no binary hints for audio alone");
      const hints = JSON.parse(new TextDecoder().decode(extras.blocks.get(0xa)!));
      assert.equal(hints.audio_enabled, true);
      for (
        const [k, v] of Object.entries({
          encoder_arch: "whisper",
          dtype: "fp16",
          num_mel_bins: config.num_mel_bins,
          hidden_size: config.d_model,
          num_hidden_layers: config.encoder_layers,
          num_attention_heads: config.encoder_attention_heads,
          intermediate_size: config.encoder_ffn_dim,
          max_source_positions: config.max_source_positions,
          k_proj_bias: false,
        })
      ) assert.equal(hints.audio[k], v, `audio.${k}`);

      const htf = readHtf(extras.blocks.get(0x9)!);
      const s = describeHtf(htf);
      const tj = JSON.parse(await Deno.readTextFile(`${FIXTURES}${WHISPER}/tokenizer.json`));
      assert.equal(s.type, "byte-level-bpe");
      assert.equal(s.vocabSize, Object.keys(tj.model.vocab).length);
      assert.equal(s.addedTokens, tj.added_tokens.length);
      const audio = htf.domains.find((d) => d.name === "audio")?.audio;
      assert.ok(audio, "an AUDIO domain");
      assert.deepEqual(
        [audio.nMels, audio.hiddenSize, audio.numHiddenLayers],
        [config.num_mel_bins, config.d_model, config.encoder_layers],
      );
    } finally {
      for (const t of plan.towers) t.folder.close();
    }
    const r = await convert({
      models: { audio: `${root}/m` },
      output: `${root}/w.hnf`,
      dryRun: true,
    });
    assert.ok(r.dryRun);
    assert.equal(r.tensors.length, 5 + layers * ENCODER_PER_LAYER + 2);
    assert.ok(!(await listDir(root)).includes("w.hnf"));
  });
});

Deno.test({
  name: "converts Whisper large-v3 cut to one layer, with its real tokenizer",
  ignore,
}, async () => {
  await withTempDir(async (root) => {
    const config = await whisperFolder(`${root}/m`, 1);
    const out = `${root}/w1.hnf`;
    const r = await convert({
      models: { audio: `${root}/m` },
      output: out,
      quant: "hq5k",
      search: "fast",
      threads: 1,
    });
    const hnf = await openHnf(out);
    try {
      assert.ok(hnf.checksumsVerified);
      assert.equal(hnf.tensors.length, 5 + ENCODER_PER_LAYER + 2);
      assert.ok(hnf.tensors.every((t) => t.block === "audio"));
      assert.equal(
        hnf.header.flags,
        HnfFlag.HAS_AUDIO | HnfFlag.IS_MULTIMODAL | HnfFlag.HAS_TOKENIZER,
      );
      const q = await hnf.readTensor("audio.layer0.attn.q_proj.weight");
      assert.ok(q.every((x) => x === 0), "sparse zeros survive quantization as zeros");
      const hints = JSON.parse(new TextDecoder().decode(await hnf.readBlock(0xa)));
      assert.equal(hints.audio.num_hidden_layers, 1);
      assert.equal(hints.audio.hidden_size, config.d_model);
      const s = describeHtf(readHtf(await hnf.readBlock(0x9)));
      assert.equal(s.addedTokens, 1609);
      assert.equal(r.tokenizer?.vocabSize, s.vocabSize);
    } finally {
      hnf.close();
    }
  });
});

interface TokenizerFixture {
  name: string;
  links: Record<string, string>;
  vocabSize: () => Promise<number>;
}

const readJson = async (path: string): Promise<Json> =>
  JSON.parse(await Deno.readTextFile(FIXTURES + path));
const modelVocab = (path: string) => async () =>
  Object.keys(((await readJson(path)).model as { vocab: Json }).vocab).length;

const TOKENIZERS: TokenizerFixture[] = [
  {
    name: "phi3-mini-tokenizer (SentencePiece BPE, tokenizer.json)",
    links: {
      "tokenizer.json": "phi3-mini-tokenizer/tokenizer.json",
      "tokenizer_config.json": "phi3-mini-tokenizer/tokenizer_config.json",
    },
    vocabSize: modelVocab("phi3-mini-tokenizer/tokenizer.json"),
  },
  {
    name: "gpt2-bpe (vocab.json + merges.txt)",
    links: { "vocab.json": "gpt2-bpe/gpt2.vocab", "merges.txt": "gpt2-bpe/gpt2.merges.txt" },
    vocabSize: async () => Object.keys(await readJson("gpt2-bpe/gpt2.vocab")).length,
  },
  {
    name: "clip-vit-b32-tokenizer (BPE with </w>)",
    links: {
      "tokenizer.json": "clip-vit-b32-tokenizer/tokenizer.json",
      "tokenizer_config.json": "clip-vit-b32-tokenizer/tokenizer_config.json",
    },
    vocabSize: modelVocab("clip-vit-b32-tokenizer/tokenizer.json"),
  },
  {
    name: "mistral-sentencepiece v1 (tokenizer.model only)",
    links: { "tokenizer.model": "mistral-sentencepiece/tokenizer.model.v1" },
    vocabSize: async () => {
      const path = `${FIXTURES}mistral-sentencepiece/tokenizer.model.v1`;
      return parseSentencePieceModel(await Deno.readFile(path), path).pieces.length;
    },
  },
];

for (const fixture of TOKENIZERS) {
  Deno.test({
    name: `converts a tiny Llama with the real ${fixture.name} tokenizer`,
    ignore,
  }, async () => {
    await withTempDir(async (root) => {
      await generateModel(`${root}/m`, { arch: "llama", tokenizer: false });
      await link(`${root}/m`, fixture.links);
      const out = `${root}/t.hnf`;
      const r = await convert({
        models: { text: `${root}/m` },
        output: out,
        quant: "fp16",
        threads: 1,
      });
      const hnf = await openHnf(out);
      try {
        assert.equal(hnf.header.flags & HnfFlag.HAS_TOKENIZER, HnfFlag.HAS_TOKENIZER);
        const s = describeHtf(readHtf(await hnf.readBlock(0x9)));
        const expected = await fixture.vocabSize();
        assert.ok(expected > 30000, `fixture vocab ${expected}`);
        assert.equal(s.vocabSize, expected);
        assert.equal((hnf.manifest.tokenizer as Json).vocab_size, expected);
        assert.equal(r.tokenizer?.vocabSize, expected);
        assert.ok(s.merges > 0, "merges are carried");
        // The binary hints still come from the model, not the tokenizer.
        assert.equal(decodeHintsBinary(await hnf.readBlock(0xb)).text?.vocab_size, 320);
      } finally {
        hnf.close();
      }
    });
  });
}
