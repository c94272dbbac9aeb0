/**
 * Parsing and strict validation of one safetensors file header. The header is untrusted input:
 * every length and offset is checked before use.
 *
 * @module
 */
import { HeliosError, quoteJson } from "../errors.ts";
import { DTYPE_SIZES } from "./dtype.ts";

/** Largest header accepted (the reference implementation's limit is 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor as described by a safetensors header. */
export interface SafetensorsTensorInfo {
  /** Tensor name. */
  name: string;
  /** Safetensors dtype string (for example "BF16"). */
  dtype: string;
  /** Shape, row-major. */
  shape: number[];
  /** Element count. */
  numel: number;
  /** Absolute byte offset of the data in the file. */
  offset: number;
  /** Data length in bytes. */
  byteLength: number;
}

/** A parsed header. */
export interface SafetensorsHeader {
  /** Tensors in data-offset order. */
  tensors: SafetensorsTensorInfo[];
  /** `__metadata__`, kept as given. */
  metadata: Record<string, string>;
  /** Absolute offset of the data section. */
  dataStart: number;
}

/**
 * Reads the 8-byte header length from the first bytes of a file and checks it.
 *
 * @example
 * ```ts
 * import { readHeaderLength } from "./header.ts";
 * const b = new Uint8Array(8);
 * new DataView(b.buffer).setBigUint64(0, 2n, true);
 * console.log(readHeaderLength(b, 10, "x.safetensors")); // 2
 * ```
 */
export function readHeaderLength(first8: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8 || first8.length < 8) {
    throw new HeliosError(
      "BAD_SAFETENSORS",
      `${file}: file is ${fileSize} bytes, too short for a safetensors header`,
    );
  }
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n === 0n) throw new HeliosError("BAD_SAFETENSORS", `${file}: header length is 0`);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new HeliosError(
      "BAD_SAFETENSORS",
      `${file}: header length ${n} is larger than the ${MAX_HEADER_BYTES}-byte limit`,
    );
  }
  if (8n + n > BigInt(fileSize)) {
    throw new HeliosError(
      "BAD_SAFETENSORS",
      `${file}: header length ${n} runs past the end of the ${fileSize}-byte file`,
    );
  }
  return Number(n);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Parses and validates a header's JSON text against the file size.
 *
 * @example
 * ```ts
 * import { parseHeaderJson } from "./header.ts";
 * const json = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
 * const h = parseHeaderJson(json, 8 + json.length, 8 + json.length + 8, "m.safetensors");
 * console.log(h.tensors[0].numel); // 2
 * ```
 */
export function parseHeaderJson(
  json: string,
  dataStart: number,
  fileSize: number,
  file: string,
): SafetensorsHeader {
  // The Rust crate's rule: the header starts with '{' (no BOM, no leading space).
  if (!json.startsWith("{")) {
    throw new HeliosError(
      "BAD_SAFETENSORS",
      `${file}: header must start with '{', got ${quoteJson(json.slice(0, 8))}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw new HeliosError(
      "BAD_SAFETENSORS",
      `${file}: header is not valid JSON (${(e as Error).message})`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new HeliosError("BAD_SAFETENSORS", `${file}: header must be a JSON object`);
  }
  const dataSize = fileSize - dataStart;
  const tensors: SafetensorsTensorInfo[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw new HeliosError("BAD_SAFETENSORS", `${file}: __metadata__ must be an object`);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") {
          throw new HeliosError(
            "BAD_SAFETENSORS",
            `${file}: __metadata__ value ${quoteJson(k)} must be a string, got ${quoteJson(v)}`,
          );
        }
        if (!k.isWellFormed() || !v.isWellFormed()) {
          throw new HeliosError(
            "BAD_SAFETENSORS",
            `${file}: __metadata__ entry ${quoteJson(k)} is not valid UTF-16 (lone surrogate)`,
          );
        }
      }
      metadata = { ...(raw as Record<string, string>) };
      continue;
    }
    if (!name.isWellFormed()) {
      throw new HeliosError(
        "BAD_SAFETENSORS",
        `${file}: tensor name ${quoteJson(name)} is not valid UTF-16 (lone surrogate)`,
      );
    }
    const where = `${file}: tensor '${name}'`;
    if (typeof raw !== "object" || raw === null) {
      throw new HeliosError("BAD_SAFETENSORS", `${where}: entry must be an object`);
    }
    const { dtype, shape, data_offsets: offs } = raw as Record<string, unknown>;
    if (typeof dtype !== "string") {
      throw new HeliosError("BAD_SAFETENSORS", `${where}: missing dtype`);
    }
    const elemSize = DTYPE_SIZES[dtype];
    if (elemSize === undefined) {
      throw new HeliosError(
        "UNSUPPORTED_DTYPE",
        `${where}: unknown dtype '${dtype}' (known: ${Object.keys(DTYPE_SIZES).join(", ")})`,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) {
      throw new HeliosError(
        "BAD_SAFETENSORS",
        `${where}: shape must be an array of non-negative integers, got ${quoteJson(shape)}`,
      );
    }
    let numel = 1;
    for (const d of shape) numel *= d;
    if (!Number.isSafeInteger(numel)) {
      throw new HeliosError(
        "BAD_SAFETENSORS",
        `${where}: shape ${quoteJson(shape)} is too large`,
      );
    }
    if (
      !Array.isArray(offs) || offs.length !== 2 || !offs.every(isNonNegInt) || offs[0] > offs[1]
    ) {
      throw new HeliosError(
        "BAD_SAFETENSORS",
        `${where}: data_offsets must be [begin, end] with begin <= end, got ${quoteJson(offs)}`,
      );
    }
    const [begin, end] = offs as [number, number];
    if (end > dataSize) {
      throw new HeliosError(
        "BAD_SAFETENSORS",
        `${where}: data ends at byte ${dataStart + end} but the file has ${fileSize}`,
      );
    }
    if (end - begin !== numel * elemSize) {
      throw new HeliosError(
        "BAD_SAFETENSORS",
        `${where}: data is ${end - begin} bytes but shape ${quoteJson(shape)} × ${dtype} needs ${
          numel * elemSize
        }`,
      );
    }
    tensors.push({
      name,
      dtype,
      shape: shape as number[],
      numel,
      offset: dataStart + begin,
      byteLength: end - begin,
    });
  }
  tensors.sort((a, b) => a.offset - b.offset || a.byteLength - b.byteLength);
  // The Rust crate's rule: tensors tile the data section exactly, no overlap, no hole, nothing
  // after the last one.
  let end = dataStart;
  let prev = "";
  for (const cur of tensors) {
    if (cur.offset < end) {
      throw new HeliosError(
        "BAD_SAFETENSORS",
        `${file}: tensors '${prev}' and '${cur.name}' overlap in the data section`,
      );
    }
    if (cur.offset > end) {
      throw new HeliosError(
        "BAD_SAFETENSORS",
        `${file}: ${
          cur.offset - end
        } unused bytes before tensor '${cur.name}' (a hole at byte ${end})`,
      );
    }
    end = cur.offset + cur.byteLength;
    prev = cur.name;
  }
  if (end !== fileSize) {
    throw new HeliosError(
      "BAD_SAFETENSORS",
      `${file}: ${
        fileSize - end
      } bytes after the last tensor (data ends at byte ${end}, the file has ${fileSize})`,
    );
  }
  return { tensors, metadata, dataStart };
}
