/**
 * Runs a plan: read → convert → write, in bounded chunks queued across tensors. The main thread
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
  // the memory in flight (peak RSS) whatever the model size. The queue runs across tensor
  // boundaries: the next tensor's first chunks convert while the last ones of this tensor
  // finish, so no worker waits at the end of each tensor.
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

  /** One chunk on its way to the file, in file order; `first`/`last` open and close its tensor. */
  interface Item {
    index: number;
    result: Promise<ChunkResult>;
    first: boolean;
    last: boolean;
  }
  const inflight: Item[] = [];
  // Per tensor, summed over its chunks in file order (the same additions whatever the threads).
  let stats = { nonfinite: 0, clamped: 0, sum: 0, sumSq: 0 };
  let sqErr = 0;
  // One write in flight, so the next read and conversion overlap it; awaited before the writer
  // is called again, since its calls must not interleave.
  let writing = Promise.resolve();
  const settleWrite = async () => {
    const t0 = performance.now();
    await writing;
    times.writeMs += performance.now() - t0;
  };

  const openTensor = async (t: PlannedTensor) => {
    await settleWrite();
    if (t.block !== block) {
      await writer.beginBlock(t.block, { dense: plan.denseBlocks.includes(t.block) });
      block = t.block;
    }
    await writer.beginTensor({ name: t.name, dtype: t.dtype, shape: t.shape });
    stats = { nonfinite: 0, clamped: 0, sum: 0, sumSq: 0 };
    sqErr = 0;
  };

  const closeTensor = async (i: number) => {
    const t = plan.tensors[i];
    await settleWrite();
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
  };

  // A constant's result has no raw buffer to hand back (an empty one stands in).
  const recycle = (raw: ArrayBuffer) => void (raw.byteLength > 0 && free.push(raw));

  const drainOne = async () => {
    checkAbort(options.signal);
    const item = inflight.shift()!;
    const t = plan.tensors[item.index];
    if (item.first) await openTensor(t);
    const t0 = performance.now();
    const r = await item.result;
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
      await settleWrite();
      writing = writer.write(r.out).then(() => recycle(r.raw));
      writing.catch(() => {}); // awaited before the next writer call
    } else recycle(r.raw);
    if (item.last) await closeTensor(item.index);
    else emit(t, item.index);
  };

  // Reads run one ahead, in file order, across tensor boundaries.
  const read = (t: PlannedTensor, s: number) => {
    const raw = free.pop() ?? new ArrayBuffer(bufferBytes);
    const n = Math.min(chunk, t.numel - s);
    const folder = plan.towers[t.tower].folder;
    const done = folder.readRaw(t.source, s, n, new Uint8Array(raw)).then(() => raw);
    done.catch(() => {}); // awaited below, unless an earlier failure ends the run first
    return done;
  };
  const chunks = function* () {
    for (const [i, t] of plan.tensors.entries()) {
      if (t.fill !== undefined) {
        yield { i, t, s: 0 };
        continue;
      }
      assertDecodable(t.source);
      for (let s = 0; s < t.numel; s += chunk) yield { i, t, s };
    }
  };
  type Next = IteratorResult<{ i: number; t: PlannedTensor; s: number }>;
  const prefetch = (c: Next) =>
    !c.done && c.value.t.fill === undefined ? read(c.value.t, c.value.s) : null;
  const queue = chunks();
  let cur: Next = queue.next();
  let ahead = prefetch(cur);
  while (!cur.done) {
    checkAbort(options.signal);
    const { i, t, s } = cur.value;
    const nxt = queue.next();
    let result: Promise<ChunkResult>;
    if (t.fill !== undefined) {
      // A synthesized constant (a missing or infinite clamp bound): nothing to read.
      assertInternal(t.dtype === "fp16", `constant '${t.name}' must be fp16`);
      const out = new Uint8Array(new Float16Array(t.numel).fill(t.fill).buffer);
      ahead = prefetch(nxt);
      result = Promise.resolve({
        out,
        raw: new ArrayBuffer(0),
        nonfinite: 0,
        clamped: 0,
        sum: 0,
        sumSq: 0,
        sqErr: 0,
        decodeMs: 0,
        scanMs: 0,
        quantizeMs: 0,
      });
    } else {
      const n = Math.min(chunk, t.numel - s);
      const t0 = performance.now();
      const raw = await ahead!;
      times.readMs += performance.now() - t0;
      ahead = prefetch(nxt);
      result = pool.run({
        raw,
        dtype: t.source.dtype,
        count: n,
        target: t.dtype as "fp16" | HqsFormat,
        search: options.search,
        nonfinite: options.nonfinite,
      });
      result.catch(() => {}); // awaited in order below; a failure must not go unhandled first
      bytesDone += n * (t.source.byteLength / t.numel);
    }
    const last = t.fill !== undefined || s + chunk >= t.numel;
    inflight.push({ index: i, result, first: s === 0, last });
    if (inflight.length >= maxInflight) await drainOne();
    cur = nxt;
  }
  while (inflight.length) await drainOne();
  await settleWrite();
  await writer.endBlock();
  times.totalMs = performance.now() - start;
  times.hashMs = writer.hashMs - hash0;
  options.onEvent?.({ type: "timings", timings: times });
  return reports;
}
