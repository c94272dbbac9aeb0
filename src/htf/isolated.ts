/**
 * {@link buildHtf} in a worker of its own, for large tokenizers: parsing their tokenizer.json
 * takes hundreds of MB of JavaScript heap (Gemma's 262 144-token file: ≈ 400 MiB peak), which a
 * worker returns to the system when it ends; in the converting thread that heap would stay
 * committed through the whole conversion, next to the conversion workers' own.
 *
 * @module
 */
import { type ErrorCode, HeliosError } from "../errors.ts";
import { readHtf } from "./reader.ts";
import type { HtfBuildResult, TokenizerSource } from "./types.ts";

/** What the worker is asked. */
export interface HtfWorkerRequest {
  /** Tokenizer folders and their domains. */
  sources: TokenizerSource[];
}

/** What the worker answers: the build's result without `contents`, or its error. */
export type HtfWorkerReply =
  | { result: Omit<HtfBuildResult, "contents"> | null }
  | { error: { code: ErrorCode; message: string } };

/**
 * Builds the HTF blob as {@link buildHtf} does, in a worker of its own, with the same result
 * (`contents` read back from the blob on the calling thread) and the same errors.
 *
 * @example
 * ```ts ignore
 * import { buildHtfIsolated } from "./isolated.ts";
 * const htf = await buildHtfIsolated([{ dir: "models/gemma", domain: "text" }]);
 * console.log(htf?.summary.vocabSize);
 * ```
 */
export async function buildHtfIsolated(
  sources: TokenizerSource[],
): Promise<HtfBuildResult | null> {
  const worker = new Worker(new URL("./build_worker.ts", import.meta.url).href, { type: "module" });
  const reply = await new Promise<HtfWorkerReply>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<HtfWorkerReply>) => resolve(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault(); // else the error ends the whole process
      reject(new HeliosError("INTERNAL", `Internal error: tokenizer worker: ${e.message}`));
    };
    worker.postMessage({ sources } satisfies HtfWorkerRequest);
  }).finally(() => worker.terminate()); // its heap goes before the blob is read back here
  if ("error" in reply) throw new HeliosError(reply.error.code, reply.error.message);
  if (reply.result === null) return null;
  return { ...reply.result, contents: readHtf(reply.result.blob) };
}
