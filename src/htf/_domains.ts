/**
 * Settings of the CODE and AUDIO domains (§10.2), taken from the tokenizer and config.json.
 *
 * @module
 */

import { asId, joinPath, type JsonObject, readJsonObjectIf } from "./_files.ts";
import type { PreparedTokenizer } from "./_prepare.ts";
import { AudioEncoderType, CODE_FLAG_FIM_ENABLED, TextFlag } from "./constants.ts";
import type { HtfAudioConfig, HtfCodeConfig } from "./types.ts";

const FIM: Record<"prefix" | "middle" | "suffix" | "pad", string[]> = {
  prefix: ["<|fim_prefix|>", "<fim_prefix>", "<fim-prefix>", "\u2581<PRE>", "<PRE>", "[PREFIX]"],
  middle: ["<|fim_middle|>", "<fim_middle>", "<fim-middle>", "\u2581<MID>", "<MID>", "[MIDDLE]"],
  suffix: ["<|fim_suffix|>", "<fim_suffix>", "<fim-suffix>", "\u2581<SUF>", "<SUF>", "[SUFFIX]"],
  pad: ["<|fim_pad|>", "<fim_pad>", "<fim-pad>"],
};

/** CodeDomainConfigBin for a code tokenizer extending TEXT domain `baseIndex`. */
export function codeConfig(
  tok: PreparedTokenizer,
  baseIndex: number,
  warnings: string[],
): HtfCodeConfig {
  const find = (names: string[]) => {
    for (const n of names) {
      const id = tok.lookup(n);
      if (id !== undefined) return id;
    }
    return -1;
  };
  const byteLevel = (tok.flags & TextFlag.BYTE_LEVEL) !== 0;
  const space = byteLevel ? "\u0120" : "\u2581";
  const i16 = (text: string, what: string) => {
    const id = tok.lookup(text);
    if (id === undefined) return -1;
    if (id > 0x7fff) {
      warnings.push(
        `${tok.file}: the ${what} token id ${id} does not fit CodeDomainConfigBin's i16; written as -1`,
      );
      return -1;
    }
    return id;
  };
  const c: HtfCodeConfig = {
    baseDomainIndex: baseIndex,
    fimPrefix: find(FIM.prefix),
    fimMiddle: find(FIM.middle),
    fimSuffix: find(FIM.suffix),
    fimPad: find(FIM.pad),
    indent2Spaces: i16(space.repeat(2), "two-space indent"),
    indent4Spaces: i16(space.repeat(4), "four-space indent"),
    indentTab: i16(byteLevel ? "\u0109" : "<0x09>", "tab"),
    flags: 0,
  };
  if (c.fimPrefix >= 0 && c.fimMiddle >= 0 && c.fimSuffix >= 0) c.flags |= CODE_FLAG_FIM_ENABLED;
  return c;
}

function num(...vals: unknown[]): number | undefined {
  for (const v of vals) {
    if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v;
  }
  return undefined;
}

/**
 * AudioDomainConfigBin from a Whisper folder's config.json and preprocessor_config.json.
 * Returns undefined (with a warning) when there is no config.json.
 */
export async function audioConfig(
  dir: string,
  tok: PreparedTokenizer | undefined,
  warnings: string[],
): Promise<HtfAudioConfig | undefined> {
  const cfgPath = joinPath(dir, "config.json");
  const cfg: JsonObject | undefined = tok?.config ?? await readJsonObjectIf(cfgPath);
  if (!cfg) {
    warnings.push(`${cfgPath}: missing; the AUDIO domain is not written`);
    return undefined;
  }
  const pre = await readJsonObjectIf(joinPath(dir, "preprocessor_config.json")) ?? {};
  if (cfg.model_type !== "whisper") {
    warnings.push(
      `${cfgPath}: model_type ${
        JSON.stringify(cfg.model_type)
      } is not whisper; AUDIO settings use Whisper defaults where keys are missing`,
    );
  }
  const id = (text: string, fallback: unknown) => tok?.lookup(text) ?? asId(fallback) ?? -1;
  return {
    encoderType: AudioEncoderType.WHISPER,
    sampleRate: num(pre.sampling_rate) ?? 16000,
    nMels: num(cfg.num_mel_bins, pre.feature_size) ?? 128,
    nFft: num(pre.n_fft) ?? 400,
    hopLength: num(pre.hop_length) ?? 160,
    hiddenSize: num(cfg.d_model, cfg.hidden_size) ?? 1280,
    numHiddenLayers: num(cfg.encoder_layers, cfg.num_hidden_layers) ?? 32,
    numAttentionHeads: num(cfg.encoder_attention_heads, cfg.num_attention_heads) ?? 20,
    chunkLength: num(pre.chunk_length) ?? 30,
    codebookSize: 0,
    codebookDim: 0,
    numCodebooks: 0,
    audioTokenId: -1,
    sotTokenId: id("<|startoftranscript|>", cfg.decoder_start_token_id),
    eotTokenId: id("<|endoftext|>", cfg.eos_token_id),
    flags: 0,
  };
}
