import { strict as assert } from "node:assert";
import { f16BitsToF32 } from "../src/hqs/f16.ts";
import {
  fmaF32,
  HQ31K_SPEC,
  HQ41K_SPEC,
  HQ51K_SPEC,
  HQ62K_SPEC,
  latticeTables,
} from "../src/hqs/compact_layout.ts";
import {
  anchorStats,
  bestCandidate,
  CAND_I_BYTE,
  CAND_M_BYTE,
  CAND_S_BYTE,
  CODES_BYTE,
  CUR_J_BYTE,
  CUR_K_BYTE,
  exactWasm,
  fastMins,
  fastSteps,
  FUSED_BYTE,
  G_MAX_BYTE,
  G_MIN_BYTE,
  loadBlockWasm,
  MINS_BYTE,
  modelErrors,
  N_PTS_BYTE,
  PT_ERR_BYTE,
  PT_POS_BYTE,
  results,
  STEPS_BYTE,
  wasmF32,
  wasmF64,
  wasmI32,
  wasmU8,
  XB32_BYTE,
  XB_BYTE,
  XIN_BYTE,
} from "../src/hqs/compact_wasm.ts";
import { CPU_COMPACT_SEARCH, createCompactParams } from "../src/hqs/compact_search.ts";
import { twinCompactSearch } from "./_compact_search_twin.ts";
import { fillRandom } from "./_rng.ts";

const fr = Math.fround;

/** Scalar twin of one candidate: squared error of 8 values on the lattice (m, step). */
function twinError(x: Float32Array, off: number, step: number, m: number, qMax: number): number {
  const inv = step > 0 ? 1 / step : 0;
  let e = 0;
  for (let i = 0; i < 8; i++) {
    const t = (x[off + i] - m) * inv;
    const q = t <= 0 ? 0 : t >= qMax ? qMax : Math.floor(t + 0.5);
    const d = x[off + i] - m - q * step;
    e += d * d;
  }
  return e;
}

Deno.test("wasm candidate lists pick the first best lattice as the scalar twin does", () => {
  const x = fillRandom(new Float32Array(256), 21, "student-t", 0.02);
  wasmF32(XB32_BYTE, 256).set(x);
  const cm = wasmF32(CAND_M_BYTE, 128), cs = wasmF32(CAND_S_BYTE, 128);
  const ci = wasmF32(CAND_I_BYTE, 128);
  for (let g = 0; g < 32; g++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < 8; i++) {
      lo = Math.min(lo, x[8 * g + i]);
      hi = Math.max(hi, x[8 * g + i]);
    }
    for (const qMax of [7, 15, 31]) {
      // Lists of every length up to 23 (tails of 1…3 included), mixed steps, a repeated best
      // (the first one must win) and zero steps.
      const n = 1 + ((g * 3 + qMax) % 23);
      for (let c = 0; c < n; c++) {
        const step = c % 7 === 6 ? 0 : fr((hi - lo) / qMax * (0.85 + (c % 5) / 20));
        cm[c] = fr(lo - (hi - lo) * (0.2 - (c % 9) / 40));
        cs[c] = step;
        ci[c] = step > 0 ? fr(1 / step) : 0;
      }
      if (n > 4) [cm[n - 1], cs[n - 1], ci[n - 1]] = [cm[1], cs[1], ci[1]];
      const errs = Array.from({ length: n }, (_, c) => twinError(x, 8 * g, cs[c], cm[c], qMax));
      const i = bestCandidate(XB32_BYTE + 32 * g, qMax, n, Infinity);
      const best = Math.min(...errs);
      // f32 lanes: the chosen candidate is the best or within rounding of it, never a later copy.
      assert.ok(errs[i] <= best * (1 + 1e-5) + 1e-18, `group ${g}: ${errs[i]} vs ${best}`);
      assert.ok(i < n && !(n > 4 && i === n - 1 && errs[1] === errs[i]));
      assert.ok(Math.abs(results()[0] - errs[i]) <= errs[i] * 1e-5 + 1e-18);
      // Nothing strictly below a bound under the best: −1.
      assert.equal(bestCandidate(XB32_BYTE + 32 * g, qMax, n, 0), -1);
    }
  }
});

Deno.test("wasm anchored statistics (f32 lanes) are the scalar twin's within f32 rounding", () => {
  const x = fillRandom(new Float32Array(256), 22, "gaussian", 0.02);
  wasmF32(XB32_BYTE, 256).set(x);
  for (let g = 0; g < 32; g++) {
    const v = x.subarray(8 * g, 8 * g + 8);
    const lo = Math.min(...v), hi = Math.max(...v), qMax = 15;
    const s = fr((hi - lo) / qMax * 1.05), m0 = hi - qMax * s;
    anchorStats(XB32_BYTE + 32 * g, lo, hi, s, 1 / s, qMax, m0);
    let sr = 0, srr = 0, qh = 0, sr2 = 0, srr2 = 0, ql = qMax;
    for (const xv of v) {
      const q = Math.min(Math.floor((xv - lo) / s + 0.5), qMax);
      const d = xv - lo - q * s;
      sr += d;
      srr += d * d;
      qh = Math.max(qh, q);
      const q2 = qMax - Math.min(Math.floor((hi - xv) / s + 0.5), qMax);
      const d2 = xv - m0 - q2 * s;
      sr2 += d2;
      srr2 += d2 * d2;
      ql = Math.min(ql, q2);
    }
    // f32 residuals (|d| < s) and sums: a few f32 ulps of the values' scale.
    const tol = 8 * 2 ** -24 * (Math.abs(lo) + Math.abs(hi) + qMax * s);
    const near = (a: number, b: number, t: number) => Math.abs(a - b) <= t;
    assert.ok(
      near(results()[1], sr, 8 * tol) && near(results()[2], srr, 16 * s * tol),
      `group ${g}`,
    );
    assert.ok(
      near(results()[4], sr2, 8 * tol) && near(results()[5], srr2, 16 * s * tol),
      `group ${g}`,
    );
    assert.deepEqual([results()[3], results()[6]], [qh, ql]);
  }
});

Deno.test("wasm model error equals the scalar twin's and stops at the bound", () => {
  const pos = wasmF64(PT_POS_BYTE, 32 * 32), err = wasmF64(PT_ERR_BYTE, 32 * 32);
  const n = wasmU8(N_PTS_BYTE, 32);
  const r = fillRandom(new Float32Array(2048), 23, "gaussian", 1);
  for (let g = 0; g < 32; g++) {
    n[g] = 1 + (g % 7);
    for (let i = 0; i < n[g]; i++) {
      pos[32 * g + i] = 0.02 * r[64 * g + i];
      err[32 * g + i] = 1e-4 * Math.abs(r[64 * g + 32 + i]);
    }
    if (n[g] % 2 === 1) err[32 * g + n[g]] = Infinity;
  }
  const minBase = -0.05, delta = 0.1 / 15;
  let want = 0;
  for (let g = 0; g < 32; g++) {
    let best = Infinity;
    for (let i = 0; i < n[g]; i++) {
      const p = pos[32 * g + i];
      const j = Math.min(Math.max(Math.floor((p - minBase) * (1 / delta) + 0.5), 0), 15);
      const d = minBase + j * delta - p;
      best = Math.min(best, err[32 * g + i] + 8 * d * d);
    }
    want += best;
  }
  const got = modelErrors(minBase, delta, 1 / delta, 15, Infinity);
  assert.ok(Math.abs(got - want) <= 1e-12 * want, `${got} vs ${want}`);
  assert.ok(modelErrors(minBase, delta, 1 / delta, 15, want / 2) < want);
});

Deno.test("wasm exact error and codes equal the scalar twin's (fused multiply-add decode)", () => {
  const x = fillRandom(new Float32Array(256), 24, "student-t", 1);
  const xb = wasmF64(XB_BYTE, 256), steps = wasmF64(STEPS_BYTE, 16), mins = wasmF64(MINS_BYTE, 16);
  const kk = wasmU8(CUR_K_BYTE, 32), jj = wasmU8(CUR_J_BYTE, 32);
  // Both decodes: rounding to odd, and the relaxed multiply-add where this machine fuses it.
  const flag = wasmI32(FUSED_BYTE, 1), fusedHere = flag[0];
  for (let trial = 0; trial < 40; trial++) {
    flag[0] = trial % 2 === 0 ? 0 : fusedHere;
    xb.set(x.map((v) => v * 8 + 1));
    for (let c = 0; c < 16; c++) {
      steps[c] = fr(0.05 * c + 0.01 * (trial >> 1));
      // Tiny minima: q·step + min is rarely exact in f64, so the round-to-odd path runs.
      mins[c] = fr((c - 8) * 2 ** -(18 + c + (trial >> 1)));
    }
    for (let g = 0; g < 32; g++) {
      kk[g] = (g * 7 + trial) % 16;
      jj[g] = (g * 5 + trial) % 16;
    }
    const got = exactWasm(CODES_BYTE, 15);
    const codes = wasmU8(CODES_BYTE, 256);
    let want = 0;
    for (let g = 0; g < 32; g++) {
      const step = steps[kk[g]], min = mins[jj[g]], inv = step > 0 ? 1 / step : 0;
      for (let i = 8 * g; i < 8 * g + 8; i++) {
        const t = (xb[i] - min) * inv;
        const q = t <= 0 ? 0 : t >= 15 ? 15 : Math.floor(t + 0.5);
        assert.equal(codes[i], q);
        want += (xb[i] - fmaF32(q, step, min)) ** 2;
      }
    }
    assert.ok(Math.abs(got - want) <= 1e-14 * want, `${got} vs ${want}`);
    flag[0] = 1 - flag[0];
    if (flag[0] === 0 || fusedHere === 1) assert.equal(exactWasm(CODES_BYTE, 15), got);
  }
  flag[0] = fusedHere;
});

Deno.test("wasm block load zeroes non-finite values and keeps the first zero's sign", () => {
  const xin = wasmF32(XIN_BYTE, 256);
  const vals = [0, -0, 1, -1, Infinity, -Infinity, NaN, 2.5, 1e-40];
  const r = fillRandom(new Float32Array(256 * 40), 25, "gaussian", 1);
  for (let t = 0; t < 40; t++) {
    for (let i = 0; i < 256; i++) {
      xin[i] = vals[Math.floor(Math.abs(r[256 * t + i]) * 97) % (t % 2 === 0 ? 3 : vals.length)];
    }
    loadBlockWasm(XIN_BYTE);
    const xb = wasmF64(XB_BYTE, 256), xb32 = wasmF32(XB32_BYTE, 256);
    const lo = wasmF64(G_MIN_BYTE, 32), hi = wasmF64(G_MAX_BYTE, 32);
    for (let g = 0; g < 32; g++) {
      let a = Infinity, b = -Infinity;
      for (let i = 8 * g; i < 8 * g + 8; i++) {
        const v = Number.isFinite(xin[i]) ? xin[i] : 0;
        assert.ok(Object.is(xb[i], v) && Object.is(xb32[i], v));
        if (v < a) a = v;
        if (v > b) b = v;
      }
      assert.ok(Object.is(lo[g], a) && Object.is(hi[g], b), `block ${t} group ${g}`);
    }
  }
});

Deno.test("wasm fast path tables and codes equal the scalar twin's", () => {
  const gMin = wasmF64(G_MIN_BYTE, 32), gMax = wasmF64(G_MAX_BYTE, 32);
  const mins = wasmF64(MINS_BYTE, 256), steps = wasmF64(STEPS_BYTE, 256);
  const curK = wasmU8(CUR_K_BYTE, 32), curJ = wasmU8(CUR_J_BYTE, 32);
  const r = fillRandom(new Float32Array(64 * 40), 24, "student-t", 0.02);
  const wantS = new Float64Array(256), wantM = new Float64Array(256);
  for (const spec of [HQ31K_SPEC, HQ41K_SPEC, HQ51K_SPEC, HQ62K_SPEC]) {
    const { qMax, codeMax } = spec;
    for (let t = 0; t < 40; t++) {
      for (let g = 0; g < 32; g++) {
        const a = r[64 * t + 2 * g], b = r[64 * t + 2 * g + 1];
        gMin[g] = Math.min(a, b);
        gMax[g] = t === 0 ? gMin[g] : Math.max(a, b); // t = 0: constant groups
      }
      // f16 globals of assorted sizes (zero ones too), so that the code clamps are exercised.
      const minBase = f16BitsToF32(0x8000 | (0x2a00 + 20 * t));
      const dMin = t % 5 === 0 ? 0 : f16BitsToF32(0x2800 + 23 * t);
      const need = fastMins(minBase, dMin, codeMax);
      latticeTables(spec, 0, dMin, minBase, wantS, wantM);
      assert.deepEqual(mins.slice(0, codeMax + 1), wantM.slice(0, codeMax + 1));
      let wantNeed = 0;
      const jUnit = dMin > 0 ? codeMax / dMin : 0;
      for (let g = 0; g < 32; g++) {
        let j = Math.floor((gMin[g] - minBase) * jUnit);
        j = Math.max(0, Math.min(codeMax, j));
        while (j > 0 && wantM[j] > gMin[g]) j--;
        while (j < codeMax && wantM[j + 1] <= gMin[g]) j++;
        assert.equal(curJ[g], j, `${spec.format} block ${t} group ${g}`);
        wantNeed = Math.max(wantNeed, gMax[g] - wantM[j]);
      }
      assert.equal(need, wantNeed);
      const dScale = t % 7 === 0 ? 0 : f16BitsToF32(0x2800 + 61 * t);
      fastSteps(dScale, qMax, codeMax);
      latticeTables(spec, dScale, dMin, minBase, wantS, wantM);
      assert.deepEqual(steps.slice(0, codeMax + 1), wantS.slice(0, codeMax + 1));
      const kUnit = dScale > 0 ? codeMax / dScale : 0;
      for (let g = 0; g < 32; g++) {
        const rg = gMax[g] - wantM[curJ[g]];
        let k = Math.max(0, Math.min(codeMax, Math.ceil(rg * kUnit)));
        while (k < codeMax && wantS[k] * qMax < rg) k++;
        while (k > 0 && wantS[k - 1] * qMax >= rg) k--;
        assert.equal(curK[g], k, `${spec.format} block ${t} group ${g}`);
      }
    }
  }
});

Deno.test("the compact search's WebAssembly module is built on first use, not at import", async () => {
  const Module = WebAssembly.Module;
  let built = 0;
  // A fresh copy of the module (its own URL), counting the WebAssembly modules compiled.
  WebAssembly.Module = function (bytes: BufferSource) {
    built++;
    return new Module(bytes);
  } as unknown as typeof WebAssembly.Module;
  try {
    const w = await import("../src/hqs/compact_wasm.ts?first-use");
    assert.equal(built, 0);
    assert.equal(w.wasmU8(w.IOTA_BYTE, 16)[15], 15);
    w.wasmU8(0, 1);
    assert.equal(built, 1);
  } finally {
    WebAssembly.Module = Module;
  }
});

Deno.test("the WebAssembly search driver matches its JavaScript twin bit for bit", () => {
  // Gaussian and Student-t blocks, then blocks with few levels, signed zeros, values beyond the
  // f16 step grid, huge and non-finite values (each kind fills whole groups).
  const n = 96 * 256;
  const x = new Float32Array(n);
  x.set(fillRandom(new Float32Array(40 * 256), 31, "gaussian", 0.02));
  x.set(fillRandom(new Float32Array(40 * 256), 32, "student-t", 0.02), 40 * 256);
  for (let i = 80 * 256; i < 84 * 256; i++) x[i] = (i % 5) * 0.25;
  for (let i = 84 * 256; i < 88 * 256; i++) x[i] = i % 2 === 0 ? 0 : -0;
  for (let i = 88 * 256; i < 92 * 256; i++) x[i] = (i % 8) * 1000 - 3000;
  for (let i = 92 * 256; i < n; i++) x[i] = i % 7 === 0 ? [NaN, Infinity, 3e38][i % 3] : i * 1e-7;
  for (const spec of [HQ31K_SPEC, HQ41K_SPEC, HQ51K_SPEC, HQ62K_SPEC]) {
    for (const mode of ["mse", "fast"] as const) {
      const got = createCompactParams(96), want = createCompactParams(96);
      CPU_COMPACT_SEARCH.search(spec, x, 0, 96, mode, got);
      twinCompactSearch(spec, x, 0, 96, mode, want);
      const what = `${spec.format} ${mode}`;
      assert.deepEqual(got.codes, want.codes, `${what}: element codes`);
      assert.deepEqual(got.qScale, want.qScale, `${what}: q_scale codes`);
      assert.deepEqual(got.qMin, want.qMin, `${what}: q_min codes`);
      assert.deepEqual([got.dScale, got.dMin, got.minBase], [want.dScale, want.dMin, want.minBase]);
      for (let b = 0; b < 96; b++) {
        assert.ok(Object.is(got.sqErr[b], want.sqErr[b]), `${what} ${b}`);
      }
    }
  }
});
