import { strict as assert } from "node:assert";
import { COMPACT_KERNELS } from "../src/hqs/compact.ts";
import type { HqsKernel } from "../src/hqs/kernel.ts";
import { relativeRmse as relRmse } from "../src/hqs/mod.ts";
import { roundTrip } from "./_hqs_reference.ts";
import { type Dist, fillRandom } from "./_rng.ts";

function blockErrors(k: HqsKernel, x: Float32Array, search: "mse" | "fast"): number[] {
  const out: number[] = [];
  for (let b = 0; b < x.length / 256; b++) {
    out.push(roundTrip(k, x.subarray(b * 256, b * 256 + 256), search).err);
  }
  return out;
}

/** 32 blocks: constant groups (zero, f16-exact, not f16-exact) mixed into random ones. */
function constantGroups(): Float32Array {
  const x = fillRandom(new Float32Array(32 * 256), 5, "gaussian", 0.02);
  for (let g = 0; g < x.length / 8; g++) {
    if (g % 3 === 0) x.fill([0, 0.25, 0.0123][g % 9 / 3], 8 * g, 8 * g + 8);
  }
  x.fill(0.7, 256 * 7, 256 * 8); // one fully constant block
  return x;
}

for (const k of COMPACT_KERNELS) {
  Deno.test(`${k.format} search is never worse than the fast path, block by block`, () => {
    const cases: [string, Float32Array][] = [
      ["gaussian", fillRandom(new Float32Array(64 * 256), 1, "gaussian", 0.02)],
      ["student-t", fillRandom(new Float32Array(64 * 256), 2, "student-t", 0.02)],
      ["constant groups", constantGroups()],
    ];
    for (const [name, x] of cases) {
      const mse = blockErrors(k, x, "mse"), fast = blockErrors(k, x, "fast");
      for (let b = 0; b < mse.length; b++) {
        assert.ok(mse[b] <= fast[b], `${name} block ${b}: ${mse[b]} > ${fast[b]}`);
      }
    }
  });

  Deno.test(`${k.format} reconstructs an all-zero super-block exactly`, () => {
    for (const search of ["mse", "fast"] as const) {
      const { err, y } = roundTrip(k, new Float32Array(512), search);
      assert.equal(err, 0);
      assert.ok(y.every((v) => v === 0));
    }
  });

  Deno.test(`${k.format} keeps constant groups and blocks finite and close`, () => {
    const x = constantGroups();
    for (const search of ["mse", "fast"] as const) {
      const { y } = roundTrip(k, x, search);
      assert.ok(y.every(Number.isFinite));
      // The constant block 0.7: within a small fraction of the value.
      for (let i = 256 * 7; i < 256 * 8; i++) assert.ok(Math.abs(y[i] - 0.7) < 1e-3);
    }
    const c = new Float32Array(256).fill(0.25);
    assert.equal(roundTrip(k, c, "mse").err, 0); // f16-exact constant: exact
  });

  Deno.test(`${k.format} treats non-finite inputs as 0`, () => {
    const x = fillRandom(new Float32Array(256), 3, "gaussian", 0.02);
    x[3] = NaN;
    x[9] = Infinity;
    const { y } = roundTrip(k, x, "mse");
    assert.ok(y.every(Number.isFinite));
  });
}

/**
 * Issue 6 must-targets are 9.3 / 4.75 / 2.45 % (relative RMSE, Gaussian σ = 0.02, default search);
 * these bounds are what the search reaches on this seed (9.272 / 4.681 / 2.393 / 1.049 %), with a
 * little slack, so a regression shows before a target is missed.
 */
const TARGETS: Record<string, number> = {
  hq31k: 0.0928,
  hq41k: 0.047,
  hq51k: 0.024,
  hq62k: 0.0106,
};

for (const k of COMPACT_KERNELS) {
  const target = TARGETS[k.format];
  Deno.test(`${k.format} reaches ${(target * 100).toFixed(2)} % relative RMSE on 256K Gaussians`, () => {
    const x = fillRandom(new Float32Array(1 << 18), 42, "gaussian" as Dist, 0.02);
    const rel = relRmse(x, roundTrip(k, x, "mse").y);
    assert.ok(rel <= target, `${(rel * 100).toFixed(3)} %`);
  });

  Deno.test(`${k.format} search is deterministic and independent of the batch split`, () => {
    const x = fillRandom(new Float32Array(16 * 256), 9, "student-t", 0.02);
    const whole = new Uint8Array(16 * k.blockBytes);
    k.encode(x, 0, 16, whole, 0, "mse");
    const again = new Uint8Array(whole.length);
    k.encode(x, 0, 16, again, 0, "mse");
    assert.deepEqual(again, whole);
    const split = new Uint8Array(whole.length);
    for (let b = 0; b < 16; b++) k.encode(x, b * 256, 1, split, b * k.blockBytes, "mse");
    assert.deepEqual(split, whole);
  });

  Deno.test(`${k.format} search beats the fast path on Student-t (ν = 3) data`, () => {
    const x = fillRandom(new Float32Array(1 << 16), 43, "student-t", 0.02);
    assert.ok(relRmse(x, roundTrip(k, x, "mse").y) < relRmse(x, roundTrip(k, x, "fast").y));
  });
}
