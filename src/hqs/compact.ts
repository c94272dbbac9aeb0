/**
 * Compact-header HQS formats HQ3.1K, HQ4.1K, HQ5.1K and HQ6.2K (reference §7.5–§7.6): a
 * 256-element super-block of 32 groups of 8, with f16 globals (d_scale, d_min, min_base), per-group
 * 4-bit (HQ6.2K: 8-bit) q_scale / q_min codes and 3-, 4-, 5- or 6-bit element codes.
 *
 * The kernels search on the CPU through {@link CompactSearchBackend} and pack the result; the
 * decoder reproduces the runtime's f32 arithmetic bit for bit.
 *
 * @module
 */
import { HQS_SUPER_BLOCK, type HqsKernel, type HqsSearch } from "./kernel.ts";
import {
  COMPACT_GROUPS,
  type CompactSpec,
  decodeCompact,
  HQ31K_SPEC,
  HQ41K_SPEC,
  HQ51K_SPEC,
  HQ62K_SPEC,
  packCompactBlock,
} from "./compact_layout.ts";
import {
  type CompactParams,
  type CompactSearchBackend,
  CPU_COMPACT_SEARCH,
  createCompactParams,
} from "./compact_search.ts";

/** Super-blocks searched per batch (bounds the scratch memory of one kernel call). */
const BATCH_BLOCKS = 1024;

let batch: CompactParams | null = null;

/**
 * Builds the kernel of one compact format on top of a search backend (the CPU one by default).
 *
 * @example
 * ```ts
 * import { compactKernel } from "./compact.ts";
 * import { HQ41K_SPEC } from "./compact_layout.ts";
 * const k = compactKernel(HQ41K_SPEC);
 * console.log(k.format, k.blockBytes); // hq41k 168
 * ```
 */
export function compactKernel(
  spec: CompactSpec,
  backend: CompactSearchBackend = CPU_COMPACT_SEARCH,
): HqsKernel {
  return {
    format: spec.format,
    blockBytes: spec.blockBytes,
    encode(
      x: Float32Array,
      xOff: number,
      nBlocks: number,
      out: Uint8Array,
      outOff: number,
      search: HqsSearch,
    ): number {
      batch ??= createCompactParams(BATCH_BLOCKS);
      const p = batch;
      let total = 0;
      for (let b0 = 0; b0 < nBlocks; b0 += BATCH_BLOCKS) {
        const n = Math.min(BATCH_BLOCKS, nBlocks - b0);
        backend.search(spec, x, xOff + b0 * HQS_SUPER_BLOCK, n, search, p);
        for (let b = 0; b < n; b++) {
          packCompactBlock(
            spec,
            p.dScale[b],
            p.dMin[b],
            p.minBase[b],
            p.qScale,
            p.qMin,
            b * COMPACT_GROUPS,
            p.codes,
            b * HQS_SUPER_BLOCK,
            out,
            outOff + (b0 + b) * spec.blockBytes,
          );
          total += p.sqErr[b];
        }
      }
      return total;
    },
    decode(bytes: Uint8Array, bOff: number, nBlocks: number, out: Float32Array, oOff: number) {
      decodeCompact(spec, bytes, bOff, nBlocks, out, oOff);
    },
  };
}

/**
 * HQ3.1K kernel: 136 B per 256 weights, 4.25 bits per weight (§7.6).
 *
 * @example
 * ```ts
 * import { HQ31K_KERNEL } from "./compact.ts";
 * const out = new Uint8Array(136);
 * const err = HQ31K_KERNEL.encode(new Float32Array(256).fill(0.5), 0, 1, out, 0, "mse");
 * console.log(err); // 0
 * ```
 */
export const HQ31K_KERNEL: HqsKernel = compactKernel(HQ31K_SPEC);
/**
 * HQ4.1K kernel: 168 B per 256 weights, 5.25 bits per weight (§7.6).
 *
 * @example
 * ```ts
 * import { HQ41K_KERNEL } from "./compact.ts";
 * const x = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i));
 * const bytes = new Uint8Array(168);
 * HQ41K_KERNEL.encode(x, 0, 1, bytes, 0, "mse");
 * const y = new Float32Array(256);
 * HQ41K_KERNEL.decode(bytes, 0, 1, y, 0);
 * ```
 */
export const HQ41K_KERNEL: HqsKernel = compactKernel(HQ41K_SPEC);
/**
 * HQ5.1K kernel: 200 B per 256 weights, 6.25 bits per weight (§7.6).
 *
 * @example
 * ```ts
 * import { HQ51K_KERNEL } from "./compact.ts";
 * console.log(HQ51K_KERNEL.blockBytes); // 200
 * ```
 */
export const HQ51K_KERNEL: HqsKernel = compactKernel(HQ51K_SPEC);
/**
 * HQ6.2K kernel: 264 B per 256 weights, 8.25 bits per weight; embedding lookup only in the
 * runtime (§7.6).
 *
 * @example
 * ```ts
 * import { HQ62K_KERNEL } from "./compact.ts";
 * console.log(HQ62K_KERNEL.blockBytes); // 264
 * ```
 */
export const HQ62K_KERNEL: HqsKernel = compactKernel(HQ62K_SPEC);

/**
 * Compact kernels, in the order hq31k, hq41k, hq51k, hq62k (the registry reads this list).
 *
 * @example
 * ```ts
 * import { COMPACT_KERNELS } from "./compact.ts";
 * console.log(COMPACT_KERNELS.map((k) => k.format).join()); // hq31k,hq41k,hq51k,hq62k
 * ```
 */
export const COMPACT_KERNELS: readonly HqsKernel[] = [
  HQ31K_KERNEL,
  HQ41K_KERNEL,
  HQ51K_KERNEL,
  HQ62K_KERNEL,
];
