import assert from "node:assert/strict";
import { buildHtf, buildHtfIsolated } from "../src/htf/mod.ts";
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

Deno.test("the tokenizer built in its own worker equals the one built here (blob, summary, warnings, manifest, contents)", async () => {
  const dirs = [await tinyDir()];
  if (fixturesPresent()) dirs.push(FIXTURES + "qwen3-tokenizer");
  for (const dir of dirs) {
    const sources = [{ dir, domain: "text" as const }];
    const here = await buildHtf(sources);
    const there = await buildHtfIsolated(sources);
    assert.ok(here && there);
    assert.deepEqual(there.blob, here.blob, dir);
    assert.deepEqual(there.summary, here.summary);
    assert.deepEqual(there.warnings, here.warnings);
    assert.deepEqual(there.manifestExtra, here.manifestExtra);
    assert.deepEqual(there.contents, here.contents);
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
  const there = await buildTokenizerBlock(plan, 0);
  assert.ok(here && there);
  assert.deepEqual(there.blob, here.blob);
  assert.deepEqual(there.manifest, here.manifest);
  assert.deepEqual(there.summary, here.summary);
});
