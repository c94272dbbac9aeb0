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
  const reply: HqsWorkerReply = { id: t.id, part: t.part };
  const transfer: ArrayBuffer[] = [];
  try {
    const kernel = getKernel(t.format);
    const first = t.sliceStart * HQS_POOL_SLICE_BLOCKS;
    const last = Math.min(t.sliceEnd * HQS_POOL_SLICE_BLOCKS, t.nBlocks);
    const outBuf = new ArrayBuffer((last - first) * kernel.blockBytes);
    const errBuf = new ArrayBuffer((t.sliceEnd - t.sliceStart) * 8);
    const out = new Uint8Array(outBuf);
    const err = new Float64Array(errBuf);
    for (let s = t.sliceStart; s < t.sliceEnd; s++) {
      const b0 = s * HQS_POOL_SLICE_BLOCKS;
      const nb = Math.min(HQS_POOL_SLICE_BLOCKS, t.nBlocks - b0);
      err[s - t.sliceStart] = kernel.encode(
        t.x,
        b0 * HQS_SUPER_BLOCK,
        nb,
        out,
        (b0 - first) * kernel.blockBytes,
        t.search,
      );
    }
    reply.out = out;
    reply.err = err;
    transfer.push(outBuf, errBuf);
  } catch (err) {
    reply.error = err instanceof Error ? err.message : String(err);
  }
  self.postMessage(reply, transfer);
};
