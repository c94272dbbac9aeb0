/**
 * The Web Worker behind {@link ChunkPool}: converts whole chunks (chunk.ts) and hands the
 * buffers back by transfer, so nothing is copied between threads and no memory is shared.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { processChunk } from "./chunk.ts";
import type { ChunkReply, ChunkTask } from "./chunk_pool.ts";

self.onmessage = (e: MessageEvent<ChunkTask>) => {
  const { id, job } = e.data;
  let reply: ChunkReply;
  const t0 = performance.now();
  try {
    const r = processChunk(job);
    reply = { id, result: r, ms: performance.now() - t0 };
  } catch (err) {
    reply = { id, error: err instanceof Error ? err.message : String(err), raw: job.raw };
  }
  const transfer = [reply.result?.raw ?? reply.raw!];
  if (reply.result && reply.result.out.buffer !== reply.result.raw) {
    transfer.push(reply.result.out.buffer as ArrayBuffer);
  }
  self.postMessage(reply, transfer);
};
