/**
 * Models by Hub id: found in a Hugging Face cache laid out as Python's `huggingface_hub` lays it
 * out (offline), and downloaded into it from a Hub-compatible server on 127.0.0.1 (only the
 * files the conversion reads, resumed after a cut, verified, gated repositories refused with a
 * clear error). No test reaches any other host.
 */
import assert from "node:assert/strict";
import { convert, type ConvertEvent, parseHubId, resolveModel } from "../mod.ts";
import { generateModel } from "../src/fixtures/mod.ts";
import { assertHeliosError, listDir, runCli, tempDir } from "./_helpers.ts";
import { hubEtag, MockHub, repoFromFolder } from "./_hub_server.ts";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
/** A loopback port nothing listens on: a stray request fails at once instead of going out. */
const DEAD_ENDPOINT = "http://127.0.0.1:9";

interface Fixture {
  /** The model folder. */
  dir: string;
  /** Its FP16 conversion from the folder. */
  hnf: Uint8Array;
  /** Its files, as a repository. */
  files: Map<string, Uint8Array<ArrayBuffer>>;
  /** The first safetensors shard. */
  shard: string;
}

let shared: Promise<Fixture> | null = null;

/** A generated two-shard Llama (with tokenizer files) and its local FP16 conversion, made once. */
function fixture(): Promise<Fixture> {
  shared ??= (async () => {
    const root = await tempDir("hub-");
    await generateModel(`${root}/m`, { arch: "llama", shards: 2 });
    await convert({
      models: { text: `${root}/m` },
      output: `${root}/ref.hnf`,
      quant: "fp16",
      threads: 1,
    });
    const files = await repoFromFolder(`${root}/m`);
    const shard = [...files.keys()].sort().find((f) => f.endsWith(".safetensors"))!;
    return { dir: `${root}/m`, hnf: await Deno.readFile(`${root}/ref.hnf`), files, shard };
  })();
  return shared;
}

/** Runs `fn` with a server hosting the fixture as `org/tiny` and a fresh cache folder. */
async function withHub(
  fn: (hub: MockHub, cache: string, f: Fixture) => Promise<void>,
  files?: Map<string, Uint8Array<ArrayBuffer>>,
): Promise<void> {
  const f = await fixture();
  const hub = MockHub.start({ "org/tiny": { files: files ?? f.files, commit: COMMIT } });
  try {
    await fn(hub, `${await tempDir("hub-cache-")}/hub`, f);
  } finally {
    await hub.close();
  }
}

/** Writes `folder` into `cache` as huggingface_hub does: blobs by hash, relative links, refs/main. */
async function buildCache(cache: string, repo: string, folder: string): Promise<void> {
  const store = `${cache}/models--${repo.replace("/", "--")}`;
  await Deno.mkdir(`${store}/blobs`, { recursive: true });
  await Deno.mkdir(`${store}/snapshots/${COMMIT}`, { recursive: true });
  await Deno.mkdir(`${store}/refs`, { recursive: true });
  for (const [name, data] of await repoFromFolder(folder)) {
    const etag = hubEtag(name, data);
    await Deno.writeFile(`${store}/blobs/${etag}`, data);
    await Deno.symlink(`../../blobs/${etag}`, `${store}/snapshots/${COMMIT}/${name}`);
  }
  await Deno.writeTextFile(`${store}/refs/main`, COMMIT);
}

/** Hub options for the download tests, independent of the HF_* variables of the machine. */
function online(hub: MockHub, cacheDir: string) {
  return { endpoint: hub.url, cacheDir, offline: false, token: "", retryDelayMs: 0 };
}

Deno.test("Hub ids: org/name and org/name@revision parse; paths do not", () => {
  assert.deepEqual(parseHubId("google/gemma-4-E2B-it"), { repo: "google/gemma-4-E2B-it" });
  assert.deepEqual(parseHubId("org/name@v1.0"), { repo: "org/name", revision: "v1.0" });
  assert.deepEqual(parseHubId("org/name@refs/pr/1"), { repo: "org/name", revision: "refs/pr/1" });
  for (
    const s of ["gpt2", "./org/name", "/abs/path", "a/b/c", "org/../x", "org--x/y", "o/n@../x"]
  ) {
    assert.equal(parseHubId(s), null, s);
  }
});

Deno.test("a local folder wins over a Hub id of the same name", async () => {
  const root = await tempDir("hub-local-");
  await Deno.mkdir(`${root}/org/name`, { recursive: true });
  const cwd = Deno.cwd();
  Deno.chdir(root);
  try {
    const dir = await resolveModel("org/name", { endpoint: DEAD_ENDPOINT, cacheDir: `${root}/c` });
    assert.equal(dir, "org/name");
  } finally {
    Deno.chdir(cwd);
  }
});

Deno.test("converts org/name from a huggingface_hub cache with HF_HUB_OFFLINE=1, byte-identical to the folder", async () => {
  const { dir, hnf } = await fixture();
  const root = await tempDir("hub-cache-");
  await buildCache(`${root}/hub`, "org/tiny", dir);
  const env = { HF_HUB_CACHE: `${root}/hub`, HF_HUB_OFFLINE: "1", HF_ENDPOINT: DEAD_ENDPOINT };
  const r = await runCli(
    ["org/tiny", "-o", `${root}/a.hnf`, "--quant", "FP16", "--threads", "1"],
    env,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`snapshots/${COMMIT}`));
  assert.deepEqual(await Deno.readFile(`${root}/a.hnf`), hnf);
  // The library, with the cache and the mode given as options.
  await convert({
    models: { text: `org/tiny@${COMMIT}` },
    hub: { cacheDir: `${root}/hub`, offline: true },
    output: `${root}/b.hnf`,
    quant: "fp16",
    threads: 1,
  });
  assert.deepEqual(await Deno.readFile(`${root}/b.hnf`), hnf);
});

Deno.test("without the network, a cached snapshot serves even with optional files unknown", async () => {
  const { dir } = await fixture();
  const root = await tempDir("hub-nonet-");
  await buildCache(`${root}/hub`, "org/tiny", dir);
  const dirOut = await resolveModel("org/tiny", {
    endpoint: DEAD_ENDPOINT,
    cacheDir: `${root}/hub`,
    offline: false,
  });
  assert.equal(dirOut, `${root}/hub/models--org--tiny/snapshots/${COMMIT}`);
});

Deno.test("offline, a model missing from the cache is a one-line error (exit 1)", async () => {
  const root = await tempDir("hub-offline-");
  const env = { HF_HOME: `${root}/hf`, HF_HUB_OFFLINE: "1", HF_ENDPOINT: DEAD_ENDPOINT };
  const r = await runCli(["org/absent", "-o", `${root}/a.hnf`], env);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(
    r.stderr,
    /^error: org\/absent@main is not in the Hugging Face cache .*hf\/hub and HF_HUB_OFFLINE is set/,
  );
  await assertHeliosError(
    resolveModel("org/absent", { cacheDir: `${root}/c`, offline: true }),
    "NOT_CACHED",
  );
  assert.deepEqual(await listDir(root), []);
});

Deno.test("downloads what the conversion reads into the cache as huggingface_hub lays it out; a second run makes no request", async () => {
  const { files: base, hnf } = await fixture();
  const files = new Map(base);
  files.set("README.md", new TextEncoder().encode("# not needed"));
  files.set("pytorch_model.bin", new Uint8Array(64));
  await withHub(async (hub, cache) => {
    const events: ConvertEvent[] = [];
    const out = `${cache}/../x.hnf`;
    await convert({
      models: { text: "org/tiny" },
      hub: online(hub, cache),
      output: out,
      quant: "fp16",
      threads: 1,
      onEvent: (e) => events.push(e),
    });
    assert.deepEqual(await Deno.readFile(out), hnf);
    const store = `${cache}/models--org--tiny`;
    assert.equal(await Deno.readTextFile(`${store}/refs/main`), COMMIT);
    const snap = `${store}/snapshots/${COMMIT}`;
    const wanted = [...base.keys()];
    assert.deepEqual(await listDir(snap), wanted.sort());
    for (const name of wanted) {
      const etag = hubEtag(name, files.get(name)!);
      assert.equal(await Deno.readLink(`${snap}/${name}`), `../../blobs/${etag}`, name);
      assert.deepEqual(await Deno.readFile(`${store}/blobs/${etag}`), files.get(name), name);
    }
    assert.ok(!(await listDir(`${store}/blobs`)).some((b) => b.endsWith(".incomplete")));
    // Optional files the repository lacks are marked absent, as huggingface_hub marks them.
    assert.ok((await listDir(`${store}/.no_exist/${COMMIT}`)).includes("tokenizer.model"));
    assert.ok((await listDir(`${cache}/.locks/models--org--tiny`)).length > 0);
    assert.ok(!hub.requests.some((r) => /README|pytorch_model/.test(r.path)), "only needed files");
    const done = events.filter((e) => e.type === "download" && e.bytesDone === e.bytesTotal);
    assert.equal(done.length, wanted.length, "one completed bar per file");

    const before = hub.requests.length;
    assert.equal(await resolveModel("org/tiny", online(hub, cache)), snap);
    assert.equal(hub.requests.length, before, "the second run made a request");
  }, files);
});

Deno.test("a download cut mid-file resumes with a Range request and lands verified", async () => {
  await withHub(async (hub, cache, { files, shard }) => {
    hub.cutOnce.add(shard);
    const snap = await resolveModel("org/tiny", online(hub, cache));
    assert.deepEqual(await Deno.readFile(`${snap}/${shard}`), files.get(shard));
    const lfs = `/lfs/${hubEtag(shard, files.get(shard)!)}`;
    const ranges = hub.requests.filter((r) => r.path === lfs).map((r) => r.range);
    assert.deepEqual(ranges, [null, `bytes=${files.get(shard)!.length >> 1}-`]);
  });
});

Deno.test("a partial file left by an earlier run is resumed; a corrupt one is restarted", async () => {
  for (const corrupt of [false, true]) {
    await withHub(async (hub, cache, { files, shard }) => {
      const data = files.get(shard)!;
      const etag = hubEtag(shard, data);
      await Deno.mkdir(`${cache}/models--org--tiny/blobs`, { recursive: true });
      const partial = data.slice(0, 1000);
      if (corrupt) partial[10] ^= 1;
      await Deno.writeFile(`${cache}/models--org--tiny/blobs/${etag}.incomplete`, partial);
      const snap = await resolveModel("org/tiny", online(hub, cache));
      assert.deepEqual(await Deno.readFile(`${snap}/${shard}`), data);
      const ranges = hub.requests.filter((r) => r.path === `/lfs/${etag}`).map((r) => r.range);
      assert.deepEqual(ranges, corrupt ? ["bytes=1000-", null] : ["bytes=1000-"]);
    });
  }
});

Deno.test("bytes that do not match the listed hash are not kept: nothing in the cache to trust", async () => {
  await withHub(async (hub, cache, { files, shard }) => {
    hub.corrupt.add(shard);
    await assertHeliosError(
      resolveModel("org/tiny", online(hub, cache)),
      "DOWNLOAD",
      new RegExp(`${shard}: downloaded \\d+ bytes hash to [0-9a-f]{64}, expected`),
    );
    const store = `${cache}/models--org--tiny`;
    const etag = hubEtag(shard, files.get(shard)!);
    assert.ok(!(await listDir(`${store}/blobs`)).some((b) => b.startsWith(etag)));
    assert.ok(!(await listDir(store)).includes("refs"), "no ref to a half snapshot");
    await assertHeliosError(
      resolveModel("org/tiny", { cacheDir: cache, offline: true }),
      "NOT_CACHED",
    );
  });
});

Deno.test("a gated repository: 401 → one line saying to accept the licence and set a token; the token works", async () => {
  const { files, hnf } = await fixture();
  const hub = MockHub.start({ "org/gated": { files, commit: COMMIT, token: "hf_granted" } });
  const storage = MockHub.start({ "org/gated": { files, commit: COMMIT } });
  try {
    const root = await tempDir("hub-gated-");
    const env = {
      HF_HOME: root,
      HF_HUB_CACHE: `${root}/hub`,
      HF_ENDPOINT: hub.url,
      HF_TOKEN: "",
      HF_HUB_OFFLINE: "",
    };
    const r = await runCli(["org/gated", "-o", `${root}/a.hnf`], env);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      /org\/gated: the Hub refused access \(HTTP 401\).*accept its licence at http:\/\/127\.0\.0\.1:\d+\/org\/gated and set HF_TOKEN \(or pass --token\)/,
    );
    const store = `${root}/hub/models--org--gated`;
    assert.deepEqual(await listDir(`${store}/blobs`), [], "nothing kept from a refused download");
    assert.ok(!(await listDir(store)).includes("refs"));
    const wrong = await runCli(["org/gated", "-o", `${root}/a.hnf`, "--token", "hf_other"], env);
    assert.match(wrong.stderr, /HTTP 403.*with the account of the token in use/);
    // LFS files redirect to another origin (as the Hub's storage host): no token goes there.
    hub.lfsBase = storage.url;
    hub.requests.length = 0;
    const ok = await runCli(
      ["org/gated", "-o", `${root}/a.hnf`, "--quant", "FP16", "--threads", "1"],
      { ...env, HF_TOKEN: "hf_granted" },
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(await Deno.readFile(`${root}/a.hnf`), hnf);
    assert.match(ok.stderr, /org\/gated\/config\.json {2}\[#{20}\]/);
    assert.ok(storage.requests.length >= 2 && storage.requests.every((q) => !q.auth));
    assert.ok(hub.requests.filter((q) => q.path.startsWith("/org/")).every((q) => q.auth));
  } finally {
    await hub.close();
    await storage.close();
  }
});

Deno.test("an unknown revision is a one-line not-found error", async () => {
  await withHub(async (hub, cache) => {
    await assertHeliosError(
      resolveModel("org/tiny@nope", online(hub, cache)),
      "HUB_NOT_FOUND",
      /org\/tiny: revision 'nope' not found on http:\/\/127\.0\.0\.1:\d+ \(HTTP 404\)/,
    );
  });
});
