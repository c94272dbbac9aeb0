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
 * Opens `path` for reading; a missing file is MISSING_FILE, any other failure IO.
 *
 * @example
 * ```ts ignore
 * import { openForRead } from "./io.ts";
 * const file = await openForRead("model.safetensors");
 * file.close();
 * ```
 */
export async function openForRead(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true });
  } catch (e) {
    throw fsError(e, path);
  }
}

/**
 * Fills `buf` from `file` at byte `pos`; a file that ends first is an error `code` naming
 * `path` and the byte where it ended.
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
  await file.seek(pos, Deno.SeekMode.Start);
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
}
