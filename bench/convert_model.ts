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
import { arg, convertOnce, inputFiles, timeCopy } from "./_common.ts";

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

const { files, bytes: inputBytes } = inputFiles(model);

const rows: string[][] = [];
const copySeconds = await timeCopy(model, files, dir);
for (const quant of quants) {
  for (const threads of threadList) {
    const m = await convertOnce(model, `${dir}/out.hnf`, { quant, search, threads });
    rows.push([
      quant,
      quant === "fp16" ? "-" : search,
      String(threads),
      (inputBytes / 1e9).toFixed(2),
      m.seconds.toFixed(1),
      (m.sourceBytes / 1e6 / m.seconds).toFixed(0),
      ((m.peakRssBytes ?? 0) / 2 ** 20).toFixed(0),
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
