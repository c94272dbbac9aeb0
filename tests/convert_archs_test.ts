/**
 * End-to-end conversion of every generator architecture: names, blocks, dtypes and shapes are
 * what the mapper promises, header flags tell the truth, and both execution-hint blocks carry
 * the config's values and agree with each other.
 */
import assert from "node:assert/strict";
import {
  BLOCK_NAMES,
  type ConversionReport,
  convert,
  generateModel,
  type GenerateOptions,
  HnfFlag,
  loadModelSpec,
  mapperFor,
  openHnf,
  openSafetensorsFolder,
  type TowerRole,
} from "../mod.ts";
import { ARCH_CODES } from "../src/hints/constants.ts";
import { type DecodedHints, decodeHintsBinary, validateHintsBinary } from "../src/hints/mod.ts";
import type { MappedTensor } from "../src/model/types.ts";
import { assertHeliosError, fixtureRole, listDir, withTempDir } from "./_helpers.ts";

type Json = Record<string, unknown>;
type Hints = Record<string, Json>;

const TOK = HnfFlag.HAS_TOKENIZER;
const BIN = HnfFlag.HAS_EXEC_HINTS_BIN;
const VISION = HnfFlag.HAS_VISION | HnfFlag.IS_MULTIMODAL;
const AUDIO = HnfFlag.HAS_AUDIO | HnfFlag.IS_MULTIMODAL;

/** Which tensor-name prefixes belong to which block (reference §5.4, §5.5). */
const BLOCK_PREFIX: Record<string, RegExp> = {
  text_model: /^text\./,
  vision: /^(vision|projector\.vision)\./,
  audio: /^audio\./,
  cortex: /^cortex\./,
  code_exec: /^code\./,
};

/** Names that must stay FP16 whatever --quant says: norms, biases, embeddings, routers, … */
const FP16_NAME =
  /(^|\.)(ln\w*|\w*norm)\.|\.bias$|embed|lm_head\.weight$|moe\.gate\.weight$|cls_token$|probe$|conv\d\.weight$/;

interface Converted {
  config: Json;
  report: ConversionReport;
  /** Warning events, as the CLI prints them. */
  warned: string[];
  names: string[];
  blocks: Set<string>;
  flags: number;
  hints: Hints;
  bin: DecodedHints | null;
  blockSizes: number[];
}

/** Generates `arch`, converts it to HQ5K and checks everything the mapper promises. */
async function convertArch(
  arch: string,
  edit?: GenerateOptions["edit"],
  allowUnmapped = false,
): Promise<Converted> {
  return await withTempDir(async (root) => {
    const dir = `${root}/model`;
    const { template } = await generateModel(dir, { arch, edit });
    const role = fixtureRole(arch);
    const out = `${root}/${arch}.hnf`;
    const warned: string[] = [];
    const report = await convert({
      models: { [role]: dir },
      output: out,
      quant: "hq5k",
      search: "fast",
      threads: 1,
      allowUnmapped,
      onEvent: (e) => e.type === "warning" && warned.push(e.message),
    });
    const promised = await mapperPromise(dir, role);
    const hnf = await openHnf(out);
    try {
      assert.ok(hnf.checksumsVerified);
      const names = hnf.tensors.map((t) => t.name);
      assert.deepEqual(names, report.tensors.map((t) => t.name), "report lists what was written");
      assert.deepEqual(
        [...names].sort(),
        [...promised.mapped.keys()].sort(),
        `${arch}: exactly the mapped tensors are written`,
      );
      assert.deepEqual(
        report.unmapped.map((u) => u.name).sort(),
        promised.unmapped.sort(),
        `${arch}: every unknown tensor is listed`,
      );
      for (const t of hnf.tensors) {
        const m = promised.mapped.get(t.name)!;
        const r = report.tensors.find((x) => x.name === t.name)!;
        assert.equal(t.block, BLOCK_NAMES[m.block], `${t.name} block`);
        assert.match(t.name, BLOCK_PREFIX[t.block], `${t.name} has the prefix of ${t.block}`);
        assert.deepEqual(t.shape, m.shape, `${t.name} keeps its source shape`);
        assert.equal(t.offset % 32, 0, `${t.name} is 32-byte aligned`);
        const hq = m.class === "matrix" && !m.embedding && t.shape.length === 2 &&
          t.shape[1] % 256 === 0;
        assert.equal(t.dtype, hq ? "hq5k" : "fp16", `${t.name} dtype`);
        if (m.class === "matrix" && !hq) assert.ok(r.note, `${t.name} says why it stayed fp16`);
        if (t.shape.length === 1 || FP16_NAME.test(t.name)) {
          assert.equal(t.dtype, "fp16", `${t.name} is never quantized`);
        }
        if (t.dtype === "hq5k") assert.ok(r.relRmse! < 0.1, `${t.name} error ${r.relRmse}`);
      }
      const hintsText = new TextDecoder().decode(await hnf.readBlock(0xa));
      const bytes = await hnf.readBlock(0xb);
      let bin: DecodedHints | null = null;
      if (bytes.length > 0) {
        validateHintsBinary(bytes);
        bin = decodeHintsBinary(bytes);
      }
      const flags = hnf.header.flags;
      const blockSizes = hnf.blocks.map((b) => b.size);
      assert.equal((flags & TOK) !== 0, blockSizes[0x9] > 0, "HAS_TOKENIZER iff block 0x9");
      assert.equal((flags & BIN) !== 0, blockSizes[0xb] > 0, "HAS_EXEC_HINTS_BIN iff block 0xB");
      assert.equal(flags, report.flags);
      const hints = JSON.parse(hintsText) as Json;
      const sections: Hints = {};
      for (const s of ["text", "vision", "audio", "cortex", "code"]) {
        if (s in hints) {
          assert.equal(hints[`${s}_enabled`], true, `${s}_enabled`);
          sections[s] = hints[s] as Json;
        }
      }
      if (bin) assertBinaryAgrees(sections, bin);
      return {
        config: template.config,
        report,
        warned,
        names,
        blocks: new Set(hnf.tensors.map((t) => t.block)),
        flags,
        hints: sections,
        bin,
        blockSizes,
      };
    } finally {
      hnf.close();
    }
  });
}

interface Promised {
  mapped: Map<string, MappedTensor & { shape: number[] }>;
  unmapped: string[];
}

/** Runs the family's mapper over the source tensors: what the file must hold. */
async function mapperPromise(dir: string, role: TowerRole): Promise<Promised> {
  const mapper = mapperFor(await loadModelSpec(dir, role));
  const folder = await openSafetensorsFolder(dir);
  const mapped = new Map<string, MappedTensor & { shape: number[] }>();
  const unmapped: string[] = [];
  try {
    for (const src of folder.tensors) {
      const m = mapper.map(src.name, src.shape);
      if (m === null) unmapped.push(src.name);
      else if (!("ignore" in m)) mapped.set(m.name, { ...m, shape: src.shape });
    }
  } finally {
    folder.close();
  }
  return { mapped, unmapped };
}

/** Block 0xB must say what block 0xA says, within f32 rounding and the enum tables. */
function assertBinaryAgrees(json: Hints, bin: DecodedHints): void {
  const bit = { text: 1, vision: 2, code: 8, cortex: 16 } as const;
  for (const [s, b] of Object.entries(bit)) {
    assert.equal((bin.flags & b) !== 0, s in json, `0xB flag for ${s}`);
  }
  for (const s of ["text", "code", "cortex"] as const) {
    const j = json[s];
    const b = bin[s];
    assert.equal(b !== undefined, j !== undefined, `0xB has a ${s} config`);
    if (!j || !b) continue;
    for (const [k, v] of Object.entries(b)) {
      if (!(k in j)) continue;
      const jv = j[k];
      if (k === "arch") {
        assert.equal(ARCH_CODES[v as string], ARCH_CODES[jv as string] ?? 0, `${s}.arch`);
      } else if (typeof v === "number") {
        assert.equal(v, Math.fround(jv as number), `${s}.${k}`);
      } else assert.equal(v, jv, `${s}.${k}`);
    }
  }
  const j = json.vision;
  const b = bin.vision;
  assert.equal(b !== undefined, j !== undefined, "0xB has a vision config");
  if (j && b) {
    assert.equal(b.encoder_type, j.encoder_arch);
    if (j.projector_type === "none") assert.equal(b.projection_dim, 0);
    else assert.equal(b.projector_type, j.projector_type);
    for (const [k, v] of Object.entries(b)) {
      if (k in j && typeof v === "number") {
        assert.equal(v, Math.fround(j[k] as number), `vision.${k}`);
      }
    }
  }
}

/** The decoder dimensions every text section must copy from the config. */
function decoderDims(c: Json): Json {
  const heads = c.num_attention_heads as number;
  return {
    num_hidden_layers: c.num_hidden_layers,
    hidden_size: c.hidden_size,
    num_attention_heads: heads,
    num_key_value_heads: c.num_key_value_heads ?? heads,
    head_dim: c.head_dim ?? (c.hidden_size as number) / heads,
    vocab_size: c.vocab_size,
    intermediate_size: c.intermediate_size,
    max_position_embeddings: c.max_position_embeddings,
    rms_norm_eps: c.rms_norm_eps,
  };
}

function assertSection(hints: Hints, section: string, expected: Json): void {
  const got = hints[section];
  assert.ok(got, `hints have a '${section}' section`);
  for (const [k, v] of Object.entries(expected)) {
    assert.deepEqual(got[k], v, `${section}.${k}`);
  }
}

function hasName(c: Converted, name: string): boolean {
  return c.names.includes(name);
}

const DECODER = TOK | BIN;

Deno.test("converts a Llama: separate q/k/v, SwiGLU, untied lm_head, HQ5K matrices", async () => {
  const c = await convertArch("llama");
  assert.equal(c.flags, DECODER);
  assert.deepEqual([...c.blocks], ["text_model"]);
  assert.ok(hasName(c, "text.lm_head.weight"));
  assertSection(c.hints, "text", {
    ...decoderDims(c.config),
    arch: "llama",
    attention_type: "gqa",
    qkv_layout: "separate",
    mlp_type: "swiglu",
    mlp_activation: "silu",
    attention_bias: false,
    tie_word_embeddings: false,
    rope_theta: 10000,
  });
});

Deno.test("converts a Mistral with its sliding window", async () => {
  const c = await convertArch("mistral");
  assert.equal(c.flags, DECODER);
  assertSection(c.hints, "text", {
    ...decoderDims(c.config),
    arch: "mistral",
    sliding_window: c.config.sliding_window,
  });
});

Deno.test("converts a Qwen2 with q/k/v biases and tied embeddings (no lm_head)", async () => {
  const c = await convertArch("qwen2");
  assert.equal(c.flags, DECODER);
  assert.ok(hasName(c, "text.layer0.attn.q_proj.bias"));
  assert.ok(!c.names.some((n) => n.endsWith("lm_head.weight")), "tied: no lm_head");
  assertSection(c.hints, "text", {
    ...decoderDims(c.config),
    arch: "qwen2",
    attention_bias: true,
    tie_word_embeddings: true,
    rope_theta: 1000000,
  });
  assert.equal(c.bin!.text!.attention_bias, true);
  assert.equal(c.bin!.text!.tie_word_embeddings, true);
});

Deno.test("converts a Gemma: GeGLU with tanh GELU, explicit head_dim, tied, 1 + w norms", async () => {
  const c = await convertArch("gemma");
  assert.equal(c.flags, DECODER);
  assert.ok(!c.names.some((n) => n.endsWith("lm_head.weight")));
  // head_dim 128 is explicit: hidden / heads would say 64.
  assert.equal(c.config.head_dim, 128);
  assertSection(c.hints, "text", {
    ...decoderDims(c.config),
    arch: "gemma",
    head_dim: 128,
    mlp_type: "geglu",
    mlp_activation: "gelu_new",
    hidden_act: "gelu_pytorch_tanh",
    attention_type: "mqa",
    norm_weight_offset: 1,
    embedding_scale: 16,
    tie_word_embeddings: true,
  });
  assert.equal(c.bin!.text!.head_dim, 128);
});

Deno.test("converts a Gemma 2 with sandwich norms, soft-capping and a sliding window", async () => {
  const c = await convertArch("gemma2");
  assert.ok(hasName(c, "text.layer1.ln_pre_ffn.weight"));
  assert.ok(hasName(c, "text.layer1.ln_post_ffn.weight"));
  assertSection(c.hints, "text", {
    ...decoderDims(c.config),
    arch: "gemma2",
    sandwich_norm: true,
    sliding_window: 4096,
    sliding_window_pattern: 2,
    attn_logit_softcapping: 50,
    final_logit_softcapping: 30,
    query_pre_attn_scalar: 128,
  });
});

Deno.test("converts a Mixtral with its experts as IS_MOE", async () => {
  const c = await convertArch("mixtral");
  assert.equal(c.flags, DECODER | HnfFlag.IS_MOE);
  const experts = c.config.num_local_experts as number;
  for (let e = 0; e < experts; e++) {
    for (const p of ["gate", "up", "down"]) {
      assert.ok(hasName(c, `text.layer1.moe.experts.${e}.${p}.weight`), `expert ${e} ${p}`);
    }
  }
  assert.ok(hasName(c, "text.layer0.moe.gate.weight"));
  assertSection(c.hints, "text", {
    ...decoderDims(c.config),
    arch: "mixtral",
    moe_enabled: true,
    num_local_experts: experts,
    num_experts_per_tok: c.config.num_experts_per_tok,
  });
});

Deno.test("converts a Phi-3 with fused qkv and gate_up, and longrope", async () => {
  const c = await convertArch("phi3");
  assert.ok(hasName(c, "text.layer0.attn.qkv_proj.weight"));
  assert.ok(hasName(c, "text.layer0.mlp.gate_up.weight"));
  assertSection(c.hints, "text", {
    ...decoderDims(c.config),
    arch: "phi3",
    qkv_layout: "fused",
    mlp_type: "swiglu_fused",
    rope_type: "longrope",
    original_max_position_embeddings: 4096,
    rope_scaling_factor: 1,
    rope_model_scaling_factor: 131072 / 4096,
  });
  assert.equal(c.bin!.text!.qkv_layout, "fused");
});

Deno.test("converts a Qwen v1 (GPT-style names) with its fused c_attn and bias", async () => {
  const c = await convertArch("qwen");
  assert.ok(hasName(c, "text.layer0.attn.qkv_proj.weight"));
  assert.ok(hasName(c, "text.layer0.attn.qkv_proj.bias"));
  const cfg = c.config;
  assertSection(c.hints, "text", {
    arch: "qwen",
    num_hidden_layers: cfg.num_hidden_layers,
    hidden_size: cfg.hidden_size,
    num_attention_heads: cfg.num_attention_heads,
    head_dim: cfg.kv_channels,
    vocab_size: cfg.vocab_size,
    // Qwen v1's config gives the doubled width; the gate rows give the real one.
    intermediate_size: (cfg.intermediate_size as number) / 2,
    qkv_layout: "fused",
    attention_bias: true,
  });
});

Deno.test("converts a Qwen3 with q/k norms and tied embeddings", async () => {
  const c = await convertArch("qwen3");
  assert.ok(hasName(c, "text.layer0.attn.q_norm.weight"));
  assert.ok(!c.names.some((n) => n.endsWith("lm_head.weight")));
  assertSection(c.hints, "text", {
    ...decoderDims(c.config),
    arch: "qwen3",
    use_qk_norm: true,
    tie_word_embeddings: true,
  });
});

Deno.test("converts a LLaVA given as --text into text_model and vision blocks", async () => {
  const c = await convertArch("llava");
  assert.equal(c.flags, DECODER | VISION);
  assert.deepEqual([...c.blocks].sort(), ["text_model", "vision"]);
  for (const n of ["text.lm_head.weight", "text.layer1.mlp.down.weight"]) assert.ok(hasName(c, n));
  for (const n of ["vision.cls_token", "vision.layer1.attn.o_proj.weight"]) {
    assert.ok(hasName(c, n));
  }
  for (const n of ["linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias"]) {
    assert.ok(hasName(c, `projector.vision.${n}`), n);
  }
  assertSection(c.hints, "text", {
    ...decoderDims(c.config.text_config as Json),
    arch: "llama",
    dtype: "fp16",
  });
  assertSection(c.hints, "vision", {
    encoder_arch: "clip",
    hidden_size: 256,
    image_size: 64,
    patch_size: 16,
    projector_type: "mlp",
    projector_depth: 2,
    image_token_id: c.config.image_token_index,
    num_image_tokens: 16, // the "default" feature strategy drops CLS
  });
});

Deno.test("converts a Gemma 3 multimodal checkpoint: Gemma 3 text and a SigLIP tower", async () => {
  const c = await convertArch("gemma3");
  assert.equal(c.flags, DECODER | VISION);
  assert.ok(!c.names.some((n) => n.endsWith("lm_head.weight")));
  assert.ok(hasName(c, "projector.vision.input_projection.weight"));
  assert.ok(hasName(c, "projector.vision.soft_emb_norm.weight"));
  const tc = c.config.text_config as Json;
  assertSection(c.hints, "text", {
    arch: "gemma3",
    num_hidden_layers: tc.num_hidden_layers,
    hidden_size: tc.hidden_size,
    head_dim: tc.head_dim,
    use_qk_norm: true,
    sandwich_norm: true,
    mlp_activation: "gelu_new",
    rope_type: "linear",
    rope_scaling_factor: 8,
    sliding_window: tc.sliding_window,
    tie_word_embeddings: true,
  });
  assertSection(c.hints, "vision", {
    encoder_arch: "siglip",
    projector_type: "linear",
    num_image_tokens: c.config.mm_tokens_per_image,
    image_token_id: c.config.image_token_index,
  });
});

Deno.test("converts a CLIP vision tower (text side ignored) as HAS_VISION", async () => {
  const c = await convertArch("clip");
  // No tokenizer: the vision slot has no HTF domain.
  assert.equal(c.flags, BIN | VISION);
  assert.deepEqual([...c.blocks], ["vision"]);
  assert.ok(hasName(c, "vision.head.weight"));
  assert.ok(!c.report.unmapped.length);
  assert.ok(c.report.ignored.some((i) => i.name === "text_projection.weight"));
  assertSection(c.hints, "vision", {
    encoder_arch: "clip",
    has_cls_token: true,
    num_image_tokens: 17,
    projector_type: "linear",
    projection_dim: c.config.projection_dim,
  });
});

Deno.test("converts a SigLIP vision tower with its pooling head", async () => {
  const c = await convertArch("siglip");
  assert.equal(c.flags, BIN | VISION);
  assert.ok(hasName(c, "vision.head.attn.in_proj.weight"));
  assert.ok(hasName(c, "vision.patch_embed.bias"));
  assertSection(c.hints, "vision", {
    encoder_arch: "siglip",
    has_cls_token: false,
    layer_norm_eps: 1e-6,
    projector_type: "none",
    num_image_tokens: 16,
  });
});

Deno.test("converts a Whisper encoder to the audio block as HAS_AUDIO (decoder ignored)", async () => {
  const c = await convertArch("whisper");
  assert.equal(c.flags, TOK | AUDIO);
  assert.deepEqual([...c.blocks], ["audio"]);
  assert.equal(c.blockSizes[0xb], 0, "no binary hints for audio alone");
  assert.ok(c.report.ignored.some((i) => i.name.startsWith("model.decoder.")));
  assert.ok(hasName(c, "audio.conv1.weight") && hasName(c, "audio.ln_post.weight"));
  const cfg = c.config;
  assertSection(c.hints, "audio", {
    encoder_arch: "whisper",
    num_mel_bins: cfg.num_mel_bins,
    hidden_size: cfg.d_model,
    num_hidden_layers: cfg.encoder_layers,
    num_attention_heads: cfg.encoder_attention_heads,
    intermediate_size: cfg.encoder_ffn_dim,
    max_source_positions: cfg.max_source_positions,
  });
});

Deno.test("converts an unknown *ForCausalLM with the generic mapper and a warning", async () => {
  const c = await convertArch("generic");
  assert.equal(c.flags, DECODER);
  assert.ok(c.report.warnings.some((w) => w.includes("generic")));
  assertSection(c.hints, "text", {
    ...decoderDims(c.config),
    arch: "llama",
    model_type: "helioslm",
  });
});

Deno.test("a tower is all or nothing: one unknown tensor fails the conversion, no file left", async () => {
  await withTempDir(async (root) => {
    await generateModel(`${root}/m`, { arch: "llama_extra_tensor" });
    await assertHeliosError(
      convert({ models: { text: `${root}/m` }, output: `${root}/x.hnf`, quant: "fp16" }),
      "UNMAPPED_TENSORS",
      /: the llama mapper has no name for 1 of its 22 tensors \('model\.layers\.0\.self_attn\.extra_gate\.weight'\); .*--allow-unmapped/,
    );
    assert.deepEqual(await listDir(root), ["m"]);
  });
});

Deno.test("with allowUnmapped an unknown tensor is listed and not written, never dropped silently", async () => {
  const c = await convertArch("llama_extra_tensor", undefined, true);
  const extra = "model.layers.0.self_attn.extra_gate.weight";
  assert.deepEqual(c.report.unmapped.map((u) => u.name), [extra]);
  assert.ok(!c.names.some((n) => n.includes("extra_gate")));
  assert.ok(c.warned.some((w) => w.includes(extra)), "a warning names it");
});

Deno.test("a matrix whose rows are not a multiple of 256 stays FP16 with a note", async () => {
  const c = await convertArch("llama", (t) => ({
    config: { ...t.config, intermediate_size: 640 },
    tensors: t.tensors.map((x) =>
      /mlp\.(gate|up)_proj/.test(x.name)
        ? { ...x, shape: [640, 256] }
        : /mlp\.down_proj/.test(x.name)
        ? { ...x, shape: [256, 640] }
        : x
    ),
  }));
  const down = c.report.tensors.find((t) => t.name === "text.layer0.mlp.down.weight")!;
  assert.equal(down.dtype, "fp16");
  assert.match(down.note!, /row length 640/);
  assert.equal(c.report.tensors.find((t) => t.name === "text.layer0.mlp.up.weight")!.dtype, "hq5k");
  assertSection(c.hints, "text", { intermediate_size: 640 });
});

Deno.test("a tied model's checkpoint lm_head is skipped with a reason, not written", async () => {
  const c = await convertArch("qwen2", (t) => ({
    ...t,
    tensors: [...t.tensors, { name: "lm_head.weight", shape: [320, 256], init: "normal" }],
  }));
  assert.ok(!c.names.some((n) => n.endsWith("lm_head.weight")));
  const skipped = c.report.ignored.find((i) => i.name === "lm_head.weight");
  assert.match(skipped?.reason ?? "", /tied/);
});

Deno.test("a LLaVA given as --vision writes only its vision tower and projector", async () => {
  await withTempDir(async (root) => {
    await generateModel(`${root}/m`, { arch: "llava" });
    const out = `${root}/v.hnf`;
    const r = await convert({
      models: { vision: `${root}/m` },
      output: out,
      quant: "hq5k",
      search: "fast",
      threads: 1,
    });
    assert.ok(r.tensors.length > 0);
    assert.ok(r.tensors.every((t) => /^(vision|projector\.vision)\./.test(t.name)));
    assert.ok(r.ignored.some((i) => i.name.startsWith("language_model.")));
    assert.equal(r.flags & VISION, VISION);
    assert.equal(r.flags & TOK, 0, "the vision slot carries no tokenizer");
  });
});

function convertTowers(archs: Partial<Record<TowerRole, string>>) {
  return withTempDir(async (root) => {
    const models: Partial<Record<TowerRole, string>> = {};
    for (const [role, arch] of Object.entries(archs)) {
      models[role as TowerRole] = `${root}/${role}`;
      await generateModel(`${root}/${role}`, { arch, seed: role.length });
    }
    const out = `${root}/multi.hnf`;
    const report = await convert({
      models,
      output: out,
      quant: "hq5k",
      search: "fast",
      threads: 1,
    });
    const hnf = await openHnf(out);
    const hints = JSON.parse(new TextDecoder().decode(await hnf.readBlock(0xa))) as Json;
    const bin = decodeHintsBinary(await hnf.readBlock(0xb));
    const tensors = hnf.tensors.map((t) => ({ name: t.name, block: t.block }));
    const flags = hnf.header.flags;
    hnf.close();
    return { report, hints, bin, tensors, flags };
  });
}

Deno.test("converts a Llama with a CLIP tower into text_model and vision", async () => {
  const { report, hints, bin, tensors, flags } = await convertTowers({
    text: "llama",
    vision: "clip",
  });
  assert.equal(flags, DECODER | VISION);
  for (const t of tensors) assert.match(t.name, BLOCK_PREFIX[t.block], t.name);
  assert.deepEqual([...new Set(tensors.map((t) => t.block))], ["text_model", "vision"]);
  assert.equal(hints.text_enabled, true);
  assert.equal(hints.vision_enabled, true);
  assert.equal(bin.flags, 1 | 2);
  assert.deepEqual(report.models.map((m) => [m.role, m.family]), [
    ["text", "llama"],
    ["vision", "clip"],
  ]);
});

Deno.test("converts text, cortex and code LLMs into blocks 0x0, 0x7 and 0x8", async () => {
  const { report, hints, bin, tensors, flags } = await convertTowers({
    text: "llama",
    cortex: "qwen2",
    code: "mistral",
  });
  assert.equal(flags, DECODER | HnfFlag.HAS_CORTEX | HnfFlag.HAS_CODE_EXEC);
  assert.deepEqual([...new Set(tensors.map((t) => t.block))], [
    "text_model",
    "cortex",
    "code_exec",
  ]);
  for (const t of tensors) assert.match(t.name, BLOCK_PREFIX[t.block], t.name);
  for (
    const n of ["text.lm_head.weight", "cortex.layer0.attn.q_proj.bias", "code.final_norm.weight"]
  ) {
    assert.ok(tensors.some((t) => t.name === n), n);
  }
  assert.ok(!tensors.some((t) => t.name === "cortex.lm_head.weight"), "qwen2 is tied");
  for (const s of ["text", "cortex", "code"]) assert.equal(hints[`${s}_enabled`], true, s);
  assert.equal((hints.cortex as Json).arch, "qwen2");
  assert.equal((hints.code as Json).arch, "mistral");
  assert.equal(bin.cortex?.attention_bias, true);
  assert.equal(bin.code?.arch, "mistral");
  assert.equal(report.tokenizer?.domains && (report.tokenizer.domains as unknown[]).length, 3);
});

Deno.test("an unsupported model (bert) is an UNSUPPORTED_MODEL error listing the families", async () => {
  await withTempDir(async (root) => {
    await generateModel(`${root}/m`, { arch: "llama" });
    const c = JSON.parse(await Deno.readTextFile(`${root}/m/config.json`));
    c.model_type = "bert";
    c.architectures = ["BertModel"];
    await Deno.writeTextFile(`${root}/m/config.json`, JSON.stringify(c));
    await assertHeliosError(
      convert({ models: { text: `${root}/m` }, output: `${root}/x.hnf`, threads: 1 }),
      "UNSUPPORTED_MODEL",
      /"bert".*supported: .*llama.*mixtral.*qwen2.*gemma.*phi3.*llava.*clip.*siglip.*whisper/,
    );
    assert.deepEqual(await listDir(root), ["m"]);
  });
});
