/**
 * The Web Worker behind `buildHtfIsolated` (isolated.ts): builds one HTF blob and hands it back by
 * transfer. Parsing a large tokenizer.json takes hundreds of MB of JavaScript heap (Gemma's
 * 33 MB file: ≈ 400 MiB peak); in a worker that heap is returned to the system when the worker
 * ends instead of staying with the converting process.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { HeliosError } from "../errors.ts";
import { buildHtf } from "./mod.ts";
import type { HtfWorkerReply, HtfWorkerRequest } from "./isolated.ts";

self.onmessage = async (e: MessageEvent<HtfWorkerRequest>) => {
  try {
    const r = await buildHtf(e.data.sources, e.data.options);
    self.postMessage(
      { result: r } satisfies HtfWorkerReply,
      r ? [r.blob.buffer as ArrayBuffer] : [],
    );
  } catch (err) {
    const error = err instanceof HeliosError
      ? { code: err.code, message: err.message }
      : { code: "INTERNAL" as const, message: `Internal error: ${(err as Error).message}` };
    self.postMessage({ error } satisfies HtfWorkerReply);
  }
};
