import assert from "node:assert/strict";
import { buildHtf, buildHtfIsolated, readHtf } from "../src/htf/mod.ts";
import { buildTokenizerBlock, ISOLATED_TOKENIZER_BYTES } from "../src/convert/tokenizer.ts";
import { tinyTokenizerFiles } from "../src/fixtures/tokenizer.ts";
import { HeliosError } from "../src/errors.ts";
import { FIXTURES, fixturesPresent, tempDir } from "./_helpers.ts";

async function tinyDir(): Promise<string> {
  const dir = await tempDir("htf_iso_");
  for (const [name, text] of Object.entries(tinyTokenizerFiles())) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  return dir;
}

Deno.test("the tokenizer built in its own worker equals the one built here (blob, summary, warnings, manifest, probed tokens)", async () => {
  const dirs = [await tinyDir()];
  if (fixturesPresent()) dirs.push(FIXTURES + "qwen3-tokenizer");
  for (const dir of dirs) {
    const sources = [{ dir, domain: "text" as const }];
    const options = { probeTokens: ["<s>", "<|im_start|>", "<|im_end|>", "the", "not a token"] };
    const here = await buildHtf(sources, options);
    const there = await buildHtfIsolated(sources, options);
    assert.ok(here && there);
    assert.deepEqual(there.blob, here.blob, dir);
    assert.deepEqual(there.summary, here.summary);
    assert.deepEqual(there.warnings, here.warnings);
    assert.deepEqual(there.manifestExtra, here.manifestExtra);
    assert.deepEqual(there.probed, here.probed);
    const text = readHtf(here.blob).domains.find((d) => d.name === "text")!;
    const held = new Set([...text.vocab.map((v) => v.token), ...text.added.map((a) => a.content)]);
    assert.deepEqual(here.probed.text, options.probeTokens.filter((t) => held.has(t)));
    assert.ok(here.probed.text.length > 0);
  }
});

Deno.test("the worker's tokenizer errors arrive as the same HeliosError, and a folder without one gives null", async () => {
  const dir = await tempDir("htf_iso_bad_");
  await Deno.writeTextFile(`${dir}/tokenizer.json`, '{"model": {"type": "BPE", "vocab": [');
  const sources = [{ dir, domain: "text" as const }];
  const here = await buildHtf(sources).then(() => null, (e) => e as HeliosError);
  const there = await buildHtfIsolated(sources).then(() => null, (e) => e as HeliosError);
  assert.ok(here instanceof HeliosError && there instanceof HeliosError);
  assert.equal(there.code, "BAD_TOKENIZER");
  assert.equal(there.code, here.code);
  assert.equal(there.message, here.message);
  const empty = await tempDir("htf_iso_none_");
  assert.equal(await buildHtfIsolated([{ dir: empty, domain: "text" }]), null);
});

Deno.test("a conversion's tokenizer block is the same whether built in a worker (files over the limit) or here", async () => {
  const dir = await tinyDir();
  const plan = { towers: [{ role: "text", spec: { dir } }] } as unknown as Parameters<
    typeof buildTokenizerBlock
  >[0];
  assert.ok(ISOLATED_TOKENIZER_BYTES > 1 << 20); // the tiny tokenizer is built here by default
  const here = await buildTokenizerBlock(plan);
  const there = await buildTokenizerBlock(plan, { isolateAbove: 0 });
  assert.ok(here && there);
  assert.deepEqual(there.blob, here.blob);
  assert.deepEqual(there.manifest, here.manifest);
  assert.deepEqual(there.summary, here.summary);
  assert.deepEqual(there.tokens, here.tokens);
});

Deno.test("an aborted signal stops the tokenizer worker and rejects with ABORTED", async () => {
  const sources = [{ dir: await tinyDir(), domain: "text" as const }];
  const early = new AbortController();
  early.abort();
  const pre = await buildHtfIsolated(sources, { signal: early.signal }).then(() => null, (e) => e);
  assert.ok(pre instanceof HeliosError && pre.code === "ABORTED");
  const late = new AbortController();
  const pending = buildHtfIsolated(sources, { signal: late.signal });
  late.abort();
  const err = await pending.then(() => null, (e) => e);
  assert.ok(err instanceof HeliosError && err.code === "ABORTED", String(err));
});
