/**
 * Shared test helpers: temporary folders, small generated models, and error assertions.
 *
 * @module
 */
import assert from "node:assert/strict";
import { HeliosError } from "../src/errors.ts";
import { generateModel, type GenerateOptions } from "../src/fixtures/mod.ts";
import { llamaTensors } from "../src/fixtures/archs.ts";
import type { TowerRole } from "../src/model/mod.ts";

/** Real configs and tokenizers (no weights) in ../shared/fixtures, next to the repository. */
export const FIXTURES: string = new URL("../../shared/fixtures/", import.meta.url).pathname;

/** Whether {@link FIXTURES} is there; the tests that read it are ignored when it is not. */
export function fixturesPresent(): boolean {
  try {
    Deno.statSync(FIXTURES);
    return true;
  } catch {
    return false;
  }
}

let root: string | null = null;

/** Creates a temporary folder; all of them are removed when the test module exits. */
export async function tempDir(prefix = "t-"): Promise<string> {
  if (root === null) {
    root = await Deno.makeTempDir({ prefix: "helios-test-" });
    const dir = root;
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch { /* already gone */ }
    });
  }
  return await Deno.makeTempDir({ dir: root, prefix });
}

/** Runs `fn` in a new temporary folder and removes the folder when `fn` settles. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>, prefix?: string): Promise<T> {
  const dir = await tempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Generates a model into a new temp folder and returns the folder. */
export async function tinyModel(options: GenerateOptions = {}): Promise<string> {
  const dir = await tempDir();
  await generateModel(`${dir}/model`, options);
  return `${dir}/model`;
}

/** The slot of each encoder-only generator architecture; the rest are decoders, given as text. */
const ENCODER_ROLE: Readonly<Record<string, TowerRole>> = {
  clip: "vision",
  clip_vision: "vision",
  siglip: "vision",
  whisper: "audio",
};

/** The tower slot (CLI option) a generator architecture is converted in. */
export function fixtureRole(arch: string): TowerRole {
  return ENCODER_ROLE[arch] ?? "text";
}

/** Names in a folder, sorted. */
export async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

/** Asserts `p` rejects with a HeliosError of `code` whose message matches `pattern`. */
export async function assertHeliosError(
  p: Promise<unknown>,
  code: string,
  pattern?: RegExp,
): Promise<HeliosError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HeliosError, `expected HeliosError, got ${e}`);
    assert.equal(e.code, code, `wrong code for: ${e.message}`);
    if (pattern) assert.match(e.message, pattern);
    assert.ok(!e.message.includes("\n"), "error messages are one line");
    return e;
  }
  assert.fail(`expected a ${code} error`);
}

/** Writes a safetensors file from raw header JSON text and data bytes. */
export async function writeRawSafetensors(
  path: string,
  header: string,
  data: Uint8Array,
): Promise<void> {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  await Deno.writeFile(path, out);
}

/** Rounds every value to f16 precision (what FP16 conversion must produce). */
export function f16Rounded(x: Float32Array): Float32Array {
  const h = new Float16Array(x.length);
  h.set(x);
  return Float32Array.from(h);
}

/**
 * Generates a ~16 M-parameter Llama (hidden 1024, no tokenizer) into `dir`: seconds of
 * quantization, long enough for a signal or a full disk to land mid-conversion.
 */
export async function mediumLlama(dir: string): Promise<void> {
  const d = {
    hidden: 1024,
    inter: 2048,
    layers: 2,
    heads: 8,
    kvHeads: 8,
    vocab: 320,
    tied: false,
    bias: false,
  };
  await generateModel(dir, {
    arch: "llama",
    tokenizer: false,
    edit: (t) => ({
      config: {
        ...t.config,
        hidden_size: d.hidden,
        intermediate_size: d.inter,
        num_attention_heads: d.heads,
        num_key_value_heads: d.kvHeads,
      },
      tensors: llamaTensors(d),
    }),
  });
}

/** Llama 3.1's RoPE keys as its config.json spells them (Transformers 4.x): llama3 scaling ×8. */
export const LLAMA31_ROPE = {
  rope_theta: 500000.0,
  rope_scaling: {
    factor: 8.0,
    low_freq_factor: 1.0,
    high_freq_factor: 4.0,
    original_max_position_embeddings: 8192,
    rope_type: "llama3",
  },
};

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

/**
 * The CLI as a subprocess run from the repository root, without colours, stdin closed,
 * stdout and stderr piped; `env` adds to the inherited environment.
 */
export function cliCommand(args: string[], env: Record<string, string> = {}): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs {@link cliCommand} to the end: its exit code and decoded output. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await cliCommand(args, env).output();
  const dec = new TextDecoder();
  return { code, stdout: dec.decode(stdout), stderr: dec.decode(stderr) };
}
