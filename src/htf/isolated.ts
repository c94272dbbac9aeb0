/**
 * {@link buildHtf} in a worker of its own, for large tokenizers: parsing their tokenizer.json
 * takes hundreds of MB of JavaScript heap (Gemma's 262 144-token file: ≈ 400 MiB peak), which a
 * worker returns to the system when it ends; in the converting thread that heap would stay
 * committed through the whole conversion, next to the conversion workers' own.
 *
 * @module
 */
import { type ErrorCode, HeliosError } from "../errors.ts";
import type { HtfBuildOptions, HtfBuildResult, TokenizerSource } from "./types.ts";

/** What the worker is asked. */
export interface HtfWorkerRequest {
  /** Tokenizer folders and their domains. */
  sources: TokenizerSource[];
  /** {@link buildHtf}'s options. */
  options: HtfBuildOptions;
}

/** What the worker answers: the build's result, or its error. */
export type HtfWorkerReply =
  | { result: HtfBuildResult | null }
  | { error: { code: ErrorCode; message: string } };

/**
 * Builds the HTF blob as `buildHtf` does, in a worker of its own, with the same result and the
 * same errors; `signal` stops the worker and rejects with `ABORTED`.
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
  options: HtfBuildOptions = {},
  signal?: AbortSignal,
): Promise<HtfBuildResult | null> {
  const cancelled = () => new HeliosError("ABORTED", "Tokenizer build cancelled");
  if (signal?.aborted) throw cancelled();
  const worker = new Worker(new URL("./build_worker.ts", import.meta.url).href, { type: "module" });
  let onAbort = () => {};
  const reply = await new Promise<HtfWorkerReply>((resolve, reject) => {
    onAbort = () => reject(cancelled());
    signal?.addEventListener("abort", onAbort, { once: true });
    worker.onmessage = (e: MessageEvent<HtfWorkerReply>) => resolve(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault(); // else the error ends the whole process
      reject(new HeliosError("INTERNAL", `Internal error: tokenizer worker: ${e.message}`));
    };
    worker.postMessage({ sources, options } satisfies HtfWorkerRequest);
  }).finally(() => {
    signal?.removeEventListener("abort", onAbort);
    worker.terminate();
  });
  if ("error" in reply) throw new HeliosError(reply.error.code, reply.error.message);
  return reply.result;
}
