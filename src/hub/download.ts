/**
 * One file from `resolve/<commit>/<file>` into `blobs/<etag>`: resumable (`blobs/<etag>.incomplete`
 * and a `Range` request, as `huggingface_hub` does), verified (size, and sha256 for LFS files or
 * the git blob sha1 otherwise, against what the Hub listed and announced in `X-Linked-Etag` /
 * `ETag`), and locked (`.locks/…/<etag>.lock`, the lock Python's `filelock` takes) so that two
 * processes never write one blob. `@huggingface/hub`'s `downloadFileToCacheDir` does none of
 * resuming, verifying or progress, and prints to stdout, hence this module.
 *
 * @module
 */
import type { Hash } from "node:crypto";
import { HeliosError } from "../errors.ts";
import { fsError } from "../io.ts";
import type { RepoStore } from "./cache.ts";
import { type HubClient, hubError, type RemoteFile, statusError } from "./remote.ts";

/** Emitted while a model file downloads (after each chunk, and once when it is complete). */
export interface DownloadEvent {
  /** Event kind. */
  type: "download";
  /** Hub id (`org/name`). */
  repo: string;
  /** File name in the repository. */
  file: string;
  /** Bytes of the file on disk so far (a resumed download starts above 0). */
  bytesDone: number;
  /** Size of the file. */
  bytesTotal: number;
  /** Milliseconds since this file's download started. */
  elapsedMs: number;
}

/** Tries per file when the connection breaks; each resumes where the last one stopped. */
const ATTEMPTS = 5;

/** Redirects followed per request (the Hub sends LFS files to a storage host). */
const MAX_REDIRECTS = 5;

/** Normalizes an ETag as `huggingface_hub` does: no weak prefix, no quotes. */
function normalizeEtag(etag: string | null): string | null {
  return etag === null ? null : etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}

/**
 * The Hub's own answer (the last response from the endpoint's origin, as huggingface_hub reads
 * metadata after relative redirects only) and the response that carries the bytes.
 */
interface Fetched {
  hub: Response;
  body: Response;
}

async function request(client: HubClient, url: string, start: number): Promise<Fetched> {
  const headers: Record<string, string> = { "accept-encoding": "identity" };
  if (start > 0) headers.range = `bytes=${start}-`;
  const origin = new URL(client.endpoint).origin;
  let hub: Response | null = null;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await client.fetch(url, { headers, redirect: "manual" });
    if (hub === null || new URL(url).origin === origin) hub = res;
    const location = res.headers.get("location");
    if (res.status < 300 || res.status >= 400 || location === null) return { hub, body: res };
    await res.body?.cancel();
    url = new URL(location, url).href;
  }
  throw new HeliosError("DOWNLOAD", `${url}: more than ${MAX_REDIRECTS} redirects`);
}

/** A hasher fed with what is already on disk, and the byte count. */
async function hashExisting(
  path: string,
  file: RemoteFile,
): Promise<{ hasher: Hash; have: number }> {
  // Native hashing (node:crypto, with the CPU's SHA instructions): about 5× hash-wasm's sha256.
  // Imported here, on the first download: loading it costs ≈ 30 ms of every start otherwise.
  const { createHash } = await import("node:crypto");
  const hasher = createHash(file.lfs ? "sha256" : "sha1");
  // A git blob id hashes a "blob <size>\0" prefix before the contents.
  if (!file.lfs) hasher.update(`blob ${file.size}\0`);
  let have = 0;
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { hasher, have };
    throw fsError(e, path);
  }
  try {
    for await (const chunk of f.readable) {
      const take = Math.min(chunk.length, file.size - have);
      hasher.update(chunk.subarray(0, take));
      have += take;
      if (take < chunk.length) break;
    }
  } catch (e) {
    throw fsError(e, path);
  }
  // Bytes past the announced size cannot be right: keep only the prefix.
  if ((await Deno.stat(path)).size > have) await Deno.truncate(path, have);
  return { hasher, have };
}

/** Checks the Hub's headers against the listing: same commit, same blob, same size. */
function checkAnnounced(hub: Response, file: RemoteFile, commit: string, where: string): void {
  const repoCommit = hub.headers.get("x-repo-commit");
  if (repoCommit !== null && repoCommit !== commit) {
    throw new HeliosError(
      "DOWNLOAD",
      `${where}: the Hub served commit ${repoCommit}, expected ${commit}; run again`,
    );
  }
  const etag = normalizeEtag(hub.headers.get("x-linked-etag") ?? hub.headers.get("etag"));
  if (etag !== null && etag !== file.etag) {
    throw new HeliosError(
      "DOWNLOAD",
      `${where}: the Hub announced ETag ${etag}, but listed ${file.etag}; run again`,
    );
  }
  const size = hub.headers.get("x-linked-size");
  if (size !== null && Number(size) !== file.size) {
    throw new HeliosError(
      "DOWNLOAD",
      `${where}: the Hub announced ${size} bytes, but listed ${file.size}`,
    );
  }
}

/** Options of {@link downloadBlob}. */
export interface DownloadBlobOptions {
  /** Progress callback. */
  onEvent?: (e: DownloadEvent) => void;
  /** Milliseconds to wait before retry N (times N); default 500. */
  retryDelayMs?: number;
}

/**
 * Makes `blobs/<etag>` of `file` present and verified, downloading what is missing.
 *
 * @example
 * ```ts ignore
 * import { downloadBlob } from "./download.ts";
 * await downloadBlob(client, store, { repo: "o/n", commit, file });
 * ```
 */
export async function downloadBlob(
  client: HubClient,
  store: RepoStore,
  target: { repo: string; commit: string; file: RemoteFile },
  options: DownloadBlobOptions = {},
): Promise<void> {
  const { repo, commit, file } = target;
  const blob = `${store.dir}/blobs/${file.etag}`;
  const lockDir = `${store.cache}/.locks/${store.folder}`;
  let lock: Deno.FsFile;
  try {
    await Deno.mkdir(`${store.dir}/blobs`, { recursive: true });
    await Deno.mkdir(lockDir, { recursive: true });
    lock = await Deno.open(`${lockDir}/${file.etag}.lock`, { write: true, create: true });
    await lock.lock(true);
  } catch (e) {
    throw fsError(e, lockDir);
  }
  try {
    try {
      if ((await Deno.stat(blob)).size === file.size) return;
    } catch { /* not there yet */ }
    await fetchVerified(client, blob, { repo, commit, file }, options);
  } finally {
    lock.close();
  }
}

async function fetchVerified(
  client: HubClient,
  blob: string,
  target: { repo: string; commit: string; file: RemoteFile },
  options: DownloadBlobOptions,
): Promise<void> {
  const { repo, commit, file } = target;
  const where = `${repo}/${file.path}`;
  const partial = `${blob}.incomplete`;
  const url = `${client.endpoint}/${repo}/resolve/${commit}/${encodeURIComponent(file.path)}`;
  const t0 = performance.now();
  const progress = (done: number) =>
    options.onEvent?.({
      type: "download",
      repo,
      file: file.path,
      bytesDone: done,
      bytesTotal: file.size,
      elapsedMs: performance.now() - t0,
    });
  let { hasher, have } = await hashExisting(partial, file);
  let resumed = have > 0;
  let failure = "no complete copy";
  for (let attempt = 1; attempt <= ATTEMPTS + 1; attempt++) {
    if (have === file.size) {
      const digest = hasher.digest("hex");
      if (digest === file.etag) break;
      await Deno.remove(partial);
      if (!resumed) {
        throw new HeliosError(
          "DOWNLOAD",
          `${where}: downloaded ${file.size} bytes hash to ${digest}, expected ${file.etag}; removed them, run again`,
        );
      }
      // Kept bytes from an earlier try may be what is wrong: start over once.
      ({ hasher, have } = await hashExisting(partial, file));
      resumed = false;
    }
    if (attempt > ATTEMPTS) {
      throw new HeliosError(
        "DOWNLOAD",
        `${where}: download failed ${ATTEMPTS} times (${failure}); run again to resume from byte ${have}`,
      );
    }
    if (attempt > 1) {
      await new Promise((r) => setTimeout(r, (options.retryDelayMs ?? 500) * (attempt - 1)));
    }
    let res: Fetched;
    try {
      res = await request(client, url, have);
    } catch (e) {
      const err = hubError(e, repo, client, file.path);
      if (err.code !== "DOWNLOAD" || e instanceof HeliosError) throw err;
      failure = err.message;
      continue;
    }
    const { hub, body } = res;
    if (!body.ok && body.status !== 416) {
      await body.body?.cancel();
      throw statusError(body.status, repo, client, file.path);
    }
    try {
      checkAnnounced(hub, file, commit, where);
    } catch (e) {
      await body.body?.cancel();
      throw e;
    }
    const range = body.headers.get("content-range");
    if (body.status !== 206 || !range?.startsWith(`bytes ${have}-`)) {
      // No usable range (200, 416, or another start): start from byte 0.
      if (have > 0) {
        await Deno.remove(partial);
        ({ hasher, have } = await hashExisting(partial, file));
        resumed = false;
      }
      if (body.status !== 200) {
        await body.body?.cancel();
        failure = `HTTP ${body.status} for a range request`;
        continue;
      }
    }
    let out: Deno.FsFile;
    try {
      out = await Deno.open(partial, { write: true, create: true, append: true });
    } catch (e) {
      await body.body?.cancel();
      throw fsError(e, partial);
    }
    try {
      for await (const chunk of body.body ?? []) {
        if (have + chunk.length > file.size) {
          throw new HeliosError(
            "DOWNLOAD",
            `${where}: the Hub sent more than the ${file.size} bytes it listed`,
          );
        }
        await writeAll(out, chunk, partial);
        hasher.update(chunk);
        have += chunk.length;
        if (have < file.size) progress(have);
      }
      if (have < file.size) failure = `connection closed at byte ${have} of ${file.size}`;
    } catch (e) {
      if (e instanceof HeliosError) {
        out.close();
        await Deno.remove(partial).catch(() => {});
        throw e;
      }
      const err = hubError(e, repo, client, file.path);
      if (err.code === "ABORTED") {
        out.close();
        throw err;
      }
      failure = err.message.replace(/; HF_HUB_OFFLINE.*$/, "");
    }
    out.close();
    resumed ||= have > 0 && have < file.size;
  }
  try {
    // An empty file gets no request, and so no partial file, of its own.
    if (have === 0) await Deno.writeFile(partial, new Uint8Array());
    await Deno.rename(partial, blob);
  } catch (e) {
    throw fsError(e, blob);
  }
  progress(file.size);
}

async function writeAll(out: Deno.FsFile, chunk: Uint8Array, path: string): Promise<void> {
  try {
    let off = 0;
    while (off < chunk.length) off += await out.write(chunk.subarray(off));
  } catch (e) {
    throw fsError(e, path);
  }
}
