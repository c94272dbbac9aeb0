import assert from "node:assert/strict";
import { crc32, xxhash3 } from "hash-wasm";
import { HnfWriter } from "../src/hnf/writer.ts";
import { openHnf } from "../src/hnf/reader.ts";
import { encodeManifest } from "../src/hnf/manifest.ts";
import { assertHeliosError, listDir, tempDir } from "./_helpers.ts";

async function writeSmall(path: string, options: { sync?: boolean; bufferBytes?: number } = {}) {
  const w = await HnfWriter.create(path, options);
  await w.beginBlock(0);
  await w.beginTensor({ name: "text.a", dtype: "fp16", shape: [3] });
  await w.write(new Uint8Array([0, 0x3c, 0, 0x40, 0, 0x42])); // 1, 2, 3
  await w.endTensor();
  await w.beginTensor({ name: "text.b", dtype: "fp16", shape: [1, 2] });
  await w.write(new Uint8Array([0, 0xbc, 0, 0]));
  await w.endTensor();
  await w.writeBlock(
    0xa,
    new TextEncoder().encode('{"text_enabled":true,"text":{"arch":"llama"}}'),
  );
  await w.finish({ flags: 0, manifest: { generator: "test" } });
}

Deno.test("writes the header, table and layout byte for byte as the reference describes", async () => {
  const dir = await tempDir();
  const path = `${dir}/small.hnf`;
  await writeSmall(path);
  const f = await Deno.readFile(path);
  const dv = new DataView(f.buffer);
  // §2 header
  assert.deepEqual([...f.subarray(0, 8)], [0x48, 0x4e, 0x46, 0x76, 0x39, 0, 0, 0]);
  assert.equal(dv.getUint16(8, true), 9);
  assert.equal(dv.getUint16(10, true), 1);
  assert.equal(dv.getUint32(12, true), 0);
  assert.equal(dv.getUint32(16, true), 16);
  assert.equal(dv.getUint32(20, true), 64);
  assert.equal(dv.getBigUint64(24, true), 64n);
  const manifestOffset = Number(dv.getBigUint64(32, true));
  const manifestSize = Number(dv.getBigUint64(40, true));
  assert.equal(manifestOffset % 32, 0);
  assert.equal(Number(dv.getBigUint64(48, true)), f.length);
  assert.equal(manifestOffset + manifestSize, f.length, "manifest is last, no trailing padding");
  // 0x3C (reference: reserved 0): low 32 bits of XXH3-64 of header bytes 0..0x3B + manifest.
  const check = BigInt(
    `0x${await xxhash3(new Uint8Array([...f.subarray(0, 0x3c), ...f.subarray(manifestOffset)]))}`,
  );
  assert.equal(dv.getUint32(60, true), Number(check & 0xffffffffn));
  // §3 table: entry i has id = type = i
  for (let i = 0; i < 16; i++) {
    assert.equal(dv.getUint32(64 + 32 * i, true), i);
    assert.equal(dv.getUint32(68 + 32 * i, true), i);
  }
  // Block 0 at 576: tensor a (6 bytes), padding to 608, tensor b (4 bytes).
  assert.equal(Number(dv.getBigUint64(64 + 8, true)), 576);
  assert.equal(Number(dv.getBigUint64(64 + 16, true)), 612 - 576);
  const blockBytes = f.subarray(576, 612);
  assert.equal(dv.getBigUint64(64 + 24, true), BigInt(`0x${await xxhash3(blockBytes)}`));
  assert.deepEqual([...f.subarray(582, 608)], new Array(26).fill(0));
  // Block 0xA at 640 (next 32 boundary after 612).
  const e = 64 + 32 * 0xa;
  assert.equal(Number(dv.getBigUint64(e + 8, true)), 640);
  const hints = f.subarray(640, 640 + Number(dv.getBigUint64(e + 16, true)));
  assert.equal(new TextDecoder().decode(hints), '{"text_enabled":true,"text":{"arch":"llama"}}');
  assert.equal(dv.getBigUint64(e + 24, true), BigInt(`0x${await xxhash3(hints)}`));
  // Empty entries are all zero past id/type.
  assert.deepEqual([...f.subarray(64 + 32 * 3 + 8, 64 + 32 * 4)], new Array(24).fill(0));
  // §2 CRC: header with flags and manifest/file fields zeroed, plus the table.
  const pre = f.slice(0, 576);
  pre.fill(0, 0x0c, 0x10);
  pre.fill(0, 0x20, 0x40);
  assert.equal(dv.getUint32(0x38, true), parseInt(await crc32(pre), 16));
  // §4 manifest: tensors first, absolute offsets.
  const manifest = new TextDecoder().decode(f.subarray(manifestOffset));
  assert.ok(manifest.startsWith('{\n  "tensors": [\n    {\n      "name": "text.a",'));
  const m = JSON.parse(manifest);
  assert.deepEqual(m.tensors[0], {
    name: "text.a",
    block: "text_model",
    offset: 576,
    size: 6,
    dtype: "fp16",
    shape: [3],
  });
  assert.deepEqual(m.tensors[1], {
    name: "text.b",
    block: "text_model",
    offset: 608,
    size: 4,
    dtype: "fp16",
    shape: [1, 2],
  });
  assert.equal(m.version, "9.1");
  assert.equal(m.format, "HNFv9");
});

Deno.test("sync and the buffer size change no byte (large pieces are written directly)", async () => {
  const dir = await tempDir();
  await writeSmall(`${dir}/a.hnf`);
  await writeSmall(`${dir}/b.hnf`, { sync: true });
  await writeSmall(`${dir}/c.hnf`, { bufferBytes: 4 }); // every piece of 4+ bytes goes direct
  const a = await Deno.readFile(`${dir}/a.hnf`);
  assert.deepEqual(await Deno.readFile(`${dir}/b.hnf`), a);
  assert.deepEqual(await Deno.readFile(`${dir}/c.hnf`), a);
  assert.deepEqual(await listDir(dir), ["a.hnf", "b.hnf", "c.hnf"]);
});

Deno.test("reads back what it wrote and verifies every checksum", async () => {
  const dir = await tempDir();
  const path = `${dir}/small.hnf`;
  await writeSmall(path);
  const hnf = await openHnf(path);
  assert.ok(hnf.checksumsVerified);
  assert.deepEqual([...await hnf.readTensor("text.a")], [1, 2, 3]);
  assert.deepEqual([...await hnf.readTensor("text.b")], [-1, 0]);
  hnf.close();
});

Deno.test("detects a corrupted block, header CRC or manifest", async () => {
  const dir = await tempDir();
  const path = `${dir}/small.hnf`;
  await writeSmall(path);
  const good = await Deno.readFile(path);
  const bad1 = good.slice();
  bad1[577] ^= 1;
  await Deno.writeFile(path, bad1);
  await assertHeliosError(openHnf(path), "BAD_HNF", /block 0 \(text_model\) XXH3/);
  const h1 = await openHnf(path, { verifyChecksums: false });
  h1.close();
  const bad2 = good.slice();
  bad2[0x0a] = 2; // version_minor is covered by the CRC
  await Deno.writeFile(path, bad2);
  await assertHeliosError(openHnf(path), "BAD_HNF", /CRC-32/);
  const bad3 = good.slice();
  bad3[0] = 0;
  await Deno.writeFile(path, bad3);
  await assertHeliosError(openHnf(path), "BAD_HNF", /bad magic/);
  await Deno.writeFile(path, good.subarray(0, good.length - 10));
  await assertHeliosError(openHnf(path), "BAD_HNF", /manifest runs past|header says/);
  const manifestAt = Number(new DataView(good.buffer).getBigUint64(0x20, true));
  const text = new TextDecoder().decode(good.subarray(manifestAt));
  const bad4 = good.slice();
  bad4[manifestAt + text.indexOf('"offset": 608') + 12] = "9".charCodeAt(0); // 608 → 609
  await Deno.writeFile(path, bad4);
  await assertHeliosError(
    openHnf(path),
    "BAD_HNF",
    /not 32-byte aligned|manifest checksum|lies outside/,
  );
  const bad5 = good.slice();
  bad5[manifestAt + text.indexOf('"text.b"') + 6] = "c".charCodeAt(0); // renamed tensor
  await Deno.writeFile(path, bad5);
  await assertHeliosError(openHnf(path), "BAD_HNF", /manifest checksum/);
  const bad6 = good.slice();
  bad6[0x0d] = 1; // flags: not covered by the CRC
  await Deno.writeFile(path, bad6);
  await assertHeliosError(openHnf(path), "BAD_HNF", /manifest checksum/);
  const bad7 = good.slice();
  bad7[620] = 1; // padding between blocks 0 and 0xA: covered by no checksum
  await Deno.writeFile(path, bad7);
  await assertHeliosError(openHnf(path), "BAD_HNF", /nonzero padding byte at 620/);
});

Deno.test("the manifest refuses what the runtime's scanner would misread", () => {
  const t = {
    name: "text.a",
    block: "text_model",
    offset: 576,
    size: 2,
    dtype: "fp16",
    shape: [1],
  };
  assert.throws(() => encodeManifest([{ ...t, name: "text.{a}" }], {}), /brace/);
  assert.throws(() => encodeManifest([t, t], {}), /Duplicate/);
  assert.throws(() => encodeManifest([t], { note: "tensors" }), /tensors/);
  assert.throws(() => encodeManifest([{ ...t, extra: { size: 1 } }], {}), /clashes/);
  assert.throws(() => encodeManifest([t], { a: { tensors: [] } }), /only once/);
});

Deno.test("an aborted writer leaves no file", async () => {
  const dir = await tempDir();
  const w = await HnfWriter.create(`${dir}/x.hnf`);
  await w.beginBlock(0);
  await w.beginTensor({ name: "text.a", dtype: "fp16", shape: [4] });
  await w.write(new Uint8Array(4));
  assert.equal((await listDir(dir)).length, 1, "only the temp file exists while writing");
  await w.abort();
  assert.deepEqual(await listDir(dir), []);
});
