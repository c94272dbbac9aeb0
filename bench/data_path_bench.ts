/**
 * Benchmarks of the FP16 path's per-byte work on one 1 Mi-value chunk (2 MiB, what the conversion
 * hands over at a time), single thread: BF16 → FP16 in WebAssembly SIMD (`src/convert/to_f16.ts`)
 * against the 65 536-entry table loop it replaced, and the block checksum XXH3-64
 * (`src/hnf/xxh3.ts`) against hash-wasm's (xxHash's C in WebAssembly).
 *
 *     deno bench -A bench/data_path_bench.ts
 *
 * @module
 */
import { createXXHash3 } from "hash-wasm";
import { convertToF16 } from "../src/convert/to_f16.ts";
import { f32ToF16BitsSaturated } from "../src/hqs/f16.ts";
import { Xxh3Hasher } from "../src/hnf/xxh3.ts";
import { Rng } from "../tests/_rng.ts";

const N = 1 << 20;
/** BF16 bits of Gaussian weights (σ = 0.02): about 2 % of the 8-value steps hold a subnormal. */
const SRC = (() => {
  const f = new Rng(3).gaussianArray(N, 0.02);
  const u = new Uint32Array(f.buffer);
  return new Uint16Array(N).map((_, i) => u[i] >>> 16);
})();
const dst = new Uint16Array(N);

/** The former conversion: a table of the FP16 bits of every BF16 input, two values per access. */
const TABLE = (() => {
  const f = new Float32Array(1), i = new Int32Array(f.buffer);
  return Uint32Array.from({ length: 65536 }, (_, b) => {
    i[0] = b << 16;
    return Number.isFinite(f[0]) ? f32ToF16BitsSaturated(f[0]) : 0;
  });
})();

Deno.bench("BF16 → FP16, WebAssembly SIMD, 1 Mi values", {
  group: "bf16 to fp16",
  baseline: true,
}, () => {
  convertToF16("BF16", SRC, dst);
});

Deno.bench("BF16 → FP16, table loop (before), 1 Mi values", { group: "bf16 to fp16" }, () => {
  const s32 = new Uint32Array(SRC.buffer), d32 = new Uint32Array(dst.buffer);
  for (let p = 0; p < N / 2; p++) {
    const w = s32[p];
    d32[p] = TABLE[w & 0xffff] | (TABLE[w >>> 16] << 16);
  }
});

const BYTES = new Uint8Array(SRC.buffer);
const oracle = await createXXHash3(0, 0);

Deno.bench("XXH3-64, ours (WebAssembly SIMD), 2 MiB", { group: "xxh3", baseline: true }, () => {
  const h = new Xxh3Hasher();
  h.update(BYTES);
  h.digest();
});

Deno.bench("XXH3-64, hash-wasm, 2 MiB", { group: "xxh3" }, () => {
  oracle.init();
  oracle.update(BYTES);
  oracle.digest("binary");
});
