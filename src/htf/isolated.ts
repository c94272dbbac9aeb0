/**
 * {@link buildHtf} in a worker of its own, for large tokenizers: parsing their tokenizer.json
 * takes hundreds of MB of JavaScript heap (Gemma's 262 144-token file: ≈ 400 MiB peak), which a
 * worker returns to the system when it ends; in the converting thread that heap would stay
 * committed through the whole conversion, next to the conversion workers' own.
 *
 * @module
 */
import { type ErrorCode, HeliosError } from "../errors.ts";
import { startWorkers } from "../workers.ts";
import { joinPath } from "./_files.ts";
import { MODEL_FILES } from "./_model.ts";
import { buildHtf } from "./mod.ts";
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

/** Options of {@link buildHtfIsolated}. */
export interface HtfIsolatedOptions extends HtfBuildOptions {
  /**
   * Build on the calling thread instead, without a worker's start-up, when the sources'
   * vocabulary files hold at most this many bytes (default 0: always in a worker).
   */
  above?: number;
  /** Stops the worker; the call rejects with `ABORTED`. */
  signal?: AbortSignal;
}

/**
 * Builds the HTF blob as `buildHtf` does, in a worker of its own, with the same result and the
 * same errors.
 *
 * @example
 * ```ts ignore
 * import { buildHtfIsolated } from "./isolated.ts";
 * const htf = await buildHtfIsolated([{ dir: "models/gemma", domain: "text" }], { above: 8 << 20 });
 * console.log(htf?.summary.vocabSize);
 * ```
 */
export async function buildHtfIsolated(
  sources: TokenizerSource[],
  options: HtfIsolatedOptions = {},
): Promise<HtfBuildResult | null> {
  const { above = 0, signal, ...build } = options;
  if (above > 0 && await vocabularyBytes(sources) <= above) return buildHtf(sources, build);
  const cancelled = () => new HeliosError("ABORTED", "Tokenizer build cancelled");
  if (signal?.aborted) throw cancelled();
  let worker: Worker | undefined;
  let onAbort = () => {};
  const reply = await new Promise<HtfWorkerReply>((resolve, reject) => {
    onAbort = () => reject(cancelled());
    signal?.addEventListener("abort", onAbort, { once: true });
    [worker] = startWorkers(WORKER_URL, 1, "tokenizer worker", resolve, reject);
    worker.postMessage({ sources, options: build } satisfies HtfWorkerRequest);
  }).finally(() => {
    signal?.removeEventListener("abort", onAbort);
    worker?.terminate();
  });
  if ("error" in reply) throw new HeliosError(reply.error.code, reply.error.message);
  return reply.result;
}

const WORKER_URL = new URL("./build_worker.ts", import.meta.url);

/** Bytes of the vocabulary files in the sources' folders (a missing file counts 0). */
async function vocabularyBytes(sources: TokenizerSource[]): Promise<number> {
  let total = 0;
  for (const s of sources) {
    for (const name of MODEL_FILES) {
      total += await Deno.stat(joinPath(s.dir, name)).then(
        (st) => st.isFile ? st.size : 0,
        () => 0,
      );
    }
  }
  return total;
}
