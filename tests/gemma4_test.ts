/**
 * Gemma 4 end to end: the generated model (Transformers-5 layout, Google's published layout,
 * text-only) converts into the runtime's certified layout: the validators' inventory, shapes
 * and dtypes, a densely packed vision block with `[]` clamps, synthesized tensors where the
 * checkpoint lacks them, GM4X/GM4V field by field, and the JSON hints; refused variants fail
 * with one line.
 */
import assert from "node:assert/strict";
import { type ConversionReport, convert, generateModel, openHnf } from "../mod.ts";
import { specFromConfig } from "../src/model/mod.ts";
import { gemma4Template } from "../src/fixtures/mod.ts";
import type { HnfFile } from "../src/hnf/reader.ts";
import { assertHeliosError, withTempDir } from "./_helpers.ts";

const SLIDING = "sliding_attention";
const FULL = "full_attention";
const TYPES = [SLIDING, SLIDING, FULL, SLIDING, SLIDING, FULL];
const HD = [128, 128, 256, 128, 128, 256];
const INTER = [512, 512, 512, 1024, 1024, 1024];
const [D, H, P, L, V] = [256, 2, 256, 6, 512];

/** The text inventory `validate_gemma4_tensors` demands: name → [shape, compact dtype]. */
function textInventory(): Map<string, [number[], string]> {
  const m = new Map<string, [number[], string]>([
    ["text.token_embedding.weight", [[V, D], "fp16"]],
    ["text.lm_head.weight", [[V, D], "hq51k"]],
    ["text.ple.token_embedding.weight", [[V, L * P], "hq51k"]],
    ["text.ple.model_projection.weight", [[L * P, D], "hq51k"]],
    ["text.ple.projection_norm.weight", [[P], "fp16"]],
    ["text.final_norm.weight", [[D], "fp16"]],
  ]);
  for (let i = 0; i < L; i++) {
    const p = `text.layer${i}.`;
    const [hd, inter] = [HD[i], INTER[i]];
    const add = (n: string, shape: number[], dtype: string) => m.set(p + n, [shape, dtype]);
    add("attn.q_proj.weight", [H * hd, D], "hq51k");
    add("attn.k_proj.weight", [hd, D], "hq51k");
    add("attn.v_proj.weight", [hd, D], "hq51k");
    add("attn.o_proj.weight", [D, H * hd], "hq51k");
    add("attn.q_norm.weight", [hd], "fp16");
    add("attn.k_norm.weight", [hd], "fp16");
    add("mlp.gate.weight", [inter, D], "hq41k");
    add("mlp.up.weight", [inter, D], "hq41k");
    add("mlp.down.weight", [D, inter], "hq41k");
    for (const n of ["ln_attn_in", "ln_attn_post", "ln_mlp_in", "ln_mlp_post", "ln_ple_post"]) {
      add(`${n}.weight`, [D], "fp16");
    }
    add("ple.input_gate.weight", [P, D], "hq51k");
    add("ple.projection.weight", [D, P], "hq51k");
    add("layer_scalar", [1], "fp16");
  }
  return m;
}

/** The vision inventory `validate_gemma4_vision_tensors` demands: name → shape (all fp16). */
function visionInventory(): Map<string, number[]> {
  const m = new Map<string, number[]>([
    ["vision.patch_embed.input_proj.weight", [64, 48]],
    ["vision.patch_embed.position_embedding.weight", [2, 64, 64]],
    ["vision.projector.weight", [D, 64]],
  ]);
  for (let i = 0; i < 2; i++) {
    const p = `vision.layer${i}.`;
    for (const n of ["ln_attn_in", "ln_attn_post", "ln_mlp_in", "ln_mlp_post"]) {
      m.set(`${p}${n}.weight`, [64]);
    }
    m.set(`${p}attn.q_norm.weight`, [32]).set(`${p}attn.k_norm.weight`, [32]);
    const linears: [string, number[]][] = [
      ["attn.q_proj", [64, 64]],
      ["attn.k_proj", [64, 64]],
      ["attn.v_proj", [64, 64]],
      ["attn.o_proj", [64, 64]],
      ["mlp.gate", [128, 64]],
      ["mlp.up", [128, 64]],
      ["mlp.down", [64, 128]],
    ];
    for (const [lin, shape] of linears) {
      m.set(`${p}${lin}.weight`, shape);
      for (const c of ["input_min", "input_max", "output_min", "output_max"]) {
        m.set(`${p}${lin}.${c}`, []);
      }
    }
  }
  return m;
}

interface Converted {
  report: ConversionReport;
  warned: string[];
  hnf: HnfFile;
}

async function convertGemma4(
  opts: {
    layout?: "transformers5" | "published";
    textOnly?: boolean;
    fp16?: boolean;
    quant?: "hq31k";
    overrides?: Record<string, string>;
  },
  check: (c: Converted) => Promise<void> | void,
): Promise<void> {
  await withTempDir(async (root) => {
    const layout = opts.layout ?? "transformers5";
    await generateModel(`${root}/m`, {
      arch: "gemma4",
      edit: () => gemma4Template("tiny", layout, opts.textOnly),
    });
    const warned: string[] = [];
    const report = await convert({
      models: { text: `${root}/m` },
      output: `${root}/g.hnf`,
      quant: opts.fp16 ? "fp16" : opts.quant,
      overrides: opts.overrides,
      search: "fast",
      threads: 1,
      onEvent: (e) => e.type === "warning" && warned.push(e.message),
    });
    const hnf = await openHnf(`${root}/g.hnf`);
    try {
      await check({ report, warned, hnf });
    } finally {
      hnf.close();
    }
  });
}

const f16 = async (hnf: HnfFile, name: string) => (await hnf.readTensor(name))[0];

Deno.test("Gemma 4 (Transformers 5 layout) converts to the certified compact layout", async () => {
  await convertGemma4({}, async ({ report, warned, hnf }) => {
    const text = textInventory();
    const vision = visionInventory();
    const byName = new Map(hnf.tensors.map((t) => [t.name, t]));
    assert.equal(hnf.tensors.length, text.size + vision.size);
    assert.equal(text.size, 6 + 17 * L);
    for (const [name, [shape, dtype]] of text) {
      const t = byName.get(name);
      assert.ok(t, `missing ${name}`);
      assert.deepEqual([t.block, t.shape, t.dtype], ["text_model", shape, dtype], name);
      assert.equal(t.offset % 32, 0, `${name} is 32-byte aligned`);
    }
    for (const [name, shape] of vision) {
      const t = byName.get(name);
      assert.ok(t, `missing ${name}`);
      assert.deepEqual([t.block, t.shape, t.dtype, t.size], [
        "vision",
        shape,
        "fp16",
        2 * shape.reduce((a, b) => a * b, 1),
      ], name);
    }
    // The vision block is dense: the tensors fill it exactly, in name order.
    const vis = hnf.tensors.filter((t) => t.block === "vision");
    const sum = vis.reduce((s, t) => s + t.size, 0);
    assert.equal(hnf.blocks[1].size, sum);
    for (let i = 1; i < vis.length; i++) {
      assert.equal(vis[i].offset, vis[i - 1].offset + vis[i - 1].size);
      assert.ok(vis[i - 1].name < vis[i].name);
    }
    // Synthesized: the lm_head copy, the shared layers' K/V from their source layers.
    const emb = await hnf.readTensor("text.token_embedding.weight");
    const head = await hnf.readTensor("text.lm_head.weight");
    let err = 0;
    for (let i = 0; i < emb.length; i++) err += (emb[i] - head[i]) ** 2;
    assert.ok(Math.sqrt(err / emb.length) < 0.002, "lm_head is the quantized embedding");
    for (const [shared, source] of [[3, 1], [4, 1], [5, 2]]) {
      for (const n of ["attn.k_proj.weight", "attn.v_proj.weight", "attn.k_norm.weight"]) {
        assert.deepEqual(
          await hnf.readRaw(`text.layer${shared}.${n}`),
          await hnf.readRaw(`text.layer${source}.${n}`),
          `layer ${shared} ${n} is layer ${source}'s`,
        );
      }
    }
    // Clamps: ±inf → ±65504, finite kept, missing → ±65504.
    assert.equal(await f16(hnf, "vision.layer0.attn.q_proj.input_min"), -65504);
    assert.equal(await f16(hnf, "vision.layer0.attn.q_proj.input_max"), 65504);
    assert.equal(await f16(hnf, "vision.layer0.mlp.down.output_min"), -12);
    assert.equal(await f16(hnf, "vision.layer0.mlp.down.output_max"), 12);
    assert.equal(await f16(hnf, "vision.layer1.mlp.up.output_min"), -65504);
    assert.ok(warned.some((w) => /28 clamp bound\(s\) missing/.test(w)), warned.join("\n"));
    assert.ok(warned.some((w) => /14 ±inf clamp bound\(s\) written as ±65504/.test(w)));
    assert.ok(
      warned.some((w) => /9 tensor\(s\) missing in the checkpoint written as copies/.test(w)),
    );
    assert.equal(
      report.tensors.find((t) => t.name === "text.lm_head.weight")?.copyOf,
      "text.token_embedding.weight",
    );
    // The "runs in" report: both towers run; only the tiny tokenizer keeps them from chat.
    assert.deepEqual(
      [report.runtime.text?.runs, report.runtime.text?.rules, report.runtime.vision?.runs],
      [true, ["turn-tokens"], true],
    );
    assert.deepEqual(
      [report.runtime.vision?.chat, report.runtime.vision?.rules],
      [false, ["text-chat"]],
    );
    // The audio tower is skipped with its reason; nothing is unmapped.
    assert.deepEqual(report.unmapped, []);
    const audio = report.ignored.filter((x) => /audio/.test(x.name));
    assert.equal(audio.length, 3);
    assert.ok(audio.every((x) => /no audio contract/.test(x.reason)));
    assert.equal(hnf.blocks[2].size, 0);
  });
});

Deno.test("Gemma 4 block 0xB: GM4X and GM4V field by field, pointers in the header", async () => {
  await convertGemma4({}, async ({ hnf }) => {
    const b = await hnf.readBlock(0xb);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const ascii = (at: number) => new TextDecoder().decode(b.subarray(at, at + 4));
    assert.deepEqual([dv.getUint32(8, true), dv.getUint32(12, true)], [64, 192]);
    assert.equal(dv.getUint32(64 + 68, true), 15, "text arch gemma4");
    assert.equal(dv.getUint32(64 + 92, true), 0x28, "USE_QK_NORM | TIE_EMBEDDINGS");
    assert.equal(dv.getUint32(192, true), 4, "vision encoder gemma4");
    assert.equal(ascii(52), "GM4X");
    const x = dv.getUint32(44, true);
    assert.deepEqual([x, dv.getUint32(48, true)], [256, 32 + 40 * L]);
    assert.equal(ascii(x), "GM4X");
    const u = (o: number) => dv.getUint32(x + o, true);
    assert.deepEqual(
      [
        dv.getUint16(x + 4, true),
        dv.getUint16(x + 6, true),
        u(8),
        u(12),
        u(16),
        u(20),
        u(24),
        u(28),
      ],
      [1, 40, L, 0x3f, 256, P, 3, 0],
    );
    for (let i = 0; i < L; i++) {
      const r = x + 32 + 40 * i;
      const full = TYPES[i] === FULL;
      assert.deepEqual(
        [
          dv.getUint32(r, true),
          dv.getUint32(r + 4, true),
          dv.getUint32(r + 8, true),
          dv.getUint32(r + 12, true),
          dv.getUint32(r + 16, true),
          dv.getUint32(r + 20, true),
          dv.getFloat32(r + 24, true),
          dv.getFloat32(r + 28, true),
          dv.getInt32(r + 32, true),
          dv.getUint32(r + 36, true),
        ],
        [
          full ? 1 : 0,
          full ? 0 : 512,
          HD[i],
          INTER[i],
          full ? 8 : 0,
          0,
          full ? 1e6 : 1e4,
          full ? 0.25 : 1,
          -1,
          0,
        ],
        `GM4X layer ${i}`,
      );
    }
    const v = dv.getUint32(56, true);
    assert.deepEqual([v, dv.getUint32(60, true)], [x + 32 + 40 * L, 96]);
    assert.equal(ascii(v), "GM4V");
    const w = (o: number) => dv.getUint32(v + o, true);
    const s = (o: number) => dv.getInt32(v + o, true);
    const fl = (o: number) => dv.getFloat32(v + o, true);
    assert.deepEqual(
      [
        dv.getUint16(v + 4, true),
        dv.getUint16(v + 6, true),
        w(8),
        w(12),
        w(16),
        w(20),
        w(24),
        w(28),
        w(32),
        w(36),
      ],
      [1, 96, 0xfdfd, 2, 32, 64, 3, 16, D, 4],
    );
    assert.deepEqual([s(40), s(44), s(48), s(52)], [509, 508, 510, 0]);
    assert.deepEqual([fl(56), fl(60), fl(64), fl(68)], [
      100,
      1,
      Math.fround(1e-6),
      Math.fround(1 / 255),
    ]);
    assert.deepEqual([w(72), w(76), w(80), w(84), w(88), w(92)], [12, 3, 1, 1, 1, 0]);
    // Vision record fields GM4V is checked against.
    const vr = (o: number) => dv.getUint32(192 + o, true);
    assert.deepEqual([vr(8), vr(12), vr(16), vr(20), vr(24), vr(28), vr(36), vr(40), vr(44)], [
      4,
      64,
      2,
      2,
      128,
      3,
      D,
      0,
      16,
    ]);
  });
});

Deno.test("Gemma 4 block 0xA: arch gemma4, dimensions as the binary, softcap, no encoder_type", async () => {
  await convertGemma4({}, async ({ hnf }) => {
    const json = JSON.parse(new TextDecoder().decode(await hnf.readBlock(0xa)));
    assert.equal(json.text_enabled, true);
    assert.equal(json.vision_enabled, true);
    const t = json.text;
    assert.deepEqual(
      [
        t.arch,
        t.num_hidden_layers,
        t.hidden_size,
        t.intermediate_size,
        t.vocab_size,
        t.num_attention_heads,
        t.num_key_value_heads,
        t.head_dim,
        t.final_logit_softcapping,
      ],
      ["gemma4", L, D, 512, V, H, 1, 128, 30],
    );
    assert.ok(!("encoder_type" in json.vision));
    assert.equal(json.vision.hidden_size, 64);
    for (const rec of [t, json.vision]) {
      for (const value of Object.values(rec)) {
        assert.ok(!["text", "vision", "audio", "code", "cortex"].includes(value as string));
      }
    }
  });
});

Deno.test("Gemma 4 --quant FP16 writes every tensor FP16 and keeps the lm_head separate", async () => {
  await convertGemma4({ fp16: true }, async ({ hnf }) => {
    assert.ok(hnf.tensors.every((t) => t.dtype === "fp16"));
    assert.equal(hnf.tensors.length, 6 + 17 * L + 3 + 41 * 2);
    assert.deepEqual(
      await hnf.readRaw("text.lm_head.weight"),
      await hnf.readRaw("text.token_embedding.weight"),
    );
  });
});

Deno.test("Gemma 4 published layout: every tensor from the checkpoint, finite clamps kept", async () => {
  await convertGemma4({ layout: "published" }, async ({ report, warned, hnf }) => {
    assert.equal(hnf.tensors.length, 6 + 17 * L + 3 + 41 * 2);
    const made = report.tensors.filter((t) => t.origin !== undefined).map((t) => t.name);
    assert.deepEqual(made, []);
    assert.ok(!warned.some((w) => /clamp|copies/.test(w)));
    assert.equal(await f16(hnf, "vision.layer1.mlp.up.input_min"), -8);
    assert.equal(await f16(hnf, "vision.layer1.mlp.up.output_max"), 16);
    assert.deepEqual(hnf.tensors.find((t) => t.name === "text.layer5.attn.q_proj.weight")?.shape, [
      512,
      256,
    ]);
  });
});

Deno.test("Gemma 4 text-only (gemma4_text) writes block 0x0 alone with GM4X and no GM4V", async () => {
  await convertGemma4({ textOnly: true }, async ({ hnf }) => {
    assert.equal(hnf.tensors.length, 6 + 17 * L);
    assert.ok(hnf.tensors.every((t) => t.block === "text_model"));
    const b = await hnf.readBlock(0xb);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    assert.deepEqual([dv.getUint32(12, true), dv.getUint32(56, true), dv.getUint32(60, true)], [
      0,
      0,
      0,
    ]);
    assert.equal(dv.getUint32(dv.getUint32(44, true) + 12, true), 0x3f);
  });
});

Deno.test("Gemma 4 variants the runtime cannot run are refused with one line", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ enable_moe_block: true }, /MoE block/],
    [{ attention_k_eq_v: true }, /attention_k_eq_v/],
    [{ use_bidirectional_attention: "vision" }, /use_bidirectional_attention "vision"/],
    [{ num_global_key_value_heads: 2 }, /num_global_key_value_heads 2/],
    [
      { per_layer_config: { "2": { head_dim: 256, num_key_value_heads: 4 } } },
      /layer 2 \(full\) has 4 KV heads/,
    ],
    [{ rope_parameters: { sliding_attention: { rope_type: "yarn" } } }, /rope_type 'yarn'/],
    [{ hidden_size_per_layer_input: 0 }, /per-layer embeddings/],
  ];
  for (const [edit, pattern] of cases) {
    const t = gemma4Template("tiny", "transformers5");
    Object.assign(t.config.text_config as Record<string, unknown>, edit);
    await assertHeliosError(
      Promise.resolve().then(() => specFromConfig(t.config, "text", "g4")),
      "UNSUPPORTED_MODEL",
      pattern,
    );
  }
  const t = gemma4Template("tiny", "transformers5");
  const processor = JSON.parse(t.files!["processor_config.json"]);
  processor.image_processor.do_normalize = true;
  await assertHeliosError(
    Promise.resolve().then(() => specFromConfig(t.config, "text", "g4/config.json", processor)),
    "UNSUPPORTED_MODEL",
    /processor_config\.json: image_processor\.do_normalize true/,
  );
});

Deno.test("Gemma 4 without a tensor the validator needs is refused before anything is written", async () => {
  await withTempDir(async (root) => {
    await generateModel(`${root}/m`, {
      arch: "gemma4",
      edit: (t) => ({
        ...t,
        tensors: t.tensors.filter((x) => !x.name.endsWith("layers.2.per_layer_input_gate.weight")),
      }),
    });
    await assertHeliosError(
      convert({ models: { text: `${root}/m` }, output: `${root}/g.hnf`, search: "fast" }),
      "BAD_MODEL",
      /no tensor for 'text\.layer2\.ple\.input_gate\.weight'/,
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(root)).then((e) => e.map((x) => x.name)), [
      "m",
    ]);
  });
});

Deno.test("Gemma 4 takes its certified preset for another --quant, and --override still applies", async () => {
  await convertGemma4(
    { quant: "hq31k", overrides: { "text.layer0.mlp.up.weight": "hq51k" } },
    ({ report, warned, hnf }) => {
      const dtype = (n: string) => hnf.tensors.find((t) => t.name === n)?.dtype;
      assert.equal(dtype("text.layer1.mlp.up.weight"), "hq41k");
      assert.equal(dtype("text.layer1.attn.q_proj.weight"), "hq51k");
      assert.equal(dtype("text.layer0.mlp.up.weight"), "hq51k");
      assert.ok(warned.some((w) => /certified hq41k-m preset .* not --quant hq31k/.test(w)));
      assert.deepEqual(report.runtime.text?.rules, ["gemma4-profile", "turn-tokens"]);
    },
  );
});
