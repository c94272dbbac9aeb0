/**
 * Paired benchmark of the compact formats' mse search (the kernels of `src/hqs/compact.ts`:
 * search and byte packing) against another version of the same files, alternating the two in
 * one process on the same tensor (Gaussian σ = 0.02 with every third element Student-t ν = 3,
 * plus a few constant, two-level and wide blocks). It first checks that both write the same
 * bytes for every super-block and the same squared error, then prints the best rate of each over
 * `--repeat` rounds, in Melem per second of the process's CPU time (user + system), which other work
 * on a shared machine disturbs less than the wall time.
 *
 *     git worktree add /tmp/before main   # or: git archive main | tar -x -C /tmp/before
 *     deno run -A bench/hqs_compact_pair.ts --before /tmp/before [--formats hq41k,hq51k]
 *       [--elements 1000000] [--repeat 9]
 *
 * @module
 */
import { cpuUsage } from "node:process";
import { COMPACT_KERNELS } from "../src/hqs/compact.ts";
import type { HqsKernel } from "../src/hqs/kernel.ts";
import { pairTensor } from "./_pair_tensor.ts";
import { arg } from "./_common.ts";

const before = arg("before", "");
if (!before) throw new Error("Pass --before DIR (a checkout of the version to compare with)");
const n = Math.ceil(Number(arg("elements", "1000000")) / 256) * 256;
const repeat = Number(arg("repeat", "9"));
const formats = arg("formats", "hq41k,hq51k,hq31k,hq62k").split(",");
const OLD: readonly HqsKernel[] =
  (await import(`${Deno.realPathSync(before)}/src/hqs/compact.ts`)).COMPACT_KERNELS;

const x = pairTensor(n);
x[3000] = NaN; // non-finite inputs count as 0
x[3001] = Infinity;
const blocks = n / 256;

for (const format of formats) {
  const kNew = COMPACT_KERNELS.find((k) => k.format === format);
  const kOld = OLD.find((k) => k.format === format);
  if (!kNew || !kOld) throw new Error(`Unknown compact format "${format}"`);
  const a = new Uint8Array(blocks * kNew.blockBytes);
  const b = new Uint8Array(blocks * kNew.blockBytes);
  const errOld = kOld.encode(x, 0, blocks, a, 0, "mse");
  const errNew = kNew.encode(x, 0, blocks, b, 0, "mse");
  let diff = 0;
  for (let blk = 0; blk < blocks; blk++) {
    const o = blk * kNew.blockBytes;
    for (let i = 0; i < kNew.blockBytes; i++) {
      if (a[o + i] !== b[o + i]) {
        diff++;
        break;
      }
    }
  }
  let tOld = Infinity;
  let tNew = Infinity;
  const cpuMs = () => {
    const u = cpuUsage();
    return (u.user + u.system) / 1000;
  };
  for (let r = 0; r < repeat; r++) {
    let t = cpuMs();
    kOld.encode(x, 0, blocks, a, 0, "mse");
    tOld = Math.min(tOld, cpuMs() - t);
    t = cpuMs();
    kNew.encode(x, 0, blocks, b, 0, "mse");
    tNew = Math.min(tNew, cpuMs() - t);
  }
  const rate = (ms: number) => (n / ms / 1e3).toFixed(2);
  console.log(
    `${format} mse search, ${n} elements: before ${rate(tOld)} Melem/CPU-s, ` +
      `now ${rate(tNew)} Melem/CPU-s, speed-up ${(tOld / tNew).toFixed(3)}, ` +
      `differing blocks ${diff} of ${blocks}, same total error ${Object.is(errOld, errNew)}`,
  );
}
