import { strict as assert } from "node:assert";
import { HQ31K_KERNEL, HQ41K_KERNEL, HQ51K_KERNEL, HQ62K_KERNEL } from "../src/hqs/compact.ts";
import {
  fmaF32,
  HQ31K_SPEC,
  HQ41K_SPEC,
  HQ51K_SPEC,
  HQ62K_SPEC,
  packCompactBlock,
} from "../src/hqs/compact_layout.ts";

const fr = Math.fround;
const ONE = 0x3c00, ONE_HALF = 0x3e00, MINUS_ONE = 0xbc00;

/** q_scale / q_min: group 0 → 15 / 15, group 1 → 1 / 0, the rest 0. */
function groupCodes(): [Uint8Array, Uint8Array] {
  const qs = new Uint8Array(32), qm = new Uint8Array(32);
  qs[0] = 15;
  qs[1] = 1;
  qm[0] = 15;
  return [qs, qm];
}

/** Codes 0…7 in group 0 and `top` in group 1 (when given). */
function elementCodes(top: number): Uint8Array {
  const c = new Uint8Array(256);
  for (let i = 0; i < 8; i++) {
    c[i] = i;
    c[8 + i] = top;
  }
  return c;
}

function expectedHeader(bytes: number): number[] {
  // d_scale 1.5, d_min 1, min_base −1 (f16 LE), two zero bytes (§7.6).
  return [0x00, 0x3e, 0x00, 0x3c, 0x00, 0xbc, 0, 0].concat(new Array(bytes - 8).fill(0));
}

Deno.test("hq41k packs the header high nibble first and elements as HQ4K", () => {
  const [qs, qm] = groupCodes();
  const out = new Uint8Array(168);
  packCompactBlock(HQ41K_SPEC, ONE_HALF, ONE, MINUS_ONE, qs, qm, 0, elementCodes(15), 0, out, 0);
  const want = new Uint8Array(168);
  want.set(expectedHeader(40));
  want[8] = 0xf1; // q_scale: group 0 = 15 in bits 4–7, group 1 = 1 in bits 0–3
  want[24] = 0xf0; // q_min: group 0 = 15, group 1 = 0
  want.set([0x01, 0x23, 0x45, 0x67, 0xff, 0xff, 0xff, 0xff], 40);
  assert.deepEqual(out, want);

  const y = new Float32Array(256);
  HQ41K_KERNEL.decode(out, 0, 1, y, 0);
  // Group 0: step 1.5·15/15/15, min −1 + 1·15/15 = 0. Group 1: step 1.5·1/15/15, min −1.
  const s0 = fr(fr(fr(1.5 * 15) / 15) / 15), s1 = fr(fr(1.5 / 15) / 15);
  for (let i = 0; i < 8; i++) {
    assert.equal(y[i], fr(i * s0));
    assert.equal(y[8 + i], fr(15 * s1 - 1));
  }
  assert.equal(y[16], -1);
  assert.equal(y[255], -1);
});

Deno.test("hq31k packs eight 3-bit codes LSB-first into 3 bytes per group", () => {
  const [qs, qm] = groupCodes();
  const out = new Uint8Array(136);
  packCompactBlock(HQ31K_SPEC, ONE_HALF, ONE, MINUS_ONE, qs, qm, 0, elementCodes(7), 0, out, 0);
  const want = new Uint8Array(136);
  want.set(expectedHeader(40));
  want[8] = 0xf1;
  want[24] = 0xf0;
  want.set([0x88, 0xc6, 0xfa, 0xff, 0xff, 0xff], 40);
  assert.deepEqual(out, want);
  const y = new Float32Array(256);
  HQ31K_KERNEL.decode(out, 0, 1, y, 0);
  const s0 = fr(fr(fr(1.5 * 15) / 15) / 7);
  for (let i = 0; i < 8; i++) assert.equal(y[i], fr(i * s0));
  assert.equal(y[8], fr(7 * fr(fr(1.5 / 15) / 7) - 1));
});

Deno.test("hq51k packs eight 5-bit codes LSB-first into 5 bytes per group", () => {
  const [qs, qm] = groupCodes();
  const out = new Uint8Array(200);
  packCompactBlock(HQ51K_SPEC, ONE_HALF, ONE, MINUS_ONE, qs, qm, 0, elementCodes(31), 0, out, 0);
  const want = new Uint8Array(200);
  want.set(expectedHeader(40));
  want[8] = 0xf1;
  want[24] = 0xf0;
  want.set([0x20, 0x88, 0x41, 0x8a, 0x39, 0xff, 0xff, 0xff, 0xff, 0xff], 40);
  assert.deepEqual(out, want);
  const y = new Float32Array(256);
  HQ51K_KERNEL.decode(out, 0, 1, y, 0);
  const s0 = fr(fr(fr(1.5 * 15) / 15) / 31);
  for (let i = 0; i < 8; i++) assert.equal(y[i], fr(i * s0));
});

Deno.test("hq62k has a 72-byte header of u8 codes and 6-bit LSB-first elements", () => {
  const qs = new Uint8Array(32), qm = new Uint8Array(32);
  qs[0] = 255;
  qs[1] = 17;
  qm[0] = 255;
  qm[31] = 128;
  const codes = new Uint8Array(256);
  codes.set([63, 0, 1, 2, 3, 4, 5, 62]);
  const out = new Uint8Array(264);
  packCompactBlock(HQ62K_SPEC, ONE_HALF, ONE, MINUS_ONE, qs, qm, 0, codes, 0, out, 0);
  const want = new Uint8Array(264);
  want.set(expectedHeader(72));
  want[8] = 255; // q_scale u8 at 8 + g
  want[9] = 17;
  want[40] = 255; // q_min u8 at 40 + g
  want[71] = 128;
  want.set([0x3f, 0x10, 0x08, 0x03, 0x51, 0xf8], 72);
  assert.deepEqual(out, want);
  const y = new Float32Array(256);
  HQ62K_KERNEL.decode(out, 0, 1, y, 0);
  const s0 = fr(fr(fr(1.5 * 255) / 255) / 63);
  assert.equal(y[0], fr(63 * s0));
  assert.equal(y[1], 0);
  assert.equal(y[7], fr(62 * s0));
  // Group 31: step 0, min −1 + 1·128/255.
  assert.equal(y[255], fr(-1 + fr(128 / 255)));
});

Deno.test("decode rounds like a fused multiply-add, not like f64 then f32", () => {
  const step = fr(1 + 2 ** -23);
  // 3·step = 3 + 1.5 f32 ulps: a tie that the tiny min must break.
  assert.equal(fmaF32(3, step, 2 ** -60), 3 + 2 ** -21);
  assert.equal(fmaF32(3, step, -(2 ** -60)), 3 + 2 ** -22);
  assert.equal(fr(3 * step - 2 ** -60), 3 + 2 ** -21); // the naive way gets it wrong
  assert.equal(fmaF32(2, 0.25, -0.5), 0);
});
