import assert from "node:assert/strict";
import { CPU_SEARCH, type GroupParams } from "../src/hqs/search.ts";
import { SEARCH_CHUNK, searchKernel } from "../src/hqs/search_wasm.ts";
import { f32ToF16Bits } from "../src/hqs/f16.ts";
import { twinSearchGroups } from "./_hqs_search_twin.ts";
import { Rng } from "./_rng.ts";

// Two chunks and a partial third, so that chunk boundaries are crossed.
const GROUPS = 2 * SEARCH_CHUNK + 37;
const SCALES = [1e-9, 1e-6, 1e-3, 0.02, 1, 100, 3e4, 1e6, 1e20, 3e38];

/** Tensors that reach every branch: tails, huge and tiny groups, ties, few levels, ±0, saturation. */
const DATA: Record<string, (rng: Rng, i: number) => number> = {
  "Gaussian σ = 0.02, every third element Student-t ν = 3": (rng, i) =>
    (i % 3 === 0 ? rng.studentT(3) : rng.gaussian()) * 0.02,
  "uniform groups at scales 1e-9 … 3e38": (rng, i) =>
    (rng.uniform() - 0.5) * SCALES[(i >> 3) % SCALES.length],
  "eight levels per group (ties)": (rng, i) =>
    Math.round((rng.uniform() - 0.5) * 8) / 8 * SCALES[(i >> 3) % 6],
  "signed powers of two from 2^-40 to 2^20": (rng) =>
    (rng.uniform() < 0.5 ? -1 : 1) * 2 ** Math.floor(rng.uniform() * 60 - 40),
  "±0, f16 limits and beyond": (rng) =>
    [0, -0, 65504, -65504, 6e-8, 1e-7, 65520, 7e4][Math.floor(rng.uniform() * 8)],
  "near-linear ramps with repeated ends": (rng, i) =>
    ((i >> 3) % 7) * 0.37 + (i % 8) * 1e-3 * (rng.uniform() < 0.1 ? 0 : 1),
};

function params(groups: number): GroupParams {
  return {
    minBits: new Uint16Array(groups),
    rangeBits: new Uint16Array(groups),
    sqErr: new Float64Array(groups),
    codes: new Uint8Array(groups * 8),
  };
}

for (const [name, value] of Object.entries(DATA)) {
  Deno.test(`the WebAssembly legacy search matches its scalar twin bit for bit: ${name}`, () => {
    const rng = new Rng(name.length);
    const x = new Float32Array(GROUPS * 8);
    for (let i = 0; i < x.length; i++) x[i] = value(rng, i);
    for (const qmax of [31, 15]) {
      for (const search of ["mse", "fast"] as const) {
        const want = params(GROUPS);
        const got = params(GROUPS);
        twinSearchGroups(x, GROUPS, qmax, search, want);
        CPU_SEARCH.searchGroups(x, GROUPS, qmax, search, got);
        const where = `Qmax ${qmax}, ${search}`;
        assert.deepEqual(got.minBits, want.minBits, where);
        assert.deepEqual(got.rangeBits, want.rangeBits, where);
        assert.deepEqual(got.codes, want.codes, where);
        for (let g = 0; g < GROUPS; g++) {
          assert.ok(Object.is(got.sqErr[g], want.sqErr[g]), `${where}, group ${g}`);
        }
      }
    }
  });
}

Deno.test("the module's f16 rounding matches Float16Array, ties and subnormals included", () => {
  const f16 = searchKernel().f16;
  const rng = new Rng(16);
  const pair = new Float16Array(2);
  const bits = new Uint16Array(pair.buffer);
  const check = (v: number) => {
    const want = f32ToF16Bits(v);
    // NaN's payload is not the module's concern: any pattern with an all-ones exponent will do.
    if ((want & 0x7c00) === 0x7c00) assert.equal(f16(v), (want & 0x8000) | 0x7c00, `${v}`);
    else assert.equal(f16(v), want, `${v}`);
  };
  for (let i = 0; i < 20000; i++) {
    check((rng.uniform() - 0.5) * 2 ** (rng.uniform() * 50 - 34));
    bits[0] = Math.floor(rng.uniform() * 0x7bff);
    bits[1] = bits[0] + 1;
    const mid = (pair[0] + pair[1]) / 2; // exactly halfway: ties to even
    for (const v of [mid, -mid, mid * (1 + 2 ** -52), mid * (1 - 2 ** -53)]) check(v);
  }
  for (const v of [0, -0, NaN, Infinity, -Infinity, 65504, 65519.99, 65520, 2 ** -25, 2 ** -24]) {
    check(v);
  }
});
