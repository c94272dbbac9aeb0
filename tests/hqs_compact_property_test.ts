import { strict as assert } from "node:assert";
import fc from "fast-check";
import { COMPACT_KERNELS } from "../src/hqs/compact.ts";
import { roundTrip } from "./_hqs_reference.ts";

const SPECS: Record<string, { bits: number; wide: boolean }> = {
  hq31k: { bits: 3, wide: false },
  hq41k: { bits: 4, wide: false },
  hq51k: { bits: 5, wide: false },
  hq62k: { bits: 6, wide: true },
};

/**
 * Slow, obviously correct decoder written straight from §7.6: bit by bit, f16 via DataView.
 * (f64 then f32 rounding; fused-multiply-add ties are covered by the golden test.)
 */
function twinDecode(format: string, bytes: Uint8Array, nBlocks: number): Float32Array {
  const { bits, wide } = SPECS[format];
  const header = wide ? 72 : 40, codeMax = wide ? 255 : 15, qMax = 2 ** bits - 1;
  const blockBytes = header + 32 * bits;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(nBlocks * 256);
  const fr = Math.fround;
  for (let b = 0; b < nBlocks; b++) {
    const p = b * blockBytes;
    const dScale = dv.getFloat16(p, true), dMin = dv.getFloat16(p + 2, true);
    const minBase = dv.getFloat16(p + 4, true);
    for (let g = 0; g < 32; g++) {
      let qs, qm;
      if (wide) {
        qs = bytes[p + 8 + g];
        qm = bytes[p + 40 + g];
      } else {
        const hiNibble = g % 2 === 0;
        const s = bytes[p + 8 + Math.floor(g / 2)], m = bytes[p + 24 + Math.floor(g / 2)];
        qs = hiNibble ? s >> 4 : s & 15;
        qm = hiNibble ? m >> 4 : m & 15;
      }
      const step = fr(fr(fr(dScale * qs) / codeMax) / qMax);
      const min = fr(minBase + fr(fr(dMin * qm) / codeMax));
      for (let k = 0; k < 8; k++) {
        let q = 0;
        if (bits === 4) {
          const byte = bytes[p + header + 4 * g + Math.floor(k / 2)];
          q = k % 2 === 0 ? byte >> 4 : byte & 15;
        } else {
          for (let t = 0; t < bits; t++) {
            const bit = bits * k + t;
            const byte = bytes[p + header + bits * g + Math.floor(bit / 8)];
            q += ((byte >> (bit % 8)) & 1) << t;
          }
        }
        out[b * 256 + 8 * g + k] = fr(q * step + min);
      }
    }
  }
  return out;
}

const blocks = fc.integer({ min: 1, max: 3 }).chain((n) =>
  fc.float32Array({
    minLength: 256 * n,
    maxLength: 256 * n,
    noNaN: true,
    noDefaultInfinity: true,
    min: -1000,
    max: 1000,
  })
);
const scaled = fc.tuple(blocks, fc.constantFrom(1, 1e-3, 0.02, 30)).map(([x, s]) =>
  x.map((v) => v * s)
);

for (const k of COMPACT_KERNELS) {
  Deno.test(`${k.format} round trip: finite, deterministic, error as returned, twin agrees`, () => {
    fc.assert(
      fc.property(scaled, fc.constantFrom("mse" as const, "fast" as const), (x, search) => {
        const a = roundTrip(k, x, search);
        const b = roundTrip(k, x, search);
        assert.deepEqual(a.bytes, b.bytes);
        let e = 0;
        for (let i = 0; i < x.length; i++) {
          assert.ok(Number.isFinite(a.y[i]));
          e += (x[i] - a.y[i]) ** 2;
        }
        assert.ok(Math.abs(e - a.err) <= 1e-9 * e + 1e-30, `${e} vs ${a.err}`);
        for (let b0 = 0; b0 < x.length / 256; b0++) {
          assert.equal(a.bytes[b0 * k.blockBytes + 6], 0);
          assert.equal(a.bytes[b0 * k.blockBytes + 7], 0);
        }
        assert.deepEqual(twinDecode(k.format, a.bytes, x.length / 256), a.y);
      }),
      { numRuns: 40, seed: 7 },
    );
  });

  Deno.test(`${k.format} fast decoder equals the twin on arbitrary bytes`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: k.blockBytes, maxLength: k.blockBytes }), (raw) => {
        // Keep the f16 globals finite: clear the top exponent bit.
        raw[1] &= 0xbf;
        raw[3] &= 0xbf;
        raw[5] &= 0xbf;
        const y = new Float32Array(256);
        k.decode(raw, 0, 1, y, 0);
        assert.deepEqual(twinDecode(k.format, raw, 1), y);
      }),
      { numRuns: 200, seed: 11 },
    );
  });
}
