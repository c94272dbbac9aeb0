import assert from "node:assert/strict";
import { HeliosError } from "../src/errors.ts";
import {
  getKernel,
  hqsByteSize,
  KERNELS,
  parseQuantName,
  quantize,
  relativeRmse,
} from "../src/hqs/mod.ts";
import { Rng } from "./_rng.ts";

Deno.test("parseQuantName accepts every spelling case-insensitively", () => {
  const cases: Record<string, string> = {
    HQ5K: "hq5k",
    hq4k: "hq4k",
    fp16: "fp16",
    HQ31K: "hq31k",
    "hq3.1k": "hq31k",
    HQ41K: "hq41k",
    "HQ4.1K": "hq41k",
    hq51k: "hq51k",
    "Hq5.1k": "hq51k",
    HQ62K: "hq62k",
    "hq6.2K": "hq62k",
  };
  for (const [s, want] of Object.entries(cases)) assert.equal(parseQuantName(s), want);
});

Deno.test("parseQuantName rejects unknown names and lists the valid ones", () => {
  for (const bad of ["HQ3K", "int8", "", "HQ5"]) {
    assert.throws(
      () => parseQuantName(bad),
      (e: unknown) =>
        e instanceof HeliosError && e.code === "BAD_OPTION" && e.message.includes(`'${bad}'`) &&
        e.message.includes("HQ4.1K"),
    );
  }
});

Deno.test("the registry has every format with its block size", () => {
  const sizes = { hq4k: 256, hq5k: 288, hq31k: 136, hq41k: 168, hq51k: 200, hq62k: 264 };
  for (const [f, bytes] of Object.entries(sizes)) {
    assert.equal(getKernel(f as keyof typeof sizes).blockBytes, bytes);
    assert.equal(KERNELS[f as keyof typeof sizes].format, f);
  }
  assert.throws(() => getKernel("hq3k" as "hq4k"), HeliosError);
  assert.equal(hqsByteSize("hq5k", 0), 0);
  assert.equal(hqsByteSize("hq5k", 256), 288);
  assert.equal(hqsByteSize("hq4k", 257), 512);
  assert.throws(() => hqsByteSize("hq4k", -1), HeliosError);
});

Deno.test("HQ5K and HQ4K meet the reference's relative RMSE thresholds on uniform data", () => {
  // §8.4: 10 240 samples uniform in [−2, 2], HQ5K < 3 %, HQ4K < 5 %.
  const x = new Rng(3).uniformArray(10240, -2, 2);
  for (const [f, limit] of [["hq5k", 0.03], ["hq4k", 0.05]] as const) {
    for (const search of ["mse", "fast"] as const) {
      const y = new Float32Array(x.length);
      getKernel(f).decode(quantize(f, x, { search }), 0, 40, y, 0);
      assert.ok(relativeRmse(x, y) < limit, `${f} ${search}: ${relativeRmse(x, y)}`);
    }
  }
});

Deno.test("relativeRmse divides RMSE by the population standard deviation", () => {
  // σ of [1, −1, 1, −1] is 1; errors of 0.5 everywhere give RMSE 0.5.
  const x = new Float32Array([1, -1, 1, -1]);
  assert.equal(relativeRmse(x, new Float32Array([1.5, -0.5, 0.5, -1.5])), 0.5);
  assert.equal(relativeRmse(x, x), 0);
  assert.throws(() => relativeRmse(x, new Float32Array(3)), HeliosError);
});
