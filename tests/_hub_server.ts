/**
 * A small Hub-compatible HTTP server on 127.0.0.1 for the download tests, with only the
 * endpoints the client calls: model info for a revision (`/api/models/o/n/revision/R`), the
 * file listing (`/api/models/o/n/tree/R`), and `/o/n/resolve/R/FILE` (regular files served
 * directly with their git blob sha1 as ETag; `*.safetensors` as LFS files: a 302 carrying
 * X-Linked-Etag (sha256) / X-Linked-Size / X-Repo-Commit to `/lfs/<sha256>`, served with
 * ranges). A gated repository's files answer 401 without a token, 403 with the wrong one.
 * Requests are counted and bounded.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** One repository the server hosts. */
export interface MockRepo {
  /** File name → contents (top level only). */
  files: Map<string, Uint8Array<ArrayBuffer>>;
  /** The commit `main` points to. */
  commit: string;
  /** Token required (401 without it, 403 with another). */
  token?: string;
}

/** A logged request. */
export interface LoggedRequest {
  /** Path with query. */
  path: string;
  /** Range header, if any. */
  range: string | null;
  /** Whether an Authorization header came. */
  auth: boolean;
}

/** Requests past this count get 429: a runaway client loop ends. */
const MAX_REQUESTS = 400;

const hashes = new WeakMap<Uint8Array, string>();
/** sha256 of a file's bytes, computed once per buffer (benchmarks serve hundreds of MiB). */
const sha256 = (b: Uint8Array) => {
  let h = hashes.get(b);
  if (h === undefined) hashes.set(b, h = createHash("sha256").update(b).digest("hex"));
  return h;
};
const gitSha1 = (b: Uint8Array) =>
  createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");

/** The Hub's hash of a file: sha256 for LFS files (here `*.safetensors`), git blob sha1 else. */
export function hubEtag(name: string, data: Uint8Array): string {
  return isLfs(name) ? sha256(data) : gitSha1(data);
}

function isLfs(name: string): boolean {
  return name.endsWith(".safetensors");
}

/** The running server. */
export class MockHub {
  /** Every request, in order. */
  readonly requests: LoggedRequest[] = [];
  /** LFS files whose next download is cut after half of its bytes (once each). */
  readonly cutOnce: Set<string> = new Set();
  /** Files served with one byte flipped (the listing keeps the true hash). */
  readonly corrupt: Set<string> = new Set();
  /** Where LFS redirects point (another server's URL, as the Hub's storage host); default self. */
  lfsBase = "";
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #repos: Record<string, MockRepo>;

  private constructor(repos: Record<string, MockRepo>) {
    this.#repos = repos;
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req) => this.#handle(req),
    );
  }

  /** Starts a server for `repos` (by `org/name`). */
  static start(repos: Record<string, MockRepo>): MockHub {
    return new MockHub(repos);
  }

  /** Base URL (the HF_ENDPOINT to use). */
  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  /** Stops the server. */
  async close(): Promise<void> {
    await this.#server.shutdown();
  }

  #handle(req: Request): Response {
    const url = new URL(req.url);
    const auth = req.headers.get("authorization");
    this.requests.push({
      path: url.pathname + url.search,
      range: req.headers.get("range"),
      auth: !!auth,
    });
    if (this.requests.length > MAX_REQUESTS) return new Response("too many", { status: 429 });
    const lfs = url.pathname.match(/^\/lfs\/([0-9a-f]{64})$/);
    if (lfs) return this.#serveLfs(lfs[1], req.headers.get("range"));
    const api = url.pathname.match(/^\/api\/models\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)$/);
    const resolve = url.pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/([^/]+)$/);
    const repoId = api?.[1] ?? resolve?.[1];
    const repo = repoId === undefined ? undefined : this.#repos[repoId];
    if (!repo) {
      return Response.json({ error: "Repository not found" }, {
        status: 401,
        headers: { "x-error-code": "RepoNotFound" },
      });
    }
    // As on the Hub, a gated repository's metadata is public; its files are not.
    if (resolve && repo.token && auth !== `Bearer ${repo.token}`) {
      return Response.json({ error: `Access to model ${repoId} is restricted.` }, {
        status: auth ? 403 : 401,
        headers: { "x-error-code": "GatedRepo" },
      });
    }
    const rev = decodeURIComponent(api?.[3] ?? resolve![2]);
    if (rev !== "main" && rev !== repo.commit) {
      return Response.json({ error: "Invalid rev id" }, {
        status: 404,
        headers: { "x-error-code": "RevisionNotFound" },
      });
    }
    if (api?.[2] === "revision") {
      return Response.json({
        _id: "0",
        id: repoId,
        sha: repo.commit,
        private: false,
        gated: repo.token ? "manual" : false,
        downloads: 0,
        likes: 0,
        lastModified: "2026-01-01T00:00:00.000Z",
        siblings: [...repo.files.keys()].map((rfilename) => ({ rfilename })),
      });
    }
    if (api?.[2] === "tree") {
      return Response.json([...repo.files].map(([path, data]) => ({
        type: "file",
        path,
        size: data.length,
        oid: gitSha1(data),
        ...(isLfs(path) ? { lfs: { oid: sha256(data), size: data.length, pointerSize: 134 } } : {}),
      })));
    }
    const name = decodeURIComponent(resolve![3]);
    const data = repo.files.get(name);
    if (!data) {
      return Response.json({ error: "Entry not found" }, {
        status: 404,
        headers: { "x-error-code": "EntryNotFound" },
      });
    }
    const headers = { "x-repo-commit": repo.commit, "x-linked-size": String(data.length) };
    if (isLfs(name)) {
      const etag = `"${sha256(data)}"`;
      return new Response(null, {
        status: 302,
        headers: {
          ...headers,
          location: `${this.lfsBase}/lfs/${sha256(data)}`,
          "x-linked-etag": etag,
          etag,
        },
      });
    }
    return this.#ranged(this.#served(name, data), req.headers.get("range"), {
      ...headers,
      etag: `"${gitSha1(data)}"`,
    }, false);
  }

  #served(name: string, data: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
    if (!this.corrupt.has(name)) return data;
    const copy = data.slice();
    copy[copy.length >> 1] ^= 0xff;
    return copy;
  }

  #serveLfs(hash: string, range: string | null): Response {
    for (const repo of Object.values(this.#repos)) {
      for (const [name, data] of repo.files) {
        if (!isLfs(name) || sha256(data) !== hash) continue;
        const cut = this.cutOnce.delete(name);
        return this.#ranged(this.#served(name, data), range, {}, cut);
      }
    }
    return new Response("no such object", { status: 404 });
  }

  #ranged(
    data: Uint8Array<ArrayBuffer>,
    range: string | null,
    headers: Record<string, string>,
    cut: boolean,
  ) {
    let start = 0;
    let status = 200;
    const total = data.length;
    const h: Record<string, string> = { ...headers, "accept-ranges": "bytes" };
    const m = range?.match(/^bytes=(\d+)-(\d*)$/);
    if (m) {
      start = Number(m[1]);
      const end = m[2] === "" ? data.length - 1 : Math.min(Number(m[2]), data.length - 1);
      if (start >= data.length) {
        return new Response(null, {
          status: 416,
          headers: { ...h, "content-range": `bytes */${data.length}` },
        });
      }
      data = data.subarray(0, end + 1);
      status = 206;
      h["content-range"] = `bytes ${start}-${end}/${total}`;
    }
    const body = data.slice(start);
    h["content-length"] = String(body.length);
    if (!cut) return new Response(body, { status, headers: h });
    const half = body.length >> 1;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(body.slice(0, half));
        // Ends the body short of its Content-Length: the client sees the connection drop.
        setTimeout(() => c.close(), 10);
      },
    });
    return new Response(stream, { status, headers: h });
  }
}

/** Reads a generated model folder into a repository's file map (top-level files). */
export async function repoFromFolder(dir: string): Promise<Map<string, Uint8Array<ArrayBuffer>>> {
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) files.set(e.name, await Deno.readFile(`${dir}/${e.name}`));
  }
  return files;
}
