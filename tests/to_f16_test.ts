import assert from "node:assert/strict";
import { convertToF16 } from "../src/convert/to_f16.ts";
import { decodeToF32 } from "../src/safetensors/dtype.ts";

for (const dtype of ["BF16", "F16"] as const) {
  Deno.test(`${dtype} → FP16 through the table equals decode, clamp and round, for all 65 536 inputs`, () => {
    const src = new Uint16Array(65536).map((_, i) => i);
    const dst = new Uint16Array(65536);
    const counts = convertToF16(dtype, src, dst);
    const f = new Float32Array(65536);
    decodeToF32(dtype, new Uint8Array(src.buffer), 65536, f, 0);
    let clamped = 0;
    let nonfinite = 0;
    const ref = new Float16Array(65536);
    for (let i = 0; i < 65536; i++) {
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
    assert.deepEqual(dst, new Uint16Array(ref.buffer));
    assert.deepEqual(counts, { clamped, nonfinite });
    assert.ok(nonfinite > 0);
    if (dtype === "BF16") assert.ok(clamped > 0);
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
