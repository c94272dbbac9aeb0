/**
 * Talking to the Hub (or a mirror at `HF_ENDPOINT`): the revision's commit and the file list
 * come from `@huggingface/hub` (`modelInfo`, `listFiles`); this module adds the token, the
 * abort signal, and one-line errors that say what to do.
 *
 * @module
 */
import type * as HubLib from "@huggingface/hub";
import { HeliosError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { checkEtag, COMMIT_RE } from "./cache.ts";

/** The public Hub, used when neither the options nor `HF_ENDPOINT` name another. */
export const DEFAULT_ENDPOINT = "https://huggingface.co";

/**
 * `@huggingface/hub`, loaded on the first call to the Hub: importing it costs about 0.1 s of
 * start-up, which a conversion of a local folder need not pay.
 */
let hubLib: typeof HubLib | null = null;
async function loadHub(): Promise<typeof HubLib> {
  return hubLib ??= await import("@huggingface/hub");
}

/** A connection to one Hub endpoint. */
export interface HubClient {
  /** Base URL without a trailing slash. */
  endpoint: string;
  /** Whether a token is sent. */
  authenticated: boolean;
  /** `fetch` with the token (to the endpoint's origin only), the user agent and the signal. */
  fetch: typeof fetch;
}

/**
 * Creates a client: the token goes only to the endpoint's own origin (never to the storage
 * hosts the Hub redirects to), and every request carries `signal`.
 *
 * @example
 * ```ts
 * import { hubClient } from "./remote.ts";
 * console.log(hubClient({ endpoint: "http://127.0.0.1:1/" }).endpoint); // "http://127.0.0.1:1"
 * ```
 */
export function hubClient(
  options: { endpoint: string; token?: string; signal?: AbortSignal },
): HubClient {
  const endpoint = options.endpoint.replace(/\/+$/, "");
  const origin = new URL(endpoint).origin;
  const wrapped = (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const headers = new Headers(init?.headers);
    headers.set("user-agent", `helios-convert/${VERSION}`);
    if (options.token && url.origin === origin) {
      headers.set("authorization", `Bearer ${options.token}`);
    }
    return fetch(input, { ...init, headers, signal: options.signal });
  };
  return { endpoint, authenticated: !!options.token, fetch: wrapped as typeof fetch };
}

/** The first line of an error's message (fetch errors can carry a remote stack). */
function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0].trim();
}

/**
 * The one-line {@link HeliosError} for an HTTP status from the Hub about `repo`.
 *
 * @example
 * ```ts
 * import { hubClient, statusError } from "./remote.ts";
 * const e = statusError(401, "org/gated", hubClient({ endpoint: "https://hub.example" }));
 * console.log(e.code); // "HUB_AUTH"
 * ```
 */
export function statusError(
  status: number,
  repo: string,
  client: HubClient,
  what = "",
): HeliosError {
  if (status === 401 || status === 403) {
    const fix = client.authenticated
      ? `accept its licence at ${client.endpoint}/${repo} with the account of the token in use`
      : `accept its licence at ${client.endpoint}/${repo} and set HF_TOKEN (or pass --token)`;
    return new HeliosError(
      "HUB_AUTH",
      `${repo}: the Hub refused access (HTTP ${status}): the repository is gated, private or missing; ${fix}`,
    );
  }
  if (status === 404) {
    return new HeliosError(
      "HUB_NOT_FOUND",
      `${repo}: ${what || "repository or revision"} not found on ${client.endpoint} (HTTP 404)`,
    );
  }
  return new HeliosError(
    "DOWNLOAD",
    `${repo}: ${client.endpoint} answered HTTP ${status}${what ? ` for ${what}` : ""}`,
  );
}

/**
 * Turns a failure of a Hub call into a one-line {@link HeliosError} (HUB_AUTH, HUB_NOT_FOUND,
 * DOWNLOAD or ABORTED); a HeliosError passes through.
 *
 * @example
 * ```ts
 * import { hubClient, hubError } from "./remote.ts";
 * const e = hubError(new TypeError("connection refused"), "o/n", hubClient({ endpoint: "http://127.0.0.1:9" }));
 * console.log(e.code); // "DOWNLOAD"
 * ```
 */
export function hubError(e: unknown, repo: string, client: HubClient, what = ""): HeliosError {
  if (e instanceof HeliosError) return e;
  if (e instanceof DOMException && (e.name === "AbortError" || e.name === "TimeoutError")) {
    return new HeliosError("ABORTED", `${repo}: download cancelled`);
  }
  // Only the library throws a HubApiError, so it is loaded when one is caught.
  if (hubLib && e instanceof hubLib.HubApiError) {
    return statusError(e.statusCode, repo, client, what);
  }
  return new HeliosError(
    "DOWNLOAD",
    `${repo}: cannot reach ${client.endpoint} (${
      firstLine(e)
    }); HF_HUB_OFFLINE=1 uses the cache alone`,
  );
}

/**
 * The commit a revision (branch, tag or commit) points to, from the Hub's model info.
 *
 * @example
 * ```ts ignore
 * import { hubClient, resolveCommit } from "./remote.ts";
 * const c = hubClient({ endpoint: "https://huggingface.co" });
 * console.log(await resolveCommit(c, "openai-community/gpt2", "main"));
 * ```
 */
export async function resolveCommit(
  client: HubClient,
  repo: string,
  revision: string,
): Promise<string> {
  let sha: unknown;
  try {
    const { modelInfo } = await loadHub();
    const info = await modelInfo({
      name: repo,
      revision,
      hubUrl: client.endpoint,
      additionalFields: ["sha"],
      fetch: client.fetch,
    });
    sha = info.sha;
  } catch (e) {
    throw hubError(e, repo, client, `revision '${revision}'`);
  }
  if (typeof sha !== "string" || !COMMIT_RE.test(sha)) {
    throw new HeliosError(
      "DOWNLOAD",
      `${repo}: ${client.endpoint} gave no commit for revision '${revision}' (got ${
        JSON.stringify(sha)?.slice(0, 60)
      })`,
    );
  }
  return sha;
}

/** A file of the repository as the Hub lists it. */
export interface RemoteFile {
  /** Path in the repository. */
  path: string;
  /** Bytes. */
  size: number;
  /** Blob name: sha256 for LFS/Xet files, git blob sha1 otherwise. */
  etag: string;
  /** Whether `etag` is a sha256 of the contents (LFS) rather than a git blob sha1. */
  lfs: boolean;
}

/**
 * The top-level files of `repo` at `commit` (the conversion reads no subfolder).
 *
 * @example
 * ```ts ignore
 * import { hubClient, listTopFiles } from "./remote.ts";
 * const files = await listTopFiles(hubClient({ endpoint: "https://huggingface.co" }), "o/n", "0".repeat(40));
 * ```
 */
export async function listTopFiles(
  client: HubClient,
  repo: string,
  commit: string,
): Promise<Map<string, RemoteFile>> {
  const files = new Map<string, RemoteFile>();
  try {
    const { listFiles } = await loadHub();
    for await (
      const e of listFiles({
        repo: { type: "model", name: repo },
        revision: commit,
        hubUrl: client.endpoint,
        fetch: client.fetch,
      })
    ) {
      if (e.type !== "file" || e.path.includes("/")) continue;
      const etag = e.lfs?.oid ?? e.oid;
      if (etag === undefined) continue;
      files.set(e.path, {
        path: e.path,
        size: e.lfs?.size ?? e.size,
        etag: checkEtag(etag, `${repo}/${e.path}`),
        lfs: e.lfs !== undefined,
      });
    }
  } catch (e) {
    throw hubError(e, repo, client, "file list");
  }
  return files;
}
