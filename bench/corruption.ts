/**
 * Single-byte corruption census: converts three small generated models, then changes every
 * byte of each written file in turn (xor with a seeded value 1–255) and counts how many of the
 * corrupted files `openHnf` (what `inspect` runs) refuses. Tensor payload bytes can be sampled
 * with `--stride N` (default 64; every other byte is always tried: header, table, padding, the
 * tokenizer and hints blocks, the manifest).
 *
 * ```sh
 * deno run -A bench/corruption.ts [--stride 64]
 * ```
 *
 * @module
 */
import { convert, generateModel, openHnf } from "../mod.ts";
import { HeliosError } from "../src/errors.ts";
import { llamaTensors } from "../src/fixtures/archs.ts";
import type { QuantChoice } from "../src/convert/mod.ts";

const strideArg = Deno.args.indexOf("--stride");
const stride = strideArg >= 0 ? Number(Deno.args[strideArg + 1]) : 64;

/** A Llama of the given dimensions (the generator's template with its config edited). */
async function smallLlama(dir: string, hidden: number, inter: number, arch = "llama") {
  const d = { hidden, inter, layers: 1, heads: 4, kvHeads: 2, vocab: 320, tied: false, bias: true };
  await generateModel(dir, {
    arch,
    edit: (t) => ({
      config: {
        ...t.config,
        hidden_size: hidden,
        intermediate_size: inter,
        num_hidden_layers: 1,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        tie_word_embeddings: false,
      },
      tensors: llamaTensors(d),
    }),
  });
}

const base = Deno.statSync("/dev/shm").isDirectory ? "/dev/shm" : undefined;
const dir = await Deno.makeTempDir({ dir: base, prefix: "helios-corrupt-" });
const cases: { name: string; model: () => Promise<string>; quant: QuantChoice }[] = [
  {
    name: "llama-64 fp16",
    model: async () => (await smallLlama(`${dir}/a`, 64, 128), `${dir}/a`),
    quant: "fp16",
  },
  {
    name: "qwen2-256 hq41k",
    model: async () => (await smallLlama(`${dir}/b`, 256, 256, "qwen2"), `${dir}/b`),
    quant: "hq41k",
  },
  {
    name: "mistral-256 hq5k",
    model: async () => (await smallLlama(`${dir}/c`, 256, 512, "mistral"), `${dir}/c`),
    quant: "hq5k",
  },
];

let seed = 12345;
const nextX = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return 1 + ((seed >>> 16) % 255);
};

let allTried = 0;
let allCaught = 0;
for (const c of cases) {
  const model = await c.model();
  const path = `${dir}/${c.name.replace(/\W+/g, "_")}.hnf`;
  await convert({ models: { text: model }, output: path, quant: c.quant, threads: 2 });
  const good = await Deno.readFile(path);
  const hnf = await openHnf(path);
  const payload = new Uint8Array(good.length); // 1 where a byte is tensor payload
  for (const t of hnf.tensors) payload.fill(1, t.offset, t.offset + t.size);
  hnf.close();
  const file = await Deno.open(path, { read: true, write: true });
  const one = new Uint8Array(1);
  let tried = 0;
  let caught = 0;
  const missed: number[] = [];
  const t0 = performance.now();
  for (let pos = 0; pos < good.length; pos++) {
    if (payload[pos] && pos % stride !== 0) continue;
    one[0] = good[pos] ^ nextX();
    await file.seek(pos, Deno.SeekMode.Start);
    await file.write(one);
    tried++;
    try {
      (await openHnf(path)).close();
      missed.push(pos);
    } catch (e) {
      if (!(e instanceof HeliosError)) throw e;
      caught++;
    }
    one[0] = good[pos];
    await file.seek(pos, Deno.SeekMode.Start);
    await file.write(one);
  }
  file.close();
  allTried += tried;
  allCaught += caught;
  console.log(
    `${c.name}: ${good.length} bytes, ${tried} corrupted files tried, ${caught} refused (${
      (100 * caught / tried).toFixed(3)
    }%), ${((performance.now() - t0) / 1000).toFixed(1)} s${
      missed.length ? `; missed at ${missed.slice(0, 10).join(", ")}` : ""
    }`,
  );
}
console.log(
  `total: ${allCaught}/${allTried} single-byte corruptions refused (${
    (100 * allCaught / allTried).toFixed(3)
  }%), tensor payload stride ${stride}`,
);
await Deno.remove(dir, { recursive: true });
