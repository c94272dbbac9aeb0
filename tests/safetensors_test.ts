import assert from "node:assert/strict";
import {
  openSafetensorsFolder,
  parseHeaderJson,
  readHeaderLength,
} from "../src/safetensors/mod.ts";
import { decodeToF32 } from "../src/safetensors/dtype.ts";
import { assertHeliosError, tempDir, tinyModel, writeRawSafetensors } from "./_helpers.ts";

const F32x2 = new Uint8Array(new Float32Array([1.5, -2]).buffer);

async function folderWith(header: string, data: Uint8Array, name = "model.safetensors") {
  const dir = await tempDir();
  await writeRawSafetensors(`${dir}/${name}`, header, data);
  return dir;
}

Deno.test("decodes F32, F16, BF16 and FP8 exactly", () => {
  const out = new Float32Array(2);
  decodeToF32("F16", new Uint8Array([0x00, 0x3c, 0x00, 0xc0]), 2, out, 0);
  assert.deepEqual([...out], [1, -2]);
  decodeToF32("BF16", new Uint8Array([0xc0, 0x3f, 0x80, 0xbf]), 2, out, 0);
  assert.deepEqual([...out], [1.5, -1]);
  decodeToF32("F32", F32x2, 2, out, 0);
  assert.deepEqual([...out], [1.5, -2]);
  decodeToF32("F8_E4M3", new Uint8Array([0x38, 0xb8]), 2, out, 0);
  assert.deepEqual([...out], [1, -1]);
  decodeToF32("F8_E5M2", new Uint8Array([0x3c, 0x40]), 2, out, 0);
  assert.deepEqual([...out], [1, 2]);
});

Deno.test("reads a sharded model through its index, tensor by tensor", async () => {
  const dir = await tinyModel({ shards: 3, dtype: "F16" });
  const folder = await openSafetensorsFolder(dir);
  try {
    assert.equal(folder.files.length, 3);
    const emb = folder.tensors.find((t) => t.name === "model.embed_tokens.weight")!;
    assert.deepEqual(emb.shape, [320, 256]);
    const part = new Float32Array(10);
    await folder.readF32(emb, 256, 10, part);
    assert.ok(part.every((v) => Number.isFinite(v) && Math.abs(v) < 0.5));
  } finally {
    folder.close();
  }
});

Deno.test("keeps __metadata__", async () => {
  const dir = await folderWith(
    '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
    F32x2,
  );
  const folder = await openSafetensorsFolder(dir);
  assert.deepEqual(Object.values(folder.metadata)[0], { format: "pt" });
  folder.close();
});

Deno.test("rejects a file shorter than 8 bytes", async () => {
  const dir = await tempDir();
  await Deno.writeFile(`${dir}/model.safetensors`, new Uint8Array(5));
  await assertHeliosError(openSafetensorsFolder(dir), "BAD_SAFETENSORS", /too short/);
});

Deno.test("rejects a header length that runs past the file", () => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, 1000n, true);
  assert.throws(() => readHeaderLength(b, 100, "m.safetensors"), /runs past the end/);
});

Deno.test("rejects a zero or absurd header length", () => {
  assert.throws(() => readHeaderLength(new Uint8Array(8), 100, "m"), /header length is 0/);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, 1n << 60n, true);
  assert.throws(() => readHeaderLength(b, 100, "m"), /limit/);
});

Deno.test("rejects a header that is not JSON, or not an object", async () => {
  const dir = await folderWith("{not json", new Uint8Array(0));
  await assertHeliosError(openSafetensorsFolder(dir), "BAD_SAFETENSORS", /not valid JSON/);
  assert.throws(() => parseHeaderJson("[1,2]", 13, 13, "m"), /must start with/);
});

Deno.test("rejects an unknown dtype naming the tensor", async () => {
  const dir = await folderWith('{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}', F32x2);
  await assertHeliosError(
    openSafetensorsFolder(dir),
    "UNSUPPORTED_DTYPE",
    /tensor 'w'.*unknown dtype 'Q4'/,
  );
});

Deno.test("rejects data offsets beyond the file (truncated file)", async () => {
  const dir = await folderWith('{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', F32x2);
  await assertHeliosError(
    openSafetensorsFolder(dir),
    "BAD_SAFETENSORS",
    /tensor 'w'.*ends at byte .* but the file has/,
  );
});

Deno.test("rejects a size that disagrees with shape × dtype", async () => {
  const dir = await folderWith('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', F32x2);
  await assertHeliosError(
    openSafetensorsFolder(dir),
    "BAD_SAFETENSORS",
    /tensor 'w': data is 8 bytes .* needs 12/,
  );
});

Deno.test("rejects overlapping tensors", async () => {
  const dir = await folderWith(
    '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
    F32x2,
  );
  await assertHeliosError(openSafetensorsFolder(dir), "BAD_SAFETENSORS", /overlap/);
});

Deno.test("rejects a malformed shape or data_offsets", async () => {
  const d1 = await folderWith('{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', F32x2);
  await assertHeliosError(openSafetensorsFolder(d1), "BAD_SAFETENSORS", /shape must be/);
  const d2 = await folderWith('{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}', F32x2);
  await assertHeliosError(openSafetensorsFolder(d2), "BAD_SAFETENSORS", /data_offsets/);
});

Deno.test("rejects an index that names a missing shard or a misplaced tensor", async () => {
  const dir = await folderWith(
    '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
    F32x2,
    "a.safetensors",
  );
  await Deno.writeTextFile(
    `${dir}/model.safetensors.index.json`,
    JSON.stringify({ weight_map: { w: "a.safetensors", v: "b.safetensors" } }),
  );
  await assertHeliosError(openSafetensorsFolder(dir), "MISSING_FILE", /b\.safetensors: not found/);
  await writeRawSafetensors(
    `${dir}/b.safetensors`,
    '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
    F32x2,
  );
  await assertHeliosError(
    openSafetensorsFolder(dir),
    "BAD_INDEX",
    /tensor 'v' is not in its shard b\.safetensors/,
  );
  await Deno.writeTextFile(`${dir}/model.safetensors.index.json`, "{");
  await assertHeliosError(openSafetensorsFolder(dir), "BAD_INDEX", /invalid JSON/);
});

Deno.test("rejects a truncated shard mid-data when reading", async () => {
  const dir = await tinyModel({ dtype: "F32" });
  const path = `${dir}/model.safetensors`;
  const size = (await Deno.stat(path)).size;
  await Deno.truncate(path, size - 100);
  await assertHeliosError(openSafetensorsFolder(dir), "BAD_SAFETENSORS", /but the file has/);
});

Deno.test("a folder without safetensors is a clear error", async () => {
  const dir = await tempDir();
  await assertHeliosError(openSafetensorsFolder(dir), "MISSING_FILE", /no \*\.safetensors files/);
});
