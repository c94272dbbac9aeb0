/**
 * The Web Worker behind {@link HqsPool}: encodes runs of fixed-size slices into shared memory.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { HQS_SUPER_BLOCK } from "./kernel.ts";
import { HQS_POOL_SLICE_BLOCKS, type HqsWorkerReply, type HqsWorkerTask } from "./pool.ts";
import { getKernel } from "./registry.ts";

self.onmessage = (e: MessageEvent<HqsWorkerTask>) => {
  const t = e.data;
  const reply: HqsWorkerReply = { id: t.id };
  try {
    const kernel = getKernel(t.format);
    for (let s = t.sliceStart; s < t.sliceEnd; s++) {
      const b0 = s * HQS_POOL_SLICE_BLOCKS;
      const nb = Math.min(HQS_POOL_SLICE_BLOCKS, t.nBlocks - b0);
      t.err[s] = kernel.encode(
        t.x,
        b0 * HQS_SUPER_BLOCK,
        nb,
        t.out,
        b0 * kernel.blockBytes,
        t.search,
      );
    }
  } catch (err) {
    reply.error = err instanceof Error ? err.message : String(err);
  }
  self.postMessage(reply);
};
