/**
 * Invalid or incomplete inputs are refused with one clear line, before anything is written:
 * odd output paths, non-regular config and tokenizer files, tensors that disagree with the
 * config, absurd config values, and safetensors files the Rust crate would reject.
 */
import assert from "node:assert/strict";
import { convert, generateModel, HnfWriter, planConversion } from "../mod.ts";
import { buildHintsBinary } from "../src/hints/mod.ts";
import { readTextDims, specFromConfig } from "../src/model/mod.ts";
import { openSafetensorsFolder } from "../src/safetensors/mod.ts";
import type { ArchTemplate } from "../src/fixtures/archs.ts";
import { assertHeliosError, listDir, runCli, tempDir, writeRawSafetensors } from "./_helpers.ts";

async function model(edit?: (t: ArchTemplate) => ArchTemplate, tokenizer = false) {
  const dir = await tempDir();
  await generateModel(`${dir}/m`, { arch: "llama", tokenizer, edit });
  return { dir, m: `${dir}/m` };
}

const renameTensor = (from: string, to: string) => (t: ArchTemplate): ArchTemplate => ({
  ...t,
  tensors: t.tensors.map((x) => x.name === from ? { ...x, name: to } : x),
});

const dropTensor = (name: string) => (t: ArchTemplate): ArchTemplate => ({
  ...t,
  tensors: t.tensors.filter((x) => x.name !== name),
});

const reshape = (name: string, shape: number[]) => (t: ArchTemplate): ArchTemplate => ({
  ...t,
  tensors: t.tensors.map((x) => x.name === name ? { ...x, shape } : x),
});

Deno.test("-o naming an input file or a non-regular file is refused, even with --force", async () => {
  const { dir, m } = await model();
  const shard = `${m}/model.safetensors`;
  const before = await Deno.readFile(shard);
  await assertHeliosError(
    convert({ models: { text: m }, output: shard, quant: "fp16", force: true }),
    "BAD_OPTION",
    /is the input file .*model\.safetensors/,
  );
  await Deno.link(shard, `${dir}/hardlink.hnf`);
  await assertHeliosError(
    convert({ models: { text: m }, output: `${dir}/hardlink.hnf`, quant: "fp16", force: true }),
    "BAD_OPTION",
    /is the input file/,
  );
  assert.deepEqual(await Deno.readFile(shard), before, "the input is untouched");
  await assertHeliosError(
    convert({ models: { text: m }, output: "/dev/null", quant: "fp16", force: true }),
    "BAD_OPTION",
    /not a regular file/,
  );
  await assertHeliosError(
    convert({ models: { text: m }, output: m, quant: "fp16", force: true }),
    "BAD_OPTION",
    /not a regular file/,
  );
});

Deno.test("a FIFO or a device as config.json or tokenizer.json is refused, not read forever", async () => {
  const { m } = await model(undefined, true);
  await Deno.remove(`${m}/tokenizer.json`);
  await Deno.symlink("/dev/zero", `${m}/tokenizer.json`);
  await assertHeliosError(
    convert({ models: { text: m }, output: `${m}/../x.hnf`, quant: "fp16" }),
    "BAD_TOKENIZER",
    /tokenizer\.json: not a regular file/,
  );
  await Deno.remove(`${m}/config.json`);
  const mkfifo = new Deno.Command("mkfifo", { args: [`${m}/config.json`] });
  if ((await mkfifo.output()).success) {
    await assertHeliosError(
      planConversion({ models: { text: m } }),
      "BAD_CONFIG",
      /config\.json: not a regular file/,
    );
  }
});

Deno.test("a checkpoint without its token embedding is refused naming the tensor", async () => {
  const { m } = await model(dropTensor("model.embed_tokens.weight"));
  await assertHeliosError(
    planConversion({ models: { text: m } }),
    "BAD_MODEL",
    /no tensor for 'text\.token_embedding\.weight'/,
  );
});

Deno.test("a layer missing its attention or MLP is refused", async () => {
  const { m } = await model(dropTensor("model.layers.1.mlp.down_proj.weight"));
  await assertHeliosError(
    planConversion({ models: { text: m } }),
    "BAD_MODEL",
    /layer1\.mlp\.(up|down)\.weight/,
  );
});

Deno.test("wrong tensor shapes are refused with expected and found shape", async () => {
  const cases: [ReturnType<typeof reshape>, RegExp][] = [
    [
      reshape("model.embed_tokens.weight", [319, 256]),
      /'model\.embed_tokens\.weight' has shape \[319, 256\] but .* implies \[320, 256\] \(vocab_size × hidden_size\)/,
    ],
    [
      reshape("model.layers.0.self_attn.q_proj.weight", [1, 256, 256]),
      /q_proj\.weight' has shape \[1, 256, 256\] but .* implies \[256, 256\]/,
    ],
    [reshape("model.layers.0.mlp.up_proj.weight", [131072]), /has shape \[131072\]/],
    [reshape("model.layers.1.self_attn.k_proj.weight", [256, 256]), /implies \[128, 256\]/],
    [reshape("model.norm.weight", [255]), /implies \[256\] \(hidden_size\)/],
    [
      renameTensor(
        "model.layers.1.input_layernorm.weight",
        "model.layers.7.input_layernorm.weight",
      ),
      /layer 7 is past num_hidden_layers 2/,
    ],
  ];
  for (const [edit, pattern] of cases) {
    const { m } = await model(edit);
    await assertHeliosError(planConversion({ models: { text: m } }), "BAD_MODEL", pattern);
  }
});

Deno.test("optional tensors stay optional: no lm_head (tied) and biases convert", async () => {
  const { dir, m } = await model((t) => ({
    ...t,
    tensors: [
      ...t.tensors.filter((x) => x.name !== "lm_head.weight"),
      { name: "model.layers.0.self_attn.q_proj.bias", shape: [256], init: "normal" },
    ],
  }));
  const r = await convert({ models: { text: m }, output: `${dir}/o.hnf`, quant: "fp16" });
  assert.ok(r.tensors.some((t) => t.name === "text.layer0.attn.q_proj.bias"));
  assert.ok(!r.tensors.some((t) => t.name.endsWith("lm_head.weight")));
});

Deno.test("absurd config values are refused, never wrapped into the hints", () => {
  const base = {
    model_type: "llama",
    hidden_size: 256,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    vocab_size: 320,
  };
  for (const key of ["hidden_size", "num_hidden_layers", "vocab_size", "num_attention_heads"]) {
    for (const v of [0, 1e12, 2 ** 32, 2 ** 53 + 1, -1, 1.5, "8"]) {
      assert.throws(
        () => readTextDims({ ...base, [key]: v }, "c.json"),
        (e: Error) => e.message.includes(`'${key}'`) && !e.message.includes("\n"),
        `${key} = ${v}`,
      );
    }
  }
  assert.throws(
    () => readTextDims({ ...base, num_key_value_heads: 64 }, "c.json"),
    /num_key_value_heads 64 must divide num_attention_heads 4/,
  );
  assert.throws(
    () => readTextDims({ ...base, num_key_value_heads: 3 }, "c.json"),
    /must divide/,
  );
  assert.throws(() => readTextDims({ ...base, rope_theta: 1e39 }, "c.json"), /rope_theta/);
  assert.throws(() => readTextDims({ ...base, rms_norm_eps: -1 }, "c.json"), /rms_norm_eps/);
  assert.throws(
    () =>
      specFromConfig(
        {
          ...base,
          model_type: "mixtral",
          num_local_experts: 4,
          num_experts_per_tok: 8,
        },
        "text",
        "m",
      ),
    /num_experts_per_tok 8 is more than the 4 experts/,
  );
  // The last guard: a value that slipped past the config checks is refused by the hints.
  const spec = specFromConfig({ ...base, max_position_embeddings: 2 ** 31 - 1 }, "text", "m");
  spec.text!.maxPositions = 2 ** 32;
  assert.throws(() => buildHintsBinary([{ spec, tensors: [] }]), /does not fit its u32 field/);
});

Deno.test("safetensors: holes, trailing bytes, bad starts and metadata are refused like the Rust crate", async () => {
  const dir = await tempDir();
  const data = new Uint8Array(16);
  const cases: [string, Uint8Array, RegExp][] = [
    ['{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}', data, /hole at byte/],
    ['{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data, /8 bytes after the last/],
    [' {"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', data, /must start with '\{'/],
    ['\ufeff{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', data, /must start/],
    [
      '{"__metadata__":{"n":1},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}',
      data,
      /__metadata__ value "n" must be a string/,
    ],
    [
      '{"a\\ud800":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}',
      data,
      /not valid UTF-16/,
    ],
    [
      `{"__metadata__":{"deep":${"[".repeat(200000)}${"]".repeat(200000)}}}`,
      new Uint8Array(0),
      /must be a string, got \[\[\[/,
    ],
    ['{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}\n', data, /invalid|not valid JSON/],
  ];
  for (const [i, [header, bytes, pattern]] of cases.entries()) {
    await Deno.mkdir(`${dir}/c${i}`);
    await writeRawSafetensors(`${dir}/c${i}/model.safetensors`, header, bytes);
    await assertHeliosError(openSafetensorsFolder(`${dir}/c${i}`), "BAD_SAFETENSORS", pattern);
  }
});

Deno.test("an index naming shard '' or '.' is a clean error naming the index", async () => {
  const { m } = await model();
  for (const shard of ["", "."]) {
    await Deno.writeTextFile(
      `${m}/model.safetensors.index.json`,
      JSON.stringify({ weight_map: { "model.norm.weight": shard } }),
    );
    await assertHeliosError(
      openSafetensorsFolder(m),
      "BAD_INDEX",
      /model\.safetensors\.index\.json: tensor 'model\.norm\.weight' has an invalid shard name/,
    );
  }
});

Deno.test("JSON syntax errors quoting raw text with newlines stay one line", async () => {
  const { dir, m } = await model();
  await Deno.writeTextFile(`${m}/config.json`, '{"hidden_size":\n\n 12,\n oops}');
  const e = await assertHeliosError(planConversion({ models: { text: m } }), "BAD_CONFIG");
  assert.match(e.message, /config\.json: invalid JSON/);
  assert.deepEqual(await listDir(dir), ["m"]);
});

Deno.test("inspect prints the report, then exits 1, when the tokenizer block does not decode", async () => {
  const dir = await tempDir();
  const w = await HnfWriter.create(`${dir}/bad-tok.hnf`);
  await w.beginBlock(0);
  await w.beginTensor({ name: "text.a", dtype: "fp16", shape: [2] });
  await w.write(new Uint8Array(4));
  await w.endTensor();
  await w.writeBlock(0x9, new TextEncoder().encode("not an HTF blob"));
  await w.finish({ flags: 0x100, manifest: {} });
  const { code, stdout, stderr } = await runCli(["inspect", `${dir}/bad-tok.hnf`]);
  const err = stderr.trim();
  assert.equal(code, 1, err);
  assert.match(stdout, /text\.a/);
  assert.match(err, /^error: .*bad-tok\.hnf: tokenizer block 0x9 does not decode/);
  assert.equal(err.split("\n").length, 1);
});
