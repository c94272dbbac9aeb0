/**
 * The actions behind each CLI command, kept apart from argument parsing.
 *
 * @module
 */
import { type ConversionReport, convert, type QuantChoice } from "../convert/mod.ts";
import type { ConvertEvent } from "../convert/progress.ts";
import { HeliosError } from "../errors.ts";
import { generateModel } from "../fixtures/mod.ts";
import { openHnf } from "../hnf/reader.ts";
import { parseQuantName } from "../hqs/mod.ts";
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
  embeddings?: "fp16" | "hq62k" | "hq41k";
  mse?: boolean;
  fast?: boolean;
  threads?: number;
  nonfinite?: "error" | "zero";
  tokenizer?: boolean;
  dryRun?: boolean;
  allowUnmapped?: boolean;
  json?: boolean;
  force?: boolean;
  verbose?: boolean;
}

const LEGACY_ONLY = new Set(["hq4k", "hq5k"]);

/** Signals that cancel a conversion (and remove its temp file) instead of killing it. */
const TERMINATION_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * Resolves `--quant` and `--runtime` into a format, with a clear error for combinations the
 * target runtime cannot load.
 *
 * @example
 * ```ts
 * import { resolveQuant } from "./commands.ts";
 * console.log(resolveQuant(undefined, "current")); // "hq51k"
 * ```
 */
export function resolveQuant(quant: string | undefined, runtime: string | undefined): QuantChoice {
  if (runtime !== undefined && runtime !== "current" && runtime !== "legacy") {
    throw new HeliosError(
      "BAD_OPTION",
      `--runtime must be 'current' or 'legacy', got '${runtime}'`,
    );
  }
  if (quant === undefined) return runtime === "current" ? "hq51k" : "hq5k";
  const q = parseQuantName(quant);
  if (runtime === "current" && LEGACY_ONLY.has(q)) {
    throw new HeliosError(
      "BAD_OPTION",
      `--quant ${quant} writes ${q}, which the current runtime rejects; use HQ5.1K or HQ4.1K`,
    );
  }
  if (runtime === "legacy" && (q === "hq31k" || q === "hq62k")) {
    throw new HeliosError(
      "BAD_OPTION",
      `--quant ${quant} writes ${q}, which the legacy runtime rejects`,
    );
  }
  return q;
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
  const fallbacks = r.tensors.filter((t) => t.note);
  if (fallbacks.length) {
    lines.push(`${fallbacks.length} weight matrices kept fp16:`);
    for (const t of fallbacks.slice(0, 10)) lines.push(`  ${t.name}: ${t.note}`);
    if (fallbacks.length > 10) lines.push(`  … and ${fallbacks.length - 10} more (see --json)`);
  }
  if (r.unmapped.length) {
    lines.push(`${r.unmapped.length} tensors not mapped, left out (--allow-unmapped):`);
    for (const u of r.unmapped.slice(0, 20)) lines.push(`  ${u.name} (${u.file})`);
  }
  const dtypes = [...new Set(r.tensors.map((t) => t.dtype))];
  const legacy = dtypes.some((d) => LEGACY_ONLY.has(d));
  const currentOnly = dtypes.some((d) => d === "hq31k" || d === "hq62k");
  lines.push(
    `loads in: ${
      legacy
        ? "the legacy HELIOS runtime only (hq4k/hq5k were retired on 2026-08-01; use --runtime current)"
        : currentOnly
        ? "the current HELIOS runtime only"
        : "current and legacy HELIOS runtimes"
    }`,
  );
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
  const quant = resolveQuant(opts.quant, opts.runtime);
  if (opts.embeddings === "hq62k" && opts.runtime === "legacy") {
    throw new HeliosError("BAD_OPTION", "--embeddings hq62k needs the current runtime");
  }
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
      embeddings: opts.embeddings,
      search: opts.fast || opts.mse === false ? "fast" : "mse",
      threads: opts.threads,
      force: opts.force,
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
            }  ← ${t.source}${t.note ? `  (${t.note})` : ""}`,
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
    const report = inspectReport(hnf, await inspectSections(hnf, errors));
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
