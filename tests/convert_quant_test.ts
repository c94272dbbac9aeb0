import assert from "node:assert/strict";
import {
  convert,
  type EmbeddingChoice,
  openHnf,
  openSafetensorsFolder,
  relativeRmse,
} from "../mod.ts";
import { llamaTensors } from "../src/fixtures/mod.ts";
import { assertHeliosError, tinyModel } from "./_helpers.ts";

async function sourceOf(dir: string, name: string): Promise<Float32Array> {
  const folder = await openSafetensorsFolder(dir);
  try {
    const t = folder.tensors.find((x) => x.name === name)!;
    const out = new Float32Array(t.numel);
    await folder.readF32(t, 0, t.numel, out);
    return out;
  } finally {
    folder.close();
  }
}

for (const quant of ["hq5k", "hq4k", "hq51k", "hq41k", "hq31k"] as const) {
  Deno.test(`converts a Llama with ${quant} weight matrices and FP16 embeddings and norms`, async () => {
    const legacy = quant === "hq5k" || quant === "hq4k";
    const dir = await tinyModel({ arch: "llama" });
    const out = `${dir}/../${quant}.hnf`;
    const report = await convert({ models: { text: dir }, output: out, quant, threads: 2 });
    const hnf = await openHnf(out);
    try {
      for (const t of hnf.tensors) {
        const matrix = /attn\.[qkvo]_proj\.weight|mlp\.(gate|up|down)\.weight/.test(t.name);
        // On the current runtime lm_head is HQ5.1K whatever --quant says (its own files do so).
        const lmHead = t.name === "text.lm_head.weight" && !legacy;
        assert.equal(t.dtype, lmHead ? "hq51k" : matrix ? quant : "fp16", t.name);
      }
      const r = report.tensors.find((x) => x.name === "text.layer1.attn.q_proj.weight")!;
      const src = await sourceOf(dir, "model.layers.1.self_attn.q_proj.weight");
      const got = await hnf.readTensor(r.name);
      const measured = relativeRmse(src, got);
      // The report's figure comes from the residuals during conversion; it must match a decode.
      assert.ok(
        Math.abs(measured - r.relRmse!) < 1e-6 * Math.max(1, measured),
        `${measured} vs ${r.relRmse}`,
      );
      const bound = { hq5k: 0.02, hq4k: 0.042, hq51k: 0.025, hq41k: 0.05, hq31k: 0.1 }[quant];
      assert.ok(r.relRmse! < bound, `${quant} rel. RMSE ${r.relRmse} < ${bound}`);
      if (quant !== "hq5k" && quant !== "hq4k") {
        assert.ok(
          !hnf.tensors.some((t) => t.dtype === "hq4k" || t.dtype === "hq5k"),
          "compact only",
        );
      }
    } finally {
      hnf.close();
    }
  });
}

Deno.test("keeps matrices whose rows are not a multiple of 256 in FP16 and says why", async () => {
  const dir = await tinyModel({
    arch: "llama",
    edit: (t) => ({
      config: {
        ...t.config,
        hidden_size: 320,
        num_hidden_layers: 1,
        num_attention_heads: 5,
        num_key_value_heads: 5,
      },
      tensors: llamaTensors({
        hidden: 320,
        inter: 512,
        layers: 1,
        heads: 5,
        kvHeads: 5,
        vocab: 320,
        tied: false,
        bias: false,
      }),
    }),
  });
  const report = await convert({
    models: { text: dir },
    output: `${dir}/../rows.hnf`,
    quant: "hq5k",
  });
  const q = report.tensors.find((t) => t.name === "text.layer0.attn.q_proj.weight")!;
  assert.equal(q.dtype, "fp16");
  assert.match(q.note!, /row length 320 is not a multiple of 256/);
  const down = report.tensors.find((t) => t.name === "text.layer0.mlp.down.weight")!;
  assert.equal(down.dtype, "hq5k", "down_proj rows are 512 long");
});

Deno.test("--embeddings hq62k quantizes a lookup-only table, never a tied one", async () => {
  const untied = await tinyModel({ arch: "llama" });
  const r1 = await convert({
    models: { text: untied },
    output: `${untied}/../e1.hnf`,
    quant: "hq41k",
    embeddings: "hq62k",
  });
  assert.equal(r1.tensors.find((t) => t.name === "text.token_embedding.weight")!.dtype, "hq62k");
  assert.equal(r1.tensors.find((t) => t.name === "text.lm_head.weight")!.dtype, "hq51k");
  const tied = await tinyModel({ arch: "qwen2" });
  // With the lm_head copy (the default) the table is only looked up.
  const r2 = await convert({
    models: { text: tied },
    output: `${tied}/../e2.hnf`,
    quant: "hq41k",
    embeddings: "hq62k",
  });
  assert.equal(r2.tensors.find((t) => t.name === "text.token_embedding.weight")!.dtype, "hq62k");
  await assertHeliosError(
    convert({
      models: { text: tied },
      output: `${tied}/../e3.hnf`,
      quant: "hq41k",
      embeddings: "hq62k",
      lmHead: "tied",
    }),
    "BAD_OPTION",
    /a tied table is also the logits matmul/,
  );
  await assertHeliosError(
    convert({
      models: { text: tied },
      output: `${tied}/../e4.hnf`,
      quant: "hq41k",
      embeddings: "hq41k" as EmbeddingChoice,
    }),
    "BAD_OPTION",
    /no hq41k lookup kernel/,
  );
});

Deno.test("the fast path is faster-to-compute min/max and never beats the search", async () => {
  const dir = await tinyModel({ arch: "mistral" });
  const mse = await convert({ models: { text: dir }, output: `${dir}/../m.hnf`, quant: "hq41k" });
  const fast = await convert({
    models: { text: dir },
    output: `${dir}/../f.hnf`,
    quant: "hq41k",
    search: "fast",
  });
  for (const t of mse.tensors) {
    if (t.relRmse === undefined) continue;
    const f = fast.tensors.find((x) => x.name === t.name)!;
    assert.ok(t.relRmse <= f.relRmse! + 1e-12, `${t.name}: ${t.relRmse} <= ${f.relRmse}`);
  }
});

Deno.test("compact conversions are byte-identical across thread counts", async () => {
  const dir = await tinyModel({ arch: "qwen2" });
  const a = `${dir}/../a.hnf`;
  const b = `${dir}/../b.hnf`;
  await convert({ models: { text: dir }, output: a, quant: "hq31k", threads: 1 });
  await convert({
    models: { text: dir },
    output: b,
    quant: "hq31k",
    threads: 2,
    chunkElements: 8192,
  });
  assert.deepEqual(await Deno.readFile(a), await Deno.readFile(b));
});
