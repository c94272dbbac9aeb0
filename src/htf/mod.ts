/**
 * The HTF v1.3 tokenizer block (HNF block 0x9): tokenizer files → blob ({@link buildHtf}), and
 * back ({@link readHtf}, {@link htfToTokenizerJson}, {@link describeHtf}).
 *
 * The blob is written with the settings under which the runtime's encoder reproduces
 * tokenizers.js (§17 of the reference). What the runtime cannot reproduce is reported in
 * `warnings`; what HTF cannot hold (chat template, eos list, generation defaults) is returned in
 * `manifestExtra`, in a form the runtime's textual manifest scanner cannot trip over (§16).
 *
 * @module
 */

import { HeliosError } from "../errors.ts";
import { audioConfig, codeConfig } from "./_domains.ts";
import { type PreparedTokenizer, prepareTokenizer } from "./_prepare.ts";
import { describeHtf } from "./describe.ts";
import { readHtf } from "./reader.ts";
import type { HtfBuildOptions, HtfBuildResult, ManifestValue, TokenizerSource } from "./types.ts";
import { type DomainToWrite, writeHtf } from "./writer.ts";
import { HTF_MAX_DOMAINS, RuntimeLimit } from "./constants.ts";

export { readHtf } from "./reader.ts";
export { htfToTokenizerJson } from "./rebuild.ts";
export { describeHtf } from "./describe.ts";
export { buildHtfIsolated } from "./isolated.ts";
export type * from "./types.ts";

const ROLES = new Set(["text", "code", "cortex", "audio"]);

/**
 * Builds the HTF v1.3 blob from tokenizer folders. The "text" source becomes the primary TEXT
 * domain, "code" a CODE domain, "cortex" a second TEXT domain and "audio" an AUDIO domain with
 * the Whisper encoder settings (its tokenizer, if any, becomes the primary TEXT domain when no
 * "text" source is given). Returns null, with nothing written, when no primary TEXT tokenizer
 * can be built: the runtime cannot load a block without one (§16).
 *
 * @example
 * ```ts ignore
 * import { buildHtf } from "./mod.ts";
 * const htf = await buildHtf([{ dir: "models/qwen2", domain: "text" }]);
 * if (htf) {
 *   console.log(htf.summary.type, htf.blob.length, htf.warnings);
 * }
 * ```
 *
 * @param sources Tokenizer folders and their domains; at most one "text".
 * @param options `probeTokens` to look up in the domains written.
 */
export async function buildHtf(
  sources: TokenizerSource[],
  options: HtfBuildOptions = {},
): Promise<HtfBuildResult | null> {
  for (const s of sources) {
    if (!ROLES.has(s.domain)) {
      throw new HeliosError(
        "BAD_OPTION",
        `Tokenizer source ${JSON.stringify(s.dir)} has unknown domain ${JSON.stringify(s.domain)}`,
      );
    }
  }
  if (sources.filter((s) => s.domain === "text").length > 1) {
    throw new HeliosError(
      "BAD_OPTION",
      "Only one tokenizer source can be the primary 'text' domain",
    );
  }
  const warnings: string[] = [];
  const textSrc = sources.find((s) => s.domain === "text") ??
    sources.find((s) => s.domain === "audio");
  const primary = textSrc ? await prepareTokenizer(textSrc.dir, warnings) : undefined;
  if (!primary) {
    warnings.push(
      textSrc
        ? `${textSrc.dir}: no tokenizer.json, vocab.json or tokenizer.model; no tokenizer block is written`
        : "No text tokenizer source; no tokenizer block is written",
    );
    return null;
  }
  if (textSrc!.domain === "audio") {
    warnings.push(
      `${textSrc!.dir}: the audio model's tokenizer is written as the primary TEXT domain`,
    );
  }
  checkLimits(primary, false, warnings);
  const domains: DomainToWrite[] = [{ role: "text", primary: true, tok: primary }];
  for (const s of sources) {
    if (s.domain === "text") continue;
    if (s.domain === "audio") {
      const tok = s === textSrc ? primary : undefined;
      const audio = await audioConfig(s.dir, tok, warnings);
      if (audio) domains.push({ role: "audio", primary: false, audio });
      continue;
    }
    const tok = await prepareTokenizer(s.dir, warnings);
    if (!tok) {
      warnings.push(
        `${s.dir}: no tokenizer.json, vocab.json or tokenizer.model; the ${s.domain} domain is skipped`,
      );
      continue;
    }
    checkLimits(tok, s.domain === "code", warnings);
    if (s.domain === "code") {
      domains.push({ role: "code", primary: false, tok, code: codeConfig(tok, 0, warnings) });
    } else domains.push({ role: "cortex", primary: false, tok });
  }
  if (domains.length > HTF_MAX_DOMAINS) {
    throw new HeliosError(
      "BAD_OPTION",
      `HTF holds at most ${HTF_MAX_DOMAINS} domains, got ${domains.length}`,
    );
  }
  const blob = writeHtf(domains);
  const contents = readHtf(blob);
  const summary = describeHtf(contents);
  const probe = new Set(options.probeTokens ?? []);
  const probed: Record<string, string[]> = {};
  for (const d of contents.domains) {
    const found = new Set<string>();
    if (probe.size > 0) {
      for (const v of d.vocab) if (probe.has(v.token)) found.add(v.token);
      for (const a of d.added) if (probe.has(a.content)) found.add(a.content);
    }
    probed[d.name] = [...probe].filter((t) => found.has(t));
  }
  return { blob, summary, warnings, manifestExtra: manifestExtra(primary, warnings), probed };
}

function checkLimits(t: PreparedTokenizer, code: boolean, warnings: string[]): void {
  const maxVocab = code ? RuntimeLimit.MAX_CODE_VOCAB : RuntimeLimit.MAX_VOCAB;
  const maxMerges = code ? RuntimeLimit.MAX_CODE_MERGES : RuntimeLimit.MAX_MERGES;
  if (t.added.length > 0xffff) {
    throw new HeliosError(
      "BAD_TOKENIZER",
      `${t.file}: ${t.added.length} added tokens, over the 65535 HTF holds`,
    );
  }
  if (t.added.length > RuntimeLimit.MAX_ADDED) {
    warnings.push(
      `${t.file}: ${t.added.length} added tokens; the runtime refuses more than ${RuntimeLimit.MAX_ADDED}`,
    );
  }
  if (t.vocab.length > maxVocab) {
    warnings.push(
      `${t.file}: ${t.vocab.length} vocab entries; the runtime refuses more than ${maxVocab}`,
    );
  }
  if (t.merges.length / 2 >= maxMerges) {
    warnings.push(
      `${t.file}: ${t.merges.length / 2} merges; the runtime ignores ${maxMerges} or more`,
    );
  }
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

function manifestExtra(t: PreparedTokenizer, warnings: string[]): Record<string, ManifestValue> {
  const extra: Record<string, ManifestValue> = {};
  const named: Record<string, ManifestValue> = {};
  for (const [name, template] of t.chatTemplates) {
    if (name === "default") extra.chat_template_b64 = base64(template);
    else {
      const key = name.toLowerCase().replace(/[^a-z0-9_]/g, "_");
      if (isSafeKey(key)) named[key] = base64(template);
      else {warnings.push(
          `${t.file}: chat template ${
            JSON.stringify(name)
          } is left out: its name is not a safe manifest key`,
        );}
    }
  }
  if (Object.keys(named).length > 0) extra.chat_templates_b64 = named;
  if (t.eosIds.length > 0) extra.eos_token_ids = [...t.eosIds];
  if (t.addBos !== undefined) extra.add_bos_token = t.addBos;
  if (t.addEos !== undefined) extra.add_eos_token = t.addEos;
  if (Object.keys(t.generation).length > 0) extra.generation = { ...t.generation };
  assertManifestSafe(extra);
  return extra;
}

const TENSOR_ENTRY_KEYS = new Set(["name", "dtype", "block", "shape", "offset", "size"]);

function isSafeKey(key: string): boolean {
  return /^[a-z0-9_]+$/.test(key) && !TENSOR_ENTRY_KEYS.has(key) && !key.includes("tensors");
}

/**
 * Throws `INTERNAL` unless `value` is safe for the runtime's textual manifest scanner (§16):
 * keys are lower-case identifiers other than the six tensor-entry keys, strings are printable
 * ASCII without braces, quotes or backslashes, nothing mentions "tensors", numbers are finite.
 *
 * @example
 * ```ts
 * import { assertManifestSafe } from "./mod.ts";
 * assertManifestSafe({ chat_template_b64: "e3sgbWVzc2FnZXMgfX0=", eos_token_ids: [2] });
 * ```
 *
 * @param value The value to check.
 */
export function assertManifestSafe(value: unknown): void {
  const walk = (v: unknown, path: string): void => {
    if (typeof v === "string") {
      if (!/^[\x20-\x7e]*$/.test(v) || /[{}"\\]/.test(v) || v.includes("tensors")) {
        throw new HeliosError(
          "INTERNAL",
          `Internal error: manifest value at ${path} is not scanner-safe`,
        );
      }
    } else if (typeof v === "number") {
      if (!Number.isFinite(v)) {
        throw new HeliosError(
          "INTERNAL",
          `Internal error: manifest number at ${path} is not finite`,
        );
      }
    } else if (typeof v === "boolean") {
      // always safe
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (typeof v === "object" && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (!isSafeKey(k)) {
          throw new HeliosError(
            "INTERNAL",
            `Internal error: manifest key ${JSON.stringify(k)} at ${path} is not scanner-safe`,
          );
        }
        walk(x, `${path}.${k}`);
      }
    } else {throw new HeliosError(
        "INTERNAL",
        `Internal error: manifest value at ${path} is not JSON`,
      );}
  };
  walk(value, "$");
}
