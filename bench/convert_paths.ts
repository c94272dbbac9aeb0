/**
 * Whole-conversion benchmark per path (FP16, HQ5K fast, HQ5K MSE, HQ5.1K MSE, …) on the 105M
 * model (BF16 Llama, 2 layers of 2048×6144, vocab 1024; generated on first use): the
 * conversion's elements/s next to the kernel's own on the same data, where the time went (read,
 * decode, scan, quantize, write, hash; from the conversion's timings event), and, in the same
 * run and alternating with ours, a plain copy of the input files and the original Rust converter
 * when `--original` names its binary, and an earlier checkout of ours when `--before` names its
 * folder (paired before/after figures). Each conversion runs in a child process, so its CPU time
 * and peak RSS are its own; "ours s" is that process's wall time (start-up and exit included, as
 * the original's), "convert() s" the library call alone. Prints the machine load before and
 * after: compare ratios, not absolute times, on a loaded machine.
 *
 * ```sh
 * deno run -A bench/convert_paths.ts [--dir /tmp/helios-bench] [--paths fp16,hq5k:fast,hq5k:mse,hq51k:mse]
 *     [--threads 2] [--repeat 3] [--original /path/to/helios-convert] [--kernel-elements 8388608]
 *     [--before /path/to/earlier/checkout] [--cli]
 * ```
 *
 * `--cli` also times the `helios-convert` command itself (`deno run -A cli.ts …`, argument
 * parsing and the summary included) in the same rounds: the like-for-like figure next to the
 * original's command.
 *
 * Scaling (a many-core machine): `--threads 1,2,4,8,16`; the original then runs with
 * `RAYON_NUM_THREADS` set to the same counts.
 *
 * `--tokenizer DIR` converts the same weights with the tokenizer files of DIR instead (e.g.
 * Gemma's 262 144-token tokenizer.json: what a large vocabulary costs in time and peak RSS), from
 * a folder of links beside the model.
 *
 * @module
 */
import { generateModel, llamaTensors } from "../src/fixtures/mod.ts";
import { openSafetensorsFolder } from "../src/safetensors/mod.ts";
import { getKernel } from "../src/hqs/registry.ts";
import { HQS_SUPER_BLOCK, type HqsFormat, type HqsSearch } from "../src/hqs/kernel.ts";
import { HQS_POOL_SLICE_BLOCKS } from "../src/hqs/pool.ts";
import { arg, convertOnce, type ConvertRun, inputFiles, timeCopy } from "./_common.ts";

const dir = arg("dir", `${Deno.env.get("TMPDIR") ?? "/tmp"}/helios-bench`);
const paths = arg("paths", "fp16,hq5k:fast,hq5k:mse,hq51k:mse,hq41k:mse").split(",");
const threadList = arg("threads", String(navigator.hardwareConcurrency)).split(",").map(Number);
const repeat = Number(arg("repeat", "1"));
const original = arg("original", "");
const before = arg("before", "");
const withCli = Deno.args.includes("--cli");
const kernelElements = Number(arg("kernel-elements", String(8 << 20)));
const tokenizer = arg("tokenizer", "");
const weights = `${dir}/model-105m`;

/** The 105M model of the project's speed issue: ~210 MB of BF16. */
const DIMS = {
  hidden: 2048,
  inter: 6144,
  layers: 2,
  heads: 16,
  kvHeads: 8,
  vocab: 1024,
  tied: false,
  bias: false,
};

try {
  await Deno.stat(`${weights}/config.json`);
} catch {
  console.error(`generating the 105M model in ${weights} …`);
  await generateModel(weights, {
    arch: "llama",
    dtype: "BF16",
    edit: (t) => ({
      config: {
        ...t.config,
        hidden_size: DIMS.hidden,
        intermediate_size: DIMS.inter,
        num_hidden_layers: DIMS.layers,
        num_attention_heads: DIMS.heads,
        num_key_value_heads: DIMS.kvHeads,
        vocab_size: DIMS.vocab,
      },
      tensors: llamaTensors(DIMS),
    }),
  });
}

/** The model folder converted: the weights, with `--tokenizer`'s files when given (links). */
const model = tokenizer ? `${weights}+${tokenizer.replace(/\/+$/, "").split("/").pop()}` : weights;
if (tokenizer) {
  await Deno.remove(model, { recursive: true }).catch(() => {});
  await Deno.mkdir(model);
  const isTokenizerFile = (name: string) =>
    /^(tokenizer.*|vocab\.json|merges\.txt|special_tokens_map\.json)$/.test(name);
  for (const e of Deno.readDirSync(tokenizer)) {
    if (e.isFile && isTokenizerFile(e.name)) {
      await Deno.symlink(Deno.realPathSync(`${tokenizer}/${e.name}`), `${model}/${e.name}`);
    }
  }
  for (const e of Deno.readDirSync(weights)) {
    if (!isTokenizerFile(e.name)) await Deno.symlink(`${weights}/${e.name}`, `${model}/${e.name}`);
  }
}

const { files, bytes: inputBytes } = inputFiles(model);
const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");

/** Wall and CPU seconds and peak RSS of one run. */
type Timed = Pick<ConvertRun, "processSeconds" | "cpuSeconds" | "peakRssBytes">;

/** The original converter's run of the same path (`/usr/bin/time` gives CPU and peak RSS). */
async function theirs(quant: string, search: string, threads: number): Promise<Timed | null> {
  if (!original) return null;
  const q = { fp16: "FP16", hq5k: "HQ5K", hq4k: "HQ4K" }[quant];
  if (!q) return null; // the original has no compact formats
  const out = `${dir}/original.hnf`;
  const args = ["-f", "%e %U %S %M", original, model, "-o", out, "-q", q];
  if (search === "fast" && quant !== "fp16") args.push("--fast");
  const r = await new Deno.Command("/usr/bin/time", {
    args,
    env: { RAYON_NUM_THREADS: String(threads) },
    stdout: "null",
    stderr: "piped",
  }).output();
  await Deno.remove(out).catch(() => {});
  const last = new TextDecoder().decode(r.stderr).trim().split("\n").pop()!.split(" ");
  if (!r.success) throw new Error(`original ${q} failed: ${last.join(" ")}`);
  const [e, u, s, m] = last.map(Number);
  return { processSeconds: e, cpuSeconds: u + s, peakRssBytes: m * 1024 };
}

/** Wall seconds of our CLI converting the same path (a child process, as the original). */
async function cliOnce(quant: string, search: string, threads: number): Promise<number> {
  const q = { fp16: "FP16", hq5k: "HQ5K", hq4k: "HQ4K", hq51k: "HQ5.1K", hq41k: "HQ4.1K" }[quant];
  if (!q) throw new Error(`--cli: no CLI name for ${quant}`);
  const out = `${dir}/cli.hnf`;
  const args = ["run", "-A", new URL("../cli.ts", import.meta.url).pathname, model, "-o", out];
  args.push("-q", q, "--threads", String(threads), "-f");
  if (search === "fast" && quant !== "fp16") args.push("--fast");
  const t0 = performance.now();
  const r = await new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "piped" })
    .output();
  const s = (performance.now() - t0) / 1000;
  await Deno.remove(out).catch(() => {});
  if (!r.success) throw new Error(`CLI ${q} failed: ${new TextDecoder().decode(r.stderr)}`);
  return s;
}

/** Single-thread elements/s of the kernel alone, on decoded tensors of the same model. */
async function kernelRate(quant: string, search: HqsSearch): Promise<number> {
  if (quant === "fp16") return NaN;
  const kernel = getKernel(quant as HqsFormat);
  const folder = await openSafetensorsFolder(model);
  try {
    const tensors = folder.tensors.filter((t) => t.shape.length === 2 && t.shape[1] % 256 === 0)
      .sort((a, b) => b.byteLength - a.byteLength);
    const n = Math.min(kernelElements, tensors[0].shape[0] * tensors[0].shape[1]);
    const x = new Float32Array(n);
    await folder.readF32(tensors[0], 0, n, x);
    const out = new Uint8Array((n / HQS_SUPER_BLOCK) * kernel.blockBytes);
    const nBlocks = n / HQS_SUPER_BLOCK;
    const pass = () => {
      for (let b0 = 0; b0 < nBlocks; b0 += HQS_POOL_SLICE_BLOCKS) {
        const nb = Math.min(HQS_POOL_SLICE_BLOCKS, nBlocks - b0);
        kernel.encode(x, b0 * HQS_SUPER_BLOCK, nb, out, b0 * kernel.blockBytes, search);
      }
    };
    pass(); // warm-up (JIT, wasm instantiation)
    const t0 = performance.now();
    pass();
    return n / ((performance.now() - t0) / 1000);
  } finally {
    folder.close();
  }
}

const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const fmt = (v: number, d = 2) => Number.isFinite(v) ? v.toFixed(d) : "–";

console.log(
  `model ${model}: ${
    (inputBytes / 1e6).toFixed(0)
  } MB BF16; ${navigator.hardwareConcurrency} CPUs; load before: ${load()}`,
);
const rows: string[][] = [];
const breakdown: string[][] = [];
for (const path of paths) {
  const [quant, search = "mse"] = path.split(":");
  const kRate = await kernelRate(quant, search as HqsSearch);
  for (const threads of threadList) {
    const runs: ConvertRun[] = [];
    const orig: Timed[] = [];
    const copies: number[] = [];
    const befores: ConvertRun[] = [];
    const clis: number[] = [];
    for (let i = 0; i < repeat; i++) {
      runs.push(await convertOnce(model, `${dir}/ours.hnf`, { quant, search, threads }));
      if (withCli) clis.push(await cliOnce(quant, search, threads));
      if (before) {
        befores.push(
          await convertOnce(model, `${dir}/before.hnf`, { quant, search, threads, tree: before }),
        );
      }
      const o = await theirs(quant, search, threads);
      if (o) orig.push(o);
      if (quant === "fp16") copies.push(await timeCopy(model, files, dir));
    }
    const s = med(runs.map((r) => r.processSeconds));
    const elems = runs[0].timings?.elements ?? NaN;
    const os = orig.length ? med(orig.map((r) => r.processSeconds)) : NaN;
    rows.push([
      quant === "fp16" ? "fp16" : `${quant} ${search}`,
      String(threads),
      runs.map((r) => fmt(r.processSeconds)).join(" / "),
      fmt(med(runs.map((r) => r.seconds))),
      fmt(med(runs.map((r) => r.cpuSeconds))),
      fmt(inputBytes / 1e6 / s, 0),
      fmt(elems / 1e6 / s, 1),
      fmt((kRate * threads) / 1e6, 1),
      fmt(Math.max(...runs.map((r) => r.peakRssBytes ?? 0)) / 2 ** 20, 0),
      befores.length ? befores.map((r) => fmt(r.processSeconds)).join(" / ") : "–",
      befores.length ? fmt(Math.max(...befores.map((r) => r.peakRssBytes ?? 0)) / 2 ** 20, 0) : "–",
      copies.length ? copies.map((c) => fmt(c)).join(" / ") : "–",
      orig.length ? orig.map((r) => fmt(r.processSeconds)).join(" / ") : "–",
      orig.length ? fmt(med(orig.map((r) => r.cpuSeconds))) : "–",
      fmt(s / os),
      ...(withCli ? [clis.map((c) => fmt(c)).join(" / "), fmt(med(clis) / os)] : []),
    ]);
    console.error(`done: ${rows[rows.length - 1].join(" | ")}`);
    const t = runs[runs.length - 1].timings;
    if (t) {
      breakdown.push([
        quant === "fp16" ? "fp16" : `${quant} ${search}`,
        String(threads),
        ...[t.totalMs, t.readMs, t.decodeMs, t.scanMs, t.quantizeMs, t.writeMs, t.hashMs, t.waitMs]
          .map((v) => fmt(v / 1000)),
      ]);
    }
  }
}
const table = (head: string[], body: string[][]) => {
  console.log(`| ${head.join(" | ")} |`);
  console.log(`|${head.map(() => "---").join("|")}|`);
  for (const r of body) console.log(`| ${r.join(" | ")} |`);
};
table([
  "path",
  "threads",
  "ours s",
  "convert() s",
  "ours CPU s",
  "MB/s in",
  "Melem/s",
  "kernel Melem/s × threads",
  "peak RSS MiB",
  "before s",
  "before peak RSS MiB",
  "copy s",
  "original s",
  "original CPU s",
  "ours / original",
  ...(withCli ? ["CLI s", "CLI / original"] : []),
], rows);
console.log("\nWhere the time went (last run; seconds; worker columns summed over workers):");
table([
  "path",
  "threads",
  "data phase",
  "read",
  "decode (w)",
  "scan (w)",
  "quantize (w)",
  "write",
  "hash",
  "wait for workers",
], breakdown);
console.log(`\nload after: ${load()}`);
