/**
 * The work on one chunk of one tensor, from the raw source bytes to the output bytes: decode,
 * check (NaN/Inf, clamp to ±65504), then convert to FP16 or quantize. It runs in the
 * conversion's workers (chunk_worker.ts), so the main thread only reads and writes; each chunk
 * is done whole by one worker, in exactly the order of operations of a single thread, so the
 * bytes, counts and sums do not depend on the thread count.
 *
 * @module
 */
import { F16_MAX } from "../hqs/f16.ts";
import {
  HQS_POOL_SLICE_BLOCKS,
  HQS_SUPER_BLOCK,
  type HqsFormat,
  type HqsKernel,
  type HqsSearch,
} from "../hqs/kernel.ts";
import { decodeToF32, DTYPE_SIZES } from "../safetensors/dtype.ts";
import { convertToF16, hasDirectF16 } from "./to_f16.ts";

/** What to do with NaN/Inf in a weight. */
export type NonfinitePolicy = "error" | "zero";

/**
 * The kernel of an HQ format (registry.ts's `getKernel`). Passed in rather than imported, so
 * that a worker converting only to FP16 never loads the kernels (their WebAssembly included).
 */
export type KernelLookup = (format: HqsFormat) => HqsKernel;

/** One chunk to convert: `count` elements of `dtype` in `raw`, written as `target`. */
export interface ChunkJob {
  /** The source bytes (`count × element size`, from byte 0); the buffer is handed back. */
  raw: ArrayBuffer;
  /** Source dtype (safetensors name). */
  dtype: string;
  /** Elements in the chunk. */
  count: number;
  /** Output dtype. */
  target: "fp16" | HqsFormat;
  /** Parameter search of HQ targets. */
  search: HqsSearch;
  /** NaN/Inf handling. */
  nonfinite: NonfinitePolicy;
}

/** Counts and sums of one checked chunk. */
export interface ChunkStats {
  /** NaN/±Inf values. */
  nonfinite: number;
  /** Finite values clamped to ±65504. */
  clamped: number;
  /** Sum of the (checked) values; HQ targets only, else 0. */
  sum: number;
  /** Sum of their squares; HQ targets only, else 0. */
  sumSq: number;
}

/** The converted chunk. */
export interface ChunkResult extends ChunkStats {
  /** Output bytes (FP16, or whole HQ super-blocks, the last one zero-padded). */
  out: Uint8Array;
  /** Squared error of the quantization round trip (0 for FP16). */
  sqErr: number;
  /** The job's `raw` buffer, free for the next read (`out` may live in it). */
  raw: ArrayBuffer;
  /** Milliseconds spent decoding to f32. */
  decodeMs: number;
  /** Milliseconds spent checking (NaN/Inf, clamping, sums). */
  scanMs: number;
  /** Milliseconds spent converting to FP16 or quantizing. */
  quantizeMs: number;
}

/**
 * Checks and sanitises `x` in place: NaN/Inf are counted (and zeroed under `zero`), finite
 * values beyond ±65504 clamped; returns the counts and, when `sums`, the sum and sum of
 * squares of the checked values (NaN/Inf left in place under `error` are not summed). With
 * `from`, the counts and sums continue from it, with the additions of one pass over both parts.
 *
 * @example
 * ```ts
 * import { scanChunk } from "./chunk.ts";
 * const x = new Float32Array([1, NaN, 1e6]);
 * console.log(scanChunk(x, "zero", true)); // { nonfinite: 1, clamped: 1, sum: 65505, sumSq: 4290774017 }
 * ```
 */
export function scanChunk(
  x: Float32Array,
  policy: NonfinitePolicy,
  sums: boolean,
  from: ChunkStats = NO_STATS,
): ChunkStats {
  // Nearly every chunk is all finite and in range: one tight pass decides, with the same
  // additions in the same order as the full pass, which only runs for the rare others.
  let sum = from.sum;
  let sumSq = from.sumSq;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (!(v <= F16_MAX && v >= -F16_MAX)) return scanSpecial(x, policy, sums, from);
    sum += v;
    sumSq += v * v;
  }
  return sums
    ? { nonfinite: from.nonfinite, clamped: from.clamped, sum, sumSq }
    : { nonfinite: from.nonfinite, clamped: from.clamped, sum: 0, sumSq: 0 };
}

const NO_STATS: ChunkStats = { nonfinite: 0, clamped: 0, sum: 0, sumSq: 0 };

/** {@link scanChunk} for a chunk with NaN/Inf or values beyond ±65504. */
function scanSpecial(
  x: Float32Array,
  policy: NonfinitePolicy,
  sums: boolean,
  from: ChunkStats,
): ChunkStats {
  let nonfinite = from.nonfinite;
  let clamped = from.clamped;
  let sum = from.sum;
  let sumSq = from.sumSq;
  for (let i = 0; i < x.length; i++) {
    let v = x[i];
    if (v - v !== 0) {
      nonfinite++;
      if (policy === "zero") x[i] = v = 0;
      else continue;
    } else if (v > F16_MAX) {
      clamped++;
      x[i] = v = F16_MAX;
    } else if (v < -F16_MAX) {
      clamped++;
      x[i] = v = -F16_MAX;
    }
    if (sums) {
      sum += v;
      sumSq += v * v;
    }
  }
  return { nonfinite, clamped, sum, sumSq };
}

/** Per-thread decode buffer, grown on demand and reused for every chunk. */
let scratch = new Float32Array(0);

/** `count` elements of the job from element `start`, decoded to f32, zero-padded to `padded`. */
function decoded(job: ChunkJob, start: number, count: number, padded: number): Float32Array {
  if (scratch.length < padded) scratch = new Float32Array(padded);
  const x = scratch.subarray(0, padded);
  const size = DTYPE_SIZES[job.dtype] ?? 4;
  decodeToF32(job.dtype, new Uint8Array(job.raw, start * size, count * size), count, x, 0);
  x.fill(0, count);
  return x;
}

/**
 * Converts one chunk (decode → check → FP16 or HQ, the HQ kernel from `kernelOf`). The output
 * is written into `raw` when it fits (FP16 from BF16/F16 in place, without an f32 round trip),
 * else into a fresh buffer. A chunk with NaN/Inf under the `error` policy is checked but not
 * quantized (the caller fails the tensor).
 *
 * @example
 * ```ts
 * import { processChunk } from "./chunk.ts";
 * import { getKernel } from "../hqs/registry.ts";
 * const raw = new Uint16Array([0x3f80, 0x4000]).buffer; // BF16 1, 2
 * const job = { raw, dtype: "BF16", count: 2, target: "hq5k", search: "fast", nonfinite: "error" } as const;
 * const r = processChunk(job, getKernel);
 * console.log(r.out.length, r.sum); // 288 3
 * ```
 */
export function processChunk(job: ChunkJob, kernelOf: KernelLookup): ChunkResult {
  const { raw, dtype, count, target } = job;
  const t0 = performance.now();
  if (target === "fp16" && hasDirectF16(dtype)) {
    // Straight from the raw bits (to_f16.ts), in place: no f32 round trip, no copy.
    const bits = new Uint16Array(raw, 0, count);
    const c = convertToF16(dtype, bits, bits);
    const out = new Uint8Array(raw, 0, count * 2);
    const quantizeMs = performance.now() - t0;
    return { ...c, sum: 0, sumSq: 0, out, sqErr: 0, raw, decodeMs: 0, scanMs: 0, quantizeMs };
  }
  if (target === "fp16") {
    const x = decoded(job, 0, count, count);
    const t1 = performance.now();
    const s = scanChunk(x, job.nonfinite, false);
    const t2 = performance.now();
    const h = raw.byteLength >= count * 2
      ? new Float16Array(raw, 0, count)
      : new Float16Array(count);
    h.set(x);
    const out = new Uint8Array(h.buffer, 0, count * 2);
    const t3 = performance.now();
    return { ...s, out, sqErr: 0, raw, decodeMs: t1 - t0, scanMs: t2 - t1, quantizeMs: t3 - t2 };
  }
  const kernel = kernelOf(target);
  const nBlocks = Math.ceil(count / HQS_SUPER_BLOCK);
  const bb = kernel.blockBytes;
  // Slice by slice (the pool's fixed slices, errors summed in slice order: the additions of a
  // single-threaded HqsPool call, so the relative RMSE in the manifest keeps its last bit):
  // decoded into a cache-sized buffer, checked (the sums running on, in element order) and
  // quantized. The output takes the place of the raw bytes when it fits and a slice's output
  // cannot reach the next slice's source (whole super-blocks take fewer bytes than their
  // source of two bytes or more per value); each slice's output is zeroed first, so no byte of
  // the input can leak into it. Else a fresh buffer.
  const need = nBlocks * bb;
  const size = DTYPE_SIZES[dtype] ?? 4;
  const out = raw.byteLength >= need && bb <= HQS_SUPER_BLOCK * size
    ? new Uint8Array(raw, 0, need)
    : new Uint8Array(need);
  let s: ChunkStats = NO_STATS;
  let sqErr = 0;
  let decodeMs = 0, scanMs = 0, quantizeMs = 0;
  for (let b0 = 0; b0 < nBlocks; b0 += HQS_POOL_SLICE_BLOCKS) {
    const t1 = performance.now();
    const nb = Math.min(HQS_POOL_SLICE_BLOCKS, nBlocks - b0);
    const e0 = b0 * HQS_SUPER_BLOCK;
    const n = Math.min(nb * HQS_SUPER_BLOCK, count - e0);
    const x = decoded(job, e0, n, nb * HQS_SUPER_BLOCK);
    const t2 = performance.now();
    s = scanChunk(x.subarray(0, n), job.nonfinite, true, s);
    const t3 = performance.now();
    // Under `error`, a chunk with NaN/Inf is checked to its end but not quantized further.
    if (s.nonfinite === 0 || job.nonfinite === "zero") {
      out.fill(0, b0 * bb, (b0 + nb) * bb);
      sqErr += kernel.encode(x, 0, nb, out, b0 * bb, job.search);
    }
    decodeMs += t2 - t1;
    scanMs += t3 - t2;
    quantizeMs += performance.now() - t3;
  }
  if (s.nonfinite > 0 && job.nonfinite === "error") sqErr = 0;
  return { ...s, out, sqErr, raw, decodeMs, scanMs, quantizeMs };
}
