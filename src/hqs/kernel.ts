/**
 * The contract every HQS format implements, so the converter, the worker pool and a future
 * WebGPU backend all drive formats the same way.
 *
 * @module
 */

/** HQS super-block size in elements (§7.1). */
export const HQS_SUPER_BLOCK = 256;
/** HQS group size in elements (§7.1). */
export const HQS_GROUP = 8;

/**
 * Super-blocks per error slice (16 384 elements) of pool.ts and the conversion's chunks; fixed
 * so sums are thread-count independent. Here rather than in pool.ts so that the conversion's
 * workers need not load every kernel to know it.
 */
export const HQS_POOL_SLICE_BLOCKS = 64;

/** Every HQS format this package writes. */
export type HqsFormat = "hq4k" | "hq5k" | "hq31k" | "hq41k" | "hq51k" | "hq62k";

/** How the parameters of each group / super-block are chosen. */
export type HqsSearch = "mse" | "fast";

/**
 * A format's pure kernels. `encode` and `decode` work on whole super-blocks of already padded
 * input (`nBlocks × 256` floats); they allocate nothing per element or group.
 */
export interface HqsKernel {
  /** The manifest dtype string. */
  readonly format: HqsFormat;
  /** Bytes per 256-element super-block. */
  readonly blockBytes: number;
  /**
   * Quantizes `nBlocks` super-blocks of `x` starting at element `xOff` into `out` at byte
   * `outOff`, and returns the summed squared error of the round trip (over all `nBlocks × 256`
   * elements, padding included).
   */
  encode(
    x: Float32Array,
    xOff: number,
    nBlocks: number,
    out: Uint8Array,
    outOff: number,
    search: HqsSearch,
  ): number;
  /** Dequantizes `nBlocks` super-blocks from `bytes` at `bOff` into `out` at element `oOff`. */
  decode(bytes: Uint8Array, bOff: number, nBlocks: number, out: Float32Array, oOff: number): void;
}
