/**
 * A pool of Web Workers that quantizes whole tensors in parallel, byte-identically for every
 * thread count.
 *
 * A call is cut into fixed slices of {@link HQS_POOL_SLICE_BLOCKS} super-blocks; each worker gets
 * one contiguous run of slices. Every slice's squared error lands in its own slot and the slots
 * are summed in slice order, so the total does not depend on the thread count either. The input
 * travels in a SharedArrayBuffer (read in place); each worker encodes its run into a buffer of
 * its own and transfers it back, because copying out of shared memory is slow in V8 (about
 * 300 MB/s against several GB/s for ordinary buffers). Several calls may be in flight at once.
 *
 * @module
 */
import { assertInternal, HeliosError } from "../errors.ts";
import {
  HQS_POOL_SLICE_BLOCKS,
  HQS_SUPER_BLOCK,
  type HqsFormat,
  type HqsSearch,
} from "./kernel.ts";
import { getKernel } from "./registry.ts";
import { startWorkers } from "../workers.ts";

export { HQS_POOL_SLICE_BLOCKS };

/** Options of {@link HqsPool}. */
export interface HqsPoolOptions {
  /** Number of workers (default `navigator.hardwareConcurrency`). */
  threads?: number;
}

/** Result of {@link HqsPool.encode}. */
export interface HqsPoolResult {
  /** The encoded super-blocks. */
  bytes: Uint8Array;
  /** Squared error of the round trip summed over all elements (padding included). */
  sqErr: number;
}

/** A message to a worker: encode slices [sliceStart, sliceEnd) of one call. */
export interface HqsWorkerTask {
  /** Call id. */
  id: number;
  /** Part index within the call. */
  part: number;
  /** Format. */
  format: HqsFormat;
  /** Search. */
  search: HqsSearch;
  /** The whole call's input (shared). */
  x: Float32Array;
  /** Super-blocks in the whole call. */
  nBlocks: number;
  /** First slice of this part. */
  sliceStart: number;
  /** End slice of this part. */
  sliceEnd: number;
}

/** A worker's answer: the part's bytes and per-slice errors, transferred. */
export interface HqsWorkerReply {
  /** Call id. */
  id: number;
  /** Part index. */
  part: number;
  /** Encoded super-blocks of the part. */
  out?: Uint8Array;
  /** Squared error of each slice of the part. */
  err?: Float64Array;
  /** Failure message. */
  error?: string;
}

interface Pending {
  left: number;
  outs: Uint8Array[];
  errs: Float64Array[];
  failed?: Error;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * Runs HQS kernels in Web Workers.
 *
 * @example
 * ```ts
 * import { HqsPool } from "./pool.ts";
 * const pool = new HqsPool({ threads: 2 });
 * try {
 *   const { bytes, sqErr } = await pool.encode("hq5k", new Float32Array(512), "mse");
 *   console.log(bytes.length, sqErr); // 576 0
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export class HqsPool {
  #threads: number;
  #workers: Worker[] = [];
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  /**
   * Creates a pool; workers start on the first {@link HqsPool.encode}.
   *
   * @param options Thread count.
   */
  constructor(options: HqsPoolOptions = {}) {
    const t = options.threads ?? navigator.hardwareConcurrency ?? 1;
    if (!Number.isInteger(t) || t < 1 || t > 1024) {
      throw new HeliosError("BAD_OPTION", `Thread count ${t} must be an integer from 1 to 1024`);
    }
    this.#threads = t;
  }

  /**
   * Number of workers.
   *
   * @example
   * ```ts
   * import { HqsPool } from "./pool.ts";
   * const pool = new HqsPool({ threads: 3 });
   * console.log(pool.threads); // 3
   * pool.close();
   * ```
   */
  get threads(): number {
    return this.#threads;
  }

  /**
   * Quantizes `x` (length a multiple of 256) into `format`.
   *
   * @example
   * ```ts
   * import { HqsPool } from "./pool.ts";
   * const pool = new HqsPool({ threads: 1 });
   * const r = await pool.encode("hq4k", new Float32Array(256).fill(1), "fast");
   * console.log(r.bytes.length); // 256
   * pool.close();
   * ```
   */
  async encode(format: HqsFormat, x: Float32Array, search: HqsSearch): Promise<HqsPoolResult> {
    if (this.#closed) throw new HeliosError("ABORTED", "The HQS pool is closed");
    const kernel = getKernel(format);
    assertInternal(
      x.length % HQS_SUPER_BLOCK === 0,
      `pool input of ${x.length} elements is not a multiple of 256`,
    );
    const nBlocks = x.length / HQS_SUPER_BLOCK;
    if (nBlocks === 0) return { bytes: new Uint8Array(0), sqErr: 0 };
    const nSlices = Math.ceil(nBlocks / HQS_POOL_SLICE_BLOCKS);
    let shared = x;
    if (!(x.buffer instanceof SharedArrayBuffer)) {
      shared = new Float32Array(new SharedArrayBuffer(x.byteLength));
      // V8 copies into shared memory slowly with set(); a plain loop is ~10× faster.
      for (let i = 0; i < x.length; i++) shared[i] = x[i];
    }
    const parts = Math.min(this.#threads, nSlices);
    const id = this.#nextId++;
    const outs: Uint8Array[] = new Array(parts);
    const errs: Float64Array[] = new Array(parts);
    const done = new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { left: parts, outs, errs, resolve, reject });
    });
    this.#start();
    for (let p = 0; p < parts; p++) {
      const task: HqsWorkerTask = {
        id,
        part: p,
        format,
        search,
        x: shared,
        nBlocks,
        sliceStart: Math.floor((p * nSlices) / parts),
        sliceEnd: Math.floor(((p + 1) * nSlices) / parts),
      };
      this.#workers[(id + p) % this.#threads].postMessage(task);
    }
    await done;
    let sqErr = 0;
    for (const e of errs) for (let s = 0; s < e.length; s++) sqErr += e[s];
    if (parts === 1) return { bytes: outs[0], sqErr };
    const bytes = new Uint8Array(nBlocks * kernel.blockBytes);
    let at = 0;
    for (const o of outs) {
      bytes.set(o, at);
      at += o.length;
    }
    return { bytes, sqErr };
  }

  /**
   * Stops the workers and fails any call still in flight; the process can then exit.
   *
   * @example
   * ```ts
   * import { HqsPool } from "./pool.ts";
   * new HqsPool().close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
    const error = new HeliosError("ABORTED", "The HQS pool was closed during a call");
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }

  #start(): void {
    if (this.#workers.length > 0) return;
    this.#workers = startWorkers<HqsWorkerReply>(
      new URL("./worker.ts", import.meta.url),
      this.#threads,
      "HQS worker",
      (r) => this.#reply(r),
      (e) => this.#failAll(e),
    );
  }

  #reply(r: HqsWorkerReply): void {
    const p = this.#pending.get(r.id);
    if (!p) return;
    if (r.error !== undefined && !p.failed) {
      p.failed = new HeliosError("INTERNAL", `Internal error: HQS worker: ${r.error}`);
    }
    if (r.out && r.err) {
      p.outs[r.part] = r.out;
      p.errs[r.part] = r.err;
    }
    if (--p.left > 0) return;
    this.#pending.delete(r.id);
    if (p.failed) p.reject(p.failed);
    else p.resolve();
  }

  #failAll(error: Error): void {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}
