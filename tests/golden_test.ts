/**
 * Golden bytes: the header, block table and manifest of one fixed tiny model converted to
 * FP16. Any change to the layout, the checksums, the hints or the tokenizer block shows here.
 * Regenerate deliberately with `UPDATE_GOLDEN=1 deno test -A tests/golden_test.ts`.
 */
import assert from "node:assert/strict";
import { convert, generateModel } from "../mod.ts";
import { withTempDir } from "./_helpers.ts";

const HEADER = new URL("./golden/tiny_llama_fp16.header.hex", import.meta.url);
const MANIFEST = new URL("./golden/tiny_llama_fp16.manifest.json", import.meta.url);

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("").replace(/(.{64})/g, "$1\n");
}

Deno.test("a fixed tiny Llama converts to the golden header, table and manifest", async () => {
  const bytes = await withTempDir(async (dir) => {
    await generateModel(`${dir}/tiny`, { arch: "llama", dtype: "BF16", seed: 7 });
    await convert({
      models: { text: `${dir}/tiny` },
      output: `${dir}/tiny.hnf`,
      quant: "fp16",
      threads: 1,
    });
    return await Deno.readFile(`${dir}/tiny.hnf`);
  });
  const manifestOffset = Number(new DataView(bytes.buffer).getBigUint64(0x20, true));
  const header = hex(bytes.subarray(0, 576));
  const manifest = new TextDecoder().decode(bytes.subarray(manifestOffset));
  if (Deno.env.get("UPDATE_GOLDEN") === "1") {
    await Deno.writeTextFile(HEADER, header);
    await Deno.writeTextFile(MANIFEST, manifest);
  }
  assert.equal(header, await Deno.readTextFile(HEADER));
  assert.equal(manifest, await Deno.readTextFile(MANIFEST));
});
