/**
 * The one error class of the package. Every failure a user can act on carries a stable
 * {@link ErrorCode} and a one-line message that names the file, tensor or value at fault.
 *
 * @module
 */

/** Stable error codes, safe to match on in scripts and tests. */
export type ErrorCode =
  | "BAD_SAFETENSORS"
  | "BAD_INDEX"
  | "MISSING_FILE"
  | "BAD_CONFIG"
  | "UNSUPPORTED_MODEL"
  | "UNMAPPED_TENSORS"
  | "BAD_MODEL"
  | "UNSUPPORTED_DTYPE"
  | "NONFINITE"
  | "BAD_TOKENIZER"
  | "BAD_HNF"
  | "BAD_HTF"
  | "BAD_HINTS"
  | "BAD_OPTION"
  | "OUTPUT_EXISTS"
  | "IO"
  | "HUB_AUTH"
  | "HUB_NOT_FOUND"
  | "NOT_CACHED"
  | "DOWNLOAD"
  | "ABORTED"
  | "INTERNAL";

/**
 * An error with a stable code and a message a user can act on.
 *
 * @example
 * ```ts
 * import { HeliosError } from "./errors.ts";
 * const err = new HeliosError("BAD_CONFIG", "config.json: 'hidden_size' is missing");
 * console.log(err.code); // "BAD_CONFIG"
 * ```
 */
export class HeliosError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;

  /**
   * Creates an error.
   *
   * @param code Stable error code.
   * @param message One-line, sentence-case message naming what is wrong.
   * @param options Standard error options (for example `cause`).
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    // One line always: messages quote untrusted text (JSON parse errors quote the raw input).
    super(message.replace(/\r\n|[\r\n\u2028\u2029]/g, "\\n"), options);
    this.name = "HeliosError";
    this.code = code;
  }
}

/**
 * Throws a {@link HeliosError} with code `INTERNAL` unless `cond` holds.
 *
 * @example
 * ```ts
 * import { assertInternal } from "./errors.ts";
 * assertInternal(1 + 1 === 2, "arithmetic works");
 * ```
 *
 * @param cond The condition that must hold.
 * @param message What went wrong if it does not.
 */
export function assertInternal(cond: unknown, message: string): asserts cond {
  if (!cond) throw new HeliosError("INTERNAL", `Internal error: ${message}`);
}

/**
 * A short JSON rendering of an untrusted value for an error message: at most `max` characters,
 * and never a stack overflow on a deeply nested value.
 *
 * @example
 * ```ts
 * import { quoteJson } from "./errors.ts";
 * console.log(quoteJson([1, 2])); // "[1,2]"
 * ```
 */
export function quoteJson(value: unknown, max = 80): string {
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = "(a value nested too deeply to print)";
  }
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
