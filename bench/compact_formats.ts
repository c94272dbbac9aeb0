/**
 * Benchmark of the compact HQS kernels (single-threaded): seconds, Melem/s (median of `--reps`
 * runs) and relative RMSE for each format and search, next to llama.cpp K-quants at equal bits
 * per weight, and the legacy HQ5K "mse" kernel measured the same way as a speed reference.
 *
 * `deno run -A bench/compact_formats.ts [--elements N] [--dist gaussian|student-t]
 *   [--search fast|mse|both] [--reps R] [--formats hq31k,hq41k,...]`
 *
 * @module
 */
import { COMPACT_KERNELS } from "../src/hqs/compact.ts";
import { HQ5K_KERNEL } from "../src/hqs/legacy.ts";
import { type Dist, fillRandom } from "../tests/_rng.ts";

const BPW: Record<string, string> = {
  hq31k: "4.25 bpw (Q4_K 4.5)",
  hq41k: "5.25 bpw (Q5_K 5.5)",
  hq51k: "6.25 bpw (Q6_K 6.56)",
  hq62k: "8.25 bpw (Q8_0 8.5)",
  hq5k: "9 bpw (legacy reference)",
};
const CHUNK = 1 << 22;

function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(name);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : fallback;
}

const n = Math.ceil(Number(arg("--elements", String(1 << 22))) / 256) * 256;
const dist = arg("--dist", "gaussian") as Dist;
const reps = Number(arg("--reps", "3"));
const searchArg = arg("--search", "both");
const searches = searchArg === "both" ? ["fast", "mse"] as const : [searchArg as "fast" | "mse"];
const formats = arg("--formats", "hq31k,hq41k,hq51k,hq62k,hq5k").split(",");
console.log(`${n} elements, ${dist}, σ = 0.02, chunks of ${CHUNK}, median of ${reps}`);
const chunk = new Float32Array(Math.min(CHUNK, n));
const y = new Float32Array(chunk.length);
const kernels = [...COMPACT_KERNELS, HQ5K_KERNEL].filter((k) => formats.includes(k.format));
for (const k of kernels) {
  for (const search of searches) {
    const times: number[] = [];
    let se = 0, sum = 0, sum2 = 0;
    const bytes = new Uint8Array((chunk.length / 256) * k.blockBytes);
    for (let r = 0; r < reps; r++) {
      let sec = 0;
      for (let off = 0, c = 0; off < n; off += chunk.length, c++) {
        const len = Math.min(chunk.length, n - off);
        const x = fillRandom(chunk.subarray(0, len), 1000 + c, dist, 0.02);
        const t0 = performance.now();
        k.encode(x, 0, len / 256, bytes, 0, search);
        sec += (performance.now() - t0) / 1000;
        if (r > 0) continue;
        k.decode(bytes, 0, len / 256, y, 0);
        for (let i = 0; i < len; i++) {
          se += (x[i] - y[i]) ** 2;
          sum += x[i];
          sum2 += x[i] * x[i];
        }
      }
      times.push(sec);
    }
    times.sort((a, b) => a - b);
    const sec = times[times.length >> 1];
    const varPop = sum2 / n - (sum / n) ** 2;
    const rel = Math.sqrt(se / n / varPop) * 100;
    console.log(
      `${k.format.padEnd(5)} ${search.padEnd(4)} ${sec.toFixed(2).padStart(7)} s ${
        (n / sec / 1e6).toFixed(2).padStart(6)
      } Melem/s  rel RMSE ${rel.toFixed(3)} %  ${BPW[k.format]}`,
    );
  }
}
