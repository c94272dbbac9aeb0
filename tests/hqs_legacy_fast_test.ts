import assert from "node:assert/strict";
import { createLegacyKernel } from "../src/hqs/legacy.ts";
import { CPU_SEARCH, type HqsSearchBackend } from "../src/hqs/search.ts";
import { Rng } from "./_rng.ts";

// Any backend other than CPU_SEARCH itself takes the general path: a thin wrapper does.
const viaBackend: HqsSearchBackend = {
  name: "cpu-wrapped",
  searchGroups: (...args) => CPU_SEARCH.searchGroups(...args),
};

for (const format of ["hq4k", "hq5k"] as const) {
  Deno.test(`the dedicated ${format} fast path writes the backend's fast-path bytes and error`, () => {
    const fast = createLegacyKernel(format);
    const general = createLegacyKernel(format, viaBackend);
    const rng = new Rng(3);
    const n = 64 * 256;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = (i % 3 === 0 ? rng.studentT(3) : rng.gaussian()) * 0.02 * (i % 4000 === 0 ? 1e7 : 1);
    }
    x[5] = NaN;
    x[77] = Infinity;
    x.fill(0.5, 512, 768); // a constant super-block
    x.fill(0, 1024, 1280); // an all-zero one
    const a = new Uint8Array((n / 256) * fast.blockBytes);
    const b = new Uint8Array(a.length);
    const ea = fast.encode(x, 0, n / 256, a, 0, "fast");
    const eb = general.encode(x, 0, n / 256, b, 0, "fast");
    assert.deepEqual(a, b);
    assert.equal(ea, eb);
  });
}
