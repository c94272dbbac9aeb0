/**
 * The conversion pipeline: plan, then read → quantize → write, with progress events, atomic
 * output and a report.
 *
 * @module
 */
import { BLOCK_NAMES, BlockId } from "../hnf/constants.ts";
import { HnfWriter } from "../hnf/writer.ts";
import type { HqsSearch } from "../hqs/kernel.ts";
import { type HubOptions, resolveModels } from "../hub/mod.ts";
import type { TowerRole } from "../model/types.ts";
import type { RuntimeTarget } from "../runtime/formats.ts";
import { assessRuntime, type RuntimeReport } from "../runtime/report.ts";
import { GENERATOR } from "../version.ts";
import { buildExtras, type ConversionExtras } from "./extras.ts";
import { checkOutputPath } from "./output.ts";
import {
  type ConversionPlan,
  type EmbeddingChoice,
  type LmHeadChoice,
  planConversion,
  type QuantChoice,
  type SkippedTensor,
} from "./plan.ts";
import type { ConvertEvent, TensorReport } from "./progress.ts";
import { ChunkPool } from "./chunk_pool.ts";
import { checkAbort, type NonfinitePolicy, writeTensors } from "./run.ts";
import { hasDirectF16 } from "./to_f16.ts";

export * from "./plan.ts";
export {
  checkEmbeddingChoice,
  chooseDtype,
  type DtypeContext,
  type DtypeDecision,
  dtypeProblem,
  type DtypeTensor,
} from "./dtypes.ts";
export * from "./presets.ts";
export type * from "./progress.ts";
export type { NonfinitePolicy } from "./run.ts";
export { buildExtras, type ConversionExtras } from "./extras.ts";

/** Options of {@link convert}. */
export interface ConvertOptions {
  /**
   * Models by role (the positional model of the CLI is `text`): local folders, or Hub ids
   * `org/name[@revision]` found in or downloaded to the Hugging Face cache (a folder wins).
   */
  models: Partial<Record<TowerRole, string>>;
  /** Revision, token, endpoint, cache and offline mode for Hub ids (default: environment). */
  hub?: Omit<HubOptions, "signal" | "onEvent">;
  /** Output .hnf path. */
  output: string;
  /**
   * Weight-matrix format or mixed preset (default "hq51k"; "hq5k"/"hq4k" without `target`
   * write for the legacy runtime).
   */
  quant?: QuantChoice;
  /** Runtime generation (default "current", "legacy" for `hq5k`/`hq4k`). */
  target?: RuntimeTarget;
  /** Token-embedding format: "fp16" (default), "hq51k" or "hq62k". */
  embeddings?: EmbeddingChoice;
  /** Tied decoders: write a separate `lm_head` ("copy", default when quantized) or not. */
  lmHead?: LmHeadChoice;
  /**
   * Per-tensor formats, glob on the HNF name → format (`{ "text.layer0.*": "fp16" }`), applied
   * after the preset; the last matching entry wins; refused when the runtime cannot run it.
   */
  overrides?: Readonly<Record<string, string>>;
  /** Parameter search: "mse" (default) or "fast". */
  search?: HqsSearch;
  /**
   * Worker threads (default `navigator.hardwareConcurrency`). A conversion that is FP16 from
   * BF16/F16 throughout runs on the calling thread instead: its SIMD conversion costs less than
   * starting workers.
   */
  threads?: number;
  /** Replace an existing output. */
  force?: boolean;
  /**
   * `fdatasync` the file before renaming it into place, so that it survives a power loss or an
   * OS crash right after the conversion (default false, as `cp`; slower: the disk's write speed).
   */
  sync?: boolean;
  /** NaN/Inf in weights: "error" (default) or "zero". */
  nonfinite?: NonfinitePolicy;
  /** Write the tokenizer block (default true). */
  tokenizer?: boolean;
  /** Only plan; write nothing. */
  dryRun?: boolean;
  /**
   * Write what maps when some tensors of a tower do not, and list them in the report (default
   * false: the conversion fails with `UNMAPPED_TENSORS` and writes nothing).
   */
  allowUnmapped?: boolean;
  /** Cancels the conversion; the output is not created. */
  signal?: AbortSignal;
  /** Progress and warning events. */
  onEvent?: (e: ConvertEvent) => void;
  /** Elements per read/quantize chunk (tuning; default 1 Mi). */
  chunkElements?: number;
}

/** What a conversion did. */
export interface ConversionReport {
  /** Output path (not written on a dry run). */
  output: string;
  /** Whether this was a dry run. */
  dryRun: boolean;
  /** Model folders with their detected family. */
  models: { role: TowerRole; dir: string; family: string; detectedBy: string }[];
  /** Weight-matrix format or preset. */
  quant: QuantChoice;
  /** Runtime generation written for. */
  target: RuntimeTarget;
  /** Whether tied decoders got a separate `lm_head`. */
  lmHead: LmHeadChoice;
  /** Per tower: does the current runtime load, run and chat with it, and why not. */
  runtime: RuntimeReport;
  /** Search used. */
  search: HqsSearch;
  /** Tensors written (planned, on a dry run, without error figures). */
  tensors: TensorReport[];
  /** Buffers not written on purpose. */
  ignored: SkippedTensor[];
  /** Tensors no mapper knows (listed, not written; only with `allowUnmapped`). */
  unmapped: SkippedTensor[];
  /** Tokenizer summary, or null. */
  tokenizer: Record<string, unknown> | null;
  /** Header flags. */
  flags: number;
  /** Warnings. */
  warnings: string[];
  /** Source tensor bytes. */
  sourceBytes: number;
  /** Output file bytes (0 on a dry run). */
  outputBytes: number;
  /** Wall-clock seconds. */
  seconds: number;
}

function sig6(x: number): number {
  return Number(x.toPrecision(6));
}

/** Counts items by key, keys in order of first appearance. */
function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

function plannedReports(plan: ConversionPlan): TensorReport[] {
  return plan.tensors.map((t) => ({
    name: t.name,
    source: t.source.name,
    dtype: t.dtype,
    shape: t.shape,
    bytes: t.size,
    clamped: 0,
    nonfiniteZeroed: 0,
    note: t.note,
    copyOf: t.copyOf,
    ...(t.origin ? { origin: t.origin } : {}),
  }));
}

/** The "runs in" report of what a plan will write, read from the same blocks as the file. */
function runtimeOf(plan: ConversionPlan, extras: ConversionExtras): RuntimeReport {
  const hints = extras.blocks.get(BlockId.EXECUTION_HINTS);
  return assessRuntime({
    tensors: plan.tensors,
    hints: hints ? JSON.parse(new TextDecoder().decode(hints)) : null,
    // The tokens the rules ask for, found when the block was built: reading the blob again
    // cost ≈ 0.3 s and tens of MB for Gemma's 262 144 tokens.
    tokenizer: extras.tokenizerTokens,
  });
}

/**
 * Converts Hugging Face model folders into one HNFv9.1 file.
 *
 * @example
 * ```ts ignore
 * import { convert } from "./mod.ts";
 * const report = await convert({ models: { text: "models/llama" }, output: "llama.hnf", quant: "hq5k" });
 * console.log(report.outputBytes);
 * ```
 */
export async function convert(options: ConvertOptions): Promise<ConversionReport> {
  const t0 = performance.now();
  const search = options.search ?? "mse";
  const threads = Math.max(1, Math.floor(options.threads ?? navigator.hardwareConcurrency ?? 1));
  const models = await resolveModels(options.models, {
    ...options.hub,
    signal: options.signal,
    onEvent: options.onEvent,
  });
  const plan = await planConversion({
    models,
    quant: options.quant,
    target: options.target,
    embeddings: options.embeddings,
    allowUnmapped: options.allowUnmapped,
    lmHead: options.lmHead,
    overrides: options.overrides,
  });
  const warn = (message: string) => options.onEvent?.({ type: "warning", message });
  // Two workers boot (isolate, modules, tables) while the tokenizer and hints are built, the
  // others with the first chunk: a large tokenizer's parse (hundreds of MiB in its own worker)
  // and every worker's memory would otherwise add up. FP16 from BF16/F16 alone runs on this
  // thread: its SIMD conversion (to_f16.ts) costs less than starting and stopping workers, and
  // reads and writes overlap it (chunk_pool.ts).
  const direct = plan.tensors.every((t) =>
    t.dtype === "fp16" && (t.fill !== undefined || hasDirectF16(t.source.dtype))
  );
  const pool = options.dryRun ? null : new ChunkPool(direct ? 0 : threads);
  pool?.start({ kernels: plan.tensors.some((t) => t.dtype !== "fp16"), workers: 2 });
  try {
    options.onEvent?.({ type: "plan", plan });
    for (const w of plan.warnings) warn(w);
    const planWarnings = [...plan.warnings];
    if (plan.unmapped.length > 0) {
      const w = `--allow-unmapped: ${plan.unmapped.length} tensor(s) not mapped and not written: ${
        plan.unmapped.slice(0, 5).map((u) => u.name).join(", ")
      }${plan.unmapped.length > 5 ? ", …" : ""}`;
      planWarnings.push(w);
      warn(w);
    }
    const extras = await buildExtras(plan, {
      tokenizer: options.tokenizer,
      signal: options.signal,
    });
    for (const w of extras.warnings) warn(w);
    const runtime = runtimeOf(plan, extras);
    const runtimeWarnings = Object.entries(runtime).flatMap(([tower, r]) =>
      r.rules.flatMap((id, i) => id === "rope-approximated" ? [`${tower}: ${r.reasons[i]}`] : [])
    );
    for (const w of runtimeWarnings) warn(w);
    const base = {
      output: options.output,
      models: plan.towers.map((t) => ({
        role: t.role,
        dir: t.spec.dir,
        family: t.spec.family,
        detectedBy: t.spec.detectedBy,
      })),
      quant: plan.quant,
      target: plan.target,
      lmHead: plan.lmHead,
      runtime,
      search,
      ignored: plan.ignored,
      unmapped: plan.unmapped,
      tokenizer: extras.tokenizer,
      flags: extras.flags,
      warnings: [...planWarnings, ...extras.warnings, ...runtimeWarnings],
      sourceBytes: plan.sourceBytes,
    };
    if (options.dryRun) {
      return {
        ...base,
        dryRun: true,
        tensors: plannedReports(plan),
        outputBytes: 0,
        seconds: (performance.now() - t0) / 1000,
      };
    }
    checkAbort(options.signal);
    await checkOutputPath(options.output, plan.towers.map((t) => t.spec.dir));
    const writer = await HnfWriter.create(options.output, {
      force: options.force,
      sync: options.sync,
    });
    try {
      const reports = await writeTensors(plan, writer, {
        search,
        pool: pool!,
        nonfinite: options.nonfinite ?? "error",
        signal: options.signal,
        onEvent: options.onEvent,
        chunkElements: options.chunkElements,
      });
      for (const id of [...extras.blocks.keys()].sort((a, b) => a - b)) {
        await writer.writeBlock(id, extras.blocks.get(id)!);
      }
      checkAbort(options.signal);
      const quantized = reports.filter((r) => r.relRmse !== undefined);
      const worst = quantized.reduce<TensorReport | null>(
        (w, r) => (w === null || r.relRmse! > w.relRmse! ? r : w),
        null,
      );
      await writer.finish({
        flags: extras.flags,
        manifest: {
          generator: GENERATOR,
          quantization: {
            default: plan.quant,
            embeddings: plan.embeddings,
            mse_search: search === "mse" && plan.tensors.some((t) => t.dtype !== "fp16"),
            hqs_version: "helios-convert-1",
          },
          stats: {
            total_tensors: reports.length,
            ...countBy(reports, (r) => r.dtype),
            skipped: plan.unmapped.length,
            ignored: plan.ignored.length,
          },
          quant_error: {
            metric: "rmse_over_population_sigma",
            quantized: quantized.length,
            // Six significant digits: the last bits of a float sum depend on the chunking,
            // and the file must not.
            mean_rel_rmse: sig6(
              quantized.length
                ? quantized.reduce((s, r) => s + r.relRmse!, 0) / quantized.length
                : 0,
            ),
            max_rel_rmse: sig6(worst?.relRmse ?? 0),
            worst: worst?.name ?? "",
          },
          blocks: countBy(plan.tensors, (t) => BLOCK_NAMES[t.block]),
          ...extras.manifest,
        },
      });
      return {
        ...base,
        dryRun: false,
        tensors: reports,
        outputBytes: (await Deno.stat(options.output)).size,
        seconds: (performance.now() - t0) / 1000,
      };
    } catch (e) {
      await writer.abort();
      throw e;
    }
  } finally {
    pool?.close();
    for (const t of plan.towers) t.folder.close();
  }
}
