import assert from "node:assert/strict";
import { HeliosError } from "../src/errors.ts";
import { ARCHS } from "../src/fixtures/archs.ts";
import { HnfFlag } from "../src/hnf/constants.ts";
import {
  headerFlagsFor,
  loadModelSpec,
  type MappedTensor,
  mapperFor,
  type ModelSpec,
  specFromConfig,
  type TowerRole,
} from "../src/model/mod.ts";
import { generateModel } from "../src/fixtures/mod.ts";
import { fixtureRole, FIXTURES, fixturesPresent, withTempDir } from "./_helpers.ts";

interface Mapped extends MappedTensor {
  shape: number[];
}

function mapArch(arch: string, role: TowerRole = "text") {
  const t = ARCHS[arch]("tiny");
  const spec = specFromConfig(t.config, role, arch);
  const mapper = mapperFor(spec);
  const mapped = new Map<string, Mapped>();
  const ignored: string[] = [];
  const unknown: string[] = [];
  for (const x of t.tensors) {
    const r = mapper.map(x.name, x.shape);
    if (r === null) unknown.push(x.name);
    else if ("ignore" in r) ignored.push(x.name);
    else {
      assert.ok(!mapped.has(r.name), `duplicate target ${r.name}`);
      mapped.set(r.name, { ...r, shape: x.shape });
    }
  }
  return { spec, mapped, ignored, unknown, flags: headerFlagsFor([...mapped.values()]) };
}

function expectClass(mapped: Map<string, Mapped>): void {
  for (const t of mapped.values()) {
    const oneD = t.shape.length === 1;
    if (
      oneD || t.embedding ||
      /(lm_head|norm|ln\w*|moe\.gate|pos_embed|patch_embed|conv\d|cls_token|probe)/.test(t.name)
    ) {
      if (
        !/mlp\.fc|proj\.weight$|head\.weight$|in_proj\.weight$|linear\d\.weight$/.test(t.name) ||
        oneD
      ) {
        assert.equal(t.class, "fp16", `${t.name} should be fp16`);
      }
    }
    if (
      t.shape.length === 2 && /(_proj|mlp\.\w+|experts\.\d+\.\w+|linear\d)\.weight$/.test(t.name)
    ) {
      if (!t.name.includes("input_projection")) {
        assert.equal(t.class, "matrix", `${t.name} should be matrix`);
      }
    }
  }
}

Deno.test("every fixture architecture maps all its tensors, except the deliberate unknown", () => {
  for (const arch of Object.keys(ARCHS)) {
    const { unknown, mapped } = mapArch(arch, fixtureRole(arch));
    assert.ok(mapped.size > 0, arch);
    if (arch === "llama_extra_tensor") {
      assert.deepEqual(unknown, ["model.layers.0.self_attn.extra_gate.weight"]);
    } else assert.deepEqual(unknown, [], arch);
    expectClass(mapped);
  }
});

Deno.test("Gemma 2 maps the sandwich norms and writes no lm_head (tied)", () => {
  const { mapped, spec, flags } = mapArch("gemma2");
  assert.equal(spec.detectedBy, 'model_type "gemma2"');
  assert.equal(spec.text?.tieWordEmbeddings, true);
  assert.equal(spec.text?.headDim, 128);
  assert.deepEqual(mapped.get("text.layer1.ln_pre_ffn.weight")?.class, "fp16");
  assert.ok(mapped.has("text.layer1.ln_post_ffn.weight"));
  assert.ok(mapped.has("text.layer0.ln_attn_out.weight"));
  assert.deepEqual(mapped.get("text.layer0.attn.q_proj.weight")?.shape, [512, 256]);
  assert.ok(![...mapped.keys()].some((n) => n.includes("lm_head")));
  assert.equal(mapped.get("text.token_embedding.weight")?.embedding, true);
  assert.equal(flags, 0);
});

Deno.test("a checkpoint lm_head is ignored when the config ties embeddings", () => {
  const t = ARCHS.llama("tiny");
  const spec = specFromConfig({ ...t.config, tie_word_embeddings: true }, "text", "m");
  const r = mapperFor(spec).map("lm_head.weight", [320, 256]);
  assert.ok(r && "ignore" in r);
});

Deno.test("Mixtral maps router (FP16) and experts (matrix) and sets IS_MOE", () => {
  const { mapped, spec, flags } = mapArch("mixtral");
  assert.deepEqual(spec.moe, { numExperts: 4, expertsPerToken: 2 });
  assert.equal(mapped.get("text.layer0.moe.gate.weight")?.class, "fp16");
  assert.deepEqual(mapped.get("text.layer0.moe.gate.weight")?.shape, [4, 256]);
  assert.equal(mapped.get("text.layer1.moe.experts.3.gate.weight")?.class, "matrix");
  assert.deepEqual(mapped.get("text.layer1.moe.experts.3.down.weight")?.shape, [256, 512]);
  assert.ok(mapped.has("text.layer1.moe.experts.3.up.weight"));
  assert.equal(flags, HnfFlag.IS_MOE);
});

Deno.test("Phi-3 keeps the fused qkv and gate_up projections", () => {
  const { mapped } = mapArch("phi3");
  assert.deepEqual(mapped.get("text.layer0.attn.qkv_proj.weight")?.shape, [768, 256]);
  assert.deepEqual(mapped.get("text.layer0.mlp.gate_up.weight")?.shape, [1024, 256]);
  assert.equal(mapped.get("text.layer0.mlp.gate_up.weight")?.class, "matrix");
});

Deno.test("Qwen v1 maps c_attn (with bias) and swaps w1/w2 into up/gate", () => {
  const { mapped, spec } = mapArch("qwen");
  assert.equal(spec.text?.intermediateSize, 512);
  assert.equal(mapped.get("text.layer0.attn.qkv_proj.bias")?.class, "fp16");
  assert.ok(mapped.has("text.layer0.mlp.gate.weight") && mapped.has("text.layer0.mlp.up.weight"));
  assert.ok(mapped.has("text.final_norm.weight") && mapped.has("text.lm_head.weight"));
});

Deno.test("Qwen2 keeps q/k/v biases as FP16", () => {
  const { mapped } = mapArch("qwen2");
  assert.equal(mapped.get("text.layer0.attn.k_proj.bias")?.class, "fp16");
});

Deno.test("LLaVA is split: language model → text, tower and projector → vision", () => {
  const { mapped, flags, spec } = mapArch("llava");
  assert.equal(spec.text?.hiddenSize, 256);
  assert.equal(spec.vision?.encoder, "clip");
  assert.equal(mapped.get("text.layer0.attn.q_proj.weight")?.block, 0);
  assert.equal(mapped.get("text.lm_head.weight")?.block, 0);
  assert.equal(mapped.get("vision.layer1.attn.o_proj.weight")?.block, 1);
  assert.equal(mapped.get("vision.cls_token")?.block, 1);
  assert.equal(mapped.get("vision.pre_layernorm.bias")?.class, "fp16");
  assert.equal(mapped.get("projector.vision.linear1.weight")?.block, 1);
  assert.equal(mapped.get("projector.vision.linear1.weight")?.class, "matrix");
  assert.equal(mapped.get("projector.vision.linear2.bias")?.class, "fp16");
  assert.equal(flags, HnfFlag.HAS_VISION | HnfFlag.IS_MULTIMODAL);
});

Deno.test("LLaVA as --cortex writes the language model to block 7", () => {
  const { mapped, flags } = mapArch("llava", "cortex");
  assert.equal(mapped.get("cortex.layer0.mlp.down.weight")?.block, 7);
  assert.equal(flags, HnfFlag.HAS_VISION | HnfFlag.IS_MULTIMODAL | HnfFlag.HAS_CORTEX);
});

Deno.test("LLaVA as --vision keeps only the vision side, the language model is ignored", () => {
  const { mapped, ignored, spec } = mapArch("llava", "vision");
  assert.equal(spec.text, undefined);
  assert.ok([...mapped.values()].every((t) => t.block === 1));
  assert.ok(ignored.some((n) => n.startsWith("language_model.")));
});

Deno.test("Gemma 3 (new layout) splits into text and a SigLIP vision tower", () => {
  const { mapped, spec } = mapArch("gemma3");
  assert.equal(spec.vision?.encoder, "siglip");
  assert.equal(spec.text?.headDim, 128);
  assert.equal(spec.text?.tieWordEmbeddings, true);
  assert.ok(mapped.has("text.layer0.attn.q_norm.weight"));
  assert.ok(mapped.has("vision.patch_embed.bias"));
  assert.equal(mapped.get("projector.vision.input_projection.weight")?.block, 1);
  assert.ok(mapped.has("projector.vision.soft_emb_norm.weight"));
});

Deno.test("CLIP maps the vision tower and ignores the text side", () => {
  const { mapped, ignored, flags } = mapArch("clip", "vision");
  assert.ok(mapped.has("vision.head.weight"));
  assert.equal(mapped.get("vision.patch_embed.weight")?.class, "fp16");
  assert.ok(ignored.includes("text_projection.weight") && ignored.includes("logit_scale"));
  assert.equal(flags, HnfFlag.HAS_VISION | HnfFlag.IS_MULTIMODAL);
});

Deno.test("SigLIP maps the attention-pooling head", () => {
  const { mapped } = mapArch("siglip", "vision");
  assert.equal(mapped.get("vision.head.attn.in_proj.weight")?.class, "matrix");
  assert.equal(mapped.get("vision.head.probe")?.class, "fp16");
});

Deno.test("Whisper: encoder → audio block with biases, decoder ignored", () => {
  const { mapped, ignored, flags, spec } = mapArch("whisper", "audio");
  assert.equal(spec.text, undefined);
  assert.equal(spec.audio?.hiddenSize, 256);
  assert.equal(mapped.get("audio.conv1.weight")?.class, "fp16");
  assert.deepEqual(mapped.get("audio.conv1.weight")?.shape, [256, 80, 3]);
  assert.ok(mapped.has("audio.pos_embed.weight"));
  assert.equal(mapped.get("audio.layer1.attn.o_proj.weight")?.class, "matrix");
  assert.equal(mapped.get("audio.layer1.attn.q_proj.bias")?.class, "fp16");
  assert.ok(!mapped.has("audio.layer1.attn.k_proj.bias"));
  assert.ok(mapped.has("audio.layer0.ln1.bias") && mapped.has("audio.layer0.ln2.weight"));
  assert.ok(mapped.has("audio.layer0.mlp.fc2.weight") && mapped.has("audio.ln_post.weight"));
  assert.ok(ignored.length > 0 && ignored.every((n) => n.startsWith("model.decoder.")));
  assert.equal(flags, HnfFlag.HAS_AUDIO | HnfFlag.IS_MULTIMODAL);
});

Deno.test("the generic fallback warns and maps LLaMA names", () => {
  const { mapped, spec } = mapArch("generic");
  assert.equal(spec.family, "generic");
  assert.match(spec.detectedBy, /fallback/);
  assert.equal(spec.warnings.length, 1);
  assert.ok(mapped.has("text.layer1.mlp.up.weight"));
});

Deno.test("detection by architectures when model_type is absent", () => {
  const t = ARCHS.mixtral("tiny");
  const { model_type: _, ...config } = t.config;
  const spec = specFromConfig(config, "text", "m");
  assert.equal(spec.family, "mixtral");
  assert.equal(spec.detectedBy, 'architectures[0] "MixtralForCausalLM"');
});

Deno.test("unsupported non-decoders are a clear UNSUPPORTED_MODEL error", () => {
  for (
    const config of [
      { model_type: "bert", architectures: ["BertForMaskedLM"], hidden_size: 8 },
      { model_type: "t5", architectures: ["T5ForConditionalGeneration"], is_encoder_decoder: true },
      {},
    ]
  ) {
    assert.throws(() => specFromConfig(config, "text", "m"), (err: unknown) => {
      assert.ok(err instanceof HeliosError);
      assert.equal(err.code, "UNSUPPORTED_MODEL");
      assert.match(err.message, /supported: .*gemma2.*whisper/);
      return true;
    });
  }
});

Deno.test("a decoder given as --vision or --audio is rejected", () => {
  assert.throws(
    () => specFromConfig(ARCHS.llama("tiny").config, "vision", "m"),
    (e: unknown) => e instanceof HeliosError && e.code === "UNSUPPORTED_MODEL",
  );
});

Deno.test("a missing decoder key is BAD_CONFIG naming the key", () => {
  const { hidden_size: _, ...config } = ARCHS.gemma("tiny").config;
  assert.throws(
    () => specFromConfig(config, "text", "m"),
    (e: unknown) =>
      e instanceof HeliosError && e.code === "BAD_CONFIG" && /hidden_size/.test(e.message),
  );
});

Deno.test("loadModelSpec reads a generated Whisper folder without decoder keys", async () => {
  await withTempDir(async (dir) => {
    const t = ARCHS.whisper("tiny");
    const { hidden_size: _, num_hidden_layers: __, ...config } = t.config;
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
    const spec: ModelSpec = await loadModelSpec(dir, "audio");
    assert.equal(spec.family, "whisper");
    assert.equal(spec.audio?.numLayers, 2);
  });
});

Deno.test("the generator writes every extra architecture", async () => {
  await withTempDir(async (dir) => {
    for (const arch of ["gemma3", "whisper", "clip"]) {
      await generateModel(`${dir}/${arch}`, { arch, tokenizer: false });
      const spec = await loadModelSpec(`${dir}/${arch}`, fixtureRole(arch));
      assert.equal(spec.family, arch);
    }
  });
});

Deno.test({
  name: "the real whisper-large-v3 config gives the audio dims",
  ignore: !fixturesPresent(),
  fn() {
    const path = `${FIXTURES}whisper-large-v3-config-tokenizer/config.json`;
    const config = JSON.parse(Deno.readTextFileSync(path));
    const spec = specFromConfig(config, "audio", "whisper-large-v3");
    assert.deepEqual(spec.audio, {
      encoder: "whisper",
      numMelBins: 128,
      hiddenSize: 1280,
      numLayers: 32,
      numHeads: 20,
      ffnDim: 5120,
      maxSourcePositions: 1500,
      activation: "gelu",
    });
    assert.equal(spec.text, undefined);
  },
});
