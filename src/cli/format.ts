/**
 * Text formatting helpers of the command line: sizes, durations, tables, flags.
 *
 * @module
 */
import { HnfFlag } from "../hnf/constants.ts";

/**
 * Formats a byte count with binary units.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./format.ts";
 * console.log(formatBytes(1536)); // "1.5 KiB"
 * ```
 */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

/**
 * Formats seconds as `1h02m`, `3m05s` or `4.2s`.
 *
 * @example
 * ```ts
 * import { formatSeconds } from "./format.ts";
 * console.log(formatSeconds(185)); // "3m05s"
 * ```
 */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/**
 * Renders rows as an aligned text table (right-aligns numeric columns).
 *
 * @example
 * ```ts
 * import { table } from "./format.ts";
 * console.log(table(["a", "b"], [["x", "1"]]));
 * ```
 */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = head.map((_, i) =>
    rows.length > 0 && rows.every((r) => /^[\d.,%x-]*$/.test(r[i] ?? ""))
  );
  const line = (r: string[]) =>
    r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/**
 * Names the set flag bits of an HNF header.
 *
 * @example
 * ```ts
 * import { flagNames } from "./format.ts";
 * console.log(flagNames(0x0100)); // ["HAS_TOKENIZER"]
 * ```
 */
export function flagNames(flags: number): string[] {
  return Object.entries(HnfFlag).filter(([, bit]) => (flags & bit) !== 0).map(([name]) => name);
}
