/**
 * Benchmarks of the HQ4K/HQ5K kernels on 1M Gaussian elements (σ = 0.02), single thread.
 *
 *     deno bench -A bench/hqs_kernels_bench.ts
 *
 * @module
 */
import { getKernel } from "../src/hqs/registry.ts";
import { Rng } from "../tests/_rng.ts";

const N = 1 << 20;
const X = new Rng(1).gaussianArray(N, 0.02);

for (const format of ["hq5k", "hq4k"] as const) {
  const k = getKernel(format);
  const out = new Uint8Array((N / 256) * k.blockBytes);
  for (const search of ["mse", "fast"] as const) {
    Deno.bench(`${format} encode ${search} 1M`, { group: `${format} encode` }, () => {
      k.encode(X, 0, N / 256, out, 0, search);
    });
  }
  k.encode(X, 0, N / 256, out, 0, "mse");
  const y = new Float32Array(N);
  Deno.bench(`${format} decode 1M`, { group: `${format} decode` }, () => {
    k.decode(out, 0, N / 256, y, 0);
  });
}
