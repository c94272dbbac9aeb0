/**
 * Renders conversion events on stderr: a live line on a terminal, plain lines otherwise.
 *
 * @module
 */
import type { ConvertEvent } from "../convert/progress.ts";
import { formatBytes, formatSeconds } from "./format.ts";

/** Options of {@link createProgressRenderer}. */
export interface RendererOptions {
  /** Print each tensor as it completes. */
  verbose: boolean;
  /** Use a live-updating line (stderr is a terminal). */
  tty: boolean;
  /** Where to write (default stderr). */
  write?: (s: string) => void;
}

/**
 * Returns an event handler that renders progress.
 *
 * @example
 * ```ts
 * import { createProgressRenderer } from "./progress.ts";
 * const lines: string[] = [];
 * const r = createProgressRenderer({ verbose: false, tty: false, write: (s) => lines.push(s) });
 * r.onEvent({ type: "warning", message: "x" });
 * console.log(lines[0]); // "warning: x\n"
 * ```
 */
export function createProgressRenderer(options: RendererOptions): {
  onEvent: (e: ConvertEvent) => void;
  finish: () => void;
} {
  const enc = new TextEncoder();
  const write = options.write ?? ((s: string) => Deno.stderr.writeSync(enc.encode(s)));
  let live = false;
  let lastPlain = -1;
  let lastDraw = 0;
  let downloading = "";
  let lastFilePlain = -1;
  const clear = () => {
    if (live) {
      write("\r\x1b[2K");
      live = false;
    }
  };
  return {
    onEvent(e) {
      switch (e.type) {
        case "warning":
          clear();
          write(`warning: ${e.message}\n`);
          return;
        case "plan":
          return;
        case "download": {
          // One bar per file: redrawn in place on a terminal, kept once the file is complete.
          const key = `${e.repo}/${e.file}`;
          if (key !== downloading) {
            clear();
            downloading = key;
            lastFilePlain = -1;
          }
          const done = e.bytesDone >= e.bytesTotal;
          const frac = e.bytesTotal > 0 ? e.bytesDone / e.bytesTotal : 1;
          const secs = e.elapsedMs / 1000;
          const rate = secs > 0 ? e.bytesDone / secs : 0;
          const fill = Math.round(frac * 20);
          const text = `${key}  [${"#".repeat(fill)}${".".repeat(20 - fill)}] ${
            formatBytes(e.bytesDone)
          } / ${formatBytes(e.bytesTotal)} (${(frac * 100).toFixed(0)}%)  ${formatBytes(rate)}/s${
            done ? "" : `  ETA ${formatSeconds((e.bytesTotal - e.bytesDone) / rate)}`
          }`;
          const now = performance.now();
          if (options.tty) {
            if (!done && now - lastDraw < 100) return;
            lastDraw = now;
            write(`\r\x1b[2K${text}`.slice(0, 160));
            live = !done;
            if (done) write("\n");
          } else {
            const decile = Math.floor(frac * 10);
            if (decile > lastFilePlain && (done || e.bytesTotal >= 64 << 20)) {
              lastFilePlain = decile;
              write(`${text}\n`);
            }
          }
          return;
        }
        case "tensor": {
          if (!options.verbose) return;
          clear();
          const t = e.tensor;
          const err = t.relRmse !== undefined ? `  rel.RMSE ${(t.relRmse * 100).toFixed(3)}%` : "";
          const note = t.note ? `  (${t.note})` : "";
          write(
            `  ${t.name}  ${t.dtype} [${t.shape.join(", ")}]  ${
              formatBytes(t.bytes)
            }${err}${note}\n`,
          );
          return;
        }
        case "progress": {
          const now = performance.now();
          const frac = e.bytesTotal > 0 ? e.bytesDone / e.bytesTotal : 1;
          const secs = e.elapsedMs / 1000;
          const rate = secs > 0 ? e.bytesDone / secs : 0;
          const eta = rate > 0 ? (e.bytesTotal - e.bytesDone) / rate : Infinity;
          const text = `[${e.tensorsDone}/${e.tensorsTotal} tensors] ${
            formatBytes(e.bytesDone)
          } / ${formatBytes(e.bytesTotal)} (${(frac * 100).toFixed(0)}%)  ${
            formatBytes(rate)
          }/s  ETA ${formatSeconds(eta)}`;
          if (options.tty) {
            if (now - lastDraw < 100 && e.tensorsDone < e.tensorsTotal) return;
            lastDraw = now;
            // The last frame ends its line, so the summary printed next starts on a fresh one.
            const last = e.tensorsDone >= e.tensorsTotal;
            write(`\r\x1b[2K${last ? text : `${text}  ${e.tensor}`.slice(0, 160)}`);
            live = !last;
            if (last) write("\n");
          } else {
            const decile = Math.floor(frac * 10);
            if (decile > lastPlain) {
              lastPlain = decile;
              write(`${text}\n`);
            }
          }
          return;
        }
      }
    },
    finish: clear,
  };
}
