import assert from "node:assert/strict";
import { HeliosError } from "../src/errors.ts";
import { ARCHS } from "../src/fixtures/archs.ts";
import {
  buildHintsBinary,
  buildHintsJson,
  decodeHintsBinary,
  type HintsTower,
  validateHintsBinary,
} from "../src/hints/mod.ts";
import { mapperFor, specFromConfig, type TowerRole } from "../src/model/mod.ts";
import { fixtureRole } from "./_helpers.ts";

function tower(
  arch: string,
  role: TowerRole = "text",
  edit?: (c: Record<string, unknown>) => void,
): HintsTower {
  const t = ARCHS[arch]("tiny");
  if (edit) edit(t.config);
  const spec = specFromConfig(t.config, role, arch);
  const mapper = mapperFor(spec);
  const tensors = [];
  for (const x of t.tensors) {
    const r = mapper.map(x.name, x.shape);
    if (r && !("ignore" in r)) tensors.push({ name: r.name, shape: x.shape });
  }
  return { spec, tensors };
}

type Flat = Record<string, string | number | boolean | number[]>;
function parsed(towers: HintsTower[]): Record<string, Flat | boolean> {
  return JSON.parse(buildHintsJson(towers));
}
function text(towers: HintsTower[], key = "text"): Flat {
  return parsed(towers)[key] as Flat;
}

const LLAMA3 = {
  model_type: "llama",
  architectures: ["LlamaForCausalLM"],
  hidden_size: 256,
  intermediate_size: 512,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 999,
  max_position_embeddings: 131072,
  rms_norm_eps: 1e-5,
  rope_theta: 500000,
  rope_scaling: {
    rope_type: "llama3",
    factor: 8.0,
    low_freq_factor: 1.0,
    high_freq_factor: 4.0,
    original_max_position_embeddings: 8192,
  },
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
};
const LLAMA3_TENSORS = [
  { name: "text.token_embedding.weight", shape: [1000, 256] },
  { name: "text.layer0.attn.q_proj.weight", shape: [256, 256] },
  { name: "text.layer0.mlp.gate.weight", shape: [512, 256] },
  { name: "text.final_norm.weight", shape: [256] },
];
const llama3 = (): HintsTower[] => [{
  spec: specFromConfig(LLAMA3, "text", "llama3"),
  tensors: LLAMA3_TENSORS,
}];

Deno.test("Llama 3 hints: rope_type llama3 with flat factors, vocab from the embedding rows", () => {
  const json = buildHintsJson(llama3());
  assert.ok(json.startsWith('{"text_enabled":true,"text":{"arch":"llama3",'));
  assert.ok(!json.includes(" "), "compact");
  const t = text(llama3());
  assert.equal(t.rope_type, "llama3");
  // The runtime divides positions by rope_scaling_factor: 1.0 unless linear (contract §3.6).
  assert.equal(t.rope_scaling_factor, 1);
  assert.equal(t.rope_model_scaling_factor, 8);
  assert.equal(t.rope_low_freq_factor, 1);
  assert.equal(t.rope_high_freq_factor, 4);
  assert.equal(t.original_max_position_embeddings, 8192);
  assert.equal(t.vocab_size, 1000);
  assert.equal(t.dtype, "bf16");
  assert.equal(t.tie_word_embeddings, true);
  assert.equal(t.attention_type, "gqa");
  assert.equal(t.head_dim, 64);
  assert.match(json, /"rope_theta":500000\.0,/);
  assert.match(json, /"rope_scaling_factor":1\.0,"rope_model_scaling_factor":8\.0,/);
});

Deno.test("hints JSON is flat and no string value equals a key (runtime scanner, §16)", () => {
  for (const arch of Object.keys(ARCHS)) {
    const obj = parsed([tower(arch, fixtureRole(arch))]);
    const keys = new Set<string>();
    const strings: string[] = [];
    for (const [k, v] of Object.entries(obj)) {
      keys.add(k);
      if (typeof v === "boolean") continue;
      for (const [kk, vv] of Object.entries(v)) {
        keys.add(kk);
        assert.ok(typeof vv !== "object" || Array.isArray(vv), `${arch}: ${kk} is nested`);
        if (typeof vv === "string") strings.push(vv);
      }
    }
    for (const s of strings) assert.ok(!keys.has(s), `${arch}: value '${s}' is also a key`);
  }
});

Deno.test("explicit head_dim, Gemma activation, norm offset and tied embeddings", () => {
  const t = text([tower("gemma")]);
  assert.equal(t.head_dim, 128);
  assert.equal(t.arch, "gemma");
  assert.equal(t.mlp_type, "geglu");
  assert.equal(t.mlp_activation, "gelu_new");
  assert.equal(t.hidden_act, "gelu_pytorch_tanh");
  assert.equal(t.norm_weight_offset, 1);
  assert.equal(t.embedding_scale, 16);
  assert.equal(t.tie_word_embeddings, true);
  assert.equal(t.sandwich_norm, false);
  const t2 = text([tower("gemma2")]);
  assert.equal(t2.sandwich_norm, true);
  assert.equal(t2.sliding_window, 4096);
  assert.equal(t2.sliding_window_pattern, 2);
  assert.equal(t2.attn_logit_softcapping, 50);
  assert.equal(t2.final_logit_softcapping, 30);
});

Deno.test("biases come from the tensors present", () => {
  assert.equal(text([tower("qwen2")]).attention_bias, true);
  assert.equal(text([tower("llama")]).attention_bias, false);
  assert.equal(text([tower("qwen")]).attention_bias, true);
  assert.equal(text([tower("qwen")]).qkv_layout, "fused");
  assert.equal(text([tower("qwen3")]).use_qk_norm, true);
});

Deno.test("tie_word_embeddings is true when no lm_head was written", () => {
  const t = tower("llama");
  const noHead = { spec: t.spec, tensors: t.tensors.filter((x) => !x.name.includes("lm_head")) };
  assert.equal(text([t]).tie_word_embeddings, false);
  assert.equal(text([noHead]).tie_word_embeddings, true);
});

Deno.test("Mixtral: MoE expert count and experts per token", () => {
  const t = text([tower("mixtral")]);
  assert.equal(t.moe_enabled, true);
  assert.equal(t.num_local_experts, 4);
  assert.equal(t.num_experts_per_tok, 2);
  assert.equal(t.intermediate_size, 512);
  assert.equal(t.sliding_window, 0);
});

Deno.test("Phi-3: fused layouts and longrope with its factor and flat-named factor lists", () => {
  const t = text([tower("phi3")]);
  assert.equal(t.qkv_layout, "fused");
  assert.equal(t.mlp_type, "swiglu_fused");
  assert.equal(t.rope_type, "longrope");
  assert.equal(t.rope_scaling_factor, 1);
  assert.equal(t.rope_model_scaling_factor, 32);
  assert.equal(t.original_max_position_embeddings, 4096);
  assert.equal((t.rope_long_factor as number[]).length, 32);
  assert.equal(t.rope_partial, false);
});

Deno.test("yarn, linear and dynamic rope types; an unknown one is BAD_CONFIG", () => {
  for (const type of ["yarn", "linear", "dynamic"]) {
    const t = text([tower("qwen2", "text", (c) => {
      c.rope_scaling = { type, factor: 4.0, original_max_position_embeddings: 32768 };
    })]);
    assert.equal(t.rope_type, type);
    assert.equal(t.rope_scaling_factor, type === "linear" ? 4 : 1);
    assert.equal(t.rope_model_scaling_factor, type === "linear" ? undefined : 4);
  }
  assert.throws(
    () => buildHintsJson([tower("llama", "text", (c) => (c.rope_scaling = { type: "mrope" }))]),
    (e: unknown) => e instanceof HeliosError && e.code === "BAD_CONFIG",
  );
});

Deno.test("dtype follows torch_dtype honestly", () => {
  const d = (v: string | undefined) =>
    text([
      tower("llama", "text", (c) => (v === undefined ? delete c.torch_dtype : (c.torch_dtype = v))),
    ])
      .dtype;
  assert.equal(d("bfloat16"), "bf16");
  assert.equal(d("float16"), "fp16");
  assert.equal(d("float32"), "fp32");
  assert.equal(d(undefined), "fp16");
});

Deno.test("LLaVA: text and vision sections, projector MLP, image tokens without CLS", () => {
  const o = parsed([tower("llava")]);
  assert.equal(o.text_enabled, true);
  assert.equal(o.vision_enabled, true);
  const v = o.vision as Flat;
  assert.equal(v.encoder_arch, "clip");
  assert.equal(v.mlp_activation, "quick_gelu");
  assert.equal(v.projector_type, "mlp");
  assert.equal(v.projector_depth, 2);
  assert.equal(v.projector_output_dim, 256);
  assert.equal(v.num_image_tokens, 16);
  assert.equal(v.image_token_id, 320);
  assert.equal(v.vision_feature_layer, -2);
  assert.equal((o.text as Flat).dtype, "fp16");
});

Deno.test("Whisper: audio section only, no binary block", () => {
  const towers = [tower("whisper", "audio")];
  const o = parsed(towers);
  assert.deepEqual(Object.keys(o), ["audio_enabled", "audio"]);
  assert.equal((o.audio as Flat).num_mel_bins, 80);
  assert.equal((o.audio as Flat).k_proj_bias, false);
  assert.equal(buildHintsBinary(towers), null);
});

Deno.test("text + vision + cortex + code towers: sections in order and binary offsets", () => {
  const towers = [
    tower("llama"),
    tower("siglip", "vision"),
    tower("qwen2", "cortex"),
    tower("phi3", "code"),
  ];
  const json = buildHintsJson(towers);
  const order = ["text", "vision", "cortex", "code"].map((k) => json.indexOf(`"${k}":{`));
  assert.deepEqual([...order].sort((a, b) => a - b), order);
  const bin = buildHintsBinary(towers)!;
  assert.equal(bin.length, 64 + 128 + 64 + 128 + 128);
  const dv = new DataView(bin.buffer);
  assert.deepEqual([8, 12, 16, 20, 24].map((o) => dv.getUint32(o, true)), [64, 192, 0, 256, 384]);
  assert.equal(dv.getUint32(40, true), 0x01 | 0x02 | 0x08 | 0x10);
  const d = decodeHintsBinary(bin);
  assert.equal(d.cortex?.arch, "qwen2");
  assert.equal(d.code?.arch, "phi3");
  assert.equal(d.code?.qkv_layout, "fused");
  assert.equal(d.vision?.encoder_type, "siglip");
  assert.equal(d.vision?.projector_type, "linear");
  assert.equal(d.vision?.projection_dim, 0);
});

Deno.test("two towers giving the same modality are BAD_HINTS", () => {
  assert.throws(
    () => buildHintsJson([tower("llava"), tower("clip", "vision")]),
    (e: unknown) => e instanceof HeliosError && e.code === "BAD_HINTS",
  );
});

Deno.test("binary agrees with the JSON for every decoder architecture", () => {
  for (
    const arch of [
      "llama",
      "gemma",
      "gemma2",
      "mixtral",
      "phi3",
      "qwen",
      "qwen2",
      "qwen3",
      "llava",
      "gemma3",
      "generic",
    ]
  ) {
    const towers = [tower(arch)];
    const t = text(towers);
    const b = decodeHintsBinary(buildHintsBinary(towers)!).text!;
    for (
      const k of [
        "num_hidden_layers",
        "hidden_size",
        "intermediate_size",
        "vocab_size",
        "head_dim",
        "num_attention_heads",
        "num_key_value_heads",
        "max_position_embeddings",
        "rope_dim",
        "attention_type",
        "qkv_layout",
        "dtype",
        "mlp_type",
        "mlp_activation",
        "norm_type",
        "rope_type",
        "attention_bias",
        "use_qk_norm",
        "tie_word_embeddings",
      ]
    ) {
      assert.equal(b[k], t[k], `${arch}.${k}`);
    }
    assert.equal(b.rope_theta, Math.fround(t.rope_theta as number));
    assert.equal(b.rope_scaling_factor, Math.fround(t.rope_scaling_factor as number));
    assert.equal(b.rms_norm_eps, Math.fround(t.rms_norm_eps as number));
  }
});

// Golden block for LLAMA3: every byte spelled out from §11.3.
Deno.test("golden 0xB bytes for a Llama 3 config", () => {
  const bin = buildHintsBinary(llama3())!;
  const hex = (a: Uint8Array) => Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(
    hex(bin.subarray(0, 64)),
    "544e4948" + "0100" + "0000" + "40000000" + "00".repeat(20) + "0100" + "0000" + "0000" +
      "0000" +
      "01000000" + "00".repeat(20),
  );
  const f32 = (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return hex(b);
  };
  const u32 = (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    return hex(b);
  };
  const expected = [
    f32(500000),
    f32(1), // rope_scaling_factor: llama3 scaling is not the runtime's linear division
    f32(1),
    f32(1e-5),
    f32(1e-5),
    f32(0),
    u32(2),
    u32(256),
    u32(512),
    u32(1000),
    u32(131072),
    u32(64),
    u32(4),
    u32(2),
    u32(64),
    u32(1), // gqa
    u32(0), // separate
    u32(3), // llama3
    u32(1), // bf16
    u32(0), // swiglu
    u32(0), // silu
    u32(0), // rmsnorm
    u32(1), // rope llama3
    u32(0x20), // tied
  ].join("") + "00".repeat(32);
  assert.equal(hex(bin.subarray(64, 192)), expected);
  assert.equal(bin.length, 192);
});

function expectBad(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => validateHintsBinary(bytes), (e: unknown) => {
    assert.ok(e instanceof HeliosError);
    assert.equal(e.code, "BAD_HINTS");
    assert.match(e.message, pattern);
    return true;
  });
}

function edited(fn: (dv: DataView) => void, base = buildHintsBinary(llama3())!): Uint8Array {
  const copy = base.slice();
  fn(new DataView(copy.buffer));
  return copy;
}

Deno.test("validateHintsBinary accepts what the builder writes", () => {
  validateHintsBinary(buildHintsBinary(llama3())!);
  validateHintsBinary(buildHintsBinary([tower("llava")])!);
});

Deno.test("validateHintsBinary rejects each §11.3 runtime violation", () => {
  const vis = buildHintsBinary([tower("llava")])!;
  expectBad(new Uint8Array(63), /shorter/);
  expectBad(edited((dv) => dv.setUint32(0, 0x48494e55, true)), /magic/);
  expectBad(edited((dv) => dv.setUint16(4, 2, true)), /version_major/);
  expectBad(edited((dv) => dv.setUint32(8, 100, true)), /text config at 100 does not fit/);
  expectBad(edited((dv) => dv.setUint32(8, 0, true)), /num_text_models is 1 but text_offset is 0/);
  expectBad(edited((dv) => dv.setUint32(64 + 68, 15, true)), /GM4X/);
  expectBad(edited((dv) => dv.setUint16(34, 0, true), vis), /num_vision_models/);
  expectBad(edited((dv) => dv.setUint32(12, 200, true), vis), /vision config at 200 does not fit/);
  expectBad(edited((dv) => dv.setUint32(192, 5, true), vis), /encoder_type 5/);
  expectBad(edited((dv) => dv.setUint32(192, 4, true), vis), /GM4V/);
  expectBad(edited((dv) => dv.setUint32(56, 64, true)), /GM4V extension pointer/);
  expectBad(edited((dv) => dv.setUint32(20, 160, true)), /code config/);
  expectBad(edited((dv) => dv.setUint32(24, 160, true)), /cortex config/);
});

Deno.test("a Gemma 4 block 0xB passes the runtime's GM4X/GM4V checks and fails each broken one", () => {
  const bin = buildHintsBinary([tower("gemma4")])!;
  validateHintsBinary(bin);
  const dv = new DataView(bin.buffer);
  const gm4x = dv.getUint32(44, true);
  const gm4v = dv.getUint32(56, true);
  assert.deepEqual([gm4x, dv.getUint32(48, true), gm4v, dv.getUint32(60, true)], [
    256,
    32 + 40 * 6,
    256 + 32 + 40 * 6,
    96,
  ]);
  expectBad(edited((d) => d.setUint8(52, 0), bin), /GM4X marker/);
  expectBad(
    edited((d) => d.setUint32(48, 32 + 40 * 6 + 1, true), bin),
    /GM4X extension at|GM4X size/,
  );
  expectBad(edited((d) => d.setUint32(gm4x + 8, 5, true), bin), /layer count 5/);
  expectBad(edited((d) => d.setUint16(gm4x + 4, 2, true), bin), /GM4X version/);
  expectBad(edited((d) => d.setUint32(gm4x + 32, 2, true), bin), /GM4X layer 0 has invalid/);
  expectBad(edited((d) => d.setFloat32(gm4x + 32 + 24, NaN, true), bin), /layer 0 has invalid/);
  expectBad(edited((d) => d.setUint32(60, 95, true), bin), /GM4V extension at .* not 96/);
  expectBad(edited((d) => d.setUint32(56, 192, true), bin), /GM4V extension overlaps/);
  expectBad(edited((d) => d.setUint32(gm4v + 8, 0xffff, true), bin), /GM4V flags 0xffff/);
  expectBad(edited((d) => d.setUint32(gm4v + 12, 3, true), bin), /GM4V fields/);
  expectBad(edited((d) => d.setUint32(gm4v + 76, 2, true), bin), /GM4V fields/);
  expectBad(edited((d) => d.setFloat32(gm4v + 60, 0.5, true), bin), /GM4V fields/);
});
