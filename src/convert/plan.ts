/**
 * A conversion is a plan first: every tensor's source, target name, block, dtype, shape and
 * size, plus what is not written and why. `--dry-run`, `inspect`, the progress bar and the
 * report all read this list; nothing re-derives it.
 *
 * @module
 */
import { assertInternal, HeliosError } from "../errors.ts";
import { BLOCK_NAMES, dtypeByteSize, type TensorDtype } from "../hnf/constants.ts";
import { checkMappedTensors, loadModelSpec, mapperFor } from "../model/mod.ts";
import type {
  MappedTensor,
  ModelSpec,
  TensorClass,
  TensorRole,
  TowerRole,
} from "../model/types.ts";
import type { RuntimeTarget } from "../runtime/formats.ts";
import {
  openSafetensorsFolder,
  type SafetensorsFolder,
  type SourceTensor,
} from "../safetensors/mod.ts";
import { checkEmbeddingChoice, chooseDtype, type EmbeddingChoice } from "./dtypes.ts";
import {
  parseOverrides,
  presetFor,
  type QuantChoice,
  type QuantPreset,
  tensorRole,
} from "./presets.ts";
import { completeTower } from "./synthesize.ts";

export type { EmbeddingChoice } from "./dtypes.ts";
export type { QuantChoice } from "./presets.ts";

/** `--lm-head`: write a separate `lm_head` for tied decoders (`copy`), or none (`tied`). */
export type LmHeadChoice = "copy" | "tied";

/** One model folder of the conversion. */
export interface PlannedTower {
  /** CLI slot. */
  role: TowerRole;
  /** Parsed config. */
  spec: ModelSpec;
  /** Open shards (closed by the runner). */
  folder: SafetensorsFolder;
}

/** One tensor to write. */
export interface PlannedTensor {
  /** Index of its tower in {@link ConversionPlan.towers}. */
  tower: number;
  /** Where the data comes from. */
  source: SourceTensor;
  /** Final name. */
  name: string;
  /** Target block id. */
  block: number;
  /** Mapper class. */
  class: TensorClass;
  /** Role that chose its preset format. */
  role: TensorRole;
  /** The name of the tensor this one is a copy of (same source, e.g. a tied `lm_head`). */
  copyOf?: string;
  /** Dtype written. */
  dtype: TensorDtype;
  /** Shape (the source shape, unchanged). */
  shape: number[];
  /** Element count. */
  numel: number;
  /** Payload bytes. */
  size: number;
  /** Why its dtype is not the preset's (row rule, hq31k row limit, an override), when so. */
  note?: string;
  /** Why the tensor is not the source's data as is (a copy, a constant, a saturated clamp). */
  origin?: string;
  /** Write this value in every element instead of reading `source` (a synthesized constant). */
  fill?: number;
}

/** A source tensor that is not written. */
export interface SkippedTensor {
  /** Shard path. */
  file: string;
  /** Source name. */
  name: string;
  /** Why. */
  reason: string;
}

/** Everything the conversion will do. */
export interface ConversionPlan {
  /** Model folders, in role order text, vision, audio, cortex, code. */
  towers: PlannedTower[];
  /** Tensors in write order (block id, then source order). */
  tensors: PlannedTensor[];
  /** Buffers deliberately not written (rotary caches, …). */
  ignored: SkippedTensor[];
  /** Tensors no mapper knows: listed, never dropped silently. */
  unmapped: SkippedTensor[];
  /** Weight-matrix format or preset (`--quant`). */
  quant: QuantChoice;
  /** Runtime generation written for. */
  target: RuntimeTarget;
  /** The preset's dtype per role. */
  preset: QuantPreset;
  /** Embedding format. */
  embeddings: EmbeddingChoice;
  /** Whether tied decoders get a separate `lm_head`. */
  lmHead: LmHeadChoice;
  /** Warnings for the report. */
  warnings: string[];
  /** Blocks written without padding between tensors (see {@link Mapper.denseBlocks}). */
  denseBlocks: number[];
  /** Total source bytes to read. */
  sourceBytes: number;
  /** Total tensor payload bytes to write. */
  outputBytes: number;
}

/** Inputs of {@link planConversion}. */
export interface PlanOptions {
  /** Model folders by role (the positional model is `text`). */
  models: Partial<Record<TowerRole, string>>;
  /**
   * Weight-matrix format or mixed preset (default "hq51k"; "hq5k"/"hq4k" without `target`
   * select the legacy runtime).
   */
  quant?: QuantChoice;
  /** Runtime generation (default "current", or "legacy" for `hq5k`/`hq4k`). */
  target?: RuntimeTarget;
  /** Embedding format (default "fp16"). */
  embeddings?: EmbeddingChoice;
  /**
   * Write the tensors that map even when some of a tower's do not (default false: a tower is
   * all or nothing, and one unmapped tensor fails the plan with `UNMAPPED_TENSORS`).
   */
  allowUnmapped?: boolean;
  /**
   * A separate `lm_head` for tied decoders (default "copy" for quantized current-runtime
   * output, else "tied").
   */
  lmHead?: LmHeadChoice;
  /** Per-tensor formats: glob on the HNF name → format, applied after the preset, last wins. */
  overrides?: Readonly<Record<string, string>>;
}

const ROLE_ORDER: TowerRole[] = ["text", "vision", "audio", "cortex", "code"];

const LEGACY_FORMATS = new Set<string>(["hq4k", "hq5k"]);
const DECODER_ROLES = new Set<TowerRole>(["text", "cortex", "code"]);

/**
 * The target, format preset, embedding format and lm_head policy of a conversion, with the
 * defaults filled in and every combination the target cannot run refused.
 *
 * @example
 * ```ts
 * import { resolveTarget } from "./plan.ts";
 * console.log(resolveTarget({ quant: "hq5k" }).target); // "legacy"
 * ```
 */
export function resolveTarget(
  options: Pick<PlanOptions, "quant" | "target" | "embeddings" | "lmHead">,
): {
  quant: QuantChoice;
  target: RuntimeTarget;
  preset: QuantPreset;
  embeddings: EmbeddingChoice;
  lmHead: LmHeadChoice;
} {
  const target = options.target ??
    (LEGACY_FORMATS.has(options.quant ?? "") ? "legacy" : "current");
  const quant = options.quant ?? (target === "legacy" ? "hq5k" : "hq51k");
  if (target !== "current" && target !== "legacy") {
    throw new HeliosError("BAD_OPTION", `Runtime must be 'current' or 'legacy', got '${target}'`);
  }
  const preset = presetFor(quant, target);
  const embeddings = options.embeddings ?? "fp16";
  checkEmbeddingChoice(embeddings, target);
  const lmHead = options.lmHead ??
    (target === "current" && quant !== "fp16" ? "copy" : "tied");
  if (lmHead !== "copy" && lmHead !== "tied") {
    throw new HeliosError("BAD_OPTION", `--lm-head must be 'copy' or 'tied', got '${lmHead}'`);
  }
  return { quant, target, preset, embeddings, lmHead };
}

/**
 * The mapped tensors of one tower with their copies expanded: the mapper's own
 * {@link MappedTensor.copies}, and with `--lm-head copy` a `lm_head` written from the token
 * embedding of a tied decoder.
 */
function expandCopies(
  mapped: { src: SourceTensor; m: MappedTensor }[],
  role: TowerRole,
  spec: ModelSpec,
  lmHead: LmHeadChoice,
): { src: SourceTensor; m: MappedTensor; copyOf?: string }[] {
  const out: { src: SourceTensor; m: MappedTensor; copyOf?: string }[] = [];
  for (const x of mapped) {
    out.push(x);
    for (const c of x.m.copies ?? []) out.push({ src: x.src, m: c, copyOf: x.m.name });
  }
  const tied = !out.some((x) => x.m.name.endsWith("lm_head.weight"));
  if (lmHead === "copy" && tied && spec.text && DECODER_ROLES.has(role)) {
    const emb = out.find((x) => x.m.embedding && x.m.name.endsWith(".token_embedding.weight"));
    if (emb) {
      const name = emb.m.name.replace(/token_embedding\.weight$/, "lm_head.weight");
      out.push({
        src: emb.src,
        m: { name, block: emb.m.block, class: "matrix", role: "lm_head" },
        copyOf: emb.m.name,
      });
    }
  }
  return out;
}

/** `--quant` choices that a family's certified preset stands for without a warning. */
const CERTIFIED_STANDS_FOR = new Set<string>(["fp16", "hq51k", "hq41k", "hq41k-m"]);

/**
 * The dtype context of one tower: a family whose runtime validator accepts only its certified
 * preset or all FP16 (Gemma 4, {@link Mapper.certifiedPreset}) gets that preset for any HQ
 * `--quant` (with a warning when the choice differs); `--override` still applies.
 */
function certifiedContext<C extends { target: RuntimeTarget; preset: QuantPreset }>(
  mapper: { certifiedPreset?: QuantChoice },
  ctx: C,
  quant: QuantChoice,
  spec: ModelSpec,
  warnings: string[],
): C {
  const certified = mapper.certifiedPreset;
  if (!certified || quant === "fp16") return ctx;
  if (!CERTIFIED_STANDS_FOR.has(quant)) {
    warnings.push(
      `${spec.dir}: ${spec.family} is written in the runtime's certified ${certified} preset ` +
        `(its validator accepts no other but FP16), not --quant ${quant}`,
    );
  }
  return { ...ctx, preset: presetFor(certified, ctx.target) };
}

/** The one-line refusal of a tower some of whose tensors no mapper knows. */
function unmappedError(tower: PlannedTower, unknown: SkippedTensor[]): HeliosError {
  const { family, modelType } = tower.spec;
  const label = family === "generic" && modelType
    ? `generic LLaMA-style (model_type "${modelType}")`
    : family;
  const first = unknown.slice(0, 3).map((u) => `'${u.name}'`).join(", ");
  return new HeliosError(
    "UNMAPPED_TENSORS",
    `${tower.spec.dir}: the ${label} mapper has no name for ${unknown.length} of its ` +
      `${tower.folder.tensors.length} tensors (${first}${unknown.length > 3 ? ", …" : ""}); ` +
      `a partial model would compute something else, so nothing was written ` +
      `(--allow-unmapped writes the rest)`,
  );
}

/**
 * Opens the model folders and builds the plan. On error every opened shard is closed. A tower
 * is all or nothing: an unmapped tensor fails the plan unless `allowUnmapped` is set.
 *
 * @example
 * ```ts ignore
 * import { planConversion } from "./plan.ts";
 * const plan = await planConversion({ models: { text: "models/llama" }, quant: "hq5k" });
 * console.log(plan.tensors.length);
 * ```
 */
export async function planConversion(options: PlanOptions): Promise<ConversionPlan> {
  const { quant, target, preset, embeddings, lmHead } = resolveTarget(options);
  const overrides = parseOverrides(options.overrides ?? {});
  const ctx = { target, preset, embeddings, overrides };
  const towers: PlannedTower[] = [];
  try {
    for (const role of ROLE_ORDER) {
      const dir = options.models[role];
      if (!dir) continue;
      const spec = await loadModelSpec(dir, role);
      const folder = await openSafetensorsFolder(dir);
      towers.push({ role, spec, folder });
    }
    if (towers.length === 0) {
      throw new HeliosError("BAD_OPTION", "No model given (pass a model folder or --text PATH)");
    }
    const tensors: PlannedTensor[] = [];
    const ignored: SkippedTensor[] = [];
    const unmapped: SkippedTensor[] = [];
    const warnings: string[] = [];
    const byName = new Map<string, SourceTensor>();
    const denseBlocks: number[] = [];
    for (const [ti, tower] of towers.entries()) {
      warnings.push(...tower.spec.warnings.map((w) => `${tower.spec.dir}: ${w}`));
      const mapper = mapperFor(tower.spec);
      const mapped: { src: SourceTensor; m: MappedTensor }[] = [];
      const unknown: SkippedTensor[] = [];
      for (const src of tower.folder.tensors) {
        const m = mapper.map(src.name, src.shape);
        if (m === null) {
          unknown.push({ file: src.file, name: src.name, reason: "no mapping for this name" });
        } else if ("ignore" in m) {
          ignored.push({ file: src.file, name: src.name, reason: m.ignore });
        } else mapped.push({ src, m });
      }
      if (mapped.length === 0) {
        throw new HeliosError(
          "UNSUPPORTED_MODEL",
          `${tower.spec.dir}: none of its ${tower.folder.tensors.length} tensors could be mapped for family '${tower.spec.family}'`,
        );
      }
      if (unknown.length > 0 && !options.allowUnmapped) throw unmappedError(tower, unknown);
      unmapped.push(...unknown);
      checkMappedTensors(
        mapped.map(({ src, m }) => ({
          file: src.file,
          source: src.name,
          shape: src.shape,
          mapped: m,
        })),
        mapper.required ?? [],
        tower.spec.dir,
      );
      const all = expandCopies(mapped, tower.role, tower.spec, lmHead);
      const tied = !all.some((x) => x.m.name.endsWith("lm_head.weight"));
      const { entries, warnings: madeWarnings } = await completeTower(mapper, tower, all);
      const towerCtx = certifiedContext(mapper, ctx, quant, tower.spec, warnings);
      for (const { src, m, copyOf, fill, note: why } of entries) {
        const other = byName.get(m.name);
        if (other) {
          throw new HeliosError(
            "UNSUPPORTED_MODEL",
            `Tensors '${other.name}' and '${src.name}' both map to '${m.name}'`,
          );
        }
        byName.set(m.name, src);
        if (src.numel === 0) {
          throw new HeliosError(
            "BAD_SAFETENSORS",
            `${src.file}: tensor '${src.name}' is empty (shape ${
              JSON.stringify(src.shape)
            }); the runtime rejects zero dimensions`,
          );
        }
        // A scalar is written as [1] (the older runtime reader rejects an empty shape, §13)
        // unless the mapper asks for a shape, `[]` included.
        const shape = m.shape ?? (src.shape.length ? src.shape.slice() : [1]);
        const numel = shape.reduce((a, b) => a * b, 1);
        assertInternal(fill !== undefined || numel === src.numel, `shape of '${m.name}'`);
        const role = tensorRole(m);
        const { dtype, note } = chooseDtype(
          { name: m.name, role, shape, tiedTable: role === "embedding" && tied },
          towerCtx,
        );
        tensors.push({
          tower: ti,
          source: src,
          name: m.name,
          block: m.block,
          class: m.class,
          role,
          copyOf,
          dtype,
          shape,
          numel,
          size: dtypeByteSize(dtype, numel)!,
          note,
          ...(why !== undefined ? { origin: why } : {}),
          ...(fill !== undefined ? { fill } : {}),
        });
      }
      if (mapper.denseBlocks) denseBlocks.push(...mapper.denseBlocks);
      if (mapper.orderByName) {
        const mine = tensors.filter((t) => t.tower === ti);
        mine.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        tensors.splice(tensors.length - mine.length, mine.length, ...mine);
      }
      warnings.push(...madeWarnings);
    }
    // Deterministic order: block id, then tower, then source order (shard, data offset); the
    // sort is stable, so tensors of one block keep the order they were pushed in.
    tensors.sort((a, b) => a.block - b.block);
    for (const t of tensors) {
      assertInternal(
        BLOCK_NAMES[t.block] && t.block < 0x9,
        `tensor '${t.name}' in block ${t.block}`,
      );
    }
    return {
      towers,
      tensors,
      ignored,
      unmapped,
      quant,
      target,
      preset,
      embeddings,
      lmHead,
      warnings,
      denseBlocks: [...new Set(denseBlocks)].sort((a, b) => a - b),
      sourceBytes: tensors.reduce(
        (s, t) => s + (t.fill === undefined ? t.source.byteLength : 0),
        0,
      ),
      outputBytes: tensors.reduce((s, t) => s + t.size, 0),
    };
  } catch (e) {
    for (const t of towers) t.folder.close();
    throw e;
  }
}
