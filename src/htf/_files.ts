/**
 * File access for tokenizer folders: optional reads that return undefined for a missing file
 * and throw `BAD_TOKENIZER` naming the file for anything unreadable or malformed.
 *
 * @module
 */

import { HeliosError } from "../errors.ts";
import { readRegularFile } from "../io.ts";

/** A JSON object as parsed from an untrusted file. */
export type JsonObject = Record<string, unknown>;

/** Joins a folder and a file name with one slash. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/**
 * Reads a file's bytes, or undefined when it does not exist (or is a folder); a FIFO, a device
 * or a file beyond the JSON size limit is a `BAD_TOKENIZER` error, never a hang.
 */
export async function readBytesIf(path: string): Promise<Uint8Array | undefined> {
  try {
    if ((await Deno.stat(path)).isDirectory) return undefined;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new HeliosError("BAD_TOKENIZER", `${path}: cannot be read (${(err as Error).message})`);
  }
  return await readRegularFile(path, { code: "BAD_TOKENIZER" });
}

/** Reads a UTF-8 text file, or undefined when it does not exist. */
export async function readTextIf(path: string): Promise<string | undefined> {
  const bytes = await readBytesIf(path);
  if (bytes === undefined) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HeliosError("BAD_TOKENIZER", `${path}: is not valid UTF-8 text`);
  }
}

/** Reads a JSON file whose top level must be an object, or undefined when it does not exist. */
export async function readJsonObjectIf(path: string): Promise<JsonObject | undefined> {
  const text = await readTextIf(path);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HeliosError(
      "BAD_TOKENIZER",
      `${path}: is not valid JSON (${(err as Error).message})`,
    );
  }
  if (!isObject(value)) {
    throw new HeliosError("BAD_TOKENIZER", `${path}: top level must be a JSON object`);
  }
  return value;
}

/** Whether a value is a plain JSON object. */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A non-negative integer id that fits an i32, or undefined. */
export function asId(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0x7fffffff ? v : undefined;
}

/** The text of a token given as a string or as an AddedToken object `{content}`. */
export function tokenText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (isObject(v) && typeof v.content === "string") return v.content;
  return undefined;
}
