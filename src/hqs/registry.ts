/**
 * Every HQS kernel by format: the legacy HQ4K/HQ5K ones and the compact ones.
 *
 * @module
 */
import { assertInternal, HeliosError } from "../errors.ts";
import { COMPACT_KERNELS } from "./compact.ts";
import type { HqsFormat, HqsKernel } from "./kernel.ts";
import { HQ4K_KERNEL, HQ5K_KERNEL } from "./legacy.ts";

function byFormat(list: readonly HqsKernel[]): Readonly<Record<HqsFormat, HqsKernel>> {
  const map: Partial<Record<HqsFormat, HqsKernel>> = {};
  for (const k of list) map[k.format] = k;
  for (const f of ["hq4k", "hq5k", "hq31k", "hq41k", "hq51k", "hq62k"] as const) {
    assertInternal(map[f], `no kernel for '${f}'`);
  }
  return Object.freeze(map as Record<HqsFormat, HqsKernel>);
}

/**
 * The kernel of every HQS format.
 *
 * @example
 * ```ts
 * import { KERNELS } from "./registry.ts";
 * console.log(KERNELS.hq5k.blockBytes); // 288
 * ```
 */
export const KERNELS: Readonly<Record<HqsFormat, HqsKernel>> = byFormat([
  HQ4K_KERNEL,
  HQ5K_KERNEL,
  ...COMPACT_KERNELS,
]);

/**
 * Returns the kernel of `format`, or throws `BAD_OPTION` for a name that is not an HQS format.
 *
 * @example
 * ```ts
 * import { getKernel } from "./registry.ts";
 * console.log(getKernel("hq4k").blockBytes); // 256
 * ```
 */
export function getKernel(format: HqsFormat): HqsKernel {
  const k = Object.hasOwn(KERNELS, format) ? KERNELS[format] : undefined;
  if (!k) {
    throw new HeliosError(
      "BAD_OPTION",
      `Unknown HQS format '${String(format)}'; expected one of ${Object.keys(KERNELS).join(", ")}`,
    );
  }
  return k;
}
