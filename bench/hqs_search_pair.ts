/**
 * Paired benchmark of the HQ5K/HQ4K mse search kernel (`CPU_SEARCH` of `src/hqs/search.ts`)
 * against another version of the same file, alternating the two in one process on the same
 * tensor (Gaussian σ = 0.02 with every third element Student-t ν = 3, plus a few constant,
 * two-level and wide groups). It first checks that both give the same parameters, codes and
 * squared errors for every group, then prints the best Melem/s of each over `--repeat` rounds.
 *
 *     git worktree add /tmp/before main   # or: git archive main | tar -x -C /tmp/before
 *     deno run -A bench/hqs_search_pair.ts --before /tmp/before [--elements 1000000] [--repeat 9]
 *
 * @module
 */
import { CPU_SEARCH, type GroupParams, type HqsSearchBackend } from "../src/hqs/search.ts";
import { pairTensor } from "./_pair_tensor.ts";

function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : fallback;
}

const before = arg("before", "");
if (!before) throw new Error("Pass --before DIR (a checkout of the version to compare with)");
const n = Math.ceil(Number(arg("elements", "1000000")) / 256) * 256;
const repeat = Number(arg("repeat", "9"));
const OLD: HqsSearchBackend =
  (await import(`${Deno.realPathSync(before)}/src/hqs/search.ts`)).CPU_SEARCH;

const x = pairTensor(n);
const groups = n / 8;

function params(): GroupParams {
  return {
    minBits: new Uint16Array(groups),
    rangeBits: new Uint16Array(groups),
    sqErr: new Float64Array(groups),
    codes: new Uint8Array(n),
  };
}

for (const qmax of [31, 15]) {
  const a = params();
  const b = params();
  OLD.searchGroups(x, groups, qmax, "mse", a);
  CPU_SEARCH.searchGroups(x, groups, qmax, "mse", b);
  let diff = 0;
  for (let g = 0; g < groups; g++) {
    if (
      a.minBits[g] !== b.minBits[g] || a.rangeBits[g] !== b.rangeBits[g] ||
      !Object.is(a.sqErr[g], b.sqErr[g])
    ) diff++;
  }
  for (let i = 0; i < n; i++) if (a.codes[i] !== b.codes[i]) diff++;
  let tOld = Infinity;
  let tNew = Infinity;
  for (let r = 0; r < repeat; r++) {
    let t = performance.now();
    OLD.searchGroups(x, groups, qmax, "mse", a);
    tOld = Math.min(tOld, performance.now() - t);
    t = performance.now();
    CPU_SEARCH.searchGroups(x, groups, qmax, "mse", b);
    tNew = Math.min(tNew, performance.now() - t);
  }
  const rate = (ms: number) => (n / ms / 1e3).toFixed(2);
  console.log(
    `${qmax === 31 ? "HQ5K" : "HQ4K"} mse search, ${n} elements: before ${rate(tOld)} Melem/s, ` +
      `now ${rate(tNew)} Melem/s, speed-up ${(tOld / tNew).toFixed(3)}, ` +
      `differing groups/codes ${diff}`,
  );
}
