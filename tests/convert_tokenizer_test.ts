/**
 * The tokenizer block (0x9) through the real converter: what the generated tokenizer.json holds
 * comes back from the file, encodes the same, and the manifest keys that go with it stay safe
 * for the runtime's textual scanner (reference §10, §16).
 */
import assert from "node:assert/strict";
import { Tokenizer } from "@huggingface/tokenizers";
import { convert, type ConvertOptions, generateModel, HnfFlag, openHnf } from "../mod.ts";
import { describeHtf, htfToTokenizerJson, readHtf } from "../src/htf/mod.ts";
import { assertHeliosError, listDir, withTempDir } from "./_helpers.ts";
import { CORPUS } from "./_tokenizers/synthetic.ts";

type Json = Record<string, unknown>;

/** Converts the towers of `root` (already generated) and returns what the file holds. */
async function convertIn(
  root: string,
  options: Partial<ConvertOptions> & Pick<ConvertOptions, "models">,
) {
  const out = `${root}/out.hnf`;
  const warnings: string[] = [];
  const report = await convert({
    output: out,
    quant: "fp16",
    threads: 1,
    onEvent: (e) => e.type === "warning" && warnings.push(e.message),
    ...options,
  });
  const hnf = await openHnf(out);
  try {
    const bytes = await Deno.readFile(out);
    const manifestText = new TextDecoder().decode(
      bytes.subarray(
        hnf.header.manifestOffset,
        hnf.header.manifestOffset + hnf.header.manifestSize,
      ),
    );
    return {
      report,
      warnings,
      flags: hnf.header.flags,
      htf: await hnf.readBlock(0x9),
      manifest: hnf.manifest,
      manifestText,
    };
  } finally {
    hnf.close();
  }
}

async function withModel<T>(
  fn: (root: string) => Promise<T>,
  options: Parameters<typeof generateModel>[1] = {},
): Promise<T> {
  return await withTempDir(async (root) => {
    await generateModel(`${root}/m`, { arch: "llama", ...options });
    return await fn(root);
  });
}

const readJson = async (path: string): Promise<Json> => JSON.parse(await Deno.readTextFile(path));

Deno.test("a converted Llama carries its tokenizer: same vocab, merges, added tokens and specials", async () => {
  await withModel(async (root) => {
    const { report, flags, htf } = await convertIn(root, { models: { text: `${root}/m` } });
    assert.ok(htf.length > 0, "block 0x9 is written");
    assert.equal(flags & HnfFlag.HAS_TOKENIZER, HnfFlag.HAS_TOKENIZER);
    const tj = await readJson(`${root}/m/tokenizer.json`);
    const model = tj.model as { vocab: Record<string, number>; merges: [string, string][] };
    const contents = readHtf(htf);
    const d = contents.domains.find((x) => x.name === "text")!;
    assert.ok(d, "a TEXT domain");
    assert.deepEqual(Object.fromEntries(d.vocab.map((v) => [v.token, v.id])), model.vocab);
    const tokenOf = new Map(d.vocab.map((v) => [v.id, v.token]));
    const merges: [string, string][] = [];
    for (let i = 0; i < d.merges.length; i += 2) {
      merges.push([tokenOf.get(d.merges[i])!, tokenOf.get(d.merges[i + 1])!]);
    }
    assert.deepEqual(merges, model.merges);
    const added = tj.added_tokens as { id: number; content: string; special: boolean }[];
    assert.deepEqual(
      d.added.map((a) => [a.id, a.content, (a.flags & 0x01) !== 0]),
      added.map((a) => [a.id, a.content, a.special]),
    );
    const s = describeHtf(contents);
    assert.equal(s.type, "byte-level-bpe");
    assert.equal(s.vocabSize, Object.keys(model.vocab).length);
    assert.equal(s.merges, model.merges.length);
    assert.equal(s.addedTokens, added.length);
    const id = (content: string) => added.find((a) => a.content === content)!.id;
    assert.deepEqual(s.specials, { bos: id("<s>"), eos: id("</s>"), pad: -1, unk: -1 });
    assert.deepEqual(report.tokenizer, s, "the report summarizes the block written");
  });
});

Deno.test("the tokenizer rebuilt from block 0x9 encodes a corpus to the original ids", async () => {
  await withModel(async (root) => {
    const { htf } = await convertIn(root, { models: { text: `${root}/m` } });
    const original = await readJson(`${root}/m/tokenizer.json`);
    const config = await readJson(`${root}/m/tokenizer_config.json`);
    const rebuilt = htfToTokenizerJson(readHtf(htf));
    const a = new Tokenizer(original, config);
    const b = new Tokenizer(rebuilt, config);
    const texts = [
      ...CORPUS,
      "The quick brown fox jumps over the lazy dog.",
      "<s>user\nHola, el modelo convierte los pesos.</s>",
      "function convert(model) { return model.weights.map((w) => w * 2); }",
    ];
    for (const text of texts) {
      const expected = a.encode(text, { add_special_tokens: false }).ids;
      assert.deepEqual(b.encode(text, { add_special_tokens: false }).ids, expected, text);
    }
  });
});

Deno.test("a model with no tokenizer files converts with a warning, without block 0x9", async () => {
  await withModel(async (root) => {
    const { report, warnings, flags, htf, manifest } = await convertIn(root, {
      models: { text: `${root}/m` },
    });
    assert.equal(htf.length, 0);
    assert.equal(flags & HnfFlag.HAS_TOKENIZER, 0);
    assert.equal(report.tokenizer, null);
    assert.ok(warnings.some((w) => /no tokenizer/i.test(w)), warnings.join("\n"));
    assert.ok(report.warnings.some((w) => /no tokenizer/i.test(w)));
    assert.ok(!("tokenizer" in manifest));
  }, { tokenizer: false });
});

Deno.test("a malformed tokenizer.json is a BAD_TOKENIZER error; tokenizer: false converts anyway", async () => {
  await withModel(async (root) => {
    await Deno.writeTextFile(`${root}/m/tokenizer.json`, '{"model": {"type": "BPE", "vocab": [');
    await assertHeliosError(
      convert({ models: { text: `${root}/m` }, output: `${root}/out.hnf`, threads: 1 }),
      "BAD_TOKENIZER",
      /tokenizer\.json: is not valid JSON/,
    );
    assert.deepEqual(await listDir(root), ["m"], "no output, no temp file");
    const { htf, flags, report } = await convertIn(root, {
      models: { text: `${root}/m` },
      tokenizer: false,
    });
    assert.equal(htf.length, 0);
    assert.equal(flags & HnfFlag.HAS_TOKENIZER, 0);
    assert.equal(report.tokenizer, null);
  });
});

Deno.test("the manifest counts the tokenizer domains written and carries the chat template", async () => {
  await withTempDir(async (root) => {
    await generateModel(`${root}/text`, { arch: "llama" });
    await generateModel(`${root}/cortex`, { arch: "qwen2", seed: 2 });
    await generateModel(`${root}/code`, { arch: "mistral", seed: 3, tokenizer: false });
    const { manifest, warnings, htf } = await convertIn(root, {
      models: { text: `${root}/text`, cortex: `${root}/cortex`, code: `${root}/code` },
    });
    // Three sources were asked for; the code model has no tokenizer, so two domains exist.
    assert.deepEqual(readHtf(htf).domains.map((d) => d.name), ["text", "cortex"]);
    const tok = manifest.tokenizer as Json;
    assert.equal(tok.domains, 2);
    assert.equal(tok.multi_domain, true);
    assert.ok(warnings.some((w) => w.includes(`${root}/code`) && w.includes("skipped")));
    const extra = manifest.tokenizer_extra as Json;
    const cfg = await readJson(`${root}/text/tokenizer_config.json`);
    const b64 = extra.chat_template_b64 as string;
    const template = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
    assert.equal(template, cfg.chat_template);
    assert.deepEqual(extra.eos_token_ids, [257]);
  });
});

/** Brace depth (outside strings) at `index` of a JSON text. */
function depthAt(text: string, index: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < index; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") depth--;
  }
  return depth;
}

function stringsOf(v: unknown, out: string[] = []): string[] {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => stringsOf(x, out));
  else if (typeof v === "object" && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      stringsOf(x, out);
    }
  }
  return out;
}

Deno.test("a manifest with tokenizer keys stays safe for the runtime's scanner (§16)", async () => {
  await withModel(async (root) => {
    const { manifestText, manifest } = await convertIn(root, { models: { text: `${root}/m` } });
    assert.ok("tokenizer_extra" in manifest && "tokenizer" in manifest);
    const first = manifestText.indexOf('"tensors"');
    assert.ok(first > 0);
    assert.equal(depthAt(manifestText, first), 1, 'the first "tensors" is a top-level key');
    assert.match(manifestText.slice(first), /^"tensors":\s*\[\s*\{/, "followed by the array");
    assert.equal(Object.keys(JSON.parse(manifestText))[0], "tensors");
    for (const s of stringsOf(manifest)) {
      assert.ok(!/[{}]/.test(s), `no brace inside a string: ${JSON.stringify(s).slice(0, 80)}`);
    }
    assert.ok(!manifestText.includes("\\u"), "no \\u escapes");
  });
});
