/**
 * The Web Worker behind {@link ChunkPool}: converts whole chunks (chunk.ts) and hands the
 * buffers back by transfer, so nothing is copied between threads and no memory is shared. The
 * HQ kernels (and their WebAssembly) load when the pool asks (a plan with HQ tensors) or on the
 * first HQ chunk: the workers of an FP16 conversion never load them.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { type KernelLookup, processChunk } from "./chunk.ts";
import type { ChunkMessage, ChunkReply } from "./chunk_pool.ts";

let kernels: Promise<KernelLookup> | null = null;
const loadKernels = () => kernels ??= import("../hqs/registry.ts").then((m) => m.getKernel);
const noKernels: KernelLookup = (f) => {
  throw new Error(`no kernel loaded for '${f}'`);
};

self.onmessage = async (e: MessageEvent<ChunkMessage>) => {
  if ("loadKernels" in e.data) {
    loadKernels().catch(() => {}); // a failure shows again on the first HQ chunk
    return;
  }
  const { id, job } = e.data;
  try {
    const kernelOf = job.target === "fp16" ? noKernels : await loadKernels();
    const r = processChunk(job, kernelOf);
    const transfer = [r.raw];
    if (r.out.buffer !== r.raw) transfer.push(r.out.buffer as ArrayBuffer);
    self.postMessage({ id, result: r } satisfies ChunkReply, transfer);
  } catch (err) {
    // A failed chunk fails the conversion, so its buffer is not needed back.
    const error = err instanceof Error ? err.message : String(err);
    self.postMessage({ id, error } satisfies ChunkReply);
  }
};
