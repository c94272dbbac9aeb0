/**
 * Conversion benchmark on the ~2 GB generated model: times a plain copy of the input files
 * and the conversion (in a child process, so its peak RSS is the conversion's own), and prints
 * MB/s, peak RSS and the ratio to the copy time.
 *
 * ```sh
 * deno run -A bench/convert_model.ts [--dir /tmp/helios-bench] [--quant fp16] [--search mse] [--threads 2] [--size bench]
 * ```
 *
 * @module
 */
import { generateModel } from "../src/fixtures/mod.ts";

function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : fallback;
}

const dir = arg("dir", `${Deno.env.get("TMPDIR") ?? "/tmp"}/helios-bench`);
const size = arg("size", "bench") as "bench" | "tiny";
const quants = arg("quant", "fp16").split(",");
const search = arg("search", "mse");
const threadList = arg("threads", String(navigator.hardwareConcurrency)).split(",").map(Number);
const model = `${dir}/model-${size}`;

try {
  await Deno.stat(`${model}/config.json`);
} catch {
  console.error(`generating ${size} model in ${model} …`);
  const t0 = performance.now();
  await generateModel(model, {
    arch: "llama",
    size,
    dtype: "BF16",
    shards: size === "bench" ? 2 : 1,
  });
  console.error(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const files = [...Deno.readDirSync(model)].filter((e) => e.name.endsWith(".safetensors")).map((e) =>
  e.name
);
const inputBytes = files.reduce((s, f) => s + Deno.statSync(`${model}/${f}`).size, 0);

async function timeCopy(): Promise<number> {
  await Deno.mkdir(`${dir}/copy`, { recursive: true });
  const t0 = performance.now();
  for (const f of files) await Deno.copyFile(`${model}/${f}`, `${dir}/copy/${f}`);
  const s = (performance.now() - t0) / 1000;
  await Deno.remove(`${dir}/copy`, { recursive: true });
  return s;
}

const rows: string[][] = [];
const copySeconds = await timeCopy();
for (const quant of quants) {
  for (const threads of threadList) {
    const out = `${dir}/out.hnf`;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./_convert_once.ts", import.meta.url).pathname,
        model,
        out,
        quant,
        search,
        String(threads),
      ],
      stdout: "piped",
      stderr: "inherit",
    });
    const r = await child.output();
    if (!r.success) throw new Error("conversion failed");
    const m = JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").pop()!);
    await Deno.remove(out).catch(() => {});
    rows.push([
      quant,
      quant === "fp16" ? "-" : search,
      String(threads),
      (inputBytes / 1e9).toFixed(2),
      m.seconds.toFixed(1),
      (m.sourceBytes / 1e6 / m.seconds).toFixed(0),
      (m.peakRssBytes / 2 ** 20).toFixed(0),
      copySeconds.toFixed(1),
      (m.seconds / copySeconds).toFixed(2),
      m.meanRelRmse === null ? "-" : `${(m.meanRelRmse * 100).toFixed(2)}%`,
      m.rmsRelRmse === null ? "-" : `${(m.rmsRelRmse * 100).toFixed(2)}%`,
      m.quantBitsPerWeight === null ? "-" : m.quantBitsPerWeight.toFixed(3),
      (m.outputBytes / 1e6).toFixed(0),
    ]);
  }
}
const head = [
  "quant",
  "search",
  "threads",
  "input GB",
  "seconds",
  "MB/s",
  "peak RSS MiB",
  "copy s",
  "× copy",
  "mean rel.RMSE",
  "element-weighted rel.RMSE",
  "bits/weight (quantized)",
  "output MB",
];
console.log(`| ${head.join(" | ")} |`);
console.log(`|${head.map(() => "---").join("|")}|`);
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
