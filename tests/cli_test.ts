/**
 * The command line as a user runs it, in a subprocess: exit codes (0 ok, 1 failure, 2 usage),
 * one-line errors, generate → convert → inspect, the runtime switch, dry runs, JSON reports,
 * refusing to overwrite, and Ctrl-C, SIGTERM and SIGHUP leaving nothing behind.
 */
import assert from "node:assert/strict";
import { generateModel, openHnf } from "../mod.ts";
import { cliCommand, listDir, mediumLlama, runCli, withTempDir } from "./_helpers.ts";

const command = (args: string[]) => cliCommand(args);
const cli = (...args: string[]) => runCli(args);

/** The non-empty lines of a text. */
const lines = (s: string) => s.split("\n").filter((l) => l.trim() !== "");

Deno.test("--help and --version exit 0", async () => {
  const help = await cli("--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: helios-convert/);
  assert.match(help.stdout, /--output/);
  const version = await cli("--version");
  assert.equal(version.code, 0);
  assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+/);
});

Deno.test("an unknown option or a missing -o is a usage error (exit 2) on one line", async () => {
  for (const args of [["--bogus"], ["some/model"]]) {
    const r = await cli(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /^error: /);
  }
  assert.match((await cli("--bogus")).stderr, /unknown option '--bogus'/);
  assert.match((await cli("some/model")).stderr, /-o/);
});

Deno.test("a failing conversion exits 1 with one error line; -v adds the stack", async () => {
  await withTempDir(async (dir) => {
    const r = await cli(`${dir}/missing`, "-o", `${dir}/x.hnf`);
    assert.equal(r.code, 1);
    assert.deepEqual(lines(r.stderr), [
      `error: ${dir}/missing/config.json: not found (a model folder needs config.json)`,
    ]);
    assert.ok(!r.stderr.includes("    at "), "no stack trace");
    const v = await cli(`${dir}/missing`, "-o", `${dir}/x.hnf`, "-v");
    assert.equal(v.code, 1);
    assert.match(v.stderr, /^error: .*config\.json: not found/);
    assert.match(v.stderr, /\n\s+at .*\.ts:\d+:\d+/, "a stack with -v");
    assert.deepEqual(await listDir(dir), []);
  });
});

Deno.test("generate (--force), convert and inspect --json: header, blocks, tensors, totals, tokenizer", async () => {
  await withTempDir(async (dir) => {
    const gen = await cli("generate", `${dir}/m`, "--arch", "qwen2");
    assert.equal(gen.code, 0, gen.stderr);
    assert.ok((await listDir(`${dir}/m`)).includes("config.json"));
    const again = await cli("generate", `${dir}/m`, "--arch", "qwen2");
    assert.equal(again.code, 1, "an existing folder needs --force");
    assert.match(again.stderr, /--force/);
    const forced = await cli("generate", `${dir}/m`, "--arch", "qwen2", "--force");
    assert.equal(forced.code, 0, forced.stderr);
    const conv = await cli(`${dir}/m`, "-o", `${dir}/m.hnf`, "--threads", "1");
    assert.equal(conv.code, 0, conv.stderr);
    assert.match(conv.stderr, /wrote \d+ tensors/);
    const r = await cli("inspect", `${dir}/m.hnf`, "--json");
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    for (const key of ["header", "blocks", "tensors", "totals", "sections"]) {
      assert.ok(key in report, key);
    }
    assert.equal(report.header.version, "9.1");
    assert.deepEqual(
      report.blocks.map((b: { name: string }) => b.name),
      ["text_model", "tokenizer", "execution_hints", "exec_hints_bin"],
    );
    assert.equal(report.totals.tensors, report.tensors.length);
    // The default target is the current runtime: HQ5.1K matrices and an HQ5.1K lm_head copy.
    const dtypeOf = (n: string) =>
      report.tensors.find((t: { name: string }) => t.name === n)?.dtype;
    assert.equal(dtypeOf("text.layer0.attn.q_proj.weight"), "hq51k");
    assert.equal(dtypeOf("text.lm_head.weight"), "hq51k");
    assert.ok(!report.tensors.some((t: { dtype: string }) => t.dtype === "hq5k"));
    assert.deepEqual(report.runtime.text, {
      loads: true,
      runs: true,
      chat: false,
      reasons: [
        "do not set HELIOS_FUSE_QKV=1: the runtime's fusion drops the q/k/v biases (contract §3.6)",
        "tokenizer lacks <|im_start|>/<|im_end|>: runs through the runtime's test tools only",
      ],
      rules: ["fuse-qkv-bias", "turn-tokens"],
    });
    const text = await cli("inspect", `${dir}/m.hnf`, "--no-verify");
    assert.match(text.stdout, /text: loads yes · runs yes · chat no/);
    assert.match(conv.stderr, /text: loads yes · runs yes · chat no/);
    assert.doesNotMatch(conv.stderr, /loads in:/);
    assert.equal(report.sections.tokenizer.type, "byte-level-bpe");
    assert.ok(report.sections.tokenizer.vocab_size > 256);
    assert.equal(report.sections.hints.text.arch, "qwen2");
  });
});

Deno.test("--quant HQ5K says it selects the legacy runtime; --embeddings hq41k and bad overrides are usage errors", async () => {
  await withTempDir(async (dir) => {
    await generateModel(`${dir}/m`, { arch: "llama" });
    const legacy = await cli(`${dir}/m`, "--dry-run", "--quant", "HQ5K");
    assert.equal(legacy.code, 0, legacy.stderr);
    assert.equal(
      lines(legacy.stderr)[0],
      "note: --quant HQ5K writes hq5k for the legacy HELIOS runtime (the current one rejects it; use HQ5.1K or HQ4.1K for it)",
    );
    assert.match(legacy.stderr, /text: loads no · runs no · chat no/);
    const emb = await cli(`${dir}/m`, "--dry-run", "--embeddings", "hq41k");
    assert.equal(emb.code, 2);
    assert.match(emb.stderr, /^error: --embeddings hq41k: .*no hq41k lookup kernel/);
    const bad = await cli(`${dir}/m`, "--dry-run", "--override", "text.final_norm.weight=hq51k");
    assert.equal(bad.code, 2);
    assert.equal(lines(bad.stderr).length, 1);
    const ok = await cli(
      `${dir}/m`,
      "--dry-run",
      "--quant",
      "HQ4.1K-M",
      "--override",
      "text.layer*.mlp.down.weight=hq51k",
      "--override",
      "text.layer0.*=fp16",
    );
    assert.equal(ok.code, 0, ok.stderr);
    const row = (name: string) => lines(ok.stdout).find((l) => l.startsWith(`${name} `)) ?? "";
    assert.match(row("text.layer1.mlp.down.weight"), /hq51k .*--override text\.layer\*/);
    assert.match(row("text.layer1.mlp.up.weight"), /^\S+\s+hq41k/);
    assert.match(row("text.layer1.attn.q_proj.weight"), /^\S+\s+hq51k/);
    assert.match(row("text.layer0.mlp.up.weight"), /^\S+\s+fp16/);
  });
});

Deno.test("--runtime current writes hq51k; with --quant HQ5K it is a usage error", async () => {
  await withTempDir(async (dir) => {
    await generateModel(`${dir}/m`, { arch: "llama" });
    const bad = await cli(
      `${dir}/m`,
      "-o",
      `${dir}/a.hnf`,
      "--quant",
      "HQ5K",
      "--runtime",
      "current",
    );
    assert.equal(bad.code, 2);
    assert.equal(lines(bad.stderr).length, 1);
    assert.match(bad.stderr, /^error: .*current runtime/);
    const ok = await cli(
      `${dir}/m`,
      "-o",
      `${dir}/b.hnf`,
      "--runtime",
      "current",
      "--threads",
      "1",
    );
    assert.equal(ok.code, 0, ok.stderr);
    const hnf = await openHnf(`${dir}/b.hnf`);
    const dtypes = new Set(hnf.tensors.map((t) => t.dtype));
    hnf.close();
    assert.deepEqual([...dtypes].sort(), ["fp16", "hq51k"]);
    assert.deepEqual(await listDir(dir), ["b.hnf", "m"]);
  });
});

Deno.test("--dry-run writes nothing and lists the tensors", async () => {
  await withTempDir(async (dir) => {
    await generateModel(`${dir}/m`, { arch: "llama" });
    const r = await cli(`${dir}/m`, "-o", `${dir}/dry.hnf`, "--dry-run");
    assert.equal(r.code, 0, r.stderr);
    const listed = lines(r.stdout);
    assert.equal(listed.length, 21);
    assert.ok(
      listed.some((l) => /^text\.layer0\.attn\.q_proj\.weight\s+hq51k\s+\[256, 256\]/.test(l)),
    );
    assert.match(r.stderr, /would write 21 tensors/);
    assert.deepEqual(await listDir(dir), ["m"]);
  });
});

Deno.test("--json prints a parseable report on stdout; --no-tokenizer leaves block 0x9 out", async () => {
  await withTempDir(async (dir) => {
    await generateModel(`${dir}/m`, { arch: "llama" });
    const r = await cli(
      `${dir}/m`,
      "-o",
      `${dir}/j.hnf`,
      "--json",
      "--no-tokenizer",
      "--threads",
      "1",
    );
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.output, `${dir}/j.hnf`);
    assert.equal(report.dryRun, false);
    assert.equal(report.tensors.length, 21);
    assert.equal(report.tokenizer, null);
    assert.ok(report.outputBytes > 0);
    const hnf = await openHnf(`${dir}/j.hnf`);
    const tokenizerBlock = hnf.blocks[0x9].size;
    hnf.close();
    assert.equal(tokenizerBlock, 0);
  });
});

Deno.test("--fsync and --force write the same bytes as a plain conversion", async () => {
  await withTempDir(async (dir) => {
    await generateModel(`${dir}/m`, { arch: "llama" });
    const plain = await cli(`${dir}/m`, "-o", `${dir}/a.hnf`, "--quant", "FP16");
    assert.equal(plain.code, 0, plain.stderr);
    await Deno.writeTextFile(`${dir}/b.hnf`, "old");
    const synced = await cli(`${dir}/m`, "-o", `${dir}/b.hnf`, "--quant", "FP16", "--fsync", "-f");
    assert.equal(synced.code, 0, synced.stderr);
    assert.deepEqual(await Deno.readFile(`${dir}/b.hnf`), await Deno.readFile(`${dir}/a.hnf`));
    assert.deepEqual(await listDir(dir), ["a.hnf", "b.hnf", "m"]);
  });
});

Deno.test("an existing output without --force exits 1 and is left untouched", async () => {
  await withTempDir(async (dir) => {
    await generateModel(`${dir}/m`, { arch: "llama" });
    await Deno.writeTextFile(`${dir}/out.hnf`, "keep me");
    const r = await cli(`${dir}/m`, "-o", `${dir}/out.hnf`, "--threads", "1");
    assert.equal(r.code, 1);
    assert.equal(lines(r.stderr).filter((l) => l.startsWith("error:")).length, 1);
    assert.match(r.stderr, /--force/);
    assert.equal(await Deno.readTextFile(`${dir}/out.hnf`), "keep me");
    assert.deepEqual(await listDir(dir), ["m", "out.hnf"]);
  });
});

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  Deno.test(`${signal} during a conversion exits 1 and leaves no output or temp file`, async () => {
    await withTempDir(async (dir) => {
      // ~16 M parameters: a few seconds of HQ5K search on one thread.
      await mediumLlama(`${dir}/m`);
      const child = command([`${dir}/m`, "-o", `${dir}/big.hnf`, "--threads", "1"]).spawn();
      const status = child.status;
      let exited = false;
      status.then(() => exited = true);
      const stdout = new Response(child.stdout).text();
      const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
      let stderr = "";
      while (!/\[\d+\/\d+ tensors\]/.test(stderr)) {
        const { value, done } = await reader.read();
        if (done) break;
        stderr += value;
      }
      assert.ok(!exited, `still running when interrupted; stderr: ${stderr}`);
      assert.match(stderr, /\[\d+\/\d+ tensors\]/, "a progress line was shown");
      child.kill(signal);
      const drain = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          stderr += value;
        }
      })();
      const { code } = await status;
      await Promise.all([drain, stdout]);
      assert.equal(code, 1, stderr);
      assert.match(stderr, /error: Conversion cancelled/);
      assert.deepEqual(await listDir(dir), ["m"], "no output, no .big.hnf.*.tmp");
    });
  });
}
