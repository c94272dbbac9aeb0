import assert from "node:assert/strict";
import { convert, generateModel, HeliosError, openHnf, openSafetensorsFolder } from "../mod.ts";
import { assertHeliosError, f16Rounded, listDir, tempDir, tinyModel } from "./_helpers.ts";

async function fp16RoundTrip(options: Parameters<typeof tinyModel>[0]) {
  const dir = await tinyModel(options);
  const out = `${dir}/../out.hnf`;
  const report = await convert({ models: { text: dir }, output: out, quant: "fp16", threads: 1 });
  const hnf = await openHnf(out);
  const folder = await openSafetensorsFolder(dir);
  try {
    assert.ok(hnf.checksumsVerified);
    assert.equal(report.tensors.length, hnf.tensors.length);
    for (const t of hnf.tensors) {
      assert.equal(t.dtype, "fp16");
      assert.equal(t.offset % 32, 0, `${t.name} is 32-byte aligned`);
      const r = report.tensors.find((x) => x.name === t.name)!;
      const src = folder.tensors.find((s) => s.name === r.source)!;
      const expected = new Float32Array(src.numel);
      await folder.readF32(src, 0, src.numel, expected);
      const got = await hnf.readTensor(t.name);
      assert.deepEqual(
        got,
        f16Rounded(expected),
        `${t.name} equals the F16 rounding of ${src.name}`,
      );
      assert.deepEqual(t.shape, src.shape);
    }
  } finally {
    hnf.close();
    folder.close();
  }
  return { dir, out, report };
}

Deno.test("converts a BF16 Llama exactly to FP16", async () => {
  const { report } = await fp16RoundTrip({ arch: "llama", dtype: "BF16" });
  assert.ok(report.tensors.some((t) => t.name === "text.lm_head.weight"));
  assert.ok(report.tensors.some((t) => t.name === "text.layer1.mlp.down.weight"));
});

Deno.test("converts a sharded F32 Mistral exactly to FP16", async () => {
  await fp16RoundTrip({ arch: "mistral", dtype: "F32", shards: 3 });
});

Deno.test("converts an F16 Qwen2 with biases and tied embeddings exactly", async () => {
  const { report } = await fp16RoundTrip({ arch: "qwen2", dtype: "F16" });
  assert.ok(report.tensors.some((t) => t.name === "text.layer0.attn.q_proj.bias"));
  assert.ok(!report.tensors.some((t) => t.name.endsWith("lm_head.weight")), "tied: no lm_head");
});

Deno.test("two conversions are byte-identical, whatever the thread count", async () => {
  const dir = await tinyModel({ arch: "llama" });
  const a = `${dir}/../a.hnf`;
  const b = `${dir}/../b.hnf`;
  await convert({ models: { text: dir }, output: a, quant: "hq5k", threads: 1 });
  await convert({ models: { text: dir }, output: b, quant: "hq5k", threads: 3 });
  assert.deepEqual(await Deno.readFile(a), await Deno.readFile(b));
});

Deno.test("clamps finite values beyond the FP16 range and counts them", async () => {
  const dir = await tinyModel({
    dtype: "F32",
    edit: (t) => ({
      ...t,
      tensors: t.tensors.map((x) => x.name === "model.norm.weight" ? { ...x, std: 1e6 } : x),
    }),
  });
  const out = `${dir}/../o.hnf`;
  const warnings: string[] = [];
  const r = await convert({
    models: { text: dir },
    output: out,
    quant: "fp16",
    onEvent: (e) => e.type === "warning" && warnings.push(e.message),
  });
  const norm = r.tensors.find((t) => t.name === "text.final_norm.weight")!;
  assert.ok(norm.clamped > 0);
  assert.ok(warnings.some((w) => w.includes("clamped")));
  const hnf = await openHnf(out);
  const v = await hnf.readTensor("text.final_norm.weight");
  hnf.close();
  assert.ok(v.every((x) => Number.isFinite(x) && Math.abs(x) <= 65504));
});

/** A tiny F32 Llama with two values of layer 0's q_proj (elements 10 and 11) poisoned in place. */
async function withNaN(): Promise<string> {
  const dir = await tinyModel({ dtype: "F32" });
  const folder = await openSafetensorsFolder(dir);
  const t = folder.tensors.find((x) => x.name === "model.layers.0.self_attn.q_proj.weight")!;
  folder.close();
  const f = await Deno.open(`${dir}/model.safetensors`, { write: true, read: true });
  await f.seek(t.offset + 40, Deno.SeekMode.Start);
  await f.write(new Uint8Array(new Float32Array([NaN, Infinity]).buffer));
  f.close();
  return dir;
}

Deno.test("NaN/Inf in a weight is an error naming the tensor and the count, with no output", async () => {
  const dir = await withNaN();
  for (const quant of ["fp16", "hq5k"] as const) {
    const out = `${dir}/../nan-${quant}.hnf`;
    await assertHeliosError(
      convert({ models: { text: dir }, output: out, quant }),
      "NONFINITE",
      /model\.layers\.0\.self_attn\.q_proj\.weight' has 2 NaN\/Inf values/,
    );
    assert.ok(
      !(await listDir(`${dir}/..`)).some((n) => n.includes("nan-")),
      "no output, no temp file",
    );
  }
});

Deno.test("--nonfinite zero replaces NaN/Inf with 0 and counts them", async () => {
  const dir = await withNaN();
  const out = `${dir}/../z.hnf`;
  const r = await convert({ models: { text: dir }, output: out, quant: "fp16", nonfinite: "zero" });
  const t = r.tensors.find((x) => x.name === "text.layer0.attn.q_proj.weight")!;
  assert.equal(t.nonfiniteZeroed, 2);
  const hnf = await openHnf(out);
  const v = await hnf.readTensor(t.name);
  hnf.close();
  assert.equal(v[10], 0);
  assert.equal(v[11], 0);
});

Deno.test("an existing output is replaced only with force", async () => {
  const dir = await tinyModel();
  const out = `${dir}/../exists.hnf`;
  await Deno.writeTextFile(out, "keep me");
  await assertHeliosError(
    convert({ models: { text: dir }, output: out, quant: "fp16" }),
    "OUTPUT_EXISTS",
    /--force/,
  );
  assert.equal(await Deno.readTextFile(out), "keep me");
  await convert({ models: { text: dir }, output: out, quant: "fp16", force: true });
  assert.notEqual(await Deno.readTextFile(out).catch(() => ""), "keep me");
});

Deno.test("cancelling mid-write leaves nothing behind", async () => {
  const dir = await tinyModel();
  const parent = `${dir}/..`;
  const before = await listDir(parent);
  const ac = new AbortController();
  let seen = 0;
  await assertHeliosError(
    convert({
      models: { text: dir },
      output: `${parent}/cancel.hnf`,
      quant: "hq5k",
      chunkElements: 4096,
      signal: ac.signal,
      onEvent: (e) => {
        if (e.type === "progress" && ++seen === 5) ac.abort();
      },
    }),
    "ABORTED",
  );
  assert.deepEqual(await listDir(parent), before);
});

Deno.test("bad models fail with a clear error and no output", async () => {
  const cases: [string, (dir: string) => Promise<void>, string, RegExp][] = [
    [
      "missing config",
      (d) => Deno.remove(`${d}/config.json`),
      "MISSING_FILE",
      /config\.json: not found/,
    ],
    [
      "missing hidden_size",
      async (d) => {
        const c = JSON.parse(await Deno.readTextFile(`${d}/config.json`));
        delete c.hidden_size;
        await Deno.writeTextFile(`${d}/config.json`, JSON.stringify(c));
      },
      "BAD_CONFIG",
      /'hidden_size' is missing/,
    ],
    [
      "unsupported model",
      async (d) => {
        const c = JSON.parse(await Deno.readTextFile(`${d}/config.json`));
        c.model_type = "bert";
        c.architectures = ["BertModel"];
        await Deno.writeTextFile(`${d}/config.json`, JSON.stringify(c));
      },
      "UNSUPPORTED_MODEL",
      /bert/,
    ],
    [
      "bad config JSON",
      (d) => Deno.writeTextFile(`${d}/config.json`, "{"),
      "BAD_CONFIG",
      /invalid JSON/,
    ],
  ];
  for (const [what, spoil, code, pattern] of cases) {
    const dir = await tinyModel();
    await spoil(dir);
    const parent = `${dir}/..`;
    const before = await listDir(parent);
    const e = await assertHeliosError(
      convert({ models: { text: dir }, output: `${parent}/x.hnf`, quant: "fp16" }),
      code,
      pattern,
    );
    assert.ok(e instanceof HeliosError, what);
    assert.deepEqual(await listDir(parent), before, `${what}: no output`);
  }
});

Deno.test("an integer weight is an unsupported-dtype error naming the tensor", async () => {
  const dir = await tempDir();
  await generateModel(`${dir}/m`, { dtype: "F32" });
  // Rewrite the final norm's dtype as I32 (same byte size).
  const path = `${dir}/m/model.safetensors`;
  const bytes = await Deno.readFile(path);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  const patched = header.replace(/("model\.norm\.weight":\{"dtype":)"F32"/, '$1"I32"');
  assert.notEqual(patched, header);
  bytes.set(new TextEncoder().encode(patched), 8);
  await Deno.writeFile(path, bytes);
  await assertHeliosError(
    convert({ models: { text: `${dir}/m` }, output: `${dir}/x.hnf`, quant: "fp16" }),
    "UNSUPPORTED_DTYPE",
    /'model\.norm\.weight' has dtype I32/,
  );
  assert.deepEqual(await listDir(dir), ["m"]);
});

Deno.test("a full disk fails cleanly and leaves nothing behind", async (t) => {
  const dir = await tinyModel();
  const mnt = await tempDir();
  const mount = new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=512k", "tmpfs", mnt],
  });
  const { success } = await mount.output().catch(() => ({ success: false }));
  if (!success) {
    t.step({ name: "skipped: cannot mount a small tmpfs here", ignore: true, fn: () => {} });
    return;
  }
  try {
    await assertHeliosError(
      convert({ models: { text: dir }, output: `${mnt}/full.hnf`, quant: "fp16" }),
      "IO",
      /No space left|failed/,
    );
    assert.deepEqual(await listDir(mnt), []);
  } finally {
    await new Deno.Command("umount", { args: [mnt] }).output();
  }
});

Deno.test("a dry run plans without writing", async () => {
  const dir = await tinyModel();
  const r = await convert({ models: { text: dir }, output: `${dir}/../dry.hnf`, dryRun: true });
  assert.ok(r.dryRun);
  assert.ok(r.tensors.length > 0);
  assert.ok(!(await listDir(`${dir}/..`)).includes("dry.hnf"));
});
