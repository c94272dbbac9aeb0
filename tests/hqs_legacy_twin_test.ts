import assert from "node:assert/strict";
import fc from "fast-check";
import { f16BitsToF32, getKernel, type HqsSearch } from "../src/hqs/mod.ts";
import { qmaxOf, refCode, refDecode, refGroupErr } from "./_hqs_reference.ts";
import { Rng } from "./_rng.ts";

type Legacy = "hq4k" | "hq5k";

function headerParams(bytes: Uint8Array, block: number, blockBytes: number, g: number) {
  const h = block * blockBytes + 4 * g;
  return { mb: bytes[h] | (bytes[h + 1] << 8), sb: bytes[h + 2] | (bytes[h + 3] << 8) };
}

/** Slow twin of the encoder: given the kernel's chosen params, rebuilds every byte. */
function slowEncode(f: Legacy, x: Float32Array, params: Uint8Array): Uint8Array {
  const qmax = qmaxOf(f);
  const bb = f === "hq4k" ? 256 : 288;
  const out = new Uint8Array(params.length);
  for (let b = 0; b < x.length / 256; b++) {
    for (let g = 0; g < 32; g++) {
      const { mb, sb } = headerParams(params, b, bb, g);
      const h = b * bb + 4 * g;
      out.set([mb & 0xff, mb >> 8, sb & 0xff, sb >> 8], h);
      const q: number[] = [];
      for (let k = 0; k < 8; k++) {
        const v = x[b * 256 + 8 * g + k];
        q.push(refCode(v, f16BitsToF32(mb), f16BitsToF32(sb), qmax));
      }
      if (f === "hq4k") {
        for (let i = 0; i < 4; i++) out[b * bb + 128 + 4 * g + i] = q[2 * i] * 16 + q[2 * i + 1];
      } else {
        let v = 0n;
        for (let k = 0; k < 8; k++) v += BigInt(q[k]) << BigInt(5 * k);
        for (let j = 0; j < 5; j++) {
          out[b * bb + 128 + 5 * g + j] = Number((v >> BigInt(8 * j)) & 255n);
        }
      }
    }
  }
  return out;
}

/** Slow twin of the decoder. */
function slowDecode(f: Legacy, bytes: Uint8Array, nBlocks: number): Float32Array {
  const qmax = qmaxOf(f);
  const bb = f === "hq4k" ? 256 : 288;
  const out = new Float32Array(nBlocks * 256);
  for (let b = 0; b < nBlocks; b++) {
    for (let g = 0; g < 32; g++) {
      const { mb, sb } = headerParams(bytes, b, bb, g);
      for (let k = 0; k < 8; k++) {
        const e = 8 * g + k;
        let q: number;
        if (f === "hq4k") {
          const byte = bytes[b * bb + 128 + (e >> 1)];
          q = e % 2 === 0 ? byte >> 4 : byte & 15;
        } else {
          let v = 0n;
          for (let j = 0; j < 5; j++) v += BigInt(bytes[b * bb + 128 + 5 * g + j]) << BigInt(8 * j);
          q = Number((v >> BigInt(5 * k)) & 31n);
        }
        out[b * 256 + e] = refDecode(q, f16BitsToF32(mb), f16BitsToF32(sb), qmax);
      }
    }
  }
  return out;
}

function encodeAll(f: Legacy, x: Float32Array, search: HqsSearch) {
  const k = getKernel(f);
  const bytes = new Uint8Array((x.length / 256) * k.blockBytes);
  const sqErr = k.encode(x, 0, x.length / 256, bytes, 0, search);
  return { bytes, sqErr };
}

for (const f of ["hq4k", "hq5k"] as const) {
  for (const search of ["mse", "fast"] as const) {
    Deno.test(`${f} ${search}: fast kernels match the slow twins byte for byte`, () => {
      const rng = new Rng(11);
      const x = new Float32Array(256 * 40);
      x.set(rng.gaussianArray(256 * 20, 0.02));
      x.set(rng.studentTArray(256 * 10, 3, 0.5), 256 * 20);
      x.set(rng.uniformArray(256 * 10, -2, 2), 256 * 30);
      const { bytes, sqErr } = encodeAll(f, x, search);
      assert.deepEqual(bytes, slowEncode(f, x, bytes));
      const y = new Float32Array(x.length);
      getKernel(f).decode(bytes, 0, x.length / 256, y, 0);
      assert.deepEqual(y, slowDecode(f, bytes, x.length / 256));
      let ref = 0;
      const bb = getKernel(f).blockBytes;
      for (let g = 0; g < x.length / 8; g++) {
        const { mb, sb } = headerParams(bytes, g >> 5, bb, g & 31);
        ref += refGroupErr(x, 8 * g, mb, sb, qmaxOf(f));
      }
      assert.ok(Math.abs(ref - sqErr) <= 1e-12 * ref, `${ref} vs ${sqErr}`);
    });
  }

  Deno.test(`${f}: round trip stays within half a step plus f16 slack (property)`, () => {
    const qmax = qmaxOf(f);
    const k = getKernel(f);
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1000, max: 1000, noNaN: true }), {
          minLength: 1,
          maxLength: 600,
        }),
        (arr) => {
          const n = Math.ceil(arr.length / 256) * 256;
          const x = new Float32Array(n);
          x.set(arr);
          const fast = encodeAll(f, x, "fast");
          const mse = encodeAll(f, x, "mse");
          const y = new Float32Array(n);
          k.decode(fast.bytes, 0, n / 256, y, 0);
          assert.equal(y.length, x.length);
          for (let g = 0; g < n / 8; g++) {
            let mn = Infinity;
            let mx = -Infinity;
            for (let i = 0; i < 8; i++) {
              mn = Math.min(mn, x[8 * g + i]);
              mx = Math.max(mx, x[8 * g + i]);
            }
            const slack = (Math.abs(mn) + (mx - mn)) * 2 ** -10 + 2 ** -23;
            for (let i = 0; i < 8; i++) {
              const d = Math.abs(x[8 * g + i] - y[8 * g + i]);
              assert.ok(d <= (mx - mn) / qmax / 2 + slack, `group ${g}: error ${d}`);
            }
            const p = headerParams(mse.bytes, g >> 5, k.blockBytes, g & 31);
            const pf = headerParams(fast.bytes, g >> 5, k.blockBytes, g & 31);
            assert.ok(
              refGroupErr(x, 8 * g, p.mb, p.sb, qmax) <= refGroupErr(x, 8 * g, pf.mb, pf.sb, qmax),
            );
          }
        },
      ),
      { numRuns: 150, seed: 20260801 },
    );
  });
}
