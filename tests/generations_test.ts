/**
 * Checkpoints as they are published today: every supported family converts the same whether
 * its tensors carry Transformers 4.x or 5.x names and whether its config.json is a 4.x or a
 * 5.x one (`rope_parameters`, `layer_types`, `dtype`): the same HELIOS names, the same hints.
 */
import assert from "node:assert/strict";
import {
  convert,
  generateModel,
  type HfGeneration,
  openHnf,
  openSafetensorsFolder,
} from "../mod.ts";
import { main } from "../src/cli/main.ts";
import { fixtureRole, withTempDir } from "./_helpers.ts";

/** Every supported family's generator architecture. */
const FAMILIES = [
  "llama",
  "mistral",
  "mixtral",
  "qwen",
  "qwen2",
  "qwen3",
  "gemma",
  "gemma2",
  "gemma3_text",
  "gemma3",
  "phi3",
  "llava",
  "clip",
  "clip_vision",
  "siglip",
  "whisper",
];
const GENS: HfGeneration[] = ["hf4", "hf5"];

interface Out {
  sources: string[];
  names: string[];
  hints: string;
  unmapped: number;
}

async function convertGen(arch: string, layout: HfGeneration, configGen: HfGeneration) {
  return await withTempDir(async (root): Promise<Out> => {
    const { template } = await generateModel(`${root}/m`, { arch, layout, configGen });
    const r = await convert({
      models: { [fixtureRole(arch)]: `${root}/m` },
      output: `${root}/m.hnf`,
      quant: "fp16",
      threads: 1,
    });
    const hnf = await openHnf(`${root}/m.hnf`);
    try {
      return {
        sources: template.tensors.map((t) => t.name),
        names: hnf.tensors.map((t) => t.name),
        hints: new TextDecoder().decode(await hnf.readBlock(0xa)),
        unmapped: r.unmapped.length,
      };
    } finally {
      hnf.close();
    }
  });
}

for (const arch of FAMILIES) {
  Deno.test(`${arch}: hf4/hf5 layouts × hf4/hf5 configs give the same tensors and hints`, async () => {
    const base = await convertGen(arch, "hf4", "hf4");
    assert.ok(base.names.length > 0);
    for (const layout of GENS) {
      for (const configGen of GENS) {
        const o = layout === "hf4" && configGen === "hf4"
          ? base
          : await convertGen(arch, layout, configGen);
        const what = `${arch} ${layout} layout, ${configGen} config`;
        assert.equal(o.unmapped, 0, what);
        assert.deepEqual(o.names, base.names, `${what}: same HELIOS names`);
        assert.equal(o.hints, base.hints, `${what}: same hints`);
      }
    }
  });
}

Deno.test("hf5 layouts use the Transformers 5 names", async () => {
  const names = async (arch: string, layout: HfGeneration) =>
    (await convertGen(arch, layout, "hf4")).sources;
  const llava5 = await names("llava", "hf5");
  assert.ok(llava5.includes("model.language_model.layers.0.self_attn.q_proj.weight"));
  assert.ok(llava5.includes("model.vision_tower.encoder.layers.0.mlp.fc1.weight"));
  assert.ok(llava5.includes("model.multi_modal_projector.linear_1.weight"));
  assert.ok(llava5.includes("lm_head.weight"));
  const llava4 = await names("llava", "hf4");
  assert.ok(llava4.includes("language_model.model.layers.0.self_attn.q_proj.weight"));
  assert.ok(llava4.includes("vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight"));
  const gemma3 = await names("gemma3", "hf5");
  assert.ok(gemma3.includes("model.vision_tower.embeddings.patch_embedding.weight"));
  assert.ok((await names("siglip", "hf5")).includes("encoder.layers.0.self_attn.q_proj.weight"));
  assert.ok((await names("clip_vision", "hf5")).includes("embeddings.class_embedding"));
  // A dual CLIPModel keeps its vision_model./text_model. prefixes in 5.x.
  assert.ok((await names("clip", "hf5")).includes("vision_model.embeddings.class_embedding"));
});

Deno.test("CLI: generate --layout hf5 --config-gen hf5 writes a Transformers 5 folder", async () => {
  await withTempDir(async (root) => {
    const dir = `${root}/g`;
    const orig = console.error;
    console.error = () => {};
    let code: number;
    try {
      code = await main([
        "generate",
        dir,
        "--arch",
        "gemma3",
        "--layout",
        "hf5",
        "--config-gen",
        "hf5",
      ]);
    } finally {
      console.error = orig;
    }
    assert.equal(code, 0);
    const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assert.equal(config.dtype, "bfloat16");
    assert.equal(config.torch_dtype, undefined);
    assert.deepEqual(Object.keys(config.text_config.rope_parameters), [
      "full_attention",
      "sliding_attention",
    ]);
    const folder = await openSafetensorsFolder(dir);
    try {
      assert.ok(folder.tensors.some((t) => t.name === "model.vision_tower.post_layernorm.weight"));
    } finally {
      folder.close();
    }
  });
});
