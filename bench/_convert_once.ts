/**
 * Child process of the conversion benchmarks: converts once and prints seconds, CPU seconds
 * (all threads), peak RSS (VmHWM) and the data phase's timings as JSON, so the parent measures
 * the conversion alone.
 *
 * Usage: deno run -A bench/_convert_once.ts MODEL OUT QUANT SEARCH THREADS
 *
 * @module
 */
import { convert, type ConvertTimings, type QuantChoice } from "../mod.ts";

const [model, out, quant, search, threads] = Deno.args;
const t0 = performance.now();
let timings: ConvertTimings | null = null;
const report = await convert({
  models: { text: model },
  output: out,
  quant: quant as QuantChoice,
  search: search === "fast" ? "fast" : "mse",
  threads: Number(threads),
  force: true,
  onEvent: (e) => {
    if (e.type === "timings") timings = e.timings;
  },
});
const seconds = (performance.now() - t0) / 1000;
const status = await Deno.readTextFile("/proc/self/status").catch(() => "");
const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
const q = report.tensors.filter((t) => t.relRmse !== undefined);
const numel = (t: { shape: number[] }) => t.shape.reduce((a, b) => a * b, 1);
const qElems = q.reduce((s, t) => s + numel(t), 0);
// utime and stime of every thread, in clock ticks (100 per second on Linux), from /proc rather
// than node:process, whose import (Node's compatibility layer) would add to the start-up measured.
const stat = await Deno.readTextFile("/proc/self/stat").catch(() => "");
const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
const cpu = { user: Number(fields[11]) * 1e4, system: Number(fields[12]) * 1e4 };
console.log(JSON.stringify({
  seconds,
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
  timings,
  peakRssBytes: hwm ? Number(hwm[1]) * 1024 : null,
  sourceBytes: report.sourceBytes,
  outputBytes: report.outputBytes,
  meanRelRmse: q.length ? q.reduce((s, t) => s + t.relRmse!, 0) / q.length : null,
  // Element-weighted: sqrt(Σ n·e² / Σ n), the figure a mixed preset must be compared on.
  rmsRelRmse: q.length
    ? Math.sqrt(q.reduce((s, t) => s + numel(t) * t.relRmse! ** 2, 0) / qElems)
    : null,
  // Bits per weight of the quantized matrices (bytes as written, super-block headers included).
  quantBitsPerWeight: q.length ? q.reduce((s, t) => s + t.bytes, 0) * 8 / qElems : null,
}));
