/**
 * What the conversion benchmarks share: command-line flags, the input files of a model, a
 * plain copy of them, and one conversion in a child process (`_convert_once.ts`).
 *
 * @module
 */
import type { ConvertTimings } from "../mod.ts";

/** The value of `--name`, or `fallback`. */
export function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : fallback;
}

/** The safetensors files of `model` and their total size. */
export function inputFiles(model: string): { files: string[]; bytes: number } {
  const files = [...Deno.readDirSync(model)].filter((e) => e.name.endsWith(".safetensors"))
    .map((e) => e.name);
  return { files, bytes: files.reduce((s, f) => s + Deno.statSync(`${model}/${f}`).size, 0) };
}

/** Seconds of a plain copy of `files` from `model` into `dir/copy` (removed afterwards). */
export async function timeCopy(model: string, files: string[], dir: string): Promise<number> {
  await Deno.mkdir(`${dir}/copy`, { recursive: true });
  const t0 = performance.now();
  for (const f of files) await Deno.copyFile(`${model}/${f}`, `${dir}/copy/${f}`);
  const s = (performance.now() - t0) / 1000;
  await Deno.remove(`${dir}/copy`, { recursive: true });
  return s;
}

/** What `_convert_once.ts` prints. */
export interface ConvertRun {
  /** Wall seconds of `convert()`. */
  seconds: number;
  /** Wall seconds of the whole process (start-up and exit included), measured by the parent. */
  processSeconds: number;
  /** CPU seconds of the process (all threads). */
  cpuSeconds: number;
  /** Peak RSS. */
  peakRssBytes: number | null;
  /** Source bytes of the plan. */
  sourceBytes: number;
  /** Bytes of the written file. */
  outputBytes: number;
  /** Mean relative RMSE of the quantized tensors. */
  meanRelRmse: number | null;
  /** Element-weighted RMS of their relative RMSEs. */
  rmsRelRmse: number | null;
  /** Bits per weight of the quantized matrices as written. */
  quantBitsPerWeight: number | null;
  /** The data phase's timings. */
  timings: ConvertTimings | null;
}

/**
 * Converts `model` once in a child process (so RSS and CPU time are its own), with this
 * checkout's code or, given `tree`, with the checkout in that folder (an earlier commit).
 */
export async function convertOnce(
  model: string,
  out: string,
  opts: { quant: string; search: string; threads: number; tree?: string },
): Promise<ConvertRun> {
  const t0 = performance.now();
  const r = await new Deno.Command(Deno.execPath(), {
    cwd: opts.tree,
    args: [
      "run",
      "-A",
      opts.tree
        ? `${opts.tree}/bench/_convert_once.ts`
        : new URL("./_convert_once.ts", import.meta.url).pathname,
      model,
      out,
      opts.quant,
      opts.search,
      String(opts.threads),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const processSeconds = (performance.now() - t0) / 1000;
  if (!r.success) throw new Error(`conversion ${opts.quant}/${opts.search} failed`);
  await Deno.remove(out).catch(() => {});
  const run = JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").pop()!);
  return { ...run, processSeconds };
}
