import assert from "node:assert/strict";
import { getKernel } from "../src/hqs/mod.ts";
import {
  qmaxOf,
  refFastParams,
  refSearch9x9,
  refSearchGrid,
  refTotalErr,
} from "./_hqs_reference.ts";
import { Rng } from "./_rng.ts";

const N = 8192;
const DATA: Record<string, (rng: Rng) => Float32Array> = {
  "Gaussian σ=0.02": (rng) => rng.gaussianArray(N, 0.02),
  "Student-t ν=3": (rng) => rng.studentTArray(N, 3, 0.02),
  "uniform [−2, 2)": (rng) => rng.uniformArray(N, -2, 2),
};

for (const [name, make] of Object.entries(DATA)) {
  for (const f of ["hq4k", "hq5k"] as const) {
    Deno.test(`${f} mse search beats the 9×9, the 64×64 grid and the fast path on ${name}`, () => {
      const qmax = qmaxOf(f);
      for (const seed of [1, 2]) {
        const x = make(new Rng(seed * 1000 + qmax));
        const k = getKernel(f);
        const out = new Uint8Array((N / 256) * k.blockBytes);
        const mse = k.encode(x, 0, N / 256, out, 0, "mse");
        const fast = refTotalErr(x, qmax, (x, off) => refFastParams(x, off));
        const nine = refTotalErr(x, qmax, refSearch9x9);
        const grid = refTotalErr(x, qmax, refSearchGrid);
        const msg = `seed ${seed}: mse ${mse}, 9×9 ${nine}, grid ${grid}, fast ${fast}`;
        assert.ok(mse <= nine, msg);
        assert.ok(mse <= grid, msg);
        assert.ok(mse <= fast, msg);
        assert.equal(k.encode(x, 0, N / 256, new Uint8Array(out.length), 0, "fast"), fast);
      }
    });
  }
}

Deno.test("the mse search is deterministic", () => {
  const x = new Rng(5).gaussianArray(4096, 0.02);
  for (const f of ["hq4k", "hq5k"] as const) {
    const k = getKernel(f);
    const a = new Uint8Array(16 * k.blockBytes);
    const b = new Uint8Array(16 * k.blockBytes);
    const ea = k.encode(x, 0, 16, a, 0, "mse");
    k.encode(new Rng(6).gaussianArray(4096, 1), 0, 16, b, 0, "mse"); // disturb any state
    const eb = k.encode(x, 0, 16, b, 0, "mse");
    assert.deepEqual(a, b);
    assert.equal(ea, eb);
  }
});
