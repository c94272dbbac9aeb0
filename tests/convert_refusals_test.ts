/**
 * Never a partial model with exit 0: a tower with an unmapped tensor fails on one line and
 * leaves no file, `--allow-unmapped` writes the rest and says what was left out, and
 * deliberate skips stay skips. Also: the tokenizer-size warning counts distinct ids.
 */
import assert from "node:assert/strict";
import { convert, generateModel, type GenerateOptions } from "../mod.ts";
import { main } from "../src/cli/main.ts";
import type { TensorTemplate } from "../src/fixtures/archs.ts";
import { assertHeliosError, fixtureRole, listDir, withTempDir } from "./_helpers.ts";

const extra = (name: string, shape = [256, 256]): TensorTemplate => ({
  name,
  shape,
  init: "normal",
});

/** Generates `arch` with `edit` into root/m and converts it; returns the error or report. */
async function attempt(
  root: string,
  arch: string,
  options: GenerateOptions = {},
  allowUnmapped = false,
) {
  await generateModel(`${root}/m`, { arch, ...options });
  return convert({
    models: { [fixtureRole(arch)]: `${root}/m` },
    output: `${root}/out.hnf`,
    quant: "fp16",
    allowUnmapped,
  });
}

Deno.test("a LLaVA whose vision tower has an unknown tensor fails naming llava; no file", async () => {
  await withTempDir(async (root) => {
    await assertHeliosError(
      attempt(root, "llava", {
        layout: "hf5",
        edit: (t) => ({
          ...t,
          tensors: [...t.tensors, extra("model.vision_tower.encoder.layers.0.ls1.gamma", [256])],
        }),
      }),
      "UNMAPPED_TENSORS",
      /: the llava mapper has no name for 1 of its 65 tensors \('model\.vision_tower\.encoder\.layers\.0\.ls1\.gamma'\)/,
    );
    assert.deepEqual(await listDir(root), ["m"]);
  });
});

Deno.test("an MoE with shared experts under LLaMA names fails instead of losing its experts", async () => {
  await withTempDir(async (root) => {
    const names = [0, 1].flatMap((l) => [
      `model.layers.${l}.mlp.shared_expert.gate_proj.weight`,
      `model.layers.${l}.mlp.shared_expert.up_proj.weight`,
      `model.layers.${l}.mlp.shared_expert_gate.weight`,
      `model.layers.${l}.mlp.experts.0.down_proj.weight`,
    ]);
    const err = await assertHeliosError(
      attempt(root, "generic", {
        edit: (t) => ({ ...t, tensors: [...t.tensors, ...names.map((n) => extra(n))] }),
      }),
      "UNMAPPED_TENSORS",
      /: the generic LLaMA-style \(model_type "helioslm"\) mapper has no name for 8 of its 29 tensors \('model\.layers\.0\.mlp\.shared_expert\.gate_proj\.weight', '.*', '.*', …\)/,
    );
    assert.ok(!err.message.includes("layers.1"), "only the first names are quoted");
    assert.deepEqual(await listDir(root), ["m"]);
  });
});

Deno.test("a refused generic config leaves no file", async () => {
  await withTempDir(async (root) => {
    await assertHeliosError(
      attempt(root, "generic", {
        edit: (t) => ({
          ...t,
          config: { ...t.config, model_type: "granite", residual_multiplier: 0.22 },
        }),
      }),
      "UNSUPPORTED_MODEL",
      /extra scaling multipliers \(residual_multiplier=0\.22\)/,
    );
    assert.deepEqual(await listDir(root), ["m"]);
  });
});

Deno.test("allowUnmapped writes what maps and reports what was left out", async () => {
  await withTempDir(async (root) => {
    const unknown = "model.vision_tower.encoder.layers.0.ls1.gamma";
    const warned: string[] = [];
    await generateModel(`${root}/m`, {
      arch: "llava",
      layout: "hf5",
      edit: (t) => ({ ...t, tensors: [...t.tensors, extra(unknown, [256])] }),
    });
    const r = await convert({
      models: { text: `${root}/m` },
      output: `${root}/out.hnf`,
      quant: "fp16",
      allowUnmapped: true,
      onEvent: (e) => e.type === "warning" && warned.push(e.message),
    });
    assert.deepEqual(r.unmapped.map((u) => u.name), [unknown]);
    assert.equal(r.tensors.length, 64);
    assert.ok(
      warned.some((w) => w.startsWith("--allow-unmapped: 1 tensor(s)") && w.includes(unknown)),
    );
  });
});

Deno.test("deliberate skips stay skips: tied lm_head, text side of CLIP, Whisper decoder, rotary buffers", async () => {
  await withTempDir(async (root) => {
    for (const [arch, role] of [["clip", "vision"], ["whisper", "audio"]] as const) {
      await generateModel(`${root}/${arch}`, { arch });
      const r = await convert({
        models: { [role]: `${root}/${arch}` },
        output: `${root}/${arch}.hnf`,
        quant: "fp16",
      });
      assert.equal(r.unmapped.length, 0);
      assert.ok(r.ignored.length > 0, arch);
    }
    await generateModel(`${root}/q`, {
      arch: "qwen3",
      edit: (t) => ({
        ...t,
        tensors: [
          ...t.tensors,
          extra("lm_head.weight", [384, 256]),
          extra("model.rotary_emb.inv_freq", [32]),
        ],
      }),
    });
    const r = await convert({
      models: { text: `${root}/q` },
      output: `${root}/q.hnf`,
      quant: "fp16",
    });
    assert.deepEqual(r.ignored.map((i) => i.name).sort(), [
      "lm_head.weight",
      "model.rotary_emb.inv_freq",
    ]);
  });
});

Deno.test("CLI: an unmapped tensor exits 1 with one line; --allow-unmapped exits 0", async () => {
  await withTempDir(async (root) => {
    await generateModel(`${root}/m`, { arch: "llama_extra_tensor" });
    const errors: string[] = [];
    const orig = console.error;
    console.error = (...a: unknown[]) => errors.push(a.join(" "));
    let code: number;
    let code2: number;
    try {
      code = await main([`${root}/m`, "-o", `${root}/x.hnf`, "-q", "FP16"]);
      code2 = await main([`${root}/m`, "-o", `${root}/x.hnf`, "-q", "FP16", "--allow-unmapped"]);
    } finally {
      console.error = orig;
    }
    assert.equal(code, 1);
    assert.match(errors[0], /^error: .*the llama mapper has no name for 1 of its 22 tensors/);
    assert.equal(code2, 0);
    assert.ok(errors.some((e) => e.includes("1 tensors not mapped, left out (--allow-unmapped):")));
    assert.deepEqual(await listDir(root), ["m", "x.hnf"]);
  });
});

Deno.test("specials in both the vocab and added_tokens are counted once against the embedding", async () => {
  await withTempDir(async (root) => {
    await generateModel(`${root}/m`, { arch: "llama" });
    const path = `${root}/m/tokenizer.json`;
    const tj = JSON.parse(await Deno.readTextFile(path));
    for (const a of tj.added_tokens) tj.model.vocab[a.content] = a.id;
    await Deno.writeTextFile(path, JSON.stringify(tj));
    const warned: string[] = [];
    const r = await convert({
      models: { text: `${root}/m` },
      output: `${root}/out.hnf`,
      quant: "fp16",
      onEvent: (e) => e.type === "warning" && warned.push(e.message),
    });
    assert.equal(r.tokenizer?.tokenIds, 320);
    assert.ok(!warned.some((w) => w.includes("the tokenizer has")), warned.join("\n"));
  });
});
