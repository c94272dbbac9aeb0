import assert from "node:assert/strict";
import { dequantize, HQ4K_KERNEL, HQ5K_KERNEL, quantize } from "../src/hqs/mod.ts";

/** A super-block whose group 0 is `g0` and whose other 31 groups are zero. */
function block(g0: number[]): Float32Array {
  const x = new Float32Array(256);
  x.set(g0);
  return x;
}

// An all-zero group stores min 0 and the fast path's floored range f16(1e-7) = 2 × 2⁻²⁴.
const ZERO_HEADER = [0x00, 0x00, 0x02, 0x00];

for (const search of ["mse", "fast"] as const) {
  Deno.test(`HQ4K writes header and nibbles of a hand-computed super-block exactly (${search})`, () => {
    // min −0.5 (f16 0xB800), range 0.9375 (0x3B80), step 1/16: the values sit on the lattice.
    const q = [15, 0, 1, 2, 3, 4, 5, 14];
    const x = block(q.map((c) => -0.5 + c / 16));
    const out = new Uint8Array(256);
    const err = HQ4K_KERNEL.encode(x, 0, 1, out, 0, search);
    assert.equal(err, 0);
    assert.deepEqual([...out.subarray(0, 4)], [0x00, 0xb8, 0x80, 0x3b]);
    for (let g = 1; g < 32; g++) assert.deepEqual([...out.subarray(4 * g, 4 * g + 4)], ZERO_HEADER);
    // Element 2i in the high nibble, 2i+1 in the low nibble.
    assert.deepEqual([...out.subarray(128, 132)], [0xf0, 0x12, 0x34, 0x5e]);
    assert.ok(out.subarray(132).every((b) => b === 0));
    assert.deepEqual(dequantize("hq4k", out, 256), x);
  });

  Deno.test(`HQ5K packs 5-bit codes LSB-first in 5-byte chunks (${search})`, () => {
    // min 0.25 (0x3400), range 0.96875 (0x3BC0), step 1/32.
    const q = [0, 31, 1, 2, 3, 4, 5, 6];
    const x = block(q.map((c) => 0.25 + c / 32));
    const out = new Uint8Array(288);
    assert.equal(HQ5K_KERNEL.encode(x, 0, 1, out, 0, search), 0);
    assert.deepEqual([...out.subarray(0, 4)], [0x00, 0x34, 0xc0, 0x3b]);
    // V = Σ q[k]·2^(5k): byte0 = q0 | (q1 & 7) << 5 = 0xE0; byte1 = q1 >> 3 | q2 << 2 | (q3 & 1) << 7
    // = 0x07; byte2 = q3 >> 1 | (q4 & 15) << 4 = 0x31; byte3 = q4 >> 4 | q5 << 1 | (q6 & 3) << 6
    // = 0x48; byte4 = q6 >> 2 | q7 << 3 = 0x31.
    assert.deepEqual([...out.subarray(128, 133)], [0xe0, 0x07, 0x31, 0x48, 0x31]);
    assert.ok(out.subarray(133).every((b) => b === 0));
    assert.deepEqual(dequantize("hq5k", out, 256), x);
  });
}

Deno.test("HQ4K fast path rounds halves away from zero", () => {
  // min 0, range 1: 0.5 → 7.5 → 8, 0.25 → 3.75 → 4, 0.75 → 11.25 → 11.
  const x = block([0, 1, 0.5, 0.25, 0.75, 0, 0, 0]);
  const out = new Uint8Array(256);
  HQ4K_KERNEL.encode(x, 0, 1, out, 0, "fast");
  assert.deepEqual([...out.subarray(0, 4)], [0x00, 0x00, 0x00, 0x3c]);
  assert.deepEqual([...out.subarray(128, 132)], [0x0f, 0x84, 0xb0, 0x00]);
});

Deno.test("an all-zero tensor round-trips to zeros without dividing by zero", () => {
  for (const f of ["hq4k", "hq5k"] as const) {
    for (const search of ["mse", "fast"] as const) {
      const bytes = quantize(f, new Float32Array(600), { search });
      assert.equal(bytes.length, 3 * (f === "hq4k" ? 256 : 288));
      assert.ok(dequantize(f, bytes, 600).every((v) => v === 0));
    }
  }
});

Deno.test("constant groups stay finite and within f16 precision of the constant", () => {
  for (const c of [0.3, -7, 1e-9, 60000]) {
    for (const f of ["hq4k", "hq5k"] as const) {
      const x = new Float32Array(256).fill(c);
      const mse = dequantize(f, quantize(f, x), 256);
      const fast = dequantize(f, quantize(f, x, { search: "fast" }), 256);
      for (let i = 0; i < 256; i++) {
        assert.ok(Math.abs(mse[i] - c) <= Math.abs(c) * 2 ** -11 + 1e-7, `${f} ${c} → ${mse[i]}`);
        assert.ok(Math.abs(mse[i] - c) <= Math.abs(fast[i] - c), `${f} ${c}: mse worse than fast`);
      }
    }
  }
});

Deno.test("non-finite inputs are quantized as 0 and do not disturb their neighbours", () => {
  const x = new Float32Array(256);
  for (let i = 0; i < 256; i++) x[i] = Math.sin(i) * 0.02;
  const bad = x.slice();
  bad[3] = NaN;
  bad[100] = Infinity;
  bad[200] = -Infinity;
  const clean = x.slice();
  clean[3] = 0;
  clean[100] = 0;
  clean[200] = 0;
  for (const f of ["hq4k", "hq5k"] as const) {
    assert.deepEqual(quantize(f, bad), quantize(f, clean));
  }
});

Deno.test("quantize pads the flattened tensor with zeros and dequantize truncates", () => {
  const x = new Float32Array(300);
  for (let i = 0; i < 300; i++) x[i] = Math.cos(i) * 0.05;
  const padded = new Float32Array(512);
  padded.set(x);
  for (const f of ["hq4k", "hq5k"] as const) {
    const a = quantize(f, x);
    assert.deepEqual(a, quantize(f, padded));
    assert.equal(dequantize(f, a, 300).length, 300);
    assert.equal(quantize(f, new Float32Array(0)).length, 0);
    assert.equal(dequantize(f, new Uint8Array(0), 0).length, 0);
  }
});

Deno.test("groups beyond the f16 range saturate instead of turning infinite", () => {
  const x = new Float32Array(256);
  for (let i = 0; i < 256; i++) x[i] = (i % 2 ? 1 : -1) * (50000 + 1000 * (i % 16));
  for (const f of ["hq4k", "hq5k"] as const) {
    for (const search of ["mse", "fast"] as const) {
      const y = dequantize(f, quantize(f, x, { search }), 256);
      assert.ok(y.every((v) => Number.isFinite(v) && Math.abs(v) <= 65504 * 2), `${f} ${search}`);
    }
  }
});
