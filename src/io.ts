/**
 * File reading shared by the safetensors, HNF and config readers: opening for reading and
 * reading an exact byte range, with failures turned into {@link HeliosError}s that name the path.
 *
 * @module
 */
import { type ErrorCode, HeliosError } from "./errors.ts";

/**
 * The {@link HeliosError} for a failed file-system call on `path`: MISSING_FILE (with `missing`
 * as the message) when it does not exist, IO otherwise.
 *
 * @example
 * ```ts
 * import { fsError } from "./io.ts";
 * console.log(fsError(new Deno.errors.NotFound(), "x.json").code); // "MISSING_FILE"
 * ```
 */
export function fsError(e: unknown, path: string, missing = "not found"): HeliosError {
  if (e instanceof Deno.errors.NotFound) {
    return new HeliosError("MISSING_FILE", `${path}: ${missing}`);
  }
  return new HeliosError("IO", `${path}: ${(e as Error).message}`);
}

/**
 * Opens `path` for reading; a missing file is MISSING_FILE, anything that is not a regular
 * file (a folder, a FIFO that would block, a device) is `code`, any other failure IO.
 *
 * @example
 * ```ts ignore
 * import { openForRead } from "./io.ts";
 * const file = await openForRead("model.safetensors", "BAD_SAFETENSORS");
 * file.close();
 * ```
 */
export async function openForRead(path: string, code: ErrorCode = "IO"): Promise<Deno.FsFile> {
  try {
    // Checked before opening: open(2) on a FIFO blocks until a writer appears.
    if (!(await Deno.stat(path)).isFile) {
      throw new HeliosError(code, `${path}: not a regular file`);
    }
    return await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof HeliosError) throw e;
    throw fsError(e, path);
  }
}

/**
 * Where each file's offset stands after the last {@link readExactly}, so that the next read
 * from there (the chunks of a tensor, one after the other) skips the seek: one system call and
 * one trip through the runtime's I/O threads fewer per chunk.
 */
const offsets = new WeakMap<Deno.FsFile, number>();

/**
 * Fills `buf` from `file` at byte `pos`; a file that ends first is an error `code` naming
 * `path` and the byte where it ended. Seeks only when the file's offset is not already `pos`
 * (all reads of a file must go through here).
 *
 * @example
 * ```ts ignore
 * import { openForRead, readExactly } from "./io.ts";
 * const file = await openForRead("model.safetensors");
 * const first = new Uint8Array(8);
 * await readExactly(file, 0, first, "model.safetensors", "BAD_SAFETENSORS");
 * ```
 */
export async function readExactly(
  file: Deno.FsFile,
  pos: number,
  buf: Uint8Array,
  path: string,
  code: ErrorCode,
): Promise<void> {
  // Unknown while the read is under way or after a failure: the next read then seeks.
  const at = offsets.get(file);
  offsets.delete(file);
  if (at !== pos) await file.seek(pos, Deno.SeekMode.Start);
  let got = 0;
  while (got < buf.length) {
    const n = await file.read(buf.subarray(got));
    if (n === null) {
      throw new HeliosError(
        code,
        `${path}: unexpected end of file at byte ${pos + got} (file truncated?)`,
      );
    }
    got += n;
  }
  offsets.set(file, pos + got);
}

/** Largest JSON file read whole (config, index, tokenizer files): far above any real one. */
export const MAX_JSON_BYTES = 256 << 20;

/**
 * Reads a whole small file (JSON, tokenizer model) after checking that it is a regular file no
 * larger than `limit`: a FIFO or a link to `/dev/zero` is refused instead of hanging. A missing
 * file is MISSING_FILE (with `missing` as the message); anything else unreadable is `code`.
 *
 * @example
 * ```ts ignore
 * import { readRegularFile } from "./io.ts";
 * const bytes = await readRegularFile("config.json", { code: "BAD_CONFIG" });
 * ```
 */
export async function readRegularFile(
  path: string,
  options: { code: ErrorCode; limit?: number; missing?: string },
): Promise<Uint8Array> {
  const limit = options.limit ?? MAX_JSON_BYTES;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    throw fsError(e, path, options.missing);
  }
  if (!info.isFile) {
    throw new HeliosError(options.code, `${path}: not a regular file`);
  }
  if (info.size > limit) {
    throw new HeliosError(
      options.code,
      `${path}: ${info.size} bytes is larger than the ${limit}-byte limit`,
    );
  }
  const file = await openForRead(path, options.code);
  try {
    // Read at most limit + 1 bytes whatever stat said: a file that grows is still bounded.
    const buf = new Uint8Array(Math.min(limit + 1, info.size + 1));
    let got = 0;
    while (got < buf.length) {
      const n = await file.read(buf.subarray(got));
      if (n === null) break;
      got += n;
    }
    if (got > limit || got > info.size) {
      throw new HeliosError(options.code, `${path}: grew while being read`);
    }
    return buf.subarray(0, got);
  } catch (e) {
    if (e instanceof HeliosError) throw e;
    throw new HeliosError(options.code, `${path}: cannot be read (${(e as Error).message})`);
  } finally {
    file.close();
  }
}

/**
 * Parses `text` as JSON; a syntax error becomes a one-line `code` error naming `path`.
 *
 * @example
 * ```ts
 * import { parseJson } from "./io.ts";
 * console.log(parseJson('{"a":1}', "x.json", "BAD_CONFIG")); // { a: 1 }
 * ```
 */
export function parseJson(text: string, path: string, code: ErrorCode): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HeliosError(code, `${path}: invalid JSON (${(e as Error).message})`);
  }
}
