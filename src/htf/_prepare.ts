/**
 * Turns one tokenizer folder into everything a TEXT/CODE domain holds: ids of the special
 * tokens (config priority of §10.4), added tokens, vocab with token flags, merges and the
 * runtime settings of §17, plus the data HTF cannot hold (chat template, eos list, generation
 * defaults).
 *
 * @module
 */

import { HeliosError, quoteJson } from "../errors.ts";
import {
  asId,
  isObject,
  joinPath,
  type JsonObject,
  readJsonObjectIf,
  readTextIf,
  tokenText,
} from "./_files.ts";
import { addedSpec, type AddedTokenSpec, loadModelPart, type ModelPart } from "./_model.ts";
import {
  DECODER_TYPE_SENTENCEPIECE,
  EncodingType,
  MODEL_FLAG_BYTE_FALLBACK,
  NORMALIZER_TYPE_METASPACE,
  TextFlag,
  TokenFlag,
} from "./constants.ts";
import type { HtfVocabEntry, TokenizerKind } from "./types.ts";

/** A tokenizer folder ready to be written as a TEXT or CODE domain. */
export interface PreparedTokenizer {
  /** Main source file (for messages). */
  file: string;
  /** Algorithm. */
  kind: TokenizerKind;
  /** Vocab entries in write order: ascending id, with the `" "` alias just before "▁". */
  vocab: HtfVocabEntry[];
  /** Model vocab size (distinct ids). */
  vocabSize: number;
  /** Merges, flat id pairs. */
  merges: Uint32Array;
  /** Added tokens sorted by id. */
  added: AddedTokenSpec[];
  /** bos id or −1. */
  bos: number;
  /** eos id or −1. */
  eos: number;
  /** pad id or −1. */
  pad: number;
  /** unk id or −1. */
  unk: number;
  /** Every eos id, primary first. */
  eosIds: number[];
  /** encoding_type. */
  encodingType: number;
  /** TextDomainConfigBin flags. */
  flags: number;
  /** Byte 25. */
  decoderType: number;
  /** Byte 27. */
  normalizerType: number;
  /** Byte 28. */
  modelFlags: number;
  /** Chat templates by name ("default" first). */
  chatTemplates: [string, string][];
  /** add_bos_token / add_eos_token when known. */
  addBos?: boolean;
  /** add_eos_token when known. */
  addEos?: boolean;
  /** Numeric and boolean generation defaults. */
  generation: Record<string, number | boolean>;
  /** config.json, for the AUDIO domain. */
  config?: JsonObject;
  /** token text → id over vocab and added tokens. */
  lookup: (text: string) => number | undefined;
}

const GENERATION_KEYS = [
  "do_sample",
  "temperature",
  "top_p",
  "top_k",
  "min_p",
  "typical_p",
  "repetition_penalty",
  "max_new_tokens",
  "max_length",
  "min_length",
  "num_beams",
  "length_penalty",
  "no_repeat_ngram_size",
];

/**
 * Loads a tokenizer folder. Returns undefined when it holds no tokenizer.json, vocab.json or
 * SentencePiece model.
 */
export async function prepareTokenizer(
  dir: string,
  warnings: string[],
): Promise<PreparedTokenizer | undefined> {
  const tc = await readJsonObjectIf(joinPath(dir, "tokenizer_config.json"));
  const model = await loadModelPart(dir, tc, warnings);
  if (!model) return undefined;
  const config = await readJsonObjectIf(joinPath(dir, "config.json"));
  const gen = await readJsonObjectIf(joinPath(dir, "generation_config.json"));
  const addedJsonPath = joinPath(dir, "added_tokens.json");
  const addedJson = await readJsonObjectIf(addedJsonPath);
  const stm = await readJsonObjectIf(joinPath(dir, "special_tokens_map.json"));

  // Added tokens, highest priority first (§10.4).
  const added = new Map<number, AddedTokenSpec>();
  if (isObject(tc?.added_tokens_decoder)) {
    for (const [k, v] of Object.entries(tc.added_tokens_decoder)) {
      const id = asId(Number(k));
      if (id === undefined || !isObject(v) || typeof v.content !== "string") {
        throw new HeliosError(
          "BAD_TOKENIZER",
          `${joinPath(dir, "tokenizer_config.json")}: added_tokens_decoder[${
            JSON.stringify(k)
          }] needs an integer key and a string 'content'`,
        );
      }
      added.set(id, addedSpec(id, v));
    }
  }
  for (const [content, raw] of Object.entries(addedJson ?? {})) {
    const id = asId(raw);
    if (id === undefined) {
      throw new HeliosError(
        "BAD_TOKENIZER",
        `${addedJsonPath}: ${JSON.stringify(content)} has id ${quoteJson(raw)}, not an integer`,
      );
    }
    if (!added.has(id)) added.set(id, addedSpec(id, { content, special: true }));
  }
  for (const t of model.added) if (!added.has(t.id)) added.set(t.id, t);
  const addedList = [...added.values()].filter((t) => t.content.length > 0).sort((a, b) =>
    a.id - b.id
  );
  const addedByText = new Map<string, number>();
  for (const t of addedList) if (!addedByText.has(t.content)) addedByText.set(t.content, t.id);
  const lookup = (text: string) => addedByText.get(text) ?? model.vocab.get(text);

  // Special ids: tokenizer_config, then config.json, then generation_config (§10.4).
  const idOf = (key: string): number | undefined => {
    const text = tokenText(tc?.[key]) ?? tokenText(stm?.[key]);
    return text === undefined ? undefined : lookup(text);
  };
  let bos = idOf("bos_token");
  let eos = idOf("eos_token");
  let pad = idOf("pad_token");
  let unk = idOf("unk_token");
  const eosIds: number[] = eos !== undefined ? [eos] : [];
  const takeEos = (v: unknown) => {
    const list = (Array.isArray(v) ? v : [v]).map(asId).filter((x): x is number => x !== undefined);
    if (eos === undefined && list.length > 0) eos = list[0];
    for (const id of list) if (!eosIds.includes(id)) eosIds.push(id);
  };
  bos ??= asId(config?.bos_token_id);
  takeEos(config?.eos_token_id);
  bos ??= asId(gen?.bos_token_id);
  pad ??= asId(gen?.pad_token_id);
  takeEos(gen?.eos_token_id);
  if (eos !== undefined && !eosIds.includes(eos)) eosIds.unshift(eos);
  if (model.sp) {
    const ok = (id: number) => (id >= 0 && id < model.sp!.pieces.length ? id : undefined);
    bos ??= ok(model.sp.bosId);
    eos ??= ok(model.sp.eosId);
    pad ??= ok(model.sp.padId);
    if (eos !== undefined && eosIds.length === 0) eosIds.push(eos);
  }
  unk ??= model.unkToken !== undefined ? lookup(model.unkToken) : undefined;

  const s = settings(model, warnings);
  if (model.kind === "byte-level-bpe") unk = undefined; // §17: byte-level BPE is written with unk −1
  if (
    s.normalizerType === NORMALIZER_TYPE_METASPACE && s.flags & TextFlag.ADD_PREFIX_SPACE &&
    !model.vocab.has("\u2581")
  ) {
    warnings.push(
      `${model.file}: the vocab has no "▁", so the runtime's prefix space has no token`,
    );
  }

  const vocab = vocabEntries(model, addedList, { bos, eos, pad, unk, eosIds }, s.spaceAlias);
  const lstrip = addedList.filter((t) => t.lstrip || t.rstrip);
  if (lstrip.length > 0) {
    warnings.push(
      `${model.file}: ${lstrip.length} added token(s) with lstrip/rstrip (e.g. ${
        JSON.stringify(lstrip[0].content)
      }) ` +
        "are matched without stripping by the runtime; an extra '▁' token can follow them (§17)",
    );
  }

  const chatTemplates: [string, string][] = [];
  const ct = tc?.chat_template;
  if (typeof ct === "string") chatTemplates.push(["default", ct]);
  else if (Array.isArray(ct)) {
    for (const e of ct) {
      if (isObject(e) && typeof e.name === "string" && typeof e.template === "string") {
        chatTemplates.push([e.name, e.template]);
      }
    }
  }
  if (chatTemplates.length === 0) {
    const jinja = await readTextIf(joinPath(dir, "chat_template.jinja"));
    if (jinja !== undefined) chatTemplates.push(["default", jinja]);
    else {
      const ctj = await readJsonObjectIf(joinPath(dir, "chat_template.json"));
      if (typeof ctj?.chat_template === "string") {
        chatTemplates.push(["default", ctj.chat_template]);
      }
    }
  }
  const generation: Record<string, number | boolean> = {};
  for (const k of GENERATION_KEYS) {
    const v = gen?.[k];
    if ((typeof v === "number" && Number.isFinite(v)) || typeof v === "boolean") generation[k] = v;
  }
  const addBos = typeof tc?.add_bos_token === "boolean" ? tc.add_bos_token : model.post?.addBos;
  const addEos = typeof tc?.add_eos_token === "boolean" ? tc.add_eos_token : model.post?.addEos;

  return {
    file: model.file,
    kind: model.kind,
    vocab,
    vocabSize: model.vocab.size,
    merges: model.merges,
    added: addedList,
    bos: bos ?? -1,
    eos: eos ?? -1,
    pad: pad ?? -1,
    unk: unk ?? -1,
    eosIds,
    encodingType: s.encodingType,
    flags: s.flags,
    decoderType: s.decoderType,
    normalizerType: s.normalizerType,
    modelFlags: s.modelFlags,
    chatTemplates,
    addBos,
    addEos,
    generation,
    config,
    lookup,
  };
}

interface Settings {
  encodingType: number;
  flags: number;
  decoderType: number;
  normalizerType: number;
  modelFlags: number;
  spaceAlias: boolean;
}

/** The §17 settings that make the runtime's BPE path reproduce the tokenizer. */
function settings(model: ModelPart, warnings: string[]): Settings {
  const { style } = model;
  const s: Settings = {
    encodingType: EncodingType.BPE,
    flags: 0,
    decoderType: 0,
    normalizerType: 0,
    modelFlags: 0,
    spaceAlias: false,
  };
  if (model.kind === "unigram" || model.kind === "wordpiece") {
    s.encodingType = model.kind === "unigram" ? EncodingType.UNIGRAM : EncodingType.WORDPIECE;
    if (style.prefix) s.flags |= TextFlag.ADD_PREFIX_SPACE;
    return s;
  }
  if (style.byteLevel) {
    s.flags = TextFlag.BYTE_LEVEL | (style.prefix ? TextFlag.ADD_PREFIX_SPACE : 0);
    return s;
  }
  if (model.byteFallback) s.modelFlags = MODEL_FLAG_BYTE_FALLBACK;
  if (style.metaspace) {
    s.decoderType = DECODER_TYPE_SENTENCEPIECE;
    s.normalizerType = NORMALIZER_TYPE_METASPACE;
    if (style.prefix) {
      s.flags = TextFlag.ADD_PREFIX_SPACE;
      // A vocab with its own " " token keeps it; the alias would shadow it.
      s.spaceAlias = model.vocab.has("\u2581") && !model.vocab.has(" ");
    }
    warnings.push(
      `${model.file}: SentencePiece-style BPE needs the newer runtime generation; the older one ` +
        "gives no leading '▁' and no byte fallback (§17)",
    );
  } else if (style.prefix) {
    warnings.push(
      `${model.file}: a prefix without '▁' space handling is not reproduced by the runtime`,
    );
  }
  if (model.merges.length === 0) warnings.push(`${model.file}: BPE vocabulary without merges`);
  return s;
}

function vocabEntries(
  model: ModelPart,
  added: AddedTokenSpec[],
  ids: { bos?: number; eos?: number; pad?: number; unk?: number; eosIds: number[] },
  spaceAlias: boolean,
): HtfVocabEntry[] {
  const addedById = new Map(added.map((t) => [t.id, t]));
  const control = new Set(
    [ids.bos, ids.eos, ids.pad, ids.unk, ...ids.eosIds].filter((x) => x !== undefined),
  );
  const out: HtfVocabEntry[] = [];
  model.vocab.forEach((id, token) => {
    let flags = 0;
    const a = addedById.get(id);
    if (a) flags |= TokenFlag.ADDED | (a.special ? TokenFlag.SPECIAL : 0);
    if (id === ids.unk) flags |= TokenFlag.UNKNOWN;
    if (control.has(id)) flags |= TokenFlag.CONTROL;
    if (token.length === 6 && /^<0x[0-9A-Fa-f]{2}>$/.test(token)) flags |= TokenFlag.BYTE;
    out.push({ id, token, flags });
  });
  // Usually in id order already (tokenizer.json lists its vocab so): then no sort is needed.
  let sorted = true;
  for (let i = 1; i < out.length && sorted; i++) sorted = out[i - 1].id <= out[i].id;
  if (!sorted) out.sort((a, b) => a.id - b.id);
  if (spaceAlias) {
    // §17: the ASCII prefix space must map to the id of "▁", and sit just before it.
    const at = out.findIndex((e) => e.token === "\u2581");
    out.splice(at, 0, { id: out[at].id, token: " ", flags: out[at].flags });
  }
  return out;
}
