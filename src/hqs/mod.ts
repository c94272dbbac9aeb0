/**
 * HQS quantization: kernels per format, the per-group search, whole-tensor helpers and a worker
 * pool ({@link HqsPool} in `pool.ts`).
 *
 * @example
 * ```ts
 * import { dequantize, quantize, relativeRmse } from "./mod.ts";
 * const x = new Float32Array(1000).map((_, i) => Math.sin(i) * 0.02);
 * const bytes = quantize("hq5k", x);
 * const y = dequantize("hq5k", bytes, x.length);
 * console.log(bytes.length, relativeRmse(x, y) < 0.03); // 1152 true
 * ```
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import { HQS_SUPER_BLOCK, type HqsFormat, type HqsSearch } from "./kernel.ts";
import { getKernel } from "./registry.ts";

export * from "./kernel.ts";
export * from "./f16.ts";
export { getKernel, KERNELS } from "./registry.ts";
export { CPU_SEARCH, type GroupParams, groupSqErr, type HqsSearchBackend } from "./search.ts";
export { createLegacyKernel, HQ4K_KERNEL, HQ5K_KERNEL } from "./legacy.ts";
export { HQS_POOL_SLICE_BLOCKS, HqsPool, type HqsPoolOptions, type HqsPoolResult } from "./pool.ts";

/** Options of {@link quantize}. */
export interface QuantizeOptions {
  /** "mse" (default) searches each group's parameters; "fast" uses min/max. */
  search?: HqsSearch;
}

/**
 * Bytes that `numel` elements take in `format`: ceil(numel / 256) super-blocks (§7.4).
 *
 * @example
 * ```ts
 * import { hqsByteSize } from "./mod.ts";
 * console.log(hqsByteSize("hq4k", 257)); // 512
 * ```
 */
export function hqsByteSize(format: HqsFormat, numel: number): number {
  if (!Number.isSafeInteger(numel) || numel < 0) {
    throw new HeliosError("BAD_OPTION", `Element count ${numel} is not a non-negative integer`);
  }
  return Math.ceil(numel / HQS_SUPER_BLOCK) * getKernel(format).blockBytes;
}

/**
 * Quantizes a flattened tensor of any length, padding it with 0.0 to whole super-blocks (§7.4).
 *
 * @example
 * ```ts
 * import { quantize } from "./mod.ts";
 * console.log(quantize("hq4k", new Float32Array(300), { search: "fast" }).length); // 512
 * ```
 */
export function quantize(
  format: HqsFormat,
  x: Float32Array,
  options: QuantizeOptions = {},
): Uint8Array {
  const search = options.search ?? "mse";
  const kernel = getKernel(format);
  const full = Math.floor(x.length / HQS_SUPER_BLOCK);
  const rest = x.length - full * HQS_SUPER_BLOCK;
  const out = new Uint8Array(hqsByteSize(format, x.length));
  kernel.encode(x, 0, full, out, 0, search);
  if (rest > 0) {
    const tail = new Float32Array(HQS_SUPER_BLOCK);
    tail.set(x.subarray(full * HQS_SUPER_BLOCK));
    kernel.encode(tail, 0, 1, out, full * kernel.blockBytes, search);
  }
  return out;
}

/**
 * Dequantizes `numel` elements from `bytes` (whole super-blocks), dropping the padding.
 *
 * @example
 * ```ts
 * import { dequantize, quantize } from "./mod.ts";
 * const y = dequantize("hq5k", quantize("hq5k", new Float32Array([1, 2, 3])), 3);
 * console.log(y.length); // 3
 * ```
 */
export function dequantize(format: HqsFormat, bytes: Uint8Array, numel: number): Float32Array {
  const kernel = getKernel(format);
  const need = hqsByteSize(format, numel);
  if (bytes.length < need) {
    throw new HeliosError(
      "BAD_HNF",
      `A ${format} tensor of ${numel} elements needs ${need} bytes but has ${bytes.length}`,
    );
  }
  const nBlocks = need / kernel.blockBytes;
  const out = new Float32Array(nBlocks * HQS_SUPER_BLOCK);
  kernel.decode(bytes, 0, nBlocks, out, 0);
  return out.length === numel ? out : out.slice(0, numel);
}

const QUANT_NAMES: Readonly<Record<string, "fp16" | HqsFormat>> = {
  FP16: "fp16",
  HQ4K: "hq4k",
  HQ5K: "hq5k",
  HQ31K: "hq31k",
  "HQ3.1K": "hq31k",
  HQ41K: "hq41k",
  "HQ4.1K": "hq41k",
  HQ51K: "hq51k",
  "HQ5.1K": "hq51k",
  HQ62K: "hq62k",
  "HQ6.2K": "hq62k",
};

/**
 * Parses a quantization name (case-insensitive) such as "HQ5K", "hq4.1k" or "FP16".
 *
 * @example
 * ```ts
 * import { parseQuantName } from "./mod.ts";
 * console.log(parseQuantName("HQ4.1K")); // "hq41k"
 * ```
 */
export function parseQuantName(s: string): "fp16" | HqsFormat {
  const key = s.trim().toUpperCase();
  const hit = Object.hasOwn(QUANT_NAMES, key) ? QUANT_NAMES[key] : undefined;
  if (!hit) {
    throw new HeliosError(
      "BAD_OPTION",
      `Unknown quantization '${s}'; expected one of ${Object.keys(QUANT_NAMES).join(", ")}`,
    );
  }
  return hit;
}

/**
 * Relative RMSE of a reconstruction: sqrt(mean((x − x̂)²)) / σ(x), σ the population standard
 * deviation (§8.4). Returns 0 when both are identical, Infinity for a constant `x` otherwise.
 *
 * @example
 * ```ts
 * import { relativeRmse } from "./mod.ts";
 * console.log(relativeRmse(new Float32Array([1, -1]), new Float32Array([1, -1]))); // 0
 * ```
 */
export function relativeRmse(x: Float32Array, xhat: Float32Array): number {
  if (x.length !== xhat.length || x.length === 0) {
    throw new HeliosError(
      "BAD_OPTION",
      `Cannot compare arrays of ${x.length} and ${xhat.length} elements`,
    );
  }
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  let v = 0;
  let e = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - mean;
    v += d * d;
    const r = x[i] - xhat[i];
    e += r * r;
  }
  if (e === 0) return 0;
  return Math.sqrt(e / n) / Math.sqrt(v / n);
}
