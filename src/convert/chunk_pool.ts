/**
 * The conversion's worker pool: each chunk (chunk.ts) goes whole to the least busy worker and
 * its buffers travel by transfer, both ways. Results do not depend on which worker ran a chunk,
 * so the output is byte-identical for every thread count. With no workers (`threads` 0) the
 * chunks run on the calling thread: for FP16 from BF16/F16, a SIMD shift per value, that is
 * faster than starting workers (≈ 50 ms of the calling thread each, and their module loading).
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import { getKernel } from "../hqs/registry.ts";
import { startWorkers } from "../workers.ts";
import { type ChunkJob, type ChunkResult, processChunk } from "./chunk.ts";

/** A message to a worker. */
export interface ChunkTask {
  /** Task id. */
  id: number;
  /** The chunk. */
  job: ChunkJob;
}

/** A message to a worker: a chunk, or a request to load the HQ kernels now (no answer). */
export type ChunkMessage = ChunkTask | { loadKernels: true };

/** A worker's answer: the result, or the failure (which ends the conversion). */
export interface ChunkReply {
  /** Task id. */
  id: number;
  /** The converted chunk. */
  result?: ChunkResult;
  /** Failure message. */
  error?: string;
}

/** Chunks handed to one worker at a time: one converting and the next one waiting. */
const WORKER_DEPTH = 2;

interface Pending {
  worker: number;
  resolve: (r: ChunkResult) => void;
  reject: (e: Error) => void;
}

/**
 * Runs {@link ChunkJob}s in Web Workers.
 *
 * @example
 * ```ts
 * import { ChunkPool } from "./chunk_pool.ts";
 * const pool = new ChunkPool(1);
 * try {
 *   const raw = new Uint16Array([0x3f80]).buffer; // BF16 1
 *   const r = await pool.run({ raw, dtype: "BF16", count: 1, target: "fp16", search: "mse", nonfinite: "error" });
 *   console.log(r.out); // Uint8Array(2) [ 0, 60 ]
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export class ChunkPool {
  #threads: number;
  #workers: Worker[] = [];
  #busy: number[] = [];
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  #kernels = false;
  /** Workers to have for now (see {@link ChunkPool.start}). */
  #limit = 0;
  #growTimer: ReturnType<typeof setTimeout> | undefined;
  /** Chunks not yet handed to a worker, in the order they came. */
  #queue: ChunkTask[] = [];

  /**
   * Number of workers.
   *
   * @example
   * ```ts
   * import { ChunkPool } from "./chunk_pool.ts";
   * console.log(new ChunkPool(3).threads); // 3
   * ```
   */
  get threads(): number {
    return this.#threads;
  }

  /**
   * Workers started so far: after {@link ChunkPool.start}, one at once and the others one per
   * task, up to {@link ChunkPool.threads}.
   *
   * @example
   * ```ts
   * import { ChunkPool } from "./chunk_pool.ts";
   * const pool = new ChunkPool(0);
   * pool.start();
   * console.log(pool.started); // 0
   * ```
   */
  get started(): number {
    return this.#workers.length;
  }

  /**
   * Creates a pool of `threads` workers, started on the first {@link ChunkPool.run}.
   *
   * @param threads Number of workers; 0 runs every chunk on the calling thread.
   */
  constructor(threads: number) {
    this.#threads = threads;
  }

  /**
   * Converts one chunk; its `raw` buffer is transferred to the worker and comes back in the
   * result.
   *
   * @example
   * ```ts
   * import { ChunkPool } from "./chunk_pool.ts";
   * const pool = new ChunkPool(2);
   * const raw = new Float32Array(256).fill(1).buffer;
   * const r = await pool.run({ raw, dtype: "F32", count: 256, target: "hq4k", search: "fast", nonfinite: "error" });
   * console.log(r.out.length); // 256
   * pool.close();
   * ```
   */
  run(job: ChunkJob): Promise<ChunkResult> {
    if (this.#closed) throw new HeliosError("ABORTED", "The conversion pool is closed");
    if (this.#threads === 0) return this.#runHere(job);
    this.start();
    const id = this.#nextId++;
    const result = new Promise<ChunkResult>((resolve, reject) => {
      this.#pending.set(id, { worker: -1, resolve, reject });
    });
    this.#queue.push({ id, job });
    this.#pump();
    return result;
  }

  /**
   * Stops the workers and fails any chunk still in flight.
   *
   * @example
   * ```ts
   * import { ChunkPool } from "./chunk_pool.ts";
   * new ChunkPool(1).close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Only when set: Deno loads its timers module (≈ 18 ms) on the first timer call of a process,
    // and a conversion without workers (FP16 from BF16/F16) makes none otherwise.
    if (this.#growTimer !== undefined) clearTimeout(this.#growTimer);
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
    this.#failAll(new HeliosError("ABORTED", "The conversion pool was closed during a call"));
  }

  /**
   * Starts the workers now rather than on the first {@link ChunkPool.run}, so that they boot
   * while the caller does other work; with `kernels`, they load the HQ kernels as they boot
   * (otherwise on their first HQ chunk). With `workers`, only that many for now: the others
   * start with the first {@link ChunkPool.run} (or a later `start` without it), so that a
   * memory-hungry step before the first chunk does not meet every worker's memory too.
   *
   * @example
   * ```ts
   * import { ChunkPool } from "./chunk_pool.ts";
   * const pool = new ChunkPool(4);
   * pool.start({ kernels: true, workers: 2 });
   * pool.close();
   * ```
   */
  start(options: { kernels?: boolean; workers?: number } = {}): void {
    if (this.#threads === 0 || this.#closed) return;
    const limit = Math.min(this.#threads, Math.max(1, options.workers ?? this.#threads));
    if (limit <= this.#limit) return;
    this.#limit = limit;
    if (this.#workers.length === 0) {
      this.#kernels = options.kernels ?? false;
      // `new Worker` blocks the calling thread while the worker's isolate is created (≈ 50 ms
      // each here), so creating them all at once held the main thread ≈ 0.8 s for 16 workers
      // before the first chunk. One starts now; each further one in its own task, while the
      // first ones already convert what the main thread queues between two creations.
      this.#addWorker();
    }
    if (this.#workers.length < this.#limit && this.#growTimer === undefined) {
      this.#growTimer = setTimeout(() => this.#grow(), 0);
    }
  }

  /** Adds one worker, and schedules the next, until the limit. */
  #grow(): void {
    this.#growTimer = undefined;
    if (this.#closed || this.#workers.length >= this.#limit) return;
    this.#addWorker();
    this.#growTimer = setTimeout(() => this.#grow(), 0);
  }

  #addWorker(): void {
    const [w] = startWorkers<ChunkReply>(
      new URL("./chunk_worker.ts", import.meta.url),
      1,
      "conversion worker",
      (r) => this.#reply(r),
      (e) => this.#failAll(e),
    );
    this.#workers.push(w);
    this.#busy.push(0);
    if (this.#kernels) w.postMessage({ loadKernels: true } satisfies ChunkMessage);
    this.#pump();
  }

  /**
   * Hands queued chunks to the least busy workers, at most {@link WORKER_DEPTH} each (one
   * converting, one waiting), so that a worker created later, or one that finishes early,
   * takes the next chunk instead of it waiting behind a busy one.
   */
  #pump(): void {
    while (this.#queue.length > 0 && this.#workers.length > 0) {
      let w = 0;
      for (let i = 1; i < this.#workers.length; i++) if (this.#busy[i] < this.#busy[w]) w = i;
      if (this.#busy[w] >= WORKER_DEPTH) return;
      const task = this.#queue.shift()!;
      this.#pending.get(task.id)!.worker = w;
      this.#busy[w]++;
      this.#workers[w].postMessage(task, [task.job.raw]);
    }
  }

  #runHere(job: ChunkJob): Promise<ChunkResult> {
    try {
      return Promise.resolve(processChunk(job, getKernel));
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      return Promise.reject(new HeliosError("INTERNAL", `Internal error: conversion: ${message}`));
    }
  }

  #reply(r: ChunkReply): void {
    const p = this.#pending.get(r.id);
    if (!p) return;
    this.#pending.delete(r.id);
    this.#busy[p.worker]--;
    this.#pump();
    if (r.result) p.resolve(r.result);
    else p.reject(new HeliosError("INTERNAL", `Internal error: conversion worker: ${r.error}`));
  }

  #failAll(error: Error): void {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    this.#queue = [];
  }
}
