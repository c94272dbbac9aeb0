/**
 * The manifest JSON (§4), written so the runtime's textual scanner (§16) reads it right:
 * `tensors` is the first key, each entry starts with its six keys, nothing else says "tensors",
 * and no string holds a brace.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";

/** One tensor of the manifest (§4). */
export interface ManifestTensor {
  /** Final canonical name with its block prefix. */
  name: string;
  /** Block name (§3). */
  block: string;
  /** Absolute file offset of the payload. */
  offset: number;
  /** Payload size in bytes. */
  size: number;
  /** Dtype string. */
  dtype: string;
  /** Original shape. */
  shape: number[];
  /** Flat extra keys (never one of the six names above). */
  extra?: Record<string, string | number | boolean>;
}

const RESERVED = new Set(["name", "block", "offset", "size", "dtype", "shape"]);

function checkText(s: string, what: string) {
  if (/[{}]/.test(s)) {
    throw new HeliosError(
      "BAD_HNF",
      `${what} ${JSON.stringify(s)} contains a brace, which the runtime cannot parse`,
    );
  }
  // deno-lint-ignore no-control-regex
  if (/["\\\u0000-\u001f]/.test(s)) {
    throw new HeliosError(
      "BAD_HNF",
      `${what} ${JSON.stringify(s)} would need escaping, which the runtime does not decode`,
    );
  }
}

function scan(value: unknown, path: string) {
  if (typeof value === "string") {
    checkText(value, `Manifest value at ${path}`);
    if (value.includes('"tensors"') || value === "tensors") {
      throw new HeliosError("BAD_HNF", `Manifest value at ${path} must not say "tensors"`);
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => scan(v, `${path}[${i}]`));
  } else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === "tensors") {
        throw new HeliosError("BAD_HNF", `Manifest key 'tensors' may appear only once, at the top`);
      }
      checkText(k, `Manifest key at ${path}`);
      scan(v, `${path}.${k}`);
    }
  }
}

/**
 * Serialises the manifest: pretty-printed (2 spaces) like the reference, `tensors` first.
 *
 * @example
 * ```ts
 * import { encodeManifest } from "./manifest.ts";
 * const text = encodeManifest([{ name: "text.w", block: "text_model", offset: 608, size: 4, dtype: "fp16", shape: [2] }], { format: "HNFv9" });
 * console.log(text.indexOf('"tensors"') < text.indexOf('"format"')); // true
 * ```
 */
export function encodeManifest(
  tensors: readonly ManifestTensor[],
  rest: Record<string, unknown>,
): string {
  const names = new Set<string>();
  const entries = tensors.map((t) => {
    checkText(t.name, "Tensor name");
    if (names.has(t.name)) throw new HeliosError("BAD_HNF", `Duplicate tensor name '${t.name}'`);
    names.add(t.name);
    const e: Record<string, unknown> = {
      name: t.name,
      block: t.block,
      offset: t.offset,
      size: t.size,
      dtype: t.dtype,
      shape: t.shape,
    };
    for (const [k, v] of Object.entries(t.extra ?? {})) {
      if (RESERVED.has(k) || k === "tensors") {
        throw new HeliosError("BAD_HNF", `Extra tensor key '${k}' clashes with a manifest key`);
      }
      scan(v, `${t.name}.${k}`);
      e[k] = v;
    }
    return e;
  });
  scan(rest, "manifest");
  return JSON.stringify({ tensors: entries, ...rest }, null, 2);
}
