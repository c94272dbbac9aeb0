/**
 * Which dtypes each runtime generation loads, and which each of its ops runs
 * (`runtime-contract.md` §2.2, §3.5). The plan, the `--override` checks and the "runs in"
 * report all read these tables, so they agree.
 *
 * @module
 */
import type { TensorDtype } from "../hnf/constants.ts";

/**
 * The runtime generation a file is written for: `current` (Hector-engine a540432, which retired
 * `hq4k`/`hq5k` on 2026-08-01) or `legacy` (the seed's runtime).
 */
export type RuntimeTarget = "current" | "legacy";

/** Dtypes each generation's loader accepts (contract §2.2; older: reference §7). */
export const LOADABLE: Readonly<Record<RuntimeTarget, ReadonlySet<TensorDtype>>> = {
  current: new Set<TensorDtype>(["fp16", "hq31k", "hq41k", "hq51k", "hq62k"]),
  legacy: new Set<TensorDtype>(["fp16", "hq4k", "hq5k", "hq41k", "hq51k"]),
};

/** Weight dtypes each generation's MATMUL runs (contract §3.5). */
export const MATMUL_DTYPES: Readonly<Record<RuntimeTarget, ReadonlySet<TensorDtype>>> = {
  current: new Set<TensorDtype>(["fp16", "hq31k", "hq41k", "hq51k"]),
  legacy: new Set<TensorDtype>(["fp16", "hq4k", "hq5k", "hq41k", "hq51k"]),
};

/**
 * Table dtypes each generation's EMBEDDING lookup runs (contract §3.5: not `hq41k`). The legacy
 * lookup is not documented beyond FP16, so nothing else is offered for it.
 */
export const LOOKUP_DTYPES: Readonly<Record<RuntimeTarget, ReadonlySet<TensorDtype>>> = {
  current: new Set<TensorDtype>(["fp16", "hq51k", "hq62k"]),
  legacy: new Set<TensorDtype>(["fp16"]),
};

/** Longest row (K) the current runtime's `hq31k` matmul takes (`matmul_hq31k.cu:179`). */
export const HQ31K_MAX_ROW = 16384;

/**
 * Why `dtype` cannot be the weight of a matmul on `target`, or null when it can: the op's dtype
 * set, the `hq31k` row limit, and the row rule of every HQ format (K a multiple of 256).
 *
 * @example
 * ```ts
 * import { matmulProblem } from "./formats.ts";
 * console.log(matmulProblem("hq31k", [896, 18944], "current"));
 * // "hq31k rows of 18944 values exceed the runtime's 16384-value hq31k matmul"
 * ```
 */
export function matmulProblem(
  dtype: TensorDtype,
  shape: readonly number[],
  target: RuntimeTarget,
): string | null {
  if (!MATMUL_DTYPES[target].has(dtype)) {
    return `the ${target} runtime's matmul does not run ${dtype} (it runs ${
      [...MATMUL_DTYPES[target]].join(", ")
    })`;
  }
  if (dtype === "fp16") return null;
  const k = shape[shape.length - 1];
  if (shape.length !== 2 || k % 256 !== 0) return rowProblem(dtype, shape);
  if (dtype === "hq31k" && k > HQ31K_MAX_ROW) {
    return `hq31k rows of ${k} values exceed the runtime's ${HQ31K_MAX_ROW}-value hq31k matmul`;
  }
  return null;
}

/**
 * Why `dtype` cannot be an embedding table on `target` (`alsoMatmul`: the table is tied, so
 * it is the logits matmul too), or null when it can.
 *
 * @example
 * ```ts
 * import { embeddingProblem } from "./formats.ts";
 * console.log(embeddingProblem("hq62k", [32000, 2048], "current", false)); // null
 * ```
 */
export function embeddingProblem(
  dtype: TensorDtype,
  shape: readonly number[],
  target: RuntimeTarget,
  alsoMatmul: boolean,
): string | null {
  if (!LOOKUP_DTYPES[target].has(dtype)) {
    return `the ${target} runtime's embedding lookup does not run ${dtype} (it runs ${
      [...LOOKUP_DTYPES[target]].join(", ")
    })`;
  }
  if (alsoMatmul) {
    const m = matmulProblem(dtype, shape, target);
    if (m) return `a tied table is also the logits matmul: ${m}`;
  }
  if (dtype === "fp16") return null;
  const k = shape[shape.length - 1];
  return shape.length !== 2 || k % 256 !== 0 ? rowProblem(dtype, shape) : null;
}

function rowProblem(dtype: TensorDtype, shape: readonly number[]): string {
  return shape.length !== 2
    ? `${dtype} needs a 2-D matrix, not shape [${shape.join(", ")}]`
    : `${dtype} needs rows of a multiple of 256 values, not ${shape[1]}`;
}
