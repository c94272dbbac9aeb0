/**
 * What the current HELIOS runtime (Hector-engine a540432) does with a file: the dtypes each
 * generation loads and each op runs, and the per-tower "runs in" report with its rules.
 *
 * ```ts
 * import { assessRuntime } from "./mod.ts";
 * const r = assessRuntime({ tensors: [], hints: null, tokenizer: null });
 * console.log(Object.keys(r).length); // 0
 * ```
 *
 * @module
 */
export * from "./formats.ts";
export * from "./report.ts";
