/**
 * Runs a plan: read → convert → write, tensor by tensor in bounded chunks. The main thread
 * only reads source bytes and writes output; decoding, checking and converting each chunk
 * happen in a worker pool (chunk.ts, chunk_pool.ts), several chunks in flight, so reading,
 * converting and writing overlap and every core converts.
 *
 * @module
 */
import { assertInternal, HeliosError } from "../errors.ts";
import type { HqsFormat, HqsSearch } from "../hqs/kernel.ts";
import type { HnfWriter } from "../hnf/writer.ts";
import { DTYPE_SIZES } from "../safetensors/dtype.ts";
import { assertDecodable } from "../safetensors/folder.ts";
import type { ChunkResult, NonfinitePolicy } from "./chunk.ts";
import type { ChunkPool } from "./chunk_pool.ts";
import type { ConversionPlan, PlannedTensor } from "./plan.ts";
import type { ConvertEvent, ConvertTimings, TensorReport } from "./progress.ts";

export type { NonfinitePolicy } from "./chunk.ts";

/** Options of {@link writeTensors}. */
export interface RunOptions {
  /** Parameter search of HQ formats. */
  search: HqsSearch;
  /** The workers that convert the chunks (closed by the caller). */
  pool: ChunkPool;
  /** NaN/Inf handling. */
  nonfinite: NonfinitePolicy;
  /** Cancels the run. */
  signal?: AbortSignal;
  /** Event sink. */
  onEvent?: (e: ConvertEvent) => void;
  /** Elements per chunk (default 1 Mi; a multiple of 256). */
  chunkElements?: number;
}

/** Throws `ABORTED` once `signal` has fired. */
export function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new HeliosError("ABORTED", "Conversion cancelled");
}

/**
 * Writes every planned tensor into `writer` (which must have no block open), block by block.
 *
 * @example
 * ```ts ignore
 * import { writeTensors } from "./run.ts";
 * const reports = await writeTensors(plan, writer, { search: "mse", pool, nonfinite: "error" });
 * ```
 */
export async function writeTensors(
  plan: ConversionPlan,
  writer: HnfWriter,
  options: RunOptions,
): Promise<TensorReport[]> {
  const chunk = options.chunkElements ?? 1 << 20;
  assertInternal(chunk % 256 === 0, "chunk size");
  const pool = options.pool;
  const reports: TensorReport[] = [];
  // A second chunk queued per worker (up to 4 in all) keeps every worker busy while the main
  // thread reads and writes; the raw buffers cycle main → worker → main, so their number bounds
  // the memory in flight (peak RSS) whatever the model size.
  // With no workers (FP16 from BF16/F16, converted here) one chunk: its read ahead and its write
  // still overlap the conversion.
  const maxInflight = Math.max(1, pool.threads + Math.min(pool.threads, 4));
  // At least 2 bytes per element, so that the output of every format fits in the raw buffer.
  const bufferBytes = chunk *
    Math.max(2, ...plan.tensors.map((t) => DTYPE_SIZES[t.source.dtype] ?? 4));
  const free: ArrayBuffer[] = [];
  const times: ConvertTimings = {
    elements: 0,
    totalMs: 0,
    readMs: 0,
    waitMs: 0,
    writeMs: 0,
    hashMs: 0,
    decodeMs: 0,
    scanMs: 0,
    quantizeMs: 0,
  };
  const start = performance.now();
  const hash0 = writer.hashMs;
  let bytesDone = 0;
  let block = -1;
  const emit = (t: PlannedTensor, i: number) =>
    options.onEvent?.({
      type: "progress",
      tensor: t.name,
      tensorsDone: i,
      tensorsTotal: plan.tensors.length,
      bytesDone,
      bytesTotal: plan.sourceBytes,
      elapsedMs: performance.now() - start,
    });
  for (const [i, t] of plan.tensors.entries()) {
    checkAbort(options.signal);
    if (t.block !== block) {
      await writer.beginBlock(t.block, { dense: plan.denseBlocks.includes(t.block) });
      block = t.block;
    }
    await writer.beginTensor({
      name: t.name,
      dtype: t.dtype,
      shape: t.shape,
    });
    const folder = plan.towers[t.tower].folder;
    const bytesPerElem = t.source.byteLength / t.numel;
    const stats = { nonfinite: 0, clamped: 0, sum: 0, sumSq: 0 };
    let sqErr = 0;
    // HQ: the tensor is [N, K] with K % 256 == 0, so the flat and per-row layouts agree and
    // any chunk of whole super-blocks is independent.
    const inflight: Promise<ChunkResult>[] = [];
    let writing = Promise.resolve();
    const drainOne = async () => {
      let t0 = performance.now();
      const r = await inflight.shift()!;
      times.waitMs += performance.now() - t0;
      times.decodeMs += r.decodeMs;
      times.scanMs += r.scanMs;
      times.quantizeMs += r.quantizeMs;
      stats.nonfinite += r.nonfinite;
      stats.clamped += r.clamped;
      stats.sum += r.sum;
      stats.sumSq += r.sumSq;
      sqErr += r.sqErr;
      if (stats.nonfinite === 0 || options.nonfinite === "zero") {
        // One write in flight, so the next read overlaps it; its buffer is free once written.
        t0 = performance.now();
        await writing;
        times.writeMs += performance.now() - t0;
        writing = writer.write(r.out).then(() => void free.push(r.raw));
        writing.catch(() => {}); // awaited before the next write and at the tensor's end
      } else free.push(r.raw);
      emit(t, i);
    };
    if (t.fill !== undefined) {
      // A synthesized constant (a missing or infinite clamp bound): nothing to read.
      assertInternal(t.dtype === "fp16", `constant '${t.name}' must be fp16`);
      await writer.write(new Uint8Array(new Float16Array(t.numel).fill(t.fill).buffer));
    } else {
      assertDecodable(t.source);
      // The next chunk is read while this one converts (one read in flight, in file order).
      const read = (s: number) => {
        const raw = free.pop() ?? new ArrayBuffer(bufferBytes);
        const n = Math.min(chunk, t.numel - s);
        const done = folder.readRaw(t.source, s, n, new Uint8Array(raw)).then(() => raw);
        done.catch(() => {}); // awaited below, unless an earlier failure ends the run first
        return done;
      };
      let next = read(0);
      for (let s = 0; s < t.numel; s += chunk) {
        checkAbort(options.signal);
        const n = Math.min(chunk, t.numel - s);
        const t0 = performance.now();
        const raw = await next;
        times.readMs += performance.now() - t0;
        if (s + chunk < t.numel) next = read(s + chunk);
        const job = pool.run({
          raw,
          dtype: t.source.dtype,
          count: n,
          target: t.dtype as "fp16" | HqsFormat,
          search: options.search,
          nonfinite: options.nonfinite,
        });
        job.catch(() => {}); // awaited in order below; a failure must not go unhandled first
        inflight.push(job);
        bytesDone += n * bytesPerElem;
        if (inflight.length >= maxInflight) await drainOne();
      }
      while (inflight.length) await drainOne();
      const tw = performance.now();
      await writing;
      times.writeMs += performance.now() - tw;
    }
    times.elements += t.numel;
    if (stats.nonfinite > 0 && options.nonfinite === "error") {
      throw new HeliosError(
        "NONFINITE",
        `${t.source.file}: tensor '${t.source.name}' has ${stats.nonfinite} NaN/Inf values (use --nonfinite zero to replace them with 0)`,
      );
    }
    await writer.endTensor();
    const report: TensorReport = {
      name: t.name,
      source: t.source.name,
      dtype: t.dtype,
      shape: t.shape,
      bytes: t.size,
      clamped: stats.clamped,
      nonfiniteZeroed: options.nonfinite === "zero" ? stats.nonfinite : 0,
      note: t.note,
      copyOf: t.copyOf,
      ...(t.origin ? { origin: t.origin } : {}),
    };
    if (t.dtype !== "fp16") {
      const mean = stats.sum / t.numel;
      const variance = Math.max(0, stats.sumSq / t.numel - mean * mean);
      const rmse = Math.sqrt(sqErr / t.numel);
      report.relRmse = variance > 0 ? rmse / Math.sqrt(variance) : rmse === 0 ? 0 : Infinity;
    }
    if (report.clamped > 0) {
      options.onEvent?.({
        type: "warning",
        message: `${t.source.name}: ${report.clamped} values beyond ±65504 clamped to ±65504`,
      });
    }
    if (report.nonfiniteZeroed > 0) {
      options.onEvent?.({
        type: "warning",
        message: `${t.source.name}: ${report.nonfiniteZeroed} NaN/Inf values replaced by 0`,
      });
    }
    reports.push(report);
    options.onEvent?.({ type: "tensor", tensor: report, index: i });
    emit(t, i + 1);
  }
  await writer.endBlock();
  times.totalMs = performance.now() - start;
  times.hashMs = writer.hashMs - hash0;
  options.onEvent?.({ type: "timings", timings: times });
  return reports;
}
