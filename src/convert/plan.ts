/**
 * A conversion is a plan first: every tensor's source, target name, block, dtype, shape and
 * size, plus what is not written and why. `--dry-run`, `inspect`, the progress bar and the
 * report all read this list; nothing re-derives it.
 *
 * @module
 */
import { assertInternal, HeliosError } from "../errors.ts";
import { BLOCK_NAMES, dtypeByteSize, type TensorDtype } from "../hnf/constants.ts";
import type { HqsFormat } from "../hqs/kernel.ts";
import { checkMappedTensors, loadModelSpec, mapperFor } from "../model/mod.ts";
import type { MappedTensor, ModelSpec, TensorClass, TowerRole } from "../model/types.ts";
import {
  openSafetensorsFolder,
  type SafetensorsFolder,
  type SourceTensor,
} from "../safetensors/mod.ts";

/** The weight-matrix format chosen with `--quant`. */
export type QuantChoice = "fp16" | HqsFormat;

/** The token-embedding format chosen with `--embeddings`. */
export type EmbeddingChoice = "fp16" | "hq62k" | "hq41k";

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
  /** Dtype written. */
  dtype: TensorDtype;
  /** Shape (the source shape, unchanged). */
  shape: number[];
  /** Element count. */
  numel: number;
  /** Payload bytes. */
  size: number;
  /** Why a matrix stays FP16 (row rule, not 2-D, …), when it does. */
  note?: string;
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
  /** Weight-matrix format. */
  quant: QuantChoice;
  /** Embedding format. */
  embeddings: EmbeddingChoice;
  /** Warnings for the report. */
  warnings: string[];
  /** Total source bytes to read. */
  sourceBytes: number;
  /** Total tensor payload bytes to write. */
  outputBytes: number;
}

/** Inputs of {@link planConversion}. */
export interface PlanOptions {
  /** Model folders by role (the positional model is `text`). */
  models: Partial<Record<TowerRole, string>>;
  /** Weight-matrix format (default "hq5k"). */
  quant?: QuantChoice;
  /** Embedding format (default "fp16"). */
  embeddings?: EmbeddingChoice;
  /**
   * Write the tensors that map even when some of a tower's do not (default false: a tower is
   * all or nothing, and one unmapped tensor fails the plan with `UNMAPPED_TENSORS`).
   */
  allowUnmapped?: boolean;
}

const ROLE_ORDER: TowerRole[] = ["text", "vision", "audio", "cortex", "code"];

/** Formats the runtime can run a matmul on (reference §7.6): a tied embedding needs one. */
const MATMUL_FORMATS = new Set<string>(["fp16", "hq4k", "hq5k", "hq31k", "hq41k", "hq51k"]);

/**
 * Decides the dtype of one mapped tensor, applying the mixed-precision rules and the row rule
 * (reference §9, §14, §15 item 1): HQ only for 2-D matrices whose row length is a multiple of
 * 256; everything else FP16 with a note.
 *
 * @example
 * ```ts
 * import { chooseDtype } from "./plan.ts";
 * console.log(chooseDtype({ class: "matrix" }, [896, 896], "hq5k", "fp16", false));
 * // { dtype: "fp16", note: "row length 896 is not a multiple of 256 (reference §15 item 1)" }
 * ```
 */
export function chooseDtype(
  mapped: Pick<MappedTensor, "class" | "embedding">,
  shape: number[],
  quant: QuantChoice,
  embeddings: EmbeddingChoice,
  tied: boolean,
): { dtype: TensorDtype; note?: string } {
  let want: TensorDtype = "fp16";
  if (mapped.embedding) {
    want = embeddings;
    if (want !== "fp16" && tied && !MATMUL_FORMATS.has(want)) {
      return {
        dtype: "fp16",
        note: `tied embedding is also the output matmul, which ${want} cannot run; kept fp16`,
      };
    }
  } else if (mapped.class === "matrix") want = quant;
  if (want === "fp16") return { dtype: "fp16" };
  if (shape.length !== 2) {
    return { dtype: "fp16", note: `${shape.length}-D tensor, HQ formats need a 2-D matrix` };
  }
  const k = shape[1];
  if (k % 256 !== 0) {
    return {
      dtype: "fp16",
      note: `row length ${k} is not a multiple of 256 (reference §15 item 1)`,
    };
  }
  return { dtype: want };
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
  const quant = options.quant ?? "hq5k";
  const embeddings = options.embeddings ?? "fp16";
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
      const tied = !mapped.some((x) => x.m.name.endsWith("lm_head.weight"));
      for (const { src, m } of mapped) {
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
        const { dtype, note } = chooseDtype(m, src.shape, quant, embeddings, tied);
        tensors.push({
          tower: ti,
          source: src,
          name: m.name,
          block: m.block,
          class: m.class,
          dtype,
          // A scalar is written as [1]: the older runtime reader rejects an empty shape (§13).
          shape: src.shape.length ? src.shape.slice() : [1],
          numel: src.numel,
          size: dtypeByteSize(dtype, src.numel)!,
          note,
        });
      }
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
      embeddings,
      warnings,
      sourceBytes: tensors.reduce((s, t) => s + t.source.byteLength, 0),
      outputBytes: tensors.reduce((s, t) => s + t.size, 0),
    };
  } catch (e) {
    for (const t of towers) t.folder.close();
    throw e;
  }
}
