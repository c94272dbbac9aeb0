/**
 * The dtype of each planned tensor: the preset's format for its role, the row rule, the
 * `hq31k` row limit, then `--override`, each checked against what the target runtime's op for
 * that tensor runs (`src/runtime/formats.ts`).
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import type { TensorDtype } from "../hnf/constants.ts";
import type { TensorRole } from "../model/types.ts";
import {
  embeddingProblem,
  HQ31K_MAX_ROW,
  LOADABLE,
  LOOKUP_DTYPES,
  matmulProblem,
  type RuntimeTarget,
} from "../runtime/formats.ts";
import type { QuantPreset, TensorOverride } from "./presets.ts";

/** The token-embedding format chosen with `--embeddings` (the runtime's lookup set). */
export type EmbeddingChoice = "fp16" | "hq51k" | "hq62k";

/** Everything that decides dtypes, fixed for a whole plan. */
export interface DtypeContext {
  /** Runtime generation written for. */
  target: RuntimeTarget;
  /** `--quant` preset. */
  preset: QuantPreset;
  /** `--embeddings`. */
  embeddings: EmbeddingChoice;
  /** `--override`s in the order given (the last match wins). */
  overrides: readonly TensorOverride[];
}

/** One tensor as the dtype rules see it. */
export interface DtypeTensor {
  /** HNF name. */
  name: string;
  /** Role (`tensorRole`). */
  role: TensorRole;
  /** Shape. */
  shape: readonly number[];
  /** An embedding table that is also the logits matmul (tied, no `lm_head` written). */
  tiedTable: boolean;
}

/** The dtype decided for a tensor, with why it differs from what was asked, when it does. */
export interface DtypeDecision {
  /** Dtype to write. */
  dtype: TensorDtype;
  /** Why (row rule, hq31k row limit, an override), for the report. */
  note?: string;
}

/**
 * Checks `--embeddings` against the target's lookup op.
 *
 * @example
 * ```ts
 * import { checkEmbeddingChoice } from "./dtypes.ts";
 * checkEmbeddingChoice("hq62k", "current"); // fine
 * ```
 */
export function checkEmbeddingChoice(embeddings: string, target: RuntimeTarget): void {
  if (!LOOKUP_DTYPES[target].has(embeddings as TensorDtype)) {
    throw new HeliosError(
      "BAD_OPTION",
      `--embeddings ${embeddings}: the ${target} runtime's embedding lookup runs ${
        [...LOOKUP_DTYPES[target]].join(", ")
      } only${embeddings === "hq41k" ? " (no hq41k lookup kernel); use hq51k" : ""}`,
    );
  }
}

/**
 * Why `dtype` cannot be written for tensor `t` on `target` (loader, then the op that reads
 * it), or null when it can.
 *
 * @example
 * ```ts
 * import { dtypeProblem } from "./dtypes.ts";
 * const t = { name: "text.final_norm.weight", role: "fixed" as const, shape: [256], tiedTable: false };
 * console.log(dtypeProblem(t, "hq51k", "current")); // "a norm, bias or vector is read as fp16 only"
 * ```
 */
export function dtypeProblem(
  t: DtypeTensor,
  dtype: TensorDtype,
  target: RuntimeTarget,
): string | null {
  if (!LOADABLE[target].has(dtype)) return `the ${target} runtime cannot load ${dtype}`;
  if (dtype === "fp16") return null;
  if (t.role === "fixed") return "a norm, bias or vector is read as fp16 only";
  if (t.role === "embedding") return embeddingProblem(dtype, t.shape, target, t.tiedTable);
  return matmulProblem(dtype, t.shape, target);
}

/**
 * Decides the dtype of one tensor: the preset's format for its role (the row rule keeps a
 * matrix whose rows are not a multiple of 256 values FP16; on the current runtime an `hq31k`
 * matrix with rows over 16384 values is written `hq41k`), then the last matching override,
 * which must be runnable or the conversion is refused.
 *
 * @example
 * ```ts
 * import { chooseDtype } from "./dtypes.ts";
 * import { presetFor } from "./presets.ts";
 * const ctx = { target: "current" as const, preset: presetFor("hq31k", "current"), embeddings: "fp16" as const, overrides: [] };
 * const t = { name: "text.layer0.mlp.down.weight", role: "mlp" as const, shape: [3584, 18944], tiedTable: false };
 * console.log(chooseDtype(t, ctx).dtype); // "hq41k"
 * ```
 */
export function chooseDtype(t: DtypeTensor, ctx: DtypeContext): DtypeDecision {
  const decided = presetDtype(t, ctx);
  const o = ctx.overrides.findLast((o) => o.pattern.test(t.name));
  if (!o) return decided;
  const problem = dtypeProblem(t, o.dtype, ctx.target);
  if (problem) {
    throw new HeliosError("BAD_OPTION", `--override '${o.text}': ${t.name}: ${problem}`);
  }
  return { dtype: o.dtype, note: o.dtype === decided.dtype ? undefined : `--override ${o.text}` };
}

function presetDtype(t: DtypeTensor, ctx: DtypeContext): DtypeDecision {
  if (t.role === "fixed") return { dtype: "fp16" };
  const want = t.role === "embedding" ? ctx.embeddings : ctx.preset.formats[t.role];
  if (want === "fp16") return { dtype: "fp16" };
  if (t.shape.length !== 2) {
    return { dtype: "fp16", note: `${t.shape.length}-D tensor, HQ formats need a 2-D matrix` };
  }
  const k = t.shape[1];
  if (k % 256 !== 0) {
    return {
      dtype: "fp16",
      note: `row length ${k} is not a multiple of 256 (reference §15 item 1)`,
    };
  }
  if (t.role === "embedding") {
    const problem = embeddingProblem(want, t.shape, ctx.target, t.tiedTable);
    if (problem) {
      throw new HeliosError(
        "BAD_OPTION",
        `--embeddings ${want}: ${t.name}: ${problem}; use hq51k, or --lm-head copy`,
      );
    }
  }
  if (want === "hq31k" && ctx.target === "current" && k > HQ31K_MAX_ROW) {
    return {
      dtype: "hq41k",
      note:
        `rows of ${k} values: the runtime's hq31k matmul takes at most ${HQ31K_MAX_ROW}; written hq41k`,
    };
  }
  return { dtype: want };
}
