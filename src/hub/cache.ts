/**
 * The Hugging Face cache as Python's `huggingface_hub` lays it out, so that one cache serves
 * transformers, `hf download` and this tool:
 *
 * ```text
 * <cache>/models--org--name/
 *   refs/main                      the commit the branch pointed to (40 hex, no newline)
 *   blobs/<etag>                   file contents, named by sha256 (LFS) or git blob sha1
 *   blobs/<etag>.incomplete        a download in progress (never trusted, resumed)
 *   snapshots/<commit>/<file>      relative symlink ../../blobs/<etag>
 *   .no_exist/<commit>/<file>      empty marker: the file is known to be absent at that commit
 * <cache>/.locks/models--org--name/<etag>.lock
 * ```
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import { fsError, parseJson } from "../io.ts";

/** The file the conversion needs first; a snapshot without it is not usable. */
export const CONFIG_FILE = "config.json";

/** The shard index; when present, only the shards it names are read. */
export const INDEX_FILE = "model.safetensors.index.json";

/**
 * Small files the conversion reads when they exist: tokenizer, generation and processor
 * configs, chat templates (see src/htf/ and src/model/).
 */
export const OPTIONAL_FILES: readonly string[] = [
  "generation_config.json",
  "preprocessor_config.json",
  "processor_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "tokenizer.model",
  "spiece.model",
  "vocab.json",
  "merges.txt",
  "added_tokens.json",
  "special_tokens_map.json",
  "chat_template.jinja",
  "chat_template.json",
];

/** A 40-hex git commit id, as the Hub and the cache's snapshot folders name them. */
export const COMMIT_RE = /^[0-9a-f]{40}$/;

/** Blob names: a git blob sha1 (regular files) or a sha256 (LFS and Xet files). */
const ETAG_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * The Hub cache folder: `HF_HUB_CACHE`, else `HF_HOME/hub`, else `~/.cache/huggingface/hub`
 * (with `XDG_CACHE_HOME` honoured), as Python does. Written out as `@huggingface/hub` 2.17.5's
 * `getHFHubCachePath` does it, because importing that library costs about 0.1 s of start-up,
 * which a conversion of a local folder need not pay.
 *
 * @example
 * ```ts
 * import { hubCacheDir } from "./cache.ts";
 * console.log(hubCacheDir().endsWith("hub"));
 * ```
 */
export function hubCacheDir(): string {
  const env = (name: string) => Deno.env.get(name);
  return env("HF_HUB_CACHE") ?? env("HUGGINGFACE_HUB_CACHE") ?? join(hfHome(), "hub");
}

/**
 * The Hugging Face home folder (cache and token): `HF_HOME`, else
 * `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`.
 *
 * @example
 * ```ts
 * import { hfHome } from "./cache.ts";
 * console.log(hfHome().endsWith("huggingface") || Deno.env.has("HF_HOME"));
 * ```
 */
export function hfHome(): string {
  const env = (name: string) => Deno.env.get(name);
  return env("HF_HOME") ?? join(env("XDG_CACHE_HOME") ?? join(homeDir(), ".cache"), "huggingface");
}

// node:os and node:path would do, but loading Node's compatibility layer costs ≈ 15 ms of every
// start, and these two need only the environment and one separator.
function homeDir(): string {
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  if (home) return home;
  throw new HeliosError("BAD_OPTION", "Cannot find the home folder: set HOME or HF_HOME");
}

function join(...parts: string[]): string {
  const sep = Deno.build.os === "windows" ? "\\" : "/";
  return parts.map((p, i) => i === 0 ? p.replace(/[\\/]+$/, "") : p).join(sep);
}

/** Where one model repository lives in a cache. */
export interface RepoStore {
  /** The cache folder. */
  cache: string;
  /** `<cache>/models--org--name`. */
  dir: string;
  /** `models--org--name`. */
  folder: string;
}

/**
 * The cache folder of model repository `repo` (`org/name`).
 *
 * @example
 * ```ts
 * import { repoStore } from "./cache.ts";
 * console.log(repoStore("/c", "org/name").dir); // "/c/models--org--name"
 * ```
 */
export function repoStore(cache: string, repo: string): RepoStore {
  // As `@huggingface/hub`'s getRepoFolderName (see hubCacheDir).
  const folder = ["models", ...repo.split("/")].join("--");
  return { cache, dir: `${cache}/${folder}`, folder };
}

/**
 * The snapshot folder of `commit`.
 *
 * @example
 * ```ts
 * import { repoStore, snapshotDir } from "./cache.ts";
 * console.log(snapshotDir(repoStore("/c", "o/n"), "0".repeat(40)));
 * ```
 */
export function snapshotDir(store: RepoStore, commit: string): string {
  return `${store.dir}/snapshots/${commit}`;
}

/**
 * Checks that a blob name from the server is a hash, so that it cannot escape `blobs/`.
 *
 * @example
 * ```ts
 * import { checkEtag } from "./cache.ts";
 * checkEtag("a".repeat(64), "model.safetensors");
 * ```
 */
export function checkEtag(etag: string, file: string): string {
  if (!ETAG_RE.test(etag)) {
    throw new HeliosError(
      "DOWNLOAD",
      `${file}: the Hub gave the hash '${etag.slice(0, 80)}', expected 40 or 64 hex digits`,
    );
  }
  return etag;
}

/**
 * Whether `path` exists, following symlinks (a broken link does not exist).
 *
 * @example
 * ```ts ignore
 * import { exists } from "./cache.ts";
 * console.log(await exists("config.json"));
 * ```
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw fsError(e, path);
  }
}

/**
 * The commit `revision` names in the cache: the revision itself when it is a commit id with a
 * snapshot folder, else the content of `refs/<revision>`; null when the cache does not know it.
 *
 * @example
 * ```ts ignore
 * import { cachedCommit, repoStore } from "./cache.ts";
 * console.log(await cachedCommit(repoStore("/c", "o/n"), "main"));
 * ```
 */
export async function cachedCommit(store: RepoStore, revision: string): Promise<string | null> {
  if (COMMIT_RE.test(revision)) {
    return (await exists(snapshotDir(store, revision))) ? revision : null;
  }
  let text: string;
  try {
    text = await Deno.readTextFile(`${store.dir}/refs/${revision}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw fsError(e, `${store.dir}/refs/${revision}`);
  }
  const commit = text.trim();
  return COMMIT_RE.test(commit) ? commit : null;
}

/**
 * The shard names an index file lists (its `weight_map` values), in first-use order.
 *
 * @example
 * ```ts
 * import { indexShards } from "./cache.ts";
 * console.log(indexShards('{"weight_map":{"a":"m-1.safetensors"}}', "index")); // ["m-1.safetensors"]
 * ```
 */
export function indexShards(text: string, where: string): string[] {
  const map = (parseJson(text, where, "BAD_INDEX") as { weight_map?: unknown } | null)
    ?.weight_map;
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    throw new HeliosError("BAD_INDEX", `${where}: 'weight_map' must be an object`);
  }
  const shards = [...new Set(Object.values(map))];
  for (const s of shards) {
    if (typeof s !== "string" || !/^[\w.-]+\.safetensors$/.test(s) || s.includes("..")) {
      throw new HeliosError("BAD_INDEX", `${where}: invalid shard name ${JSON.stringify(s)}`);
    }
  }
  return shards as string[];
}

/** What a cached snapshot holds of what the conversion reads. */
export interface SnapshotState {
  /** Needed files that are absent (config, index shards, or "*.safetensors"). */
  missing: string[];
  /** Optional files neither present nor marked absent in `.no_exist/<commit>/`. */
  unknown: string[];
}

/**
 * Checks a snapshot: config and every weight shard present (links that resolve), and which
 * optional files are still unknown.
 *
 * @example
 * ```ts ignore
 * import { repoStore, snapshotState } from "./cache.ts";
 * const { missing } = await snapshotState(repoStore("/c", "o/n"), "0".repeat(40));
 * ```
 */
export async function snapshotState(store: RepoStore, commit: string): Promise<SnapshotState> {
  const dir = snapshotDir(store, commit);
  const missing: string[] = [];
  if (!(await exists(`${dir}/${CONFIG_FILE}`))) missing.push(CONFIG_FILE);
  if (await exists(`${dir}/${INDEX_FILE}`)) {
    const where = `${dir}/${INDEX_FILE}`;
    const text = await Deno.readTextFile(where).catch((e) => {
      throw fsError(e, where);
    });
    for (const s of indexShards(text, where)) {
      if (!(await exists(`${dir}/${s}`))) missing.push(s);
    }
  } else {
    let any = false;
    try {
      for await (const e of Deno.readDir(dir)) {
        if (e.name.endsWith(".safetensors") && (await exists(`${dir}/${e.name}`))) any = true;
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw fsError(e, dir);
    }
    if (!any) missing.push("*.safetensors");
  }
  const unknown: string[] = [];
  for (const f of OPTIONAL_FILES) {
    if (await exists(`${dir}/${f}`)) continue;
    if (await exists(`${store.dir}/.no_exist/${commit}/${f}`)) continue;
    unknown.push(f);
  }
  return { missing, unknown };
}

/**
 * Points `snapshots/<commit>/<file>` at `blobs/<etag>` with a relative symlink, as
 * `huggingface_hub` does (a copy where symlinks are not allowed).
 *
 * @example
 * ```ts ignore
 * import { linkSnapshotFile, repoStore } from "./cache.ts";
 * await linkSnapshotFile(repoStore("/c", "o/n"), "0".repeat(40), "config.json", "a".repeat(40));
 * ```
 */
export async function linkSnapshotFile(
  store: RepoStore,
  commit: string,
  file: string,
  etag: string,
): Promise<void> {
  const pointer = `${snapshotDir(store, commit)}/${file}`;
  // Made aside, then renamed over the pointer: two processes linking the same file never
  // write through each other's link into the blob.
  const temp = `${pointer}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.mkdir(pointer.slice(0, pointer.lastIndexOf("/")), { recursive: true });
    const target = `${"../".repeat(file.split("/").length + 1)}blobs/${etag}`;
    try {
      await Deno.symlink(target, temp);
    } catch {
      await Deno.copyFile(`${store.dir}/blobs/${etag}`, temp);
    }
    await Deno.rename(temp, pointer);
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw fsError(e, pointer);
  }
}

/**
 * Records what a download established: `refs/<revision>` (unless the revision is the commit)
 * and `.no_exist/<commit>/<file>` markers for optional files the repository does not have.
 *
 * @example
 * ```ts ignore
 * import { recordSnapshot, repoStore } from "./cache.ts";
 * await recordSnapshot(repoStore("/c", "o/n"), "main", "0".repeat(40), ["tokenizer.model"]);
 * ```
 */
export async function recordSnapshot(
  store: RepoStore,
  revision: string,
  commit: string,
  absent: readonly string[],
): Promise<void> {
  const noExist = `${store.dir}/.no_exist/${commit}`;
  try {
    if (absent.length) await Deno.mkdir(noExist, { recursive: true });
    for (const f of absent) await Deno.writeFile(`${noExist}/${f}`, new Uint8Array());
    if (revision !== commit) {
      const ref = `${store.dir}/refs/${revision}`;
      await Deno.mkdir(ref.slice(0, ref.lastIndexOf("/")), { recursive: true });
      // Write then rename: a reader never sees a half-written ref.
      await Deno.writeTextFile(`${ref}.tmp`, commit);
      await Deno.rename(`${ref}.tmp`, ref);
    }
  } catch (e) {
    throw fsError(e, store.dir);
  }
}
