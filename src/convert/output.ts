/**
 * Checks on the output path made before anything is written: the output must not be one of
 * the input files (which `--force` would silently overwrite) nor something other than a
 * regular file (a device or FIFO would be replaced by a regular file).
 *
 * @module
 */
import { HeliosError } from "../errors.ts";

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch {
    return null;
  }
}

function sameFile(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return a.dev !== null && a.ino !== null && a.dev === b.dev && a.ino === b.ino;
}

/**
 * Refuses an `output` that exists and is not a regular file, or that is (by device and inode,
 * so links count) one of the files in the model folders `dirs`.
 *
 * @example
 * ```ts ignore
 * import { checkOutputPath } from "./output.ts";
 * await checkOutputPath("out.hnf", ["models/llama"]);
 * ```
 */
export async function checkOutputPath(output: string, dirs: readonly string[]): Promise<void> {
  const out = await statOrNull(output);
  if (out === null) return;
  if (!out.isFile) {
    throw new HeliosError(
      "BAD_OPTION",
      `-o ${output} is not a regular file (a folder, device or FIFO); choose a file path`,
    );
  }
  for (const dir of dirs) {
    let entries: string[] = [];
    try {
      for await (const e of Deno.readDir(dir)) entries.push(`${dir}/${e.name}`);
    } catch {
      entries = [];
    }
    for (const path of entries) {
      const st = await statOrNull(path);
      if (st && sameFile(st, out)) {
        throw new HeliosError(
          "BAD_OPTION",
          `-o ${output} is the input file ${path}; choose another output path`,
        );
      }
    }
  }
}
