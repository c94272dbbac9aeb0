import assert from "node:assert/strict";
import { convertToF16 } from "../src/convert/to_f16.ts";
import { decodeToF32 } from "../src/safetensors/dtype.ts";
import { Rng } from "./_rng.ts";

/** Decode, clamp and round (Float16Array's store), with the counts: what the kernel must give. */
function reference(dtype: "BF16" | "F16", src: Uint16Array) {
  const n = src.length;
  const f = new Float32Array(n);
  decodeToF32(dtype, new Uint8Array(src.buffer, src.byteOffset, n * 2), n, f, 0);
  let clamped = 0;
  let nonfinite = 0;
  const ref = new Float16Array(n);
  for (let i = 0; i < n; i++) {
    let v = f[i];
    if (!Number.isFinite(v)) {
      nonfinite++;
      v = 0;
    } else if (Math.abs(v) > 65504) {
      clamped++;
      v = Math.sign(v) * 65504;
    }
    ref[i] = v;
  }
  return { bits: new Uint16Array(ref.buffer), counts: { clamped, nonfinite } };
}

for (const dtype of ["BF16", "F16"] as const) {
  Deno.test(`${dtype} → FP16 equals decode, clamp and round, for all 65 536 inputs`, () => {
    const src = new Uint16Array(65536).map((_, i) => i);
    const dst = new Uint16Array(65536);
    const counts = convertToF16(dtype, src, dst);
    const ref = reference(dtype, src);
    assert.deepEqual(dst, ref.bits);
    assert.deepEqual(counts, ref.counts);
    assert.ok(counts.nonfinite > 0);
    if (dtype === "BF16") assert.ok(counts.clamped > 0);
  });

  Deno.test(`${dtype} → FP16 of shuffled inputs over several pieces, in place (subnormal, clamped, NaN and normal lanes mixed)`, () => {
    // Every input four times, shuffled, plus an odd tail: the SIMD steps see every mix of lanes
    // (the subnormal route and the fast one in the same step), across the 64 Ki-value pieces.
    const rng = new Rng(11);
    const n = 4 * 65536 + 5;
    const src = new Uint16Array(n).map((_, i) => i & 0xffff);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [src[i], src[j]] = [src[j], src[i]];
    }
    const ref = reference(dtype, src);
    const counts = convertToF16(dtype, src, src);
    assert.deepEqual(src, ref.bits);
    assert.deepEqual(counts, ref.counts);
  });
}

Deno.test("BF16 → FP16 gives the same values and counts at any alignment and length", () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const ref = new Uint16Array(65536);
  convertToF16("BF16", all, ref);
  const buf = new Uint16Array(65536 + 3);
  buf.set(all, 1); // odd element offset: 2-byte aligned only
  for (const [off, n] of [[0, 65536], [1, 65535], [1, 65536], [0, 7], [2, 1], [3, 0]]) {
    const src = off === 0 ? all.subarray(0, n) : buf.subarray(off, off + n);
    const out = new Uint16Array(n + 1).subarray(off % 2, off % 2 + n);
    const counts = convertToF16("BF16", src, out);
    const first = off === 0 ? 0 : off - 1;
    assert.deepEqual(out, ref.subarray(first, first + n), `offset ${off}, length ${n}`);
    const whole = convertToF16("BF16", all.slice(first, first + n), new Uint16Array(n));
    assert.deepEqual(counts, whole);
  }
});
