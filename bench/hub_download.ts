/**
 * Download benchmark: one large LFS file from the test suite's Hub-compatible server on
 * 127.0.0.1, timed three ways: a bare `fetch` that drops the bytes (what loopback HTTP costs),
 * `resolveModel` into an empty cache (HTTP + sha256 + write + rename + link), and
 * `resolveModel` again (the cache hit, no request).
 *
 * ```sh
 * deno run -A bench/hub_download.ts [--mib 256]
 * ```
 *
 * @module
 */
import { resolveModel } from "../mod.ts";
import { hubEtag, MockHub } from "../tests/_hub_server.ts";

const i = Deno.args.indexOf("--mib");
const mib = i >= 0 ? Number(Deno.args[i + 1]) : 256;
const data = new Uint8Array(mib << 20);
let x = 1;
for (let k = 0; k < data.length; k += 4) {
  x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
  data[k] = x;
  data[k + 1] = x >>> 8;
}
const files = new Map<string, Uint8Array<ArrayBuffer>>([
  ["config.json", new TextEncoder().encode('{"model_type":"llama"}')],
  ["model.safetensors", data],
]);
const commit = "0123456789abcdef0123456789abcdef01234567";
const hub = MockHub.start({ "org/big": { files, commit } });
const root = await Deno.makeTempDir({ prefix: "helios-hub-bench-" });
const secs = (t0: number) => (performance.now() - t0) / 1000;
const rate = (s: number) => `${(mib / s).toFixed(0)} MiB/s`;
try {
  let t0 = performance.now();
  const res = await fetch(`${hub.url}/lfs/${hubEtag("model.safetensors", data)}`);
  let n = 0;
  for await (const chunk of res.body!) n += chunk.length;
  const bare = secs(t0);
  console.log(`bare fetch      ${n >> 20} MiB  ${bare.toFixed(2)} s  ${rate(bare)}`);
  const opts = { endpoint: hub.url, cacheDir: `${root}/hub`, offline: false, token: "" };
  t0 = performance.now();
  await resolveModel("org/big", opts);
  const dl = secs(t0);
  console.log(
    `resolveModel    ${mib} MiB  ${dl.toFixed(2)} s  ${rate(dl)}  (${
      (dl / bare).toFixed(2)
    }× bare)`,
  );
  const before = hub.requests.length;
  t0 = performance.now();
  await resolveModel("org/big", opts);
  console.log(
    `cache hit       ${(secs(t0) * 1000).toFixed(1)} ms, ${hub.requests.length - before} requests`,
  );
} finally {
  await hub.close();
  await Deno.remove(root, { recursive: true });
}
