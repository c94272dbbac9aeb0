/**
 * One config reader for both generations of config.json: RoPE from `rope_theta`/`rope_scaling`
 * (4.x) and from `rope_parameters`, flat or per layer type (5.x), read into the ModelSpec and
 * written into the hints; and the generic fallback's refusals.
 */
import assert from "node:assert/strict";
import { configForGeneration, type HfGeneration } from "../src/fixtures/generations.ts";
import { ARCHS } from "../src/fixtures/archs.ts";
import { buildHintsJson } from "../src/hints/mod.ts";
import { mapperFor, readAudioDims, specFromConfig } from "../src/model/mod.ts";
import type { JsonObject, ModelSpec } from "../src/model/types.ts";
import { assertHeliosError, FIXTURES, fixturesPresent, LLAMA31_ROPE } from "./_helpers.ts";

const GENS: HfGeneration[] = ["hf4", "hf5"];

/** The spec and text hints of a generator architecture, with its config edited, in `gen`. */
function read(arch: string, gen: HfGeneration, edit: JsonObject = {}) {
  const t = ARCHS[arch]("tiny");
  const config = configForGeneration({ ...t.config, ...edit }, gen);
  const spec = specFromConfig(config, "text", arch);
  const mapper = mapperFor(spec);
  const tensors = [];
  for (const x of t.tensors) {
    const r = mapper.map(x.name, x.shape);
    if (r && !("ignore" in r)) tensors.push({ name: r.name, shape: x.shape });
  }
  const hints = JSON.parse(buildHintsJson([{ spec, tensors }]));
  return { config, spec, text: hints.text as Record<string, unknown> };
}

function rope(spec: ModelSpec) {
  return spec.text!.rope;
}

const LLAMA31 = { ...LLAMA31_ROPE, max_position_embeddings: 131072 };

Deno.test("a Llama 3.1 config gives rope llama3, theta 500000 in both generations", () => {
  const hf5 = configForGeneration({ ...ARCHS.llama("tiny").config, ...LLAMA31 }, "hf5");
  assert.deepEqual(hf5.rope_parameters, {
    rope_type: "llama3",
    rope_theta: 500000,
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 8192,
  });
  assert.equal(hf5.rope_theta, undefined);
  for (const gen of GENS) {
    const { spec, text } = read("llama", gen, LLAMA31);
    const g = rope(spec).global;
    assert.deepEqual(
      [g.type, g.theta, g.factor, g.lowFreqFactor, g.highFreqFactor, g.originalMaxPositions],
      ["llama3", 500000, 8, 1, 4, 8192],
      gen,
    );
    assert.equal(spec.text!.ropeTheta, 500000);
    // The hints keep the config's values, but the runtime's factor is 1.0 (issue 12: it
    // divides positions by rope_scaling_factor, which only linear scaling means).
    assert.equal(text.arch, "llama3");
    assert.equal(text.rope_type, "llama3");
    assert.equal(text.rope_theta, 500000);
    assert.equal(text.rope_scaling_factor, 1);
    assert.equal(text.rope_model_scaling_factor, 8);
    assert.equal(text.rope_low_freq_factor, 1);
    assert.equal(text.rope_high_freq_factor, 4);
    assert.equal(text.original_max_position_embeddings, 8192);
  }
});

Deno.test("Mistral, Qwen2, Qwen3 and Mixtral keep theta 1e6 from rope_parameters", () => {
  for (const arch of ["mistral", "qwen2", "qwen3", "mixtral"]) {
    for (const gen of GENS) {
      const { config, spec, text } = read(arch, gen, { rope_theta: 1000000 });
      if (gen === "hf5") {
        assert.deepEqual(config.rope_parameters, { rope_type: "default", rope_theta: 1000000 });
      }
      assert.equal(rope(spec).global.theta, 1000000, `${arch} ${gen}`);
      assert.equal(rope(spec).global.type, "default");
      assert.equal(text.rope_theta, 1000000, `${arch} ${gen} hints`);
      assert.equal(text.rope_scaling_factor, 1);
    }
  }
});

Deno.test("Gemma 3 text: per-layer-type rope_parameters and layer_types (5.x) or rope_local_base_freq (4.x)", () => {
  for (const gen of GENS) {
    const { spec, text } = read("gemma3_text", gen);
    const r = rope(spec);
    assert.deepEqual([r.global.type, r.global.theta, r.global.factor], ["linear", 1000000, 8]);
    assert.deepEqual(Object.keys(r.byLayerType!).sort(), ["full_attention", "sliding_attention"]);
    assert.equal(r.byLayerType!.sliding_attention.theta, 10000);
    assert.equal(r.byLayerType!.sliding_attention.type, "default");
    assert.equal(
      r.source,
      gen === "hf5" ? "rope_parameters per layer type" : "rope_theta/rope_scaling",
    );
    assert.deepEqual(
      spec.text!.layerTypes,
      gen === "hf5" ? ["sliding_attention", "sliding_attention"] : undefined,
    );
    assert.equal(text.rope_theta, 1000000);
    assert.equal(text.rope_type, "linear");
    assert.equal(text.rope_scaling_factor, 8);
    assert.equal(text.rope_local_theta, 10000);
  }
  // The multimodal checkpoint's text_config reads the same way.
  const mm = specFromConfig(configForGeneration(ARCHS.gemma3("tiny").config, "hf5"), "text", "g");
  assert.equal(mm.text!.rope.global.theta, 1000000);
  assert.equal(mm.text!.rope.byLayerType!.sliding_attention.theta, 10000);
});

Deno.test("Gemma 3 text: the sliding-window pattern comes from layer_types when the 5.x config has no key", () => {
  for (const gen of GENS) {
    const { config, text } = read("gemma3_text", gen, {
      num_hidden_layers: 12,
      sliding_window_pattern: 4,
    });
    assert.equal("sliding_window_pattern" in config, gen === "hf4", gen);
    assert.equal(text.sliding_window_pattern, 4, gen);
  }
});

Deno.test("Phi-3 longrope factors and partial rotary read from rope_parameters", () => {
  for (const gen of GENS) {
    const { spec, text } = read("phi3", gen, { partial_rotary_factor: 0.75 });
    const g = rope(spec).global;
    assert.equal(g.type, "longrope");
    assert.equal(g.longFactor!.length, 32);
    assert.equal(g.originalMaxPositions, 4096);
    assert.equal(g.partialRotaryFactor, 0.75);
    assert.equal(text.rope_scaling_factor, 1);
    assert.equal(text.rope_model_scaling_factor, 131072 / 4096);
    assert.equal(text.rope_dim, 48);
    assert.equal((text.rope_long_factor as number[]).length, 32);
  }
  // 5.x may put partial_rotary_factor inside rope_parameters.
  const c = {
    ...ARCHS.llama("tiny").config,
    rope_parameters: { rope_type: "default", rope_theta: 10000, partial_rotary_factor: 0.5 },
  };
  assert.equal(specFromConfig(c, "text", "m").text!.rope.global.partialRotaryFactor, 0.5);
});

Deno.test("Qwen v1's rotary_emb_base is its theta; explicit head_dim wins over hidden/heads", () => {
  const { spec } = read("qwen", "hf5", { rotary_emb_base: 50000 });
  assert.equal(rope(spec).global.theta, 50000);
  const g = specFromConfig({ ...ARCHS.gemma("tiny").config, head_dim: 96 }, "text", "g");
  assert.equal(g.text!.headDim, 96);
  assert.equal(specFromConfig(ARCHS.llama("tiny").config, "text", "l").text!.headDim, 64);
});

Deno.test("malformed rope_parameters and layer_types are BAD_CONFIG on one line", async () => {
  const base = ARCHS.llama("tiny").config;
  const bad = (extra: JsonObject) => () =>
    Promise.resolve().then(() => specFromConfig({ ...base, ...extra }, "text", "m"));
  await assertHeliosError(
    bad({ rope_parameters: { sliding_attention: {}, chunked_attention: {} } })(),
    "BAD_CONFIG",
    /layer types sliding_attention, chunked_attention but no 'full_attention'/,
  );
  await assertHeliosError(
    bad({ rope_parameters: { rope_type: "default", rope_theta: "big" } })(),
    "BAD_CONFIG",
    /'rope_theta' must be a number, got "big"/,
  );
  await assertHeliosError(
    bad({ layer_types: ["full_attention"] })(),
    "BAD_CONFIG",
    /'layer_types' must list one attention type per layer \(2\)/,
  );
});

Deno.test({
  name: "the real Whisper large-v3 config reads the same in both generations",
  ignore: !fixturesPresent(),
}, async () => {
  const real = JSON.parse(
    await Deno.readTextFile(`${FIXTURES}whisper-large-v3-config-tokenizer/config.json`),
  );
  const a = readAudioDims(real, "w");
  assert.deepEqual(readAudioDims(configForGeneration(real, "hf5"), "w"), a);
  assert.deepEqual([a.hiddenSize, a.numLayers, a.numMelBins], [1280, 32, 128]);
});

/** A generic-fallback config: the generator's unknown LLaMA-like decoder, edited. */
function generic(extra: JsonObject): JsonObject {
  return { ...ARCHS.generic("tiny").config, ...extra };
}

Deno.test("the generic fallback says what it assumed", () => {
  const spec = specFromConfig(
    generic({ rope_parameters: { rope_type: "default", rope_theta: 2e6 } }),
    "text",
    "m",
  );
  assert.match(
    spec.warnings[0],
    /unknown model_type "helioslm"; converting as a LLaMA-style decoder \(generic mapper\), assuming pre-norm RMSNorm \(rms_norm_eps 0\.000001\), gated MLP with 'silu', sequential residuals, no extra multipliers, RoPE default theta 2000000/,
  );
});

Deno.test("the generic fallback refuses what the hints cannot express, listing the keys", async () => {
  const refused = (extra: JsonObject, drop: string[] = []) => {
    const c = generic(extra);
    for (const k of drop) delete c[k];
    return Promise.resolve().then(() => specFromConfig(c, "text", "m"));
  };
  await assertHeliosError(
    refused({
      model_type: "granite",
      embedding_multiplier: 12.0,
      attention_multiplier: 0.015625,
      residual_multiplier: 0.22,
      logits_scaling: 8.0,
    }),
    "UNSUPPORTED_MODEL",
    /unknown model_type "granite" cannot be converted as a LLaMA-style decoder: extra scaling multipliers \(embedding_multiplier=12, attention_multiplier=0\.015625, residual_multiplier=0\.22, logits_scaling=8\); .*no file is written/,
  );
  await assertHeliosError(
    refused({ model_type: "olmo", clip_qkv: null }, ["rms_norm_eps"]),
    "UNSUPPORTED_MODEL",
    /"olmo" .*: a norm other than RMSNorm \(rms_norm_eps absent\)/,
  );
  await assertHeliosError(
    refused({ model_type: "phi", layer_norm_eps: 1e-5, partial_rotary_factor: 0.4 }, [
      "rms_norm_eps",
    ]),
    "UNSUPPORTED_MODEL",
    /"phi" .*: a norm other than RMSNorm \(layer_norm_eps=0\.00001\)/,
  );
  await assertHeliosError(
    refused({ model_type: "gpt_neox", use_parallel_residual: true }),
    "UNSUPPORTED_MODEL",
    /parallel attention and MLP \(use_parallel_residual=true\)/,
  );
  await assertHeliosError(
    refused({
      model_type: "deepseek_v3",
      kv_lora_rank: 512,
      q_lora_rank: 1536,
      n_routed_experts: 256,
    }),
    "UNSUPPORTED_MODEL",
    /latent \(MLA\) attention \(kv_lora_rank=512, q_lora_rank=1536\); shared or fine-grained experts \(n_routed_experts=256\)/,
  );
  await assertHeliosError(
    refused({
      model_type: "qwen2_moe",
      moe_intermediate_size: 64,
      shared_expert_intermediate_size: 256,
    }),
    "UNSUPPORTED_MODEL",
    /"qwen2_moe" .*shared or fine-grained experts \(moe_intermediate_size=64, shared_expert_intermediate_size=256\)/,
  );
  // Neutral values compute what LLaMA computes.
  assert.equal(
    specFromConfig(generic({ embedding_multiplier: 1, use_parallel_residual: false }), "text", "m")
      .family,
    "generic",
  );
});
