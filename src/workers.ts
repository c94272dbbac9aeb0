/**
 * The worker plumbing the two pools share (hqs/pool.ts, convert/chunk_pool.ts): module workers
 * whose answers go to the pool and whose crashes become the pool's error instead of ending the
 * process.
 *
 * @module
 */
import { HeliosError } from "./errors.ts";

/**
 * Starts `count` module workers of `url`: each answer goes to `onReply`, an uncaught error in a
 * worker to `onCrash` as an `INTERNAL` error naming `what`.
 *
 * @example
 * ```ts
 * import { startWorkers } from "./workers.ts";
 * const url = new URL("./convert/chunk_worker.ts", import.meta.url);
 * const workers = startWorkers(url, 2, "conversion worker", console.log, console.error);
 * for (const w of workers) w.terminate();
 * ```
 */
export function startWorkers<R>(
  url: URL,
  count: number,
  what: string,
  onReply: (reply: R) => void,
  onCrash: (error: HeliosError) => void,
): Worker[] {
  const workers: Worker[] = [];
  for (let i = 0; i < count; i++) {
    const w = new Worker(url.href, { type: "module" });
    w.onmessage = (e: MessageEvent<R>) => onReply(e.data);
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault(); // else the error ends the whole process
      onCrash(new HeliosError("INTERNAL", `Internal error: ${what}: ${e.message}`));
    };
    workers.push(w);
  }
  return workers;
}
