#!/usr/bin/env -S deno run -A
/**
 * `helios-convert`: convert Hugging Face models to HNFv9.1, inspect HNF files, and generate
 * synthetic models.
 *
 * ```sh
 * helios-convert models/llama -o llama.hnf --quant HQ5K
 * helios-convert inspect llama.hnf
 * ```
 *
 * Exit codes: 0 ok, 1 failure, 2 usage.
 *
 * @module
 */
import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
