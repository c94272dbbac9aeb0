/**
 * Seeded, time-bounded fuzzing (fast-check) of every reader of untrusted input and of the
 * CLI's failure paths. Each property: the reader either accepts and its result is sound, or
 * refuses with a one-line HeliosError — never another exception, a hang, a stack overflow, or
 * a leftover file. Runs and time are bounded per property so the suite stays fast in CI;
 * FUZZ_RUNS=<n> multiplies the runs for a longer local session.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { convert, generateModel, openHnf } from "../mod.ts";
import { HeliosError } from "../src/errors.ts";
import { buildHintsBinary, buildHintsJson } from "../src/hints/mod.ts";
import { buildHtf, readHtf } from "../src/htf/mod.ts";
import { specFromConfig } from "../src/model/mod.ts";
import { parseHeaderJson } from "../src/safetensors/header.ts";
import { readSafetensorsHeader } from "../src/safetensors/mod.ts";
import { listDir, mediumLlama, tempDir } from "./_helpers.ts";

const SCALE = Number(Deno.env.get("FUZZ_RUNS") ?? "1");
const SEED = 20261202;

/** fast-check parameters: fixed seed, `runs` (scaled), and a time limit per property. */
function params(runs: number, ms = 8000): fc.Parameters<unknown> {
  return { seed: SEED, numRuns: Math.ceil(runs * SCALE), interruptAfterTimeLimit: ms * SCALE };
}

/** Outcomes per category (printed with FUZZ_REPORT=1, for the record; never asserted). */
const tally: Record<string, Record<string, number>> = {};
if (Deno.env.get("FUZZ_REPORT") === "1") {
  globalThis.addEventListener("unload", () => console.error(JSON.stringify(tally, null, 1)));
}

function record(category: string, outcome: string) {
  const t = (tally[category] ??= {});
  t[outcome] = (t[outcome] ?? 0) + 1;
}

/** Runs `fn` (a mutant of `category`); anything thrown must be a one-line HeliosError. */
async function acceptOrRefuse<T>(
  category: string,
  fn: () => T | Promise<T>,
): Promise<T | HeliosError> {
  const count = (outcome: string) => record(category, outcome);
  try {
    const r = await fn();
    count("accepted");
    return r;
  } catch (e) {
    assert.ok(e instanceof HeliosError, `expected a HeliosError, got ${(e as Error)?.stack ?? e}`);
    assert.ok(!e.message.includes("\n"), `multi-line message: ${e.message}`);
    count(`refused ${e.code}`);
    return e;
  }
}

/** Applies byte edits (position modulo length, then xor) to a copy of `bytes`. */
function mutate(bytes: Uint8Array, edits: [number, number][]): Uint8Array {
  const out = bytes.slice();
  for (const [pos, x] of edits) if (out.length) out[pos % out.length] ^= x;
  return out;
}

const edits = (max: number) =>
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: max });

// ---------------------------------------------------------------- safetensors

const tensorSpec = fc.record({
  name: fc.string({ minLength: 1, maxLength: 6 }),
  dtype: fc.constantFrom("F32", "F16", "BF16", "I8", "U8"),
  shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
});
const SIZES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I8: 1, U8: 1 };

/** A valid header for `specs` (tensors tiling the data section in order) and its data size. */
function validHeader(specs: { name: string; dtype: string; shape: number[] }[]) {
  const h: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let at = 0;
  for (const t of specs) {
    if (t.name in h) continue;
    const n = t.shape.reduce((a, b) => a * b, 1) * SIZES[t.dtype];
    h[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + n] };
    at += n;
  }
  return { json: JSON.stringify(h), dataSize: at };
}

Deno.test("fuzz: safetensors headers are accepted only when they tile the data exactly", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(tensorSpec, { maxLength: 5 }), edits(4), async (specs, ed) => {
      const { json, dataSize } = validHeader(specs);
      const bytes = mutate(new TextEncoder().encode(json), ed);
      const text = new TextDecoder().decode(bytes);
      const start = 8 + bytes.length;
      const r = await acceptOrRefuse(
        "safetensors header",
        () => parseHeaderJson(text, start, start + dataSize, "f.safetensors"),
      );
      if (r instanceof HeliosError) return;
      let end = start;
      for (const t of r.tensors) {
        assert.equal(t.offset, end, "no hole, no overlap");
        assert.ok(t.name.isWellFormed());
        end += t.byteLength;
      }
      assert.equal(end, start + dataSize, "nothing after the last tensor");
      for (const v of Object.values(r.metadata)) assert.equal(typeof v, "string");
    }),
    params(400),
  );
});

Deno.test("fuzz: whole safetensors files with flipped bytes are read or refused cleanly", async () => {
  const dir = await tempDir();
  const { json, dataSize } = validHeader([
    { name: "a", dtype: "F32", shape: [2, 3] },
    { name: "b", dtype: "BF16", shape: [4] },
  ]);
  const header = new TextEncoder().encode(json);
  const file = new Uint8Array(8 + header.length + dataSize);
  new DataView(file.buffer).setBigUint64(0, BigInt(header.length), true);
  file.set(header, 8);
  let i = 0;
  await fc.assert(
    fc.asyncProperty(edits(3), async (ed) => {
      const path = `${dir}/f${i++}.safetensors`;
      await Deno.writeFile(path, mutate(file, ed));
      await acceptOrRefuse("safetensors file", () => readSafetensorsHeader(path));
      await Deno.remove(path);
    }),
    params(150),
  );
});

// ---------------------------------------------------------------- config.json

const ABSURD = [0, -1, 1.5, 1e12, 2 ** 32, 2 ** 53 + 1, 1e308, -0, "8", null, true, [], {}];
const configValue = fc.oneof(
  fc.constantFrom(...ABSURD),
  fc.integer({ min: 1, max: 4096 }),
  fc.double(),
  fc.string({ maxLength: 4 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer({ min: 1, max: 2000 }).map((n) => JSON.parse("[".repeat(n) + "]".repeat(n))),
);
const CONFIG_KEYS = [
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "num_key_value_heads",
  "head_dim",
  "intermediate_size",
  "vocab_size",
  "max_position_embeddings",
  "rope_theta",
  "rms_norm_eps",
  "tie_word_embeddings",
  "num_local_experts",
  "num_experts_per_tok",
  "rope_scaling",
  "vision_config",
  "text_config",
];
const BASE_CONFIG = {
  hidden_size: 256,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 320,
};

Deno.test("fuzz: config values are validated, and accepted ones fit their hint fields", async () => {
  const types = ["llama", "qwen2", "mixtral", "gemma2", "phi3", "llava", "clip", "whisper"];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...types),
      fc.dictionary(fc.constantFrom(...CONFIG_KEYS), configValue, { maxKeys: 4 }),
      async (modelType, over) => {
        const config = { model_type: modelType, ...BASE_CONFIG, ...over };
        const role = modelType === "clip" ? "vision" : modelType === "whisper" ? "audio" : "text";
        const spec = await acceptOrRefuse("config.json", () => specFromConfig(config, role, "m"));
        if (spec instanceof HeliosError) return;
        if (spec.text) {
          assert.ok(spec.text.numKvHeads <= spec.text.numHeads);
          assert.ok(spec.text.numLayers <= 4096 && spec.text.hiddenSize <= 1 << 20);
        }
        const towers = [{ spec, tensors: [] }];
        await acceptOrRefuse("hints binary", () => buildHintsBinary(towers));
        await acceptOrRefuse("hints json", () => buildHintsJson(towers));
      },
    ),
    params(600),
  );
});

// ---------------------------------------------------------------- tokenizers

Deno.test("fuzz: tokenizer files and HTF blocks are read or refused cleanly", async () => {
  const dir = await tempDir();
  await generateModel(`${dir}/m`, { arch: "llama" });
  const tokJson = await Deno.readFile(`${dir}/m/tokenizer.json`);
  const htf = await buildHtf([{ dir: `${dir}/m`, domain: "text" }]);
  assert.ok(htf);
  await fc.assert(
    fc.asyncProperty(edits(6), async (ed) => {
      await acceptOrRefuse("HTF block", () => readHtf(mutate(htf.blob, ed)));
    }),
    params(300),
  );
  await fc.assert(
    fc.asyncProperty(edits(3), async (ed) => {
      await Deno.writeFile(`${dir}/m/tokenizer.json`, mutate(tokJson, ed));
      await acceptOrRefuse("tokenizer.json", () => buildHtf([{ dir: `${dir}/m`, domain: "text" }]));
    }),
    params(25),
  );
});

// ---------------------------------------------------------------- HNF

Deno.test("fuzz: every single-byte change of a written HNF file is caught by openHnf", async () => {
  const dir = await tempDir();
  await generateModel(`${dir}/m`, { arch: "qwen2" });
  await convert({ models: { text: `${dir}/m` }, output: `${dir}/m.hnf`, quant: "hq41k" });
  const good = await Deno.readFile(`${dir}/m.hnf`);
  const at = fc.oneof(
    fc.nat({ max: good.length - 1 }),
    fc.nat({ max: 575 }), // header and table
    fc.nat({ max: 8191 }).map((n) => good.length - 1 - n), // the manifest and what precedes it
  );
  await fc.assert(
    fc.asyncProperty(at, fc.integer({ min: 1, max: 255 }), async (pos, x) => {
      await Deno.writeFile(`${dir}/bad.hnf`, mutate(good, [[pos, x]]));
      const r = await acceptOrRefuse(
        "HNF single byte",
        async () => (await openHnf(`${dir}/bad.hnf`)).close(),
      );
      assert.ok(r instanceof HeliosError, `byte ${pos} ^ ${x} went unnoticed`);
    }),
    params(250, 15000),
  );
});

// ---------------------------------------------------------------- conversions failing part-way

Deno.test("fuzz: a quantized conversion cancelled part-way rejects with its own error only", async () => {
  const dir = await tempDir();
  await generateModel(`${dir}/m`, { arch: "llama", tokenizer: false });
  let i = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 150 }),
      fc.constantFrom(1, 2, 3),
      fc.constantFrom("hq51k", "hq41k", "hq5k") as fc.Arbitrary<"hq51k" | "hq41k" | "hq5k">,
      async (after, threads, quant) => {
        const out = `${dir}/o${i++}`;
        await Deno.mkdir(out);
        const controller = new AbortController();
        let events = 0;
        // Small chunks: many encodes are in flight in the pool when the cancel lands.
        const r = await acceptOrRefuse("cancelled conversion", () =>
          convert({
            models: { text: `${dir}/m` },
            output: `${out}/x.hnf`,
            quant,
            threads,
            chunkElements: 1024,
            signal: controller.signal,
            onEvent: (e) => {
              if (e.type === "progress" && ++events === after) controller.abort();
            },
          }));
        if (r instanceof HeliosError) {
          assert.equal(r.code, "ABORTED", r.message);
          assert.match(r.message, /Conversion cancelled/);
          assert.deepEqual(await listDir(out), []);
        } else assert.deepEqual(await listDir(out), ["x.hnf"]);
      },
    ),
    params(30),
  );
});

// ---------------------------------------------------------------- CLI: signals, full disk

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/**
 * Runs the CLI; with `signalAfterMs`, sends SIGINT that long after its first progress output
 * (earlier, Deno itself is still starting and the default action would kill it).
 */
async function runCli(args: string[], signalAfterMs?: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  let signalled = false;
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const drain = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      stderr += value;
      if (signalAfterMs !== undefined && !signalled) {
        signalled = true;
        setTimeout(() => {
          try {
            child.kill("SIGINT");
          } catch { /* already exited */ }
        }, signalAfterMs);
      }
    }
  })();
  const { code } = await child.status;
  await drain;
  return { code, stderr };
}

function assertCleanFailure(r: { code: number; stderr: string }, pattern: RegExp) {
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0], pattern);
  assert.doesNotMatch(r.stderr, /pool was closed|Uncaught|^\s+at /m, r.stderr);
}

Deno.test("fuzz: Ctrl-C at any moment of an HQ5.1K run leaves its own error and no file", async () => {
  const dir = await tempDir();
  await mediumLlama(`${dir}/m`);
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 1500 }),
      fc.constantFrom(1, 2, 3),
      async (ms, threads) => {
        const out = `${dir}/o/x.hnf`;
        await Deno.mkdir(`${dir}/o`, { recursive: true });
        const r = await runCli(
          [`${dir}/m`, "-o", out, "--quant", "HQ5.1K", "--threads", String(threads)],
          ms,
        );
        const left = await listDir(`${dir}/o`);
        record("CLI SIGINT", r.code === 0 ? "finished first" : "cancelled cleanly");
        if (r.code === 0) assert.deepEqual(left, ["x.hnf"], "finished before the signal");
        else {
          assertCleanFailure(r, /error: Conversion cancelled/);
          assert.deepEqual(left, [], "no output, no temp file");
        }
        await Deno.remove(`${dir}/o`, { recursive: true });
      },
    ),
    params(4, 60000),
  );
});

/** Mounts a tmpfs of `size` at a new folder, or returns null where that is not allowed. */
async function smallTmpfs(size: string): Promise<string | null> {
  if (Deno.build.os !== "linux") return null;
  const dir = await tempDir("tmpfs-");
  const r = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => null);
  return r?.success ? dir : null;
}

Deno.test("fuzz: a full disk during a quantized conversion reports ENOSPC and leaves nothing", async (t) => {
  const mnt = await smallTmpfs("3m");
  if (mnt === null) {
    t.step({
      name: "skipped: cannot mount a tmpfs here (needs root on Linux)",
      ignore: true,
      fn() {},
    });
    return;
  }
  try {
    const dir = await tempDir();
    await mediumLlama(`${dir}/m`);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("HQ5.1K", "HQ4.1K", "HQ5K", "FP16"),
        fc.constantFrom(1, 2, 4),
        async (quant, threads) => {
          const r = await runCli([
            `${dir}/m`,
            "-o",
            `${mnt}/x.hnf`,
            "--quant",
            quant,
            "--fast",
            "--threads",
            String(threads),
          ]);
          assert.equal(r.code, 1, r.stderr);
          assertCleanFailure(r, /No space left on device|os error 28/);
          record("CLI full disk", "ENOSPC reported, nothing left");
          assert.deepEqual(await listDir(mnt), [], "no output, no temp file");
        },
      ),
      params(4, 60000),
    );
  } finally {
    await new Deno.Command("umount", { args: [mnt] }).output();
  }
});
