/**
 * Runs a plan: read → (quantize) → write, tensor by tensor in bounded chunks, with quantization
 * in a worker pool overlapping reading and writing.
 *
 * @module
 */
import { assertInternal, HeliosError } from "../errors.ts";
import { F16_MAX } from "../hqs/f16.ts";
import type { HqsFormat, HqsSearch } from "../hqs/kernel.ts";
import { HqsPool } from "../hqs/pool.ts";
import type { HnfWriter } from "../hnf/writer.ts";
import type { SafetensorsFolder, SourceTensor } from "../safetensors/mod.ts";
import { convertToF16, hasDirectF16 } from "./to_f16.ts";
import type { ConversionPlan, PlannedTensor } from "./plan.ts";
import type { ConvertEvent, TensorReport } from "./progress.ts";

/** What to do with NaN/Inf in a weight. */
export type NonfinitePolicy = "error" | "zero";

/** Options of {@link writeTensors}. */
export interface RunOptions {
  /** Parameter search of HQ formats. */
  search: HqsSearch;
  /** Worker threads for quantization. */
  threads: number;
  /** NaN/Inf handling. */
  nonfinite: NonfinitePolicy;
  /** Cancels the run. */
  signal?: AbortSignal;
  /** Event sink. */
  onEvent?: (e: ConvertEvent) => void;
  /** Elements per chunk (default 1 Mi; a multiple of 256). */
  chunkElements?: number;
}

interface ChunkStats {
  nonfinite: number;
  clamped: number;
  sum: number;
  sumSq: number;
}

/** Checks and sanitises one chunk in place; returns its counts (and sums when asked). */
function scanChunk(x: Float32Array, policy: NonfinitePolicy, sums: boolean): ChunkStats {
  let nonfinite = 0;
  let clamped = 0;
  let sum = 0;
  let sumSq = 0;
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

/**
 * Reads a tensor in chunks with one read always ahead of the consumer, so disk reads overlap
 * decoding, quantizing and writing. Buffers come from a ring of `ring` buffers used in turn:
 * a yielded buffer stays valid until `ring - 1` further chunks have been read. `shared` ring
 * buffers live in SharedArrayBuffers the worker pool reads without copying; their length is
 * padded to whole super-blocks with zeros. A fixed ring matters: V8 reclaims
 * SharedArrayBuffers lazily, and a fresh one per chunk grew the heap by gigabytes.
 */
async function* readChunks(
  folder: SafetensorsFolder,
  src: SourceTensor,
  numel: number,
  chunk: number,
  shared: boolean,
  ring: Float32Array[],
): AsyncGenerator<Float32Array> {
  const es = src.byteLength / numel;
  const scratch = [new Uint8Array(chunk * es), new Uint8Array(chunk * es)];
  yield* readAhead(numel, chunk, (s, n, k) => {
    const buf = ring[k % ring.length];
    const x = shared ? buf.subarray(0, Math.ceil(n / 256) * 256) : buf.subarray(0, n);
    if (shared) x.fill(0, n);
    return folder.readF32(src, s, n, x, scratch[k % 2]).then(() => x);
  });
}

/** {@link readChunks} for raw 16-bit elements (BF16/F16 sources), with a ring of two. */
function readRawChunks(
  folder: SafetensorsFolder,
  src: SourceTensor,
  numel: number,
  chunk: number,
  ring: Uint16Array[],
): AsyncGenerator<Uint16Array> {
  return readAhead(numel, chunk, (s, n, k) => {
    const buf = ring[k % ring.length];
    return folder.readRaw(src, s, n, new Uint8Array(buf.buffer)).then(() => buf.subarray(0, n));
  });
}

/**
 * Yields chunk after chunk of `numel` elements, starting read k + 1 (chunk start `s`, length
 * `n`) before handing out chunk k.
 */
async function* readAhead<T>(
  numel: number,
  chunk: number,
  read: (s: number, n: number, k: number) => Promise<T>,
): AsyncGenerator<T> {
  let k = 0;
  const start = (s: number): Promise<T> => {
    const p = read(s, Math.min(chunk, numel - s), k++);
    p.catch(() => {}); // a read left in flight when the consumer stops must not crash the process
    return p;
  };
  let next: Promise<T> | null = numel > 0 ? start(0) : null;
  for (let s = 0; next; s += chunk) {
    const cur = await next;
    next = s + chunk < numel ? start(s + chunk) : null;
    yield cur;
  }
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
 * const reports = await writeTensors(plan, writer, { search: "mse", threads: 2, nonfinite: "error" });
 * ```
 */
export async function writeTensors(
  plan: ConversionPlan,
  writer: HnfWriter,
  options: RunOptions,
): Promise<TensorReport[]> {
  const chunk = options.chunkElements ?? 1 << 20;
  assertInternal(chunk % 256 === 0, "chunk size");
  const needsPool = plan.tensors.some((t) => t.dtype !== "fp16");
  const pool = needsPool ? new HqsPool({ threads: options.threads }) : null;
  const reports: TensorReport[] = [];
  // Ring sizes: plain chunks are consumed before the next read starts (2 suffice); shared
  // chunks stay in the pool while up to maxInflight encodes run, so the ring needs more.
  const maxInflight = Math.max(2, options.threads + 1);
  const plainRing = [0, 1].map(() => new Float32Array(chunk));
  const rawRing = [0, 1].map(() => new Uint16Array(chunk));
  const sharedRing = needsPool
    ? Array.from(
      { length: maxInflight + 2 },
      () => new Float32Array(new SharedArrayBuffer(chunk * 4)),
    )
    : [];
  const start = performance.now();
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
  try {
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
      const stats: ChunkStats = { nonfinite: 0, clamped: 0, sum: 0, sumSq: 0 };
      let sqErr = 0;
      const add = (s: ChunkStats) => {
        stats.nonfinite += s.nonfinite;
        stats.clamped += s.clamped;
        stats.sum += s.sum;
        stats.sumSq += s.sumSq;
      };
      if (t.fill !== undefined) {
        // A synthesized constant (a missing or infinite clamp bound): nothing to read.
        assertInternal(t.dtype === "fp16", `constant '${t.name}' must be fp16`);
        const h = new Float16Array(t.numel).fill(t.fill);
        await writer.write(new Uint8Array(h.buffer));
      } else if (t.dtype === "fp16" && hasDirectF16(t.source.dtype)) {
        // BF16/F16 → FP16 straight from the raw bits (to_f16.ts), no f32 round trip.
        const out = new Uint16Array(Math.min(chunk, t.numel));
        const ob = new Uint8Array(out.buffer);
        for await (const raw of readRawChunks(folder, t.source, t.numel, chunk, rawRing)) {
          checkAbort(options.signal);
          const n = raw.length;
          const c = convertToF16(t.source.dtype, raw, out.subarray(0, n));
          stats.nonfinite += c.nonfinite;
          stats.clamped += c.clamped;
          if (stats.nonfinite === 0 || options.nonfinite === "zero") {
            await writer.write(ob.subarray(0, n * 2));
          }
          bytesDone += n * bytesPerElem;
          emit(t, i);
        }
      } else if (t.dtype === "fp16") {
        const h = new Float16Array(Math.min(chunk, t.numel));
        const hb = new Uint8Array(h.buffer);
        for await (const x of readChunks(folder, t.source, t.numel, chunk, false, plainRing)) {
          checkAbort(options.signal);
          add(scanChunk(x, options.nonfinite, false));
          if (stats.nonfinite === 0 || options.nonfinite === "zero") {
            h.set(x);
            await writer.write(hb.subarray(0, x.length * 2));
          }
          bytesDone += x.length * bytesPerElem;
          emit(t, i);
        }
      } else {
        // HQ: the tensor is [N, K] with K % 256 == 0, so the flat and per-row layouts agree
        // and any chunk of whole super-blocks is independent.
        const inflight: Promise<{ bytes: Uint8Array; sqErr: number }>[] = [];
        const drainOne = async () => {
          const r = await inflight.shift()!;
          sqErr += r.sqErr;
          await writer.write(r.bytes);
        };
        let done = 0;
        for await (const x of readChunks(folder, t.source, t.numel, chunk, true, sharedRing)) {
          checkAbort(options.signal);
          const n = Math.min(chunk, t.numel - done);
          done += n;
          add(scanChunk(x.subarray(0, n), options.nonfinite, true));
          if (stats.nonfinite === 0 || options.nonfinite === "zero") {
            const p = pool!.encode(t.dtype as HqsFormat, x, options.search);
            // Handled here so that, when this run fails first (a write error, a cancel), the
            // pool closing under the encodes still in flight cannot become an unhandled
            // rejection that hides the real error; drainOne still sees every rejection.
            p.catch(() => {});
            inflight.push(p);
            if (inflight.length >= maxInflight) await drainOne();
          }
          bytesDone += n * bytesPerElem;
          emit(t, i);
        }
        while (inflight.length) await drainOne();
      }
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
  } finally {
    pool?.close();
  }
  return reports;
}
