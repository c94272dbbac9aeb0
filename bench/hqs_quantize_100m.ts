/**
 * Quantizes a large seeded tensor (default 100M elements, Gaussian σ = 0.02) to HQ5K and HQ4K,
 * with the mse search and the fast path, through {@link HqsPool}, and prints seconds, Melem/s
 * and relative RMSE per (format, search, threads). Only the pool's encode time is counted; the
 * data is generated in 4M-element chunks, so memory stays moderate.
 *
 *     deno run -A bench/hqs_quantize_100m.ts [--elements N] [--threads 1,2]
 *         [--dist gaussian|student-t] [--formats hq5k,hq4k,hq51k,hq41k,hq31k]
 *         [--search mse,fast] [--no-reference] [--m-share 0.2845]
 *
 * `hq41k-m` in `--formats` measures the mixed preset HQ4.1K-M on the same tensor: its first
 * `--m-share` of the elements HQ5.1K (attention and lm_head), the rest HQ4.1K (MLP). The
 * default share is that of the generated 2 GB Llama (`generate --size bench`): 275.3 M of its
 * 967.3 M matrix weights are attention projections or lm_head.
 *
 * @module
 */
import { HqsPool } from "../src/hqs/pool.ts";
import type { HqsFormat, HqsSearch } from "../src/hqs/kernel.ts";
import { qmaxOf, refFastParams, refSearch9x9, refTotalErr } from "../tests/_hqs_reference.ts";
import { Rng } from "../tests/_rng.ts";

const CHUNK = 4 * 1024 * 1024;
const SEED = 20260801;

function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : fallback;
}

const elements = Math.ceil(Number(arg("elements", "100000000")) / 256) * 256;
const threadList = arg("threads", "1,2").split(",").map(Number);
const dist = arg("dist", "gaussian");
const formats = arg("formats", "hq5k,hq4k").split(",") as (HqsFormat | "hq41k-m")[];
const mShare = Number(arg("m-share", "0.2845"));
const BYTES: Record<string, number> = { hq5k: 288, hq4k: 256, hq51k: 200, hq41k: 168, hq31k: 136 };
const searches = arg("search", "mse,fast").split(",") as HqsSearch[];
if (dist !== "gaussian" && dist !== "student-t") throw new Error(`Unknown --dist '${dist}'`);

function fill(rng: Rng, x: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    x[i] = (dist === "gaussian" ? rng.gaussian() : rng.studentT(3)) * 0.02;
  }
}

/** Population variance of the whole tensor (for relative RMSE), computed once. */
function variance(): number {
  const rng = new Rng(SEED);
  const buf = new Float32Array(CHUNK);
  let s = 0;
  let s2 = 0;
  for (let off = 0; off < elements; off += CHUNK) {
    const x = buf.subarray(0, Math.min(CHUNK, elements - off));
    fill(rng, x);
    for (let i = 0; i < x.length; i++) {
      s += x[i];
      s2 += x[i] * x[i];
    }
  }
  const mean = s / elements;
  return s2 / elements - mean * mean;
}

async function run(
  format: HqsFormat | "hq41k-m",
  search: HqsSearch,
  threads: number,
  sigma: number,
) {
  // For the mixed preset: elements before `split` are HQ5.1K, the rest HQ4.1K.
  const split = format === "hq41k-m" ? Math.round(elements * mShare / 256) * 256 : elements;
  const first: HqsFormat = format === "hq41k-m" ? "hq51k" : format;
  const rest: HqsFormat = format === "hq41k-m" ? "hq41k" : format;
  const pool = new HqsPool({ threads });
  const rng = new Rng(SEED);
  const buf = new Float32Array(new SharedArrayBuffer(CHUNK * 4));
  let sqErr = 0;
  let ms = 0;
  try {
    await pool.encode(first, buf.subarray(0, 256 * 64 * threads), search); // start the workers
    for (let off = 0; off < elements; off += CHUNK) {
      const x = buf.subarray(0, Math.min(CHUNK, elements - off));
      fill(rng, x);
      const cut = Math.max(0, Math.min(x.length, split - off));
      const t0 = performance.now();
      for (const [f, part] of [[first, x.subarray(0, cut)], [rest, x.subarray(cut)]] as const) {
        if (part.length) sqErr += (await pool.encode(f, part, search)).sqErr;
      }
      ms += performance.now() - t0;
    }
  } finally {
    pool.close();
  }
  const s = ms / 1000;
  return {
    format,
    search,
    threads,
    seconds: Number(s.toFixed(2)),
    "Melem/s": Number((elements / 1e6 / s).toFixed(1)),
    "rel RMSE %": Number((Math.sqrt(sqErr / elements) / sigma * 100).toFixed(3)),
    "bits/weight": Number(
      ((split * BYTES[first] + (elements - split) * BYTES[rest]) * 8 / 256 / elements).toFixed(3),
    ),
  };
}

const sigma = Math.sqrt(variance());
console.log(`${elements} elements, ${dist} (scale 0.02, seed ${SEED}), σ = ${sigma.toFixed(6)}`);
const rows = [];
for (const format of formats) {
  for (const search of searches) {
    for (const threads of threadList) rows.push(await run(format, search, threads, sigma));
  }
}
console.table(rows);

if (!Deno.args.includes("--no-reference")) {
  const n = Math.min(1 << 20, elements);
  const x = new Float32Array(n);
  fill(new Rng(SEED), x);
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    s += x[i];
    s2 += x[i] * x[i];
  }
  const sd = Math.sqrt(s2 / n - (s / n) ** 2);
  const ref = [];
  for (const format of ["hq5k", "hq4k"] as const) {
    const q = qmaxOf(format);
    const t0 = performance.now();
    const nine = refTotalErr(x, q, refSearch9x9);
    const seconds = (performance.now() - t0) / 1000;
    const fast = refTotalErr(x, q, (x, off) => refFastParams(x, off));
    ref.push({
      format,
      "9×9 rel RMSE %": Number((Math.sqrt(nine / n) / sd * 100).toFixed(3)),
      "min/max rel RMSE %": Number((Math.sqrt(fast / n) / sd * 100).toFixed(3)),
      "9×9 seconds (slow reference, 1 thread)": Number(seconds.toFixed(2)),
    });
  }
  console.log(`Reference 9×9 search on the first ${n} elements:`);
  console.table(ref);
}
