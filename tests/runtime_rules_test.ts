/**
 * The "runs in" rules on hand-made file views: each fact of the runtime contract gives its
 * stage and one-line reason, and the rule list can be extended without touching the report.
 */
import assert from "node:assert/strict";
import { assessRuntime, RUNTIME_RULES, type RuntimeInputs, type RuntimeRule } from "../mod.ts";
import { buildHintsJson } from "../src/hints/mod.ts";
import { HeliosError } from "../src/errors.ts";
import type { RuntimeTokenizer } from "../mod.ts";
import { loadModelSpec } from "../src/model/mod.ts";
import { tinyModel } from "./_helpers.ts";

const H = 256;

/** A Llama-named decoder under `text.` with `layers` layers, every tensor in `dtype`. */
function llamaTensors(layers = 1, matrix = "hq51k"): RuntimeInputs["tensors"] {
  const t: { name: string; dtype: string; shape: number[] }[] = [
    { name: "text.token_embedding.weight", dtype: "fp16", shape: [320, H] },
    { name: "text.final_norm.weight", dtype: "fp16", shape: [H] },
    { name: "text.lm_head.weight", dtype: "hq51k", shape: [320, H] },
  ];
  for (let i = 0; i < layers; i++) {
    for (const n of ["ln_attn_in", "ln_attn_out"]) {
      t.push({ name: `text.layer${i}.${n}.weight`, dtype: "fp16", shape: [H] });
    }
    for (
      const n of [
        "attn.q_proj",
        "attn.k_proj",
        "attn.v_proj",
        "attn.o_proj",
        "mlp.gate",
        "mlp.up",
        "mlp.down",
      ]
    ) {
      t.push({ name: `text.layer${i}.${n}.weight`, dtype: matrix, shape: [H, H] });
    }
  }
  return t;
}

function tokenizer(tokens: string[]): RuntimeTokenizer {
  return {
    domains: [{
      name: "text",
      added: tokens.map((content) => ({ content })),
      vocab: [],
    }],
  };
}

const hints = (text: Record<string, unknown>) => ({ text_enabled: true, text: text });
const BASE = { arch: "qwen2", num_hidden_layers: 1, head_dim: 64, rope_type: "default" };

Deno.test("a ChatML Qwen2 in runnable dtypes loads, runs and chats with no reason", () => {
  const r = assessRuntime({
    tensors: llamaTensors(),
    hints: hints(BASE),
    tokenizer: tokenizer(["<|im_start|>", "<|im_end|>"]),
  });
  assert.deepEqual(r, { text: { loads: true, runs: true, chat: true, reasons: [], rules: [] } });
});

Deno.test("each runtime fact gives its stage and reason", () => {
  const cases: [string, Partial<RuntimeInputs>, string, RegExp][] = [
    [
      "retired",
      { tensors: llamaTensors(1, "hq5k") },
      "loads",
      /^hq5k tensors: the current runtime rejects them at load/,
    ],
    ["no hints", { hints: null }, "runs", /^no execution hints/],
    [
      "layer count",
      { hints: hints({ ...BASE, num_hidden_layers: 2 }) },
      "runs",
      /hints say 2 layers, the tensors have 1/,
    ],
    [
      "gemma2",
      { hints: hints({ ...BASE, arch: "gemma2" }) },
      "runs",
      /^Gemma 2 semantics .* are not implemented by the runtime$/,
    ],
    [
      "layernorm",
      {
        tensors: [...llamaTensors(), {
          name: "text.layer0.ln_attn_in.bias",
          dtype: "fp16",
          shape: [H],
        }],
      },
      "runs",
      /LayerNorm path is broken/,
    ],
    [
      "mlp bias",
      {
        tensors: [...llamaTensors(), {
          name: "text.layer0.mlp.down.bias",
          dtype: "fp16",
          shape: [H],
        }],
      },
      "runs",
      /^layer0\.mlp\.down\.bias: the runtime never adds MLP or lm_head biases/,
    ],
    [
      "hq41k table",
      {
        tensors: llamaTensors().map((t) =>
          t.name.endsWith("token_embedding.weight") ? { ...t, dtype: "hq41k" } : t
        ),
      },
      "runs",
      /^token_embedding\.weight: the current runtime's embedding lookup does not run hq41k/,
    ],
    [
      "old factor",
      { hints: hints({ ...BASE, rope_type: "llama3", rope_scaling_factor: 8 }) },
      "runs",
      /rope_scaling_factor 8 with rope type 'llama3': the runtime divides every position by it/,
    ],
    ["no tokenizer", { tokenizer: null }, "chat", /^no tokenizer/],
    [
      "no ChatML",
      { tokenizer: tokenizer(["<s>"]) },
      "chat",
      /^tokenizer lacks <\|im_start\|>\/<\|im_end\|>/,
    ],
    [
      "window",
      { hints: hints({ ...BASE, sliding_window: 4096, max_position_embeddings: 32768 }) },
      "note",
      /ignores sliding_window 4096/,
    ],
  ];
  for (const [what, over, stage, reason] of cases) {
    const r = assessRuntime({
      tensors: llamaTensors(),
      hints: hints(BASE),
      tokenizer: tokenizer(["<|im_start|>", "<|im_end|>"]),
      ...over,
    }).text!;
    const hit = r.reasons.find((x) => reason.test(x));
    assert.ok(hit, `${what}: ${JSON.stringify(r.reasons)}`);
    const expected = {
      loads: stage !== "loads",
      runs: stage !== "loads" && stage !== "runs",
      chat: stage === "note",
    };
    assert.deepEqual({ loads: r.loads, runs: r.runs, chat: r.chat }, expected, what);
  }
});

Deno.test("vision and audio towers: no runner but Gemma 4's", () => {
  const r = assessRuntime({
    tensors: [
      ...llamaTensors(),
      { name: "vision.layer0.attn.q_proj.weight", dtype: "fp16", shape: [H, H] },
      { name: "projector.vision.linear1.weight", dtype: "fp16", shape: [H, H] },
      { name: "audio.conv1.weight", dtype: "fp16", shape: [H, 80, 3] },
    ],
    hints: { ...hints(BASE), vision: { encoder_arch: "clip" } },
    tokenizer: tokenizer(["<|im_start|>", "<|im_end|>"]),
  });
  assert.deepEqual(Object.keys(r), ["text", "vision", "audio"]);
  assert.deepEqual(r.vision!.reasons, [
    "no runner for CLIP vision: the runtime runs Gemma 4 vision only",
  ]);
  assert.equal(r.vision!.runs, false);
  assert.match(r.audio!.reasons[0], /no audio runner/);
});

Deno.test("a vision tower chats only when the text tower does", () => {
  const vision = [{ name: "vision.projector.weight", dtype: "fp16", shape: [H, 64] }];
  const view = (tokens: string[], text = true) =>
    assessRuntime({
      tensors: [...(text ? llamaTensors() : []), ...vision],
      hints: { ...hints(BASE), vision: { encoder_arch: "gemma4" } },
      tokenizer: tokenizer(tokens),
    }).vision!;
  assert.deepEqual(view(["<|im_start|>", "<|im_end|>"]), {
    loads: true,
    runs: true,
    chat: true,
    reasons: [],
    rules: [],
  });
  const mute = view([]);
  assert.deepEqual([mute.runs, mute.chat, mute.rules], [true, false, ["text-chat"]]);
  assert.match(mute.reasons[0], /text tower's chat session, which is not chat-ready/);
  assert.match(view([], false).reasons[0], /no text tower in this file/);
});

Deno.test("a family's rule is one more entry in the list (e.g. a Gemma 4 contract)", () => {
  const gemma4: RuntimeRule = {
    id: "gemma4-ple",
    towers: ["text"],
    stage: "runs",
    check: (v) =>
      v.hints?.arch === "gemma4" && !v.tensors.has("ple.token_embedding.weight")
        ? "no PLE table"
        : null,
  };
  const inputs = {
    tensors: llamaTensors(),
    hints: hints({ ...BASE, arch: "gemma4" }),
    tokenizer: tokenizer(["<|turn>", "<turn|>"]),
  };
  // The built-in Gemma 4 rules: no PLE in a Llama's tensors, dtypes off the certified profile.
  const base = assessRuntime(inputs).text!;
  assert.deepEqual([base.runs, base.rules], [false, ["gemma4-graph", "gemma4-profile"]]);
  const r = assessRuntime(inputs, [...RUNTIME_RULES, gemma4]).text!;
  assert.deepEqual([r.runs, r.reasons.at(-1)], [false, "no PLE table"]);
});

Deno.test("hint string values never equal a block name, whether or not that block is present", async () => {
  const dir = await tinyModel({
    arch: "llama",
    edit: (t) => ({ ...t, config: { ...t.config, hidden_act: "vision" } }),
  });
  const spec = await loadModelSpec(dir, "text");
  assert.throws(
    () =>
      buildHintsJson([{ spec, tensors: [{ name: "text.layer0.mlp.gate.weight", shape: [H, H] }] }]),
    (e: unknown) =>
      e instanceof HeliosError && e.code === "BAD_HINTS" && /'vision'/.test(e.message),
  );
});
