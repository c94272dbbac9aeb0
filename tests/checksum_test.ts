import { strict as assert } from "node:assert";
import fc from "fast-check";
import { crc32 as crc32Oracle, createXXHash3 } from "hash-wasm";
import { crc32, createXxh3, xxh3 } from "../src/hnf/checksum.ts";
import { Xxh3Hasher } from "../src/hnf/xxh3.ts";

// hash-wasm (xxHash's and zlib's C, compiled) is the oracle of our XXH3 port and CRC-32.
const oracle = await createXXHash3(0, 0);
function want(bytes: Uint8Array): bigint {
  oracle.init();
  oracle.update(bytes);
  return BigInt(`0x${oracle.digest("hex")}`);
}

/** Bytes that are not a short period, so a wrong offset or lane changes the hash. */
function pattern(n: number, seed = 1): Uint8Array {
  let s = seed >>> 0;
  return new Uint8Array(n).map(() => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24);
}

Deno.test("XXH3-64 equals xxHash's for every length from 0 to 2 100 (all short paths, 1 and 2 blocks and their stripe edges)", () => {
  const bytes = pattern(2100);
  for (let n = 0; n <= 2100; n++) {
    assert.equal(xxh3(bytes.subarray(0, n)), want(bytes.subarray(0, n)), `length ${n}`);
  }
});

Deno.test("XXH3-64 known values: empty, 'text', a 1 MiB run", () => {
  assert.equal(xxh3(new Uint8Array(0)).toString(16), "2d06800538d394c2");
  assert.equal(xxh3(new TextEncoder().encode("text")).toString(16), "4769fd1c60e8a611");
  const mib = pattern(1 << 20, 9);
  assert.equal(xxh3(mib), want(mib));
});

Deno.test("XXH3-64 streaming equals one shot whatever the split (tiny pieces, the 256 KiB input area crossed)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 700_000 }),
      fc.array(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 600_000 })), {
        minLength: 1,
        maxLength: 12,
      }),
      fc.integer(),
      (n, cuts, seed) => {
        const bytes = pattern(n, seed);
        const h = new Xxh3Hasher();
        let off = 0;
        for (const c of cuts) {
          h.update(bytes.subarray(off, Math.min(n, off + c)));
          off = Math.min(n, off + c);
        }
        h.update(bytes.subarray(off));
        const expected = want(bytes);
        assert.equal(h.digest(), expected);
        assert.equal(h.digest(), expected, "digest leaves the hasher unchanged");
      },
    ),
    { numRuns: 60, seed: 5 },
  );
});

Deno.test("XXH3-64 hashers interleave without sharing state", () => {
  const a = pattern(5000, 2), b = pattern(3000, 3);
  const ha = createXxh3(), hb = createXxh3();
  for (let i = 0; i < 5; i++) {
    ha.update(a.subarray(i * 1000, (i + 1) * 1000));
    hb.update(b.subarray(i * 600, (i + 1) * 600));
  }
  assert.equal(ha.digest(), want(a));
  assert.equal(hb.digest(), want(b));
});

Deno.test("CRC-32 equals zlib's (hash-wasm) on arbitrary bytes", async () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  for (const n of [1, 3, 64, 576, 4099]) {
    const bytes = pattern(n, n);
    assert.equal(crc32(bytes), parseInt(await crc32Oracle(bytes), 16), `length ${n}`);
  }
});
