/**
 * Compact-header HQS formats (HQ3.1K, HQ4.1K, HQ5.1K, HQ6.2K), reference §7.5–§7.6.
 * Placeholder until the compact-format work lands.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import type { HqsKernel } from "./kernel.ts";

function unimplemented(format: HqsKernel["format"], blockBytes: number): HqsKernel {
  const fail = (): never => {
    throw new HeliosError("BAD_OPTION", `Format '${format}' is not implemented yet`);
  };
  return { format, blockBytes, encode: fail, decode: fail };
}

/** Compact kernels by dtype. */
export const COMPACT_KERNELS: readonly HqsKernel[] = [
  unimplemented("hq31k", 136),
  unimplemented("hq41k", 168),
  unimplemented("hq51k", 200),
  unimplemented("hq62k", 264),
];
