/**
 * Benchmark of the compact HQS kernels (single-threaded): seconds, Melem/s and relative RMSE for
 * each format and both searches, next to llama.cpp K-quants at equal bits per weight.
 *
 * `deno run -A bench/hqs_compact_bench.ts [--elements N] [--dist gaussian|student-t]`
 *
 * @module
 */
import { COMPACT_KERNELS } from "../src/hqs/compact.ts";
import { type Dist, fillRandom } from "../tests/_compact_rng.ts";

const BPW: Record<string, string> = {
  hq31k: "4.25 bpw (Q4_K 4.5)",
  hq41k: "5.25 bpw (Q5_K 5.5)",
  hq51k: "6.25 bpw (Q6_K 6.56)",
  hq62k: "8.25 bpw (Q8_0 8.5)",
};
const CHUNK = 1 << 22;

function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(name);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : fallback;
}

const n = Math.ceil(Number(arg("--elements", String(1 << 24))) / 256) * 256;
const dist = arg("--dist", "gaussian") as Dist;
console.log(`${n} elements, ${dist}, σ = 0.02, chunks of ${CHUNK}`);
const chunk = new Float32Array(Math.min(CHUNK, n));
const y = new Float32Array(chunk.length);
for (const k of COMPACT_KERNELS) {
  for (const search of ["fast", "mse"] as const) {
    let sec = 0, se = 0, sum = 0, sum2 = 0;
    const bytes = new Uint8Array((chunk.length / 256) * k.blockBytes);
    for (let off = 0, c = 0; off < n; off += chunk.length, c++) {
      const len = Math.min(chunk.length, n - off);
      const x = fillRandom(chunk.subarray(0, len), 1000 + c, dist, 0.02);
      const t0 = performance.now();
      k.encode(x, 0, len / 256, bytes, 0, search);
      sec += (performance.now() - t0) / 1000;
      k.decode(bytes, 0, len / 256, y, 0);
      for (let i = 0; i < len; i++) {
        se += (x[i] - y[i]) ** 2;
        sum += x[i];
        sum2 += x[i] * x[i];
      }
    }
    const varPop = sum2 / n - (sum / n) ** 2;
    const rel = Math.sqrt(se / n / varPop) * 100;
    console.log(
      `${k.format} ${search.padEnd(4)} ${sec.toFixed(2).padStart(7)} s ${
        (n / sec / 1e6).toFixed(2).padStart(6)
      } Melem/s  rel RMSE ${rel.toFixed(3)} %  ${BPW[k.format]}`,
    );
  }
}
