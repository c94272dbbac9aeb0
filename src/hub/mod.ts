/**
 * Models named by Hub id (`org/name`, `org/name@revision`): found in the Hugging Face cache, or
 * downloaded into it (only the files the conversion reads) and returned as a local folder.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import type { TowerRole } from "../model/types.ts";
import {
  cachedCommit,
  CONFIG_FILE,
  exists,
  hfHome,
  hubCacheDir,
  INDEX_FILE,
  indexShards,
  linkSnapshotFile,
  OPTIONAL_FILES,
  recordSnapshot,
  type RepoStore,
  repoStore,
  snapshotDir,
  snapshotState,
} from "./cache.ts";
import { downloadBlob, type DownloadEvent } from "./download.ts";
import {
  DEFAULT_ENDPOINT,
  type HubClient,
  hubClient,
  listTopFiles,
  type RemoteFile,
  resolveCommit,
} from "./remote.ts";

export type { DownloadEvent } from "./download.ts";
export { hubCacheDir } from "./cache.ts";

/** Where and how to look for models given by Hub id. Unset fields come from the environment. */
export interface HubOptions {
  /** Branch, tag or commit for ids without `@revision` (default "main"). */
  revision?: string;
  /** Access token (default `HF_TOKEN`, then the token `hf auth login` stored). */
  token?: string;
  /** Hub URL (default `HF_ENDPOINT`, else https://huggingface.co). */
  endpoint?: string;
  /** Cache folder (default `HF_HUB_CACHE`, else `HF_HOME/hub`, else ~/.cache/huggingface/hub). */
  cacheDir?: string;
  /** Use the cache alone, never the network (default: `HF_HUB_OFFLINE` is 1/true/yes/on). */
  offline?: boolean;
  /** Cancels a download; what was fetched stays as `.incomplete` and is resumed next time. */
  signal?: AbortSignal;
  /** Download progress. */
  onEvent?: (e: DownloadEvent) => void;
  /** Pause before retry N of a broken download, times N (default 500 ms). */
  retryDelayMs?: number;
}

/** A parsed Hub id. */
export interface HubId {
  /** `org/name`. */
  repo: string;
  /** The `@revision` part, when given. */
  revision?: string;
}

// As huggingface_hub's validate_repo_id, with the namespace required: word characters, '.', '-'.
const PART = String.raw`\w(?:[\w.-]*\w)?`;
const REPO_RE = new RegExp(`^${PART}/${PART}$`);
const REVISION_RE = /^[\w.-]+(?:\/[\w.-]+)*$/;

/**
 * Parses `org/name` or `org/name@revision`; null when `s` has not that form (a local path).
 *
 * @example
 * ```ts
 * import { parseHubId } from "./mod.ts";
 * console.log(parseHubId("google/gemma-3-1b-it@main")); // { repo: "google/gemma-3-1b-it", revision: "main" }
 * console.log(parseHubId("./models/llama")); // null
 * ```
 */
export function parseHubId(s: string): HubId | null {
  const at = s.indexOf("@");
  const repo = at < 0 ? s : s.slice(0, at);
  const revision = at < 0 ? undefined : s.slice(at + 1);
  if (repo.length > 96 || !REPO_RE.test(repo) || /--|\.\./.test(repo)) return null;
  if (revision !== undefined && !validRevision(revision)) return null;
  return revision === undefined ? { repo } : { repo, revision };
}

function validRevision(r: string): boolean {
  return REVISION_RE.test(r) && !r.split("/").some((p) => p === "." || p === "..");
}

function envTrue(name: string): boolean {
  return ["1", "ON", "YES", "TRUE"].includes((Deno.env.get(name) ?? "").toUpperCase());
}

/** The token: `HF_TOKEN`, then the file `hf auth login` writes (`HF_TOKEN_PATH`). */
async function envToken(): Promise<string | undefined> {
  const env = Deno.env.get("HF_TOKEN") ?? Deno.env.get("HUGGING_FACE_HUB_TOKEN");
  if (env) return env.trim();
  try {
    const token = (await Deno.readTextFile(Deno.env.get("HF_TOKEN_PATH") ?? `${hfHome()}/token`))
      .trim();
    return token || undefined;
  } catch {
    return undefined;
  }
}

/** Whether a model id resolves without network: the cache alone (`HF_HUB_OFFLINE`). */
function offlineMode(options: HubOptions): boolean {
  return options.offline ?? (envTrue("HF_HUB_OFFLINE") || envTrue("TRANSFORMERS_OFFLINE"));
}

/**
 * Returns a local folder for `model`: `model` itself when that path exists (a local folder
 * wins) or when it is not of the form `org/name[@revision]`; otherwise the snapshot folder of
 * the Hub repository in the Hugging Face cache, downloading into it the files the conversion
 * reads (config, safetensors and index, tokenizer, generation and processor configs) when they
 * are not there yet. A complete cached snapshot is used without any request.
 *
 * @example
 * ```ts ignore
 * import { resolveModel } from "./mod.ts";
 * const dir = await resolveModel("google/gemma-3-1b-it", { token: "hf_…" });
 * console.log(dir); // ~/.cache/huggingface/hub/models--google--gemma-3-1b-it/snapshots/<commit>
 * ```
 */
export async function resolveModel(model: string, options: HubOptions = {}): Promise<string> {
  if (await exists(model)) return model;
  const id = parseHubId(model);
  if (id === null) return model;
  try {
    return await resolveHubId(id, options);
  } catch (e) {
    // A mistyped local path reads as a Hub id: say that it was looked for as a folder too.
    const lookup = ["HUB_AUTH", "HUB_NOT_FOUND", "NOT_CACHED"];
    if (
      e instanceof HeliosError &&
      (lookup.includes(e.code) || (e.code === "DOWNLOAD" && e.message.includes("cannot reach")))
    ) {
      throw new HeliosError(e.code, `${e.message} (and there is no local folder '${model}')`);
    }
    throw e;
  }
}

/** {@link resolveModel} for a parsed Hub id: the cache, then the Hub. */
async function resolveHubId(id: HubId, options: HubOptions): Promise<string> {
  const revision = id.revision ?? options.revision ?? "main";
  if (!validRevision(revision)) {
    throw new HeliosError("BAD_OPTION", `--revision: invalid revision '${revision}'`);
  }
  const store = repoStore(options.cacheDir ?? hubCacheDir(), id.repo);
  const offline = offlineMode(options);
  const cached = await cachedCommit(store, revision);
  const state = cached === null ? null : await snapshotState(store, cached);
  if (cached !== null && state !== null) {
    if (state.missing.length === 0 && (offline || state.unknown.length === 0)) {
      return snapshotDir(store, cached);
    }
    if (offline) {
      throw new HeliosError(
        "NOT_CACHED",
        `${id.repo}@${revision}: the cached snapshot ${cached} lacks ${
          state.missing.join(", ")
        } and HF_HUB_OFFLINE is set; unset it to download the rest`,
      );
    }
  } else if (offline) {
    throw new HeliosError(
      "NOT_CACHED",
      `${id.repo}@${revision} is not in the Hugging Face cache ${store.cache} and HF_HUB_OFFLINE is set; unset it to download the model`,
    );
  }
  const client = hubClient({
    endpoint: options.endpoint ?? Deno.env.get("HF_ENDPOINT") ?? DEFAULT_ENDPOINT,
    token: options.token ?? await envToken(),
    signal: options.signal,
  });
  let commit: string;
  try {
    commit = await resolveCommit(client, id.repo, revision);
  } catch (e) {
    // As huggingface_hub does: without the network, a usable cached snapshot serves.
    if (cached !== null && state?.missing.length === 0 && (e as HeliosError).code === "DOWNLOAD") {
      return snapshotDir(store, cached);
    }
    throw e;
  }
  const absent = await downloadSnapshot(client, store, { repo: id.repo, commit }, options);
  // Last: a ref is written only once its snapshot is complete.
  await recordSnapshot(store, revision, commit, absent);
  return snapshotDir(store, commit);
}

/**
 * Fetches what the conversion reads at `commit`: index, config and optional files first (a
 * failure there costs little), then the shards, skipping files the snapshot already has. Returns the optional files the
 * repository does not have.
 */
async function downloadSnapshot(
  client: HubClient,
  store: RepoStore,
  target: { repo: string; commit: string },
  options: HubOptions,
): Promise<string[]> {
  const { repo, commit } = target;
  const listed = await listTopFiles(client, repo, commit);
  const dir = snapshotDir(store, commit);
  const fetchFile = async (file: RemoteFile) => {
    if (await exists(`${dir}/${file.path}`)) return;
    await downloadBlob(client, store, { repo, commit, file }, options);
    await linkSnapshotFile(store, commit, file.path, file.etag);
  };
  const config = listed.get(CONFIG_FILE);
  if (!config) {
    throw new HeliosError(
      "MISSING_FILE",
      `${repo}@${commit.slice(0, 12)} has no ${CONFIG_FILE}; is it a transformers model?`,
    );
  }
  const weights = await weightFiles(listed, repo, commit, fetchFile, dir);
  await fetchFile(config);
  const absent: string[] = [];
  for (const name of OPTIONAL_FILES) {
    const f = listed.get(name);
    if (f) await fetchFile(f);
    else absent.push(name);
  }
  for (const f of weights) await fetchFile(f);
  return absent;
}

/** The shards to fetch: the index's (the index itself fetched first) or every `*.safetensors`. */
async function weightFiles(
  listed: Map<string, RemoteFile>,
  repo: string,
  commit: string,
  fetchFile: (f: RemoteFile) => Promise<void>,
  dir: string,
): Promise<RemoteFile[]> {
  const index = listed.get(INDEX_FILE);
  let names: string[];
  if (index) {
    await fetchFile(index);
    const where = `${repo}/${INDEX_FILE}`;
    names = indexShards(await Deno.readTextFile(`${dir}/${INDEX_FILE}`), where);
    const lacking = names.find((n) => !listed.has(n));
    if (lacking) {
      throw new HeliosError(
        "BAD_INDEX",
        `${where}: names the shard ${lacking}, which the repository does not have`,
      );
    }
  } else {
    names = [...listed.keys()].filter((n) => n.endsWith(".safetensors"));
  }
  if (names.length === 0) {
    const other = [...listed.keys()].filter((n) => /\.(bin|pt|pth|gguf)$/.test(n)).slice(0, 3);
    throw new HeliosError(
      "MISSING_FILE",
      `${repo}@${commit.slice(0, 12)} has no .safetensors weights${
        other.length ? ` (only ${other.join(", ")})` : ""
      }; this tool reads safetensors`,
    );
  }
  return names.map((n) => listed.get(n)!);
}

/**
 * {@link resolveModel} for every tower of a conversion.
 *
 * @example
 * ```ts ignore
 * import { resolveModels } from "./mod.ts";
 * const models = await resolveModels({ text: "org/name" }, {});
 * ```
 */
export async function resolveModels(
  models: Partial<Record<TowerRole, string>>,
  options: HubOptions,
): Promise<Partial<Record<TowerRole, string>>> {
  const out: Partial<Record<TowerRole, string>> = {};
  for (const [role, model] of Object.entries(models) as [TowerRole, string][]) {
    out[role] = model === undefined ? model : await resolveModel(model, options);
  }
  return out;
}
