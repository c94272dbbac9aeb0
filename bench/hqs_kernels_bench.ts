/**
 * Benchmarks of the HQS kernels on 1M Gaussian elements (σ = 0.02), single thread: encode (mse
 * search and fast path) and decode per format, and the mse search of every format against
 * HQ5K's on the same tensor (the compact formats' speed target).
 *
 *     deno bench -A bench/hqs_kernels_bench.ts
 *
 * @module
 */
import type { HqsFormat } from "../src/hqs/kernel.ts";
import { getKernel } from "../src/hqs/registry.ts";
import { Rng } from "../tests/_rng.ts";

const N = 1 << 20;
const X = new Rng(1).gaussianArray(N, 0.02);
const FORMATS: HqsFormat[] = ["hq5k", "hq4k", "hq51k", "hq41k", "hq31k", "hq62k"];

for (const format of FORMATS) {
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

// The mse search of each format against HQ5K's, on the same tensor.
for (const format of FORMATS) {
  const k = getKernel(format);
  const out = new Uint8Array((N / 256) * k.blockBytes);
  Deno.bench(`${format} mse search 1M`, {
    group: "mse search vs HQ5K",
    baseline: format === "hq5k",
  }, () => {
    k.encode(X, 0, N / 256, out, 0, "mse");
  });
}
