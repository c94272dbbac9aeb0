/**
 * A model folder's safetensors shards: discovery (single file, index, or every `*.safetensors`
 * in name order), validation across shards, and bounded-memory reads of tensor data.
 *
 * @module
 */
import { HeliosError, quoteJson } from "../errors.ts";
import { fsError, openForRead, parseJson, readExactly, readRegularFile } from "../io.ts";
import { DECODABLE_DTYPES, decodeToF32, DTYPE_SIZES } from "./dtype.ts";
import {
  parseHeaderJson,
  readHeaderLength,
  type SafetensorsHeader,
  type SafetensorsTensorInfo,
} from "./header.ts";

/** A tensor of a model folder, with the shard it lives in. */
export interface SourceTensor extends SafetensorsTensorInfo {
  /** The shard's path. */
  file: string;
}

/** An opened model folder. Call {@link SafetensorsFolder.close} when done. */
export interface SafetensorsFolder {
  /** The folder. */
  dir: string;
  /** Shard paths in read order. */
  files: string[];
  /** Every tensor, shard by shard, in data order. */
  tensors: SourceTensor[];
  /** `__metadata__` of each shard, by path. */
  metadata: Record<string, Record<string, string>>;
  /** Total bytes of tensor data. */
  dataBytes: number;
  /**
   * Decodes elements `[start, start + count)` of a tensor into `out` (at element 0).
   * Reads only those bytes. Concurrent calls must pass distinct `scratch` buffers.
   */
  readF32(
    tensor: SourceTensor,
    start: number,
    count: number,
    out: Float32Array,
    scratch?: Uint8Array,
  ): Promise<void>;
  /**
   * Reads the raw little-endian bytes of elements `[start, start + count)` into `dst` (which
   * must hold them) and returns the filled part. Any dtype.
   */
  readRaw(tensor: SourceTensor, start: number, count: number, dst: Uint8Array): Promise<Uint8Array>;
  /** Closes every shard. */
  close(): void;
}

/**
 * Opens one safetensors file and validates its header.
 *
 * @example
 * ```ts ignore
 * import { readSafetensorsHeader } from "./folder.ts";
 * const header = await readSafetensorsHeader("model.safetensors");
 * ```
 */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const file = await openForRead(path, "BAD_SAFETENSORS");
  try {
    return await readHeaderFrom(file, path);
  } finally {
    file.close();
  }
}

async function readHeaderFrom(file: Deno.FsFile, path: string): Promise<SafetensorsHeader> {
  const size = (await file.stat()).size;
  const first = new Uint8Array(Math.min(8, size));
  await readExactly(file, 0, first, path, "BAD_SAFETENSORS");
  const n = readHeaderLength(first, size, path);
  const json = new Uint8Array(n);
  await readExactly(file, 8, json, path, "BAD_SAFETENSORS");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(json);
  } catch {
    throw new HeliosError("BAD_SAFETENSORS", `${path}: header is not valid UTF-8`);
  }
  return parseHeaderJson(text, 8 + n, size, path);
}

async function listShards(
  dir: string,
): Promise<{ files: string[]; index?: Record<string, string> }> {
  const single = `${dir}/model.safetensors`;
  const indexPath = `${dir}/model.safetensors.index.json`;
  let hasIndex = false;
  try {
    await Deno.lstat(indexPath);
    hasIndex = true; // a folder or FIFO of that name is refused by readRegularFile
  } catch { /* no index */ }
  if (hasIndex) {
    const bytes = await readRegularFile(indexPath, { code: "BAD_INDEX" });
    const parsed = parseJson(new TextDecoder().decode(bytes), indexPath, "BAD_INDEX");
    const wm = (parsed as { weight_map?: unknown })?.weight_map;
    if (typeof wm !== "object" || wm === null || Array.isArray(wm)) {
      throw new HeliosError("BAD_INDEX", `${indexPath}: 'weight_map' must be an object`);
    }
    const map: Record<string, string> = {};
    for (const [name, shard] of Object.entries(wm as Record<string, unknown>)) {
      if (
        typeof shard !== "string" || shard === "" || shard === "." || shard === ".." ||
        /[/\\\0]/.test(shard)
      ) {
        throw new HeliosError(
          "BAD_INDEX",
          `${indexPath}: tensor '${name}' has an invalid shard name ${quoteJson(shard)}`,
        );
      }
      map[name] = shard;
    }
    const files = [...new Set(Object.values(map))].sort().map((f) => `${dir}/${f}`);
    if (files.length === 0) {
      throw new HeliosError("BAD_INDEX", `${indexPath}: 'weight_map' lists no tensors`);
    }
    return { files, index: map };
  }
  try {
    if ((await Deno.stat(single)).isFile) return { files: [single] };
  } catch { /* fall through */ }
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".safetensors")) names.push(e.name);
    }
  } catch (e) {
    throw fsError(e, dir, "model folder not found");
  }
  if (names.length === 0) {
    throw new HeliosError("MISSING_FILE", `${dir}: no *.safetensors files found`);
  }
  names.sort();
  return { files: names.map((n) => `${dir}/${n}`) };
}

/**
 * Throws `UNSUPPORTED_DTYPE`, naming the tensor, unless its dtype can be decoded to f32.
 *
 * @example
 * ```ts ignore
 * import { assertDecodable } from "./folder.ts";
 * assertDecodable(folder.tensors[0]);
 * ```
 */
export function assertDecodable(tensor: SourceTensor): void {
  if (!DECODABLE_DTYPES.includes(tensor.dtype)) {
    throw new HeliosError(
      "UNSUPPORTED_DTYPE",
      `${tensor.file}: tensor '${tensor.name}' has dtype ${tensor.dtype}; only ${
        DECODABLE_DTYPES.join(", ")
      } can be converted`,
    );
  }
}

/**
 * Opens every shard of a model folder, validating each header and the index.
 *
 * @example
 * ```ts ignore
 * import { openSafetensorsFolder } from "./folder.ts";
 * const folder = await openSafetensorsFolder("models/llama");
 * console.log(folder.tensors.length);
 * folder.close();
 * ```
 */
export async function openSafetensorsFolder(dir: string): Promise<SafetensorsFolder> {
  const { files, index } = await listShards(dir);
  const handles = new Map<string, Deno.FsFile>();
  const tensors: SourceTensor[] = [];
  const metadata: Record<string, Record<string, string>> = {};
  const seen = new Map<string, string>();
  try {
    for (const path of files) {
      const file = await openForRead(path, "BAD_SAFETENSORS");
      handles.set(path, file);
      const header = await readHeaderFrom(file, path);
      metadata[path] = header.metadata;
      for (const t of header.tensors) {
        const other = seen.get(t.name);
        if (other) {
          throw new HeliosError(
            "BAD_SAFETENSORS",
            `${path}: tensor '${t.name}' is also in ${other}`,
          );
        }
        seen.set(t.name, path);
        tensors.push({ ...t, file: path });
      }
    }
    if (index) {
      const shardOf = (p: string) => p.slice(dir.length + 1);
      for (const [name, shard] of Object.entries(index)) {
        const at = seen.get(name);
        if (at === undefined) {
          throw new HeliosError(
            "BAD_INDEX",
            `${dir}/model.safetensors.index.json: tensor '${name}' is not in its shard ${shard}`,
          );
        }
        if (shardOf(at) !== shard) {
          throw new HeliosError(
            "BAD_INDEX",
            `${dir}/model.safetensors.index.json: tensor '${name}' is listed in ${shard} but found in ${
              shardOf(at)
            }`,
          );
        }
      }
    }
  } catch (e) {
    for (const h of handles.values()) h.close();
    throw e;
  }
  let scratch = new Uint8Array(0);
  const readRaw: SafetensorsFolder["readRaw"] = async (tensor, start, count, dst) => {
    const es = DTYPE_SIZES[tensor.dtype];
    const buf = dst.subarray(0, count * es);
    const handle = handles.get(tensor.file);
    if (!handle) throw new HeliosError("INTERNAL", `Shard ${tensor.file} is not open`);
    await readExactly(handle, tensor.offset + start * es, buf, tensor.file, "BAD_SAFETENSORS");
    return buf;
  };
  return {
    dir,
    files,
    tensors,
    metadata,
    dataBytes: tensors.reduce((s, t) => s + t.byteLength, 0),
    readRaw,
    async readF32(tensor, start, count, out, ownScratch) {
      assertDecodable(tensor);
      const bytes = count * DTYPE_SIZES[tensor.dtype];
      let buf = ownScratch;
      if (!buf || buf.length < bytes || buf.byteOffset % 4 !== 0) {
        if (scratch.length < bytes) scratch = new Uint8Array(Math.max(bytes, scratch.length * 2));
        buf = scratch;
      }
      const raw = await readRaw(tensor, start, count, buf);
      decodeToF32(tensor.dtype, raw, count, out, 0);
    },
    close() {
      for (const h of handles.values()) {
        try {
          h.close();
        } catch { /* already closed */ }
      }
    },
  };
}
