/**
 * The command line's program definition and entry point, shared by `cli.ts` and `mod.ts`.
 *
 * @module
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { createProgressRenderer } from "./progress.ts";
import { runConvert, runGenerate, runInspect } from "./commands.ts";
import { HeliosError } from "../errors.ts";
import { VERSION } from "../version.ts";

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

/** Builds the command-line program. */
function buildProgram() {
  const program = new Command()
    .name("helios-convert")
    .description(
      "Convert Hugging Face models (config.json + safetensors + tokenizer) to HELIOS HNFv9.1 files.",
    )
    .version(VERSION, "-V, --version")
    // Without this, the convert options (--json, --force) swallow the subcommands' own.
    .enablePositionalOptions()
    .argument("[model]", "model folder or Hub id org/name[@revision] (same as --text)")
    .option("-o, --output <file>", "output .hnf file")
    .option("--text <model>", "text LLM (folder or Hub id) → block 0x0")
    .option("--vision <model>", "vision encoder (folder or Hub id) → block 0x1")
    .option("--audio <model>", "audio encoder (folder or Hub id) → block 0x2")
    .option("--cortex <model>", "second LLM (folder or Hub id) → block 0x7")
    .option("--code <model>", "code LLM (folder or Hub id) → block 0x8")
    .option("--revision <rev>", "Hub branch, tag or commit for ids without @revision (main)")
    .option("--token <token>", "Hub access token for gated or private models (default HF_TOKEN)")
    .option(
      "-q, --quant <format>",
      "weight format: HQ5.1K (default), HQ4.1K-M, HQ4.1K, HQ3.1K, FP16; HQ5K/HQ4K for the legacy runtime",
    )
    .option(
      "--runtime <gen>",
      "target runtime: current (default) or legacy (HQ5K/HQ4K)",
    )
    .option(
      "--embeddings <format>",
      "token embedding format: fp16 (default), hq51k or hq62k (not for a tied table)",
    )
    .option(
      "--lm-head <mode>",
      "tied models: copy (separate lm_head, default when quantized) or tied (no copy)",
    )
    .option(
      "--override <pattern=format>",
      "format of the tensors whose HNF name matches the glob (repeatable; after --quant)",
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option("--no-mse", "fast: min/max parameters, no search")
    .option("--fast", "alias of --no-mse")
    .option("--threads <n>", "worker threads (default: all cores)", positiveInt)
    .addOption(
      new Option("--nonfinite <policy>", "NaN/Inf in weights: error or zero")
        .choices(["error", "zero"] as const).default("error" as const),
    )
    .option("--no-tokenizer", "do not write the tokenizer block")
    .option("--dry-run", "print the plan, write nothing")
    .option(
      "--allow-unmapped",
      "write the tensors that map when some do not (default: fail, write nothing)",
    )
    .option("--json", "print the report as JSON on stdout")
    .option("-f, --force", "replace an existing output file")
    .option(
      "--fsync",
      "flush the file to disk before renaming it into place (survives a power loss)",
    )
    .option("-v, --verbose", "per-tensor lines, stack traces on error")
    .action(async (model, opts) => {
      const verbose = !!opts.verbose;
      const renderer = createProgressRenderer({ verbose, tty: Deno.stderr.isTerminal() });
      try {
        await runConvert(model, opts, renderer.onEvent);
      } finally {
        renderer.finish();
      }
    });

  program.command("inspect")
    .description("show what is inside an HNF file")
    .argument("<file>", "HNF file")
    .option("--json", "print JSON")
    .option("--no-verify", "skip checksum verification (faster on big files)")
    .action(async (file, opts) => {
      await runInspect(file, { json: !!opts.json, verify: opts.verify });
    });

  program.command("generate")
    .description("write a synthetic Hugging Face model folder (for tests, demos and benchmarks)")
    .argument("<dir>", "folder to create")
    .option("--arch <name>", "architecture", "llama")
    .addOption(
      new Option("--size <size>", "tiny or bench (~2 GB)").choices(["tiny", "bench"] as const)
        .default("tiny" as const),
    )
    .addOption(
      new Option("--dtype <dtype>", "source dtype").choices(["F32", "F16", "BF16"] as const)
        .default("BF16" as const),
    )
    .option("--shards <n>", "number of safetensors shards", positiveInt, 1)
    .option("--seed <n>", "random seed", positiveInt, 1)
    .addOption(
      new Option("--layout <gen>", "tensor names as Transformers 4.x or 5.x saves them")
        .choices(["hf4", "hf5"] as const),
    )
    .addOption(
      new Option("--config-gen <gen>", "config.json as Transformers 4.x or 5.x writes it")
        .choices(["hf4", "hf5"] as const),
    )
    .option("-f, --force", "replace an existing folder")
    .action(async (dir, opts) => {
      await runGenerate(dir, opts);
    });
  return program;
}

/**
 * Runs the command line with `args` and returns the exit code: 0 ok, 1 failure, 2 usage.
 *
 * @example
 * ```ts ignore
 * import { main } from "./main.ts";
 * Deno.exit(await main(["inspect", "model.hnf"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  const verbose = args.includes("-v") || args.includes("--verbose");
  try {
    await program.parseAsync(args, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; every other commander error is a usage error.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof HeliosError && e.code === "BAD_OPTION") {
      console.error(`error: ${e.message}`);
      return 2;
    }
    // One line always, whatever threw (HeliosError messages already are).
    const msg = (e instanceof Error ? e.message : String(e)).replace(/\r?\n/g, "\\n");
    console.error(`error: ${msg}`);
    if (verbose && e instanceof Error && e.stack) console.error(e.stack);
    return 1;
  }
}
