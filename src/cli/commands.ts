/**
 * The actions behind each CLI command, kept apart from argument parsing.
 *
 * @module
 */
import {
  type ConversionReport,
  convert,
  type EmbeddingChoice,
  type LmHeadChoice,
  type QuantChoice,
} from "../convert/mod.ts";
import { overridesFromCli, parseQuantChoice } from "../convert/presets.ts";
import type { RuntimeTarget } from "../runtime/formats.ts";
import { renderRuntime } from "../runtime/report.ts";
import type { ConvertEvent } from "../convert/progress.ts";
import { HeliosError } from "../errors.ts";
import { generateModel } from "../fixtures/mod.ts";
import { openHnf } from "../hnf/reader.ts";
import type { TowerRole } from "../model/types.ts";
import { formatBytes, formatSeconds } from "./format.ts";
import { inspectReport, renderInspect } from "./inspect.ts";
import { inspectSections } from "./sections.ts";

/** Options the convert command receives from the parser. */
export interface ConvertCliOptions {
  output?: string;
  text?: string;
  vision?: string;
  audio?: string;
  cortex?: string;
  code?: string;
  revision?: string;
  token?: string;
  quant?: string;
  runtime?: string;
  embeddings?: string;
  lmHead?: string;
  override?: string[];
  mse?: boolean;
  fast?: boolean;
  threads?: number;
  nonfinite?: "error" | "zero";
  tokenizer?: boolean;
  dryRun?: boolean;
  allowUnmapped?: boolean;
  json?: boolean;
  force?: boolean;
  fsync?: boolean;
  verbose?: boolean;
}

/** Signals that cancel a conversion (and remove its temp file) instead of killing it. */
const TERMINATION_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * Resolves `--quant` and `--runtime` (the plan fills the defaults: the current runtime with
 * HQ5.1K); asking for HQ5K/HQ4K without `--runtime` selects the legacy runtime, and `note`
 * says so in one line.
 *
 * @example
 * ```ts
 * import { resolveQuant } from "./commands.ts";
 * console.log(resolveQuant("HQ4.1K-M", undefined).quant); // "hq41k-m"
 * ```
 */
export function resolveQuant(
  quant: string | undefined,
  runtime: string | undefined,
): { quant?: QuantChoice; target?: RuntimeTarget; note?: string } {
  if (runtime !== undefined && runtime !== "current" && runtime !== "legacy") {
    throw new HeliosError(
      "BAD_OPTION",
      `--runtime must be 'current' or 'legacy', got '${runtime}'`,
    );
  }
  const q = quant === undefined ? undefined : parseQuantChoice(quant);
  const note = runtime === undefined && (q === "hq5k" || q === "hq4k")
    ? `--quant ${quant} writes ${q} for the legacy HELIOS runtime (the current one rejects it; use HQ5.1K or HQ4.1K for it)`
    : undefined;
  return { quant: q, target: runtime, note };
}

function summary(r: ConversionReport): string {
  const lines: string[] = [];
  const byDtype: Record<string, number> = {};
  for (const t of r.tensors) byDtype[t.dtype] = (byDtype[t.dtype] ?? 0) + 1;
  const models = r.models.map((m) => `${m.role}: ${m.dir} (${m.family}, by ${m.detectedBy})`);
  lines.push(...models);
  lines.push(
    `${r.dryRun ? "would write" : "wrote"} ${r.tensors.length} tensors (${
      Object.entries(byDtype).map(([d, n]) => `${n} ${d}`).join(", ")
    })${r.dryRun ? "" : ` to ${r.output}, ${formatBytes(r.outputBytes)}`} in ${
      formatSeconds(r.seconds)
    }`,
  );
  const q = r.tensors.filter((t) => t.relRmse !== undefined);
  if (q.length) {
    const mean = q.reduce((s, t) => s + t.relRmse!, 0) / q.length;
    const worst = q.reduce((w, t) => (t.relRmse! > w.relRmse! ? t : w));
    lines.push(
      `quantization error (RMSE/σ): mean ${(mean * 100).toFixed(2)}%, worst ${
        (worst.relRmse! * 100).toFixed(2)
      }% (${worst.name})`,
    );
  }
  const copies = r.tensors.filter((t) => t.copyOf);
  for (const t of copies) lines.push(`${t.name}: ${t.dtype} copy of ${t.copyOf}`);
  const fallbacks = r.tensors.filter((t) => t.note);
  if (fallbacks.length) {
    lines.push(`${fallbacks.length} tensors not in the preset's format:`);
    for (const t of fallbacks.slice(0, 10)) lines.push(`  ${t.name}: ${t.note}`);
    if (fallbacks.length > 10) lines.push(`  … and ${fallbacks.length - 10} more (see --json)`);
  }
  if (r.unmapped.length) {
    lines.push(`${r.unmapped.length} tensors not mapped, left out (--allow-unmapped):`);
    for (const u of r.unmapped.slice(0, 20)) lines.push(`  ${u.name} (${u.file})`);
  }
  lines.push(renderRuntime(r.runtime));
  return lines.join("\n");
}

/**
 * Runs a conversion from CLI options; wires Ctrl-C, SIGTERM and SIGHUP to cancellation.
 *
 * @example
 * ```ts ignore
 * import { runConvert } from "./commands.ts";
 * await runConvert("models/llama", { output: "llama.hnf" }, () => {});
 * ```
 */
export async function runConvert(
  model: string | undefined,
  opts: ConvertCliOptions,
  onEvent: (e: ConvertEvent) => void,
): Promise<ConversionReport> {
  const models: Partial<Record<TowerRole, string>> = {};
  const text = opts.text ?? model;
  if (text) models.text = text;
  for (const role of ["vision", "audio", "cortex", "code"] as const) {
    if (opts[role]) models[role] = opts[role];
  }
  if (Object.keys(models).length === 0) {
    throw new HeliosError(
      "BAD_OPTION",
      "No model given: pass a model folder or Hub id org/name (or --text MODEL)",
    );
  }
  if (!opts.output && !opts.dryRun) {
    throw new HeliosError("BAD_OPTION", "No output given: pass -o FILE.hnf");
  }
  const { quant, target, note } = resolveQuant(opts.quant, opts.runtime);
  if (note) console.error(`note: ${note}`);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  // Every usual termination signal cancels the same way, so the temp file is removed.
  const signals = TERMINATION_SIGNALS.filter((s) => Deno.build.os !== "windows" || s === "SIGINT");
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    const report = await convert({
      models,
      hub: { revision: opts.revision, token: opts.token },
      output: opts.output ?? "",
      quant,
      target,
      embeddings: opts.embeddings as EmbeddingChoice | undefined,
      lmHead: opts.lmHead as LmHeadChoice | undefined,
      overrides: overridesFromCli(opts.override ?? []),
      search: opts.fast || opts.mse === false ? "fast" : "mse",
      threads: opts.threads,
      force: opts.force,
      sync: opts.fsync,
      nonfinite: opts.nonfinite,
      tokenizer: opts.tokenizer,
      dryRun: opts.dryRun,
      allowUnmapped: opts.allowUnmapped,
      signal: controller.signal,
      onEvent,
    });
    if (opts.json) console.log(JSON.stringify(report, null, 2));
    else {
      if (opts.dryRun) {
        for (const t of report.tensors) {
          console.log(
            `${t.name}  ${t.dtype}  [${t.shape.join(", ")}]  ${
              formatBytes(t.bytes)
            }  ← ${t.source}${t.copyOf ? ` (copy of ${t.copyOf})` : ""}${
              t.note ? `  (${t.note})` : ""
            }`,
          );
        }
      }
      console.error(summary(report));
    }
    return report;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}

/**
 * Prints what is inside an HNF file; fails (after printing) when its tokenizer or hints block
 * does not decode.
 *
 * @example
 * ```ts ignore
 * import { runInspect } from "./commands.ts";
 * await runInspect("llama.hnf", { json: false, verify: true });
 * ```
 */
export async function runInspect(
  file: string,
  opts: { json: boolean; verify: boolean },
): Promise<void> {
  const hnf = await openHnf(file, { verifyChecksums: opts.verify });
  try {
    const errors: string[] = [];
    const { sections, runtime } = await inspectSections(hnf, errors);
    const report = inspectReport(hnf, sections, runtime);
    console.log(opts.json ? JSON.stringify(report, null, 2) : renderInspect(report));
    if (errors.length > 0) throw new HeliosError("BAD_HNF", `${file}: ${errors[0]}`);
  } finally {
    hnf.close();
  }
}

/**
 * Writes a synthetic model folder.
 *
 * @example
 * ```ts ignore
 * import { runGenerate } from "./commands.ts";
 * await runGenerate("demo/tiny", { arch: "llama", size: "tiny", dtype: "BF16", shards: 1, seed: 1 });
 * ```
 */
export async function runGenerate(
  dir: string,
  opts: {
    arch: string;
    size: "tiny" | "bench";
    dtype: "F32" | "F16" | "BF16";
    shards: number;
    seed: number;
    force?: boolean;
    layout?: "hf4" | "hf5";
    configGen?: "hf4" | "hf5";
  },
): Promise<void> {
  let exists = false;
  try {
    await Deno.stat(dir);
    exists = true;
  } catch { /* new */ }
  if (exists) {
    if (!opts.force) {
      throw new HeliosError("OUTPUT_EXISTS", `${dir} already exists (use --force to replace it)`);
    }
    await Deno.remove(dir, { recursive: true });
  }
  const t0 = performance.now();
  const m = await generateModel(dir, opts);
  console.error(
    `generated ${opts.arch} (${opts.size}, ${opts.dtype}${
      opts.layout ? `, ${opts.layout} layout` : ""
    }${
      opts.configGen ? `, ${opts.configGen} config` : ""
    }) in ${dir}: ${m.template.tensors.length} tensors, ${
      formatBytes(m.dataBytes)
    } in ${m.files.length} file(s), ${formatSeconds((performance.now() - t0) / 1000)}`,
  );
}
