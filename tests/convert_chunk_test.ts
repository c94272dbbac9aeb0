import assert from "node:assert/strict";
import { type ChunkJob, processChunk, scanChunk } from "../src/convert/chunk.ts";
import { ChunkPool } from "../src/convert/chunk_pool.ts";
import { F16_MAX } from "../src/hqs/f16.ts";
import { getKernel } from "../src/hqs/registry.ts";
import { quantize } from "../src/hqs/mod.ts";
import { Rng } from "./_rng.ts";
import { tinyModel } from "./_helpers.ts";
import { convert, type ConvertTimings, planConversion } from "../mod.ts";

/** The obviously correct twin of scanChunk: one pass, every branch, sums in element order. */
function slowScan(x: Float32Array, policy: "error" | "zero", sums: boolean) {
  let nonfinite = 0, clamped = 0, sum = 0, sumSq = 0;
  for (let i = 0; i < x.length; i++) {
    let v = x[i];
    if (!Number.isFinite(v)) {
      nonfinite++;
      if (policy === "error") continue;
      x[i] = v = 0;
    } else if (Math.abs(v) > F16_MAX) {
      clamped++;
      x[i] = v = Math.sign(v) * F16_MAX;
    }
    if (sums) {
      sum += v;
      sumSq += v * v;
    }
  }
  return { nonfinite, clamped, sum, sumSq };
}

function withSpecials(x: Float32Array): Float32Array {
  const y = x.slice();
  y[3] = NaN;
  y[100] = Infinity;
  y[777] = -1e9;
  y[778] = 70000;
  return y;
}

Deno.test("scanChunk matches its slow twin bit for bit, with and without NaN/Inf/huge values", () => {
  const x = new Rng(7).gaussianArray(5000, 0.02);
  for (const data of [x, withSpecials(x)]) {
    for (const policy of ["error", "zero"] as const) {
      for (const sums of [true, false]) {
        const a = data.slice();
        const b = data.slice();
        assert.deepEqual(scanChunk(a, policy, sums), slowScan(b, policy, sums));
        assert.deepEqual(a, b);
      }
    }
  }
});

function bf16(x: Float32Array): ArrayBuffer {
  const bits = new Uint16Array(x.length);
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < x.length; i++) bits[i] = u[i] >>> 16; // truncation: exact BF16 values
  return bits.buffer;
}

function bf16Values(raw: ArrayBuffer): Float32Array {
  const bits = new Uint16Array(raw);
  const out = new Float32Array(bits.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  return out;
}

Deno.test("a chunk quantizes to the bytes of quantize() on its checked values", () => {
  const x = withSpecials(new Rng(11).gaussianArray(3 * 256 + 100, 0.02)); // a padded tail
  for (const target of ["hq5k", "hq4k", "hq51k", "hq31k"] as const) {
    for (const search of ["fast", "mse"] as const) {
      const raw = bf16(x);
      const ref = bf16Values(raw);
      const stats = slowScan(ref, "zero", true);
      const r = processChunk({
        raw,
        dtype: "BF16",
        count: x.length,
        target,
        search,
        nonfinite: "zero",
      }, getKernel);
      assert.deepEqual(r.out, quantize(target, ref, { search }), `${target} ${search}`);
      assert.deepEqual(
        { nonfinite: r.nonfinite, clamped: r.clamped, sum: r.sum, sumSq: r.sumSq },
        stats,
      );
      assert.ok(r.sqErr > 0);
    }
  }
});

Deno.test("FP16 chunks: BF16 in place, F32 through the check, NaN/Inf written as 0", () => {
  const x = withSpecials(new Rng(5).gaussianArray(1000, 1));
  const f32 = x.slice().buffer as ArrayBuffer;
  const r32 = processChunk({
    raw: f32,
    dtype: "F32",
    count: x.length,
    target: "fp16",
    search: "mse",
    nonfinite: "zero",
  }, getKernel);
  const ref = x.slice();
  slowScan(ref, "zero", false);
  assert.deepEqual(
    new Uint16Array(r32.out.buffer, 0, x.length),
    new Uint16Array(Float16Array.from(ref).buffer),
  );
  assert.equal(r32.nonfinite, 2);
  assert.equal(r32.clamped, 2);
  const raw = bf16(x);
  const rb = processChunk({
    raw,
    dtype: "BF16",
    count: x.length,
    target: "fp16",
    search: "mse",
    nonfinite: "zero",
  }, getKernel);
  assert.equal(rb.out.buffer, raw); // converted in place
  const vals = bf16Values(bf16(x));
  slowScan(vals, "zero", false);
  assert.deepEqual(
    new Uint16Array(rb.out.buffer, 0, x.length),
    new Uint16Array(Float16Array.from(vals).buffer),
  );
});

Deno.test("a chunk with NaN under the error policy is counted but not quantized", () => {
  const x = withSpecials(new Rng(3).gaussianArray(512, 0.02));
  const r = processChunk({
    raw: x.slice().buffer as ArrayBuffer,
    dtype: "F32",
    count: 512,
    target: "hq5k",
    search: "fast",
    nonfinite: "error",
  }, getKernel);
  assert.equal(r.nonfinite, 2);
  assert.equal(r.sqErr, 0);
});

Deno.test("the chunk pool gives the same results for 0 (this thread), 1 and 3 workers and hands the buffers back", async () => {
  const jobs = (): ChunkJob[] =>
    [0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => ({
      raw: k < 7
        ? new Rng(k).gaussianArray(4096 + k * 256, 0.02).buffer as ArrayBuffer
        : bf16(new Rng(k).gaussianArray(4096, 1)),
      dtype: k < 7 ? "F32" : "BF16",
      count: 4096 + (k < 7 ? k * 256 : 0),
      target: k >= 7 ? "fp16" : k % 2 ? "hq5k" : "hq41k",
      search: "mse",
      nonfinite: "error",
    }));
  const results = [];
  for (const threads of [0, 1, 3]) {
    const pool = new ChunkPool(threads);
    try {
      const rs = await Promise.all(jobs().map((j) => pool.run(j)));
      for (const r of rs) assert.ok(r.raw.byteLength > 0);
      results.push(rs.map((r) => ({ out: r.out.slice(), sqErr: r.sqErr, sum: r.sum })));
    } finally {
      pool.close();
    }
  }
  assert.deepEqual(results[0], results[1]);
  assert.deepEqual(results[0], results[2]);
});

Deno.test("a closed chunk pool fails calls in flight and new ones", async () => {
  const pool = new ChunkPool(1);
  const p = pool.run({
    raw: new Float32Array(1 << 16).buffer,
    dtype: "F32",
    count: 1 << 16,
    target: "hq5k",
    search: "mse",
    nonfinite: "error",
  });
  pool.close();
  await assert.rejects(p, (e: Error & { code?: string }) => e.code === "ABORTED");
  assert.throws(() =>
    pool.run({
      raw: new ArrayBuffer(4),
      dtype: "F32",
      count: 1,
      target: "fp16",
      search: "mse",
      nonfinite: "error",
    })
  );
});

Deno.test("a conversion reports where its data phase spent its time, once", async () => {
  const dir = await tinyModel({ dtype: "BF16" });
  const events: ConvertTimings[] = [];
  await convert({
    models: { text: dir },
    output: `${dir}.hnf`,
    quant: "hq5k",
    threads: 2,
    onEvent: (e) => {
      if (e.type === "timings") events.push(e.timings);
    },
  });
  assert.equal(events.length, 1);
  const t = events[0];
  const plan = await planConversion({ models: { text: dir }, quant: "hq5k" });
  assert.equal(t.elements, plan.tensors.reduce((s, x) => s + x.numel, 0));
  for (const v of Object.values(t)) assert.ok(v >= 0 && Number.isFinite(v));
  assert.ok(t.quantizeMs > 0 && t.totalMs > 0);
  for (const tw of plan.towers) tw.folder.close();
});

Deno.test("the chunk queue crosses tensors and blocks without changing a byte or a figure", async () => {
  // Gemma 4: two blocks, a densely packed vision block, synthesized clamp constants between read
  // tensors, and tensors far smaller than a chunk; 4096-element chunks on three workers keep
  // chunks of several tensors in flight at once.
  const dir = await tinyModel({ arch: "gemma4" });
  const a = await convert({
    models: { text: dir },
    output: `${dir}/../q1.hnf`,
    threads: 1,
    search: "fast",
  });
  const b = await convert({
    models: { text: dir },
    output: `${dir}/../q3.hnf`,
    threads: 3,
    search: "fast",
    chunkElements: 4096,
  });
  assert.deepEqual(
    await Deno.readFile(`${dir}/../q3.hnf`),
    await Deno.readFile(`${dir}/../q1.hnf`),
  );
  // The errors are float sums over chunks, so their last bits follow the chunk size.
  const round = (r: typeof a.tensors) =>
    r.map((t) => ({ ...t, relRmse: t.relRmse && Number(t.relRmse.toPrecision(12)) }));
  assert.deepEqual(round(b.tensors), round(a.tensors));
  assert.ok(a.tensors.some((t) => t.origin !== undefined), "the model has synthesized tensors");
});

Deno.test("a pool closed while it still creates workers fails its queued chunks and leaves no timer", async () => {
  const pool = new ChunkPool(4); // one worker now, three more in later tasks
  const runs = [0, 1, 2, 3, 4, 5].map(() =>
    pool.run({
      raw: new Float32Array(4096).buffer,
      dtype: "F32",
      count: 4096,
      target: "hq5k",
      search: "mse",
      nonfinite: "error",
    })
  );
  pool.close(); // the test's sanitizers fail it if a creation timer or a worker is left
  for (const p of runs) {
    await assert.rejects(p, (e: Error & { code?: string }) => e.code === "ABORTED");
  }
});

/** Runs a one-value FP16 chunk (BF16 1.0) through `pool` and checks its result. */
async function convertsOneValue(pool: ChunkPool): Promise<void> {
  const r = await pool.run({
    raw: new Uint16Array([0x3f80]).buffer,
    dtype: "BF16",
    count: 1,
    target: "fp16",
    search: "mse",
    nonfinite: "error",
  });
  assert.deepEqual([...new Uint16Array(r.out.buffer, 0, 1)], [0x3c00]);
}

Deno.test("a pool of 0 threads starts no worker; one of 3 starts one now and the others one per task", async () => {
  const pool = new ChunkPool(0);
  pool.start({ kernels: true });
  await convertsOneValue(pool);
  assert.equal(pool.started, 0);
  pool.close();
  const grown = new ChunkPool(3);
  grown.start();
  assert.equal(grown.started, 1); // the others follow, one per task
  await new Promise((resolve) => setTimeout(resolve, 0));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(grown.started, 3);
  grown.close();
});

Deno.test("a pool started with 'workers: 2' stops there until its first chunk, then grows to all", async () => {
  const pool = new ChunkPool(4);
  pool.start({ workers: 2 });
  const ticks = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  };
  await ticks(4);
  assert.equal(pool.started, 2);
  await convertsOneValue(pool);
  await ticks(4);
  assert.equal(pool.started, 4);
  pool.close();
});

Deno.test("a chunk of several slices quantizes as one: in place unless the output outgrows F8's bytes, sums in element order", () => {
  // Two whole 64-block slices and a partial third, specials in the first and last slices.
  const n = 2 * 64 * 256 + 300;
  const x = new Rng(17).gaussianArray(n, 0.02);
  x[5] = 1e6;
  x[n - 7] = NaN;
  const bf = bf16(x);
  const f8 = new Uint8Array(n).map((_, i) => (i * 37) & 0x77); // finite E4M3 codes
  const f8Values = new Float32Array(n);
  const e4m3 = (c: number) => {
    const e = (c >> 3) & 15, m = c & 7, s = c & 0x80 ? -1 : 1;
    return s * (e === 0 ? m / 8 * 2 ** -6 : (1 + m / 8) * 2 ** (e - 7));
  };
  for (let i = 0; i < n; i++) f8Values[i] = e4m3(f8[i]);
  const cases = [
    { dtype: "BF16", raw: () => bf.slice(0), ref: () => bf16Values(bf) },
    { dtype: "F32", raw: () => x.slice().buffer as ArrayBuffer, ref: () => x.slice() },
    { dtype: "F8_E4M3", raw: () => f8.slice().buffer as ArrayBuffer, ref: () => f8Values.slice() },
  ];
  for (const c of cases) {
    for (const target of ["hq5k", "hq41k"] as const) {
      const ref = c.ref();
      const stats = slowScan(ref, "zero", true);
      const raw = c.raw();
      const job = {
        raw,
        dtype: c.dtype,
        count: n,
        target,
        search: "fast",
        nonfinite: "zero",
      } as const;
      const r = processChunk(job, getKernel);
      assert.deepEqual(r.out, quantize(target, ref, { search: "fast" }), `${c.dtype} ${target}`);
      assert.deepEqual(
        { nonfinite: r.nonfinite, clamped: r.clamped, sum: r.sum, sumSq: r.sumSq },
        stats,
      );
      // In place unless a slice's output could reach the next slice's source (HQ5K's 288-byte
      // blocks from one-byte F8 values: 256 bytes each).
      const inPlace = !(c.dtype === "F8_E4M3" && target === "hq5k");
      assert.equal(r.out.buffer === raw, inPlace, `${c.dtype} ${target}: in place`);
      const failed = processChunk({ ...job, raw: c.raw(), nonfinite: "error" }, getKernel);
      assert.equal(failed.nonfinite, c.dtype === "F8_E4M3" ? 0 : 1);
      if (failed.nonfinite > 0) assert.equal(failed.sqErr, 0);
    }
  }
});
