/**
 * Files the current runtime can run: the default target, the HQ4.1K-M preset, overrides, the
 * lm_head copy, embeddings, the RoPE factor and the "runs in" report, on generated models.
 */
import assert from "node:assert/strict";
import { type ConversionReport, convert, type ConvertOptions, openHnf } from "../mod.ts";
import { decodeHintsBinary } from "../src/hints/mod.ts";
import {
  assertHeliosError,
  FIXTURES,
  fixturesPresent,
  LLAMA31_ROPE,
  tinyModel,
} from "./_helpers.ts";

type Json = Record<string, unknown>;

/** Converts `dir` into a temp file; returns the report, the text hints and the 0xB text record. */
async function run(dir: string, options: Partial<ConvertOptions> = {}) {
  const output = `${dir}/../out-${crypto.randomUUID()}.hnf`;
  const warnings: string[] = [];
  const report = await convert({
    models: { text: dir },
    output,
    threads: 1,
    onEvent: (e) => e.type === "warning" && warnings.push(e.message),
    ...options,
  });
  const hnf = await openHnf(output);
  try {
    const json = new TextDecoder().decode(await hnf.readBlock(0xa));
    const bin = await hnf.readBlock(0xb);
    const dtypes = Object.fromEntries(hnf.tensors.map((t) => [t.name, t.dtype]));
    return {
      report,
      warnings,
      json,
      text: (JSON.parse(json) as Record<string, Json>).text,
      bin,
      binText: decodeHintsBinary(bin).text!,
      dtypes,
      hnf: output,
    };
  } finally {
    hnf.close();
  }
}

const dtypeOf = (r: ConversionReport, name: string) =>
  r.tensors.find((t) => t.name === name)?.dtype;

function llama3Dir(): Promise<string> {
  return tinyModel({
    arch: "llama",
    edit: (t) => ({
      ...t,
      config: {
        ...t.config,
        ...LLAMA31_ROPE,
      },
    }),
  });
}

Deno.test("a Llama 3 by default: HQ5.1K matrices and lm_head, rope_scaling_factor 1.0 in 0xA and 0xB, one RoPE warning", async () => {
  const c = await run(await llama3Dir());
  assert.equal(c.report.target, "current");
  assert.equal(c.dtypes["text.layer0.attn.q_proj.weight"], "hq51k");
  assert.equal(c.dtypes["text.layer1.mlp.down.weight"], "hq51k");
  assert.equal(c.dtypes["text.lm_head.weight"], "hq51k");
  assert.equal(c.dtypes["text.token_embedding.weight"], "fp16");
  assert.equal(c.dtypes["text.layer0.ln_attn_in.weight"], "fp16");
  assert.match(
    c.json,
    /"rope_type":"llama3","rope_theta":500000\.0,"rope_scaling_factor":1\.0,"rope_model_scaling_factor":8\.0,/,
  );
  // TextModelConfigBin @4 (rope_scaling_factor) is f32 1.0: 0x3f800000.
  const dv = new DataView(c.bin.buffer, c.bin.byteOffset);
  const at = dv.getUint32(8, true);
  assert.equal(dv.getFloat32(at + 4, true), 1);
  assert.equal(c.binText.rope_scaling_factor, 1);
  const rope = c.warnings.filter((w) => /plain RoPE/.test(w));
  assert.deepEqual(rope, [
    "text: the runtime applies plain RoPE, not llama3 scaling: long contexts (past 8192 positions) degrade",
  ]);
  const rt = c.report.runtime.text!;
  assert.deepEqual([rt.loads, rt.runs, rt.chat], [true, true, false]);
  assert.deepEqual(rt.rules, ["rope-approximated", "capability", "turn-tokens"]);
});

Deno.test("linear RoPE scaling keeps its factor: the runtime's division is exactly that", async () => {
  const dir = await tinyModel({
    arch: "llama",
    edit: (t) => ({ ...t, config: { ...t.config, rope_scaling: { type: "linear", factor: 4.0 } } }),
  });
  const c = await run(dir, { quant: "fp16" });
  assert.match(c.json, /"rope_scaling_factor":4\.0,/);
  assert.ok(!("rope_model_scaling_factor" in c.text));
  assert.equal(c.binText.rope_scaling_factor, 4);
  assert.ok(!c.warnings.some((w) => /RoPE/.test(w)));
});

Deno.test("a tied Qwen2 gets an HQ5.1K lm_head copy of its embedding; --lm-head tied and FP16 keep none", async () => {
  const dir = await tinyModel({ arch: "qwen2" });
  const c = await run(dir);
  const head = c.report.tensors.find((t) => t.name === "text.lm_head.weight")!;
  assert.equal(head.dtype, "hq51k");
  assert.equal(head.copyOf, "text.token_embedding.weight");
  assert.equal(head.source, "model.embed_tokens.weight");
  assert.equal(c.dtypes["text.token_embedding.weight"], "fp16");
  assert.equal(c.text.tie_word_embeddings, true, "the model is still tied");
  const hnf = await openHnf(c.hnf);
  try {
    const emb = await hnf.readTensor("text.token_embedding.weight");
    const lm = await hnf.readTensor("text.lm_head.weight");
    let err = 0;
    let ss = 0;
    for (let i = 0; i < emb.length; i++) {
      err += (emb[i] - lm[i]) ** 2;
      ss += emb[i] ** 2;
    }
    assert.ok(Math.sqrt(err / ss) < 0.03, "the copy is the embedding, quantized");
  } finally {
    hnf.close();
  }
  assert.deepEqual(c.report.runtime.text!.rules, ["fuse-qkv-bias", "turn-tokens"]);

  const tied = await run(dir, { lmHead: "tied" });
  assert.equal(tied.dtypes["text.lm_head.weight"], undefined);
  const fp16 = await run(dir, { quant: "fp16" });
  assert.equal(fp16.report.lmHead, "tied");
  assert.equal(fp16.dtypes["text.lm_head.weight"], undefined);
  // An explicit copy works in FP16 too (the table becomes lookup-only).
  const copy = await run(dir, { quant: "fp16", lmHead: "copy" });
  assert.equal(copy.dtypes["text.lm_head.weight"], "fp16");
});

Deno.test("--embeddings: hq51k for a tied table, hq62k only with the lm_head copy, hq41k refused", async () => {
  const dir = await tinyModel({ arch: "qwen2" });
  const t = await run(dir, { lmHead: "tied", embeddings: "hq51k" });
  assert.equal(t.dtypes["text.token_embedding.weight"], "hq51k");
  assert.equal(t.report.runtime.text!.runs, true);
  await assertHeliosError(
    run(dir, { lmHead: "tied", embeddings: "hq62k" }),
    "BAD_OPTION",
    /--embeddings hq62k: text\.token_embedding\.weight: a tied table is also the logits matmul/,
  );
  await assertHeliosError(
    // @ts-expect-error: hq41k is not an embedding choice any more
    run(dir, { embeddings: "hq41k" }),
    "BAD_OPTION",
    /embedding lookup runs fp16, hq51k, hq62k only \(no hq41k lookup kernel\); use hq51k/,
  );
  await assertHeliosError(
    run(dir, { quant: "hq5k", embeddings: "hq51k" }),
    "BAD_OPTION",
    /legacy runtime's embedding lookup runs fp16 only/,
  );
});

Deno.test("HQ4.1K-M on a Qwen3: attention HQ5.1K, MLP HQ4.1K, lm_head HQ5.1K, norms FP16", async () => {
  const c = await run(await tinyModel({ arch: "qwen3" }), { quant: "hq41k-m" });
  for (const p of ["q", "k", "v", "o"]) {
    assert.equal(c.dtypes[`text.layer1.attn.${p}_proj.weight`], "hq51k", p);
  }
  for (const p of ["gate", "up", "down"]) {
    assert.equal(c.dtypes[`text.layer1.mlp.${p}.weight`], "hq41k", p);
  }
  assert.equal(c.dtypes["text.lm_head.weight"], "hq51k");
  assert.equal(c.dtypes["text.layer0.attn.q_norm.weight"], "fp16");
  assert.equal(c.report.quant, "hq41k-m");
  const rt = c.report.runtime.text!;
  assert.deepEqual(rt.rules, ["capability", "turn-tokens"]);
  assert.match(rt.reasons[0], /metadata_ready for arch 'qwen3'/);
});

Deno.test("a Phi-3: fused qkv is attention and gate_up MLP under HQ4.1K-M; longrope factor 1.0", async () => {
  const c = await run(await tinyModel({ arch: "phi3" }), { quant: "hq41k-m" });
  assert.equal(c.dtypes["text.layer0.attn.qkv_proj.weight"], "hq51k");
  assert.equal(c.dtypes["text.layer0.mlp.gate_up.weight"], "hq41k");
  assert.equal(c.dtypes["text.lm_head.weight"], "hq51k");
  assert.match(c.json, /"rope_scaling_factor":1\.0,"rope_model_scaling_factor":32\.0,/);
  assert.equal(c.binText.rope_scaling_factor, 1);
  assert.ok(c.report.runtime.text!.rules.includes("rope-approximated"));
});

Deno.test("a Mixtral loads but does not run: the runtime has no MoE graph", async () => {
  const c = await run(await tinyModel({ arch: "mixtral" }), { quant: "hq41k-m" });
  assert.equal(c.dtypes["text.layer0.moe.experts.0.down.weight"], "hq41k");
  assert.equal(c.dtypes["text.layer0.moe.gate.weight"], "fp16");
  const rt = c.report.runtime.text!;
  assert.deepEqual([rt.loads, rt.runs, rt.chat], [true, false, false]);
  assert.equal(
    rt.reasons[0],
    "the runtime has no MoE graph (Mixtral): its detector throws 'Cannot detect MLP structure'",
  );
});

Deno.test("--quant hq5k selects the legacy runtime: no lm_head copy, and the report says it will not load", async () => {
  const dir = await tinyModel({ arch: "qwen2" });
  const c = await run(dir, { quant: "hq5k" });
  assert.equal(c.report.target, "legacy");
  assert.equal(c.dtypes["text.lm_head.weight"], undefined);
  assert.equal(c.dtypes["text.layer0.mlp.up.weight"], "hq5k");
  const rt = c.report.runtime.text!;
  assert.deepEqual([rt.loads, rt.runs, rt.chat], [false, false, false]);
  assert.match(rt.reasons[0], /^hq5k tensors: the current runtime rejects them at load/);
  const plain = await convert({
    models: { text: dir },
    output: "",
    dryRun: true,
    target: "legacy",
  });
  assert.deepEqual([plain.quant, dtypeOf(plain, "text.layer0.mlp.up.weight")], ["hq5k", "hq5k"]);
  await assertHeliosError(
    run(dir, { quant: "hq5k", target: "current" }),
    "BAD_OPTION",
    /writes hq5k, which the current runtime cannot load; use HQ5\.1K/,
  );
  await assertHeliosError(
    run(dir, { quant: "hq31k", target: "legacy" }),
    "BAD_OPTION",
    /legacy runtime cannot load/,
  );
});

Deno.test("overrides apply after the preset by HNF glob, last match wins, and show in a dry run", async () => {
  const dir = await tinyModel({ arch: "llama" });
  const r = await convert({
    models: { text: dir },
    output: "",
    dryRun: true,
    quant: "hq41k",
    overrides: {
      "text.layer*.mlp.down.weight": "hq51k",
      "text.layer0.*": "fp16",
      "text.layer0.attn.?_proj.weight": "HQ3.1K",
    },
  });
  assert.equal(dtypeOf(r, "text.layer1.mlp.down.weight"), "hq51k");
  assert.equal(dtypeOf(r, "text.layer1.mlp.up.weight"), "hq41k");
  assert.equal(dtypeOf(r, "text.layer0.mlp.down.weight"), "fp16");
  assert.equal(dtypeOf(r, "text.layer0.attn.q_proj.weight"), "hq31k");
  const note = r.tensors.find((t) => t.name === "text.layer1.mlp.down.weight")!.note;
  assert.equal(note, "--override text.layer*.mlp.down.weight=hq51k");
});

Deno.test("an override the runtime cannot run is a usage error naming the tensor and the reason", async () => {
  const dir = await tinyModel({ arch: "llama" });
  const plan = (overrides: Record<string, string>) =>
    convert({ models: { text: dir }, output: "", dryRun: true, overrides });
  await assertHeliosError(
    plan({ "text.layer0.mlp.up.weight": "hq62k" }),
    "BAD_OPTION",
    /^--override 'text\.layer0\.mlp\.up\.weight=hq62k': text\.layer0\.mlp\.up\.weight: the current runtime's matmul does not run hq62k/,
  );
  await assertHeliosError(
    plan({ "text.final_norm.weight": "hq51k" }),
    "BAD_OPTION",
    /text\.final_norm\.weight: a norm, bias or vector is read as fp16 only/,
  );
  await assertHeliosError(
    plan({ "text.token_embedding.weight": "hq41k" }),
    "BAD_OPTION",
    /embedding lookup does not run hq41k/,
  );
  await assertHeliosError(
    plan({ "text.*.weight": "hq5k" }),
    "BAD_OPTION",
    /current runtime cannot load hq5k/,
  );
  await assertHeliosError(plan({ "text.x": "HQ4.1K-M" }), "BAD_OPTION", /name a format/);
});

Deno.test("HQ3.1K rows over 16384 values are written HQ4.1K and listed; an override to hq31k is refused", async () => {
  const wide = 16640; // 65 super-blocks: past the runtime's hq31k matmul window
  const dir = await tinyModel({
    arch: "llama",
    edit: (t) => ({
      config: { ...t.config, intermediate_size: wide, num_hidden_layers: 1 },
      tensors: t.tensors
        .filter((x) => !/layers\.1\./.test(x.name))
        .map((x) =>
          /mlp\.(gate|up)_proj/.test(x.name)
            ? { ...x, shape: [wide, 256] }
            : /mlp\.down_proj/.test(x.name)
            ? { ...x, shape: [256, wide] }
            : x
        ),
    }),
  });
  const r = await convert({ models: { text: dir }, output: "", dryRun: true, quant: "hq31k" });
  const down = r.tensors.find((t) => t.name === "text.layer0.mlp.down.weight")!;
  assert.equal(down.dtype, "hq41k");
  assert.match(down.note!, /rows of 16640 values: the runtime's hq31k matmul takes at most 16384/);
  assert.equal(dtypeOf(r, "text.layer0.mlp.up.weight"), "hq31k");
  assert.equal(r.runtime.text!.runs, true);
  await assertHeliosError(
    convert({
      models: { text: dir },
      output: "",
      dryRun: true,
      overrides: { "*.down.weight": "hq31k" },
    }),
    "BAD_OPTION",
    /hq31k rows of 16640 values exceed/,
  );
});

Deno.test({
  name: "a Qwen3 with the real Qwen3 tokenizer is chat-ready: it has <|im_start|>/<|im_end|>",
  ignore: !fixturesPresent(),
  fn: async () => {
    const dir = await tinyModel({ arch: "qwen3", tokenizer: false });
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) {
      await Deno.symlink(`${FIXTURES}qwen3-tokenizer/${f}`, `${dir}/${f}`);
    }
    const r = await convert({ models: { text: dir }, output: "", dryRun: true });
    const rt = r.runtime.text!;
    assert.deepEqual([rt.loads, rt.runs, rt.chat], [true, true, true]);
    assert.deepEqual(rt.rules, ["capability"]);
  },
});
