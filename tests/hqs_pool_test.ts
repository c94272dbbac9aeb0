import assert from "node:assert/strict";
import { HqsPool, quantize } from "../src/hqs/mod.ts";
import { HQS_POOL_SLICE_BLOCKS } from "../src/hqs/pool.ts";
import { assertHeliosError } from "./_helpers.ts";
import { Rng } from "./_rng.ts";

// 7.5 slices: uneven splits across 2 and 3 workers, and a short last slice.
const X = new Rng(77).gaussianArray(256 * (HQS_POOL_SLICE_BLOCKS * 7 + 32), 0.02);

Deno.test("the pool writes identical bytes and error sums for 1, 2 and 3 threads", async () => {
  for (const f of ["hq4k", "hq5k"] as const) {
    for (const search of ["mse", "fast"] as const) {
      const want = quantize(f, X, { search });
      let sqErr: number | undefined;
      for (const threads of [1, 2, 3]) {
        const pool = new HqsPool({ threads });
        try {
          const r = await pool.encode(f, X, search);
          assert.deepEqual(r.bytes, want, `${f} ${search} threads ${threads}`);
          if (sqErr === undefined) sqErr = r.sqErr;
          assert.equal(r.sqErr, sqErr, `${f} ${search} threads ${threads}`);
        } finally {
          pool.close();
        }
      }
    }
  }
});

Deno.test("the pool runs several calls at once and keeps them apart", async () => {
  const pool = new HqsPool({ threads: 2 });
  try {
    const parts = [X.subarray(0, 256 * 100), X.subarray(256 * 100), X.subarray(0, 256)];
    const got = await Promise.all([
      pool.encode("hq5k", parts[0], "mse"),
      pool.encode("hq4k", parts[1], "fast"),
      pool.encode("hq5k", parts[2], "mse"),
      pool.encode("hq4k", new Float32Array(0), "mse"),
    ]);
    assert.deepEqual(got[0].bytes, quantize("hq5k", parts[0]));
    assert.deepEqual(got[1].bytes, quantize("hq4k", parts[1], { search: "fast" }));
    assert.deepEqual(got[2].bytes, quantize("hq5k", parts[2]));
    assert.equal(got[3].bytes.length, 0);
    assert.equal(pool.threads, 2);
  } finally {
    pool.close();
  }
});

Deno.test("the pool accepts shared input and rejects calls after close", async () => {
  const shared = new Float32Array(new SharedArrayBuffer(256 * 4 * 4));
  shared.set(X.subarray(0, 1024));
  const pool = new HqsPool({ threads: 1 });
  const r = await pool.encode("hq5k", shared, "mse");
  assert.deepEqual(r.bytes, quantize("hq5k", X.subarray(0, 1024)));
  assert.ok(!(r.bytes.buffer instanceof SharedArrayBuffer));
  pool.close();
  await assertHeliosError(pool.encode("hq5k", shared, "mse"), "ABORTED");
  await assertHeliosError(Promise.resolve().then(() => new HqsPool({ threads: 0 })), "BAD_OPTION");
});

Deno.test("closing the pool during a call rejects it", async () => {
  const pool = new HqsPool({ threads: 1 });
  const p = pool.encode("hq5k", X, "mse");
  pool.close();
  await assertHeliosError(p, "ABORTED");
});
