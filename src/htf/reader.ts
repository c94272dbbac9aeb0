/**
 * Parses an HTF v1.3 blob with every length, count and offset checked, unlike the runtime
 * (§10.5), so that a writer bug shows up here as `BAD_HTF` instead of as garbage at load time.
 *
 * @module
 */

import { HeliosError } from "../errors.ts";
import { nameHash } from "./_xxh3.ts";
import {
  AUDIO_CONFIG_SIZE,
  CODE_CONFIG_SIZE,
  DomainFlag,
  DomainType,
  HTF2_MAGIC,
  HTF3_MAGIC,
  HTF_BLOB_ALIGN,
  HTF_CHECKSUM_OFFSET,
  HTF_DOMAIN_ENTRY_SIZE,
  HTF_HEADER_SIZE,
  HTF_MAX_DOMAINS,
  HTF_VERSION_1_3,
  TEXT_CONFIG_SIZE,
} from "./constants.ts";
import { htfChecksum } from "./writer.ts";
import type {
  HtfAddedToken,
  HtfAudioConfig,
  HtfCodeConfig,
  HtfContents,
  HtfDomain,
  HtfTextConfig,
  HtfVocabEntry,
} from "./types.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const KNOWN_NAMES = ["text", "code", "cortex", "audio", "vision"];
const HASH_TO_NAME = new Map(KNOWN_NAMES.map((n) => [nameHash(n), n]));
const TYPE_NAMES = ["text", "vision", "audio", "code", "cortex"];

function bad(msg: string): never {
  throw new HeliosError("BAD_HTF", `HTF: ${msg}`);
}

class Cursor {
  constructor(
    readonly dv: DataView,
    readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
    readonly what: string,
  ) {}
  need(n: number, field: string): void {
    if (this.pos + n > this.end) {
      bad(`${this.what}: ${field} at byte ${this.pos} runs past the domain end ${this.end}`);
    }
  }
  u8(f: string): number {
    this.need(1, f);
    return this.dv.getUint8(this.pos++);
  }
  u16(f: string): number {
    this.need(2, f);
    const v = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  i16(f: string): number {
    this.need(2, f);
    const v = this.dv.getInt16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(f: string): number {
    this.need(4, f);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i32(f: string): number {
    this.need(4, f);
    const v = this.dv.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  text(n: number, f: string): string {
    this.need(n, f);
    const bytes = this.bytes, p = this.pos;
    this.pos += n;
    // Most tokens are short ASCII: one character per byte, without a decoder call each
    // (Gemma's 262 144 tokens: ≈ 0.25 s through TextDecoder).
    if (n <= 32) {
      let s = "";
      for (let i = p; i < p + n; i++) {
        const c = bytes[i];
        if (c > 0x7f) return this.utf8(p, n, f);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return this.utf8(p, n, f);
  }
  private utf8(p: number, n: number, f: string): string {
    try {
      return utf8.decode(this.bytes.subarray(p, p + n));
    } catch {
      bad(`${this.what}: ${f} is not valid UTF-8`);
    }
  }
  align(n: number, base: number): void {
    while ((this.pos - base) % n !== 0) {
      if (this.u8("padding") !== 0) bad(`${this.what}: non-zero padding at byte ${this.pos - 1}`);
    }
  }
}

function u64(dv: DataView, off: number, field: string): number {
  const v = dv.getBigUint64(off, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) bad(`${field} ${v} is too large`);
  return Number(v);
}

/**
 * Parses and validates an HTF v1.3 blob: magic, version, total size, checksum, domain bounds,
 * and every count and length inside the domains. Throws `BAD_HTF` naming the first problem.
 *
 * @example
 * ```ts ignore
 * import { readHtf } from "./reader.ts";
 * const htf = readHtf(blob);
 * console.log(htf.domains[0].vocab.length);
 * ```
 *
 * @param blob The HTF bytes (block 0x9).
 */
export function readHtf(blob: Uint8Array): HtfContents {
  if (blob.length < HTF_HEADER_SIZE) bad(`${blob.length} bytes is shorter than the 32-byte header`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const magic = dv.getUint32(0, true);
  if (magic === HTF2_MAGIC) bad("magic 'HTF2' (v1.2) is not supported; only 'HTF3' (v1.3) is");
  if (magic !== HTF3_MAGIC) {
    bad(`bad magic 0x${magic.toString(16).padStart(8, "0")}, expected 'HTF3'`);
  }
  const version = dv.getUint16(4, true);
  if (version !== HTF_VERSION_1_3) bad(`version 0x${version.toString(16)} is not 0x0130`);
  const flags = dv.getUint16(6, true);
  const numDomains = dv.getUint8(8);
  if (numDomains < 1 || numDomains > HTF_MAX_DOMAINS) bad(`num_domains ${numDomains} is not 1..8`);
  const totalSize = u64(dv, 16, "total_size");
  if (totalSize !== blob.length) {
    bad(`total_size ${totalSize} but the blob has ${blob.length} bytes`);
  }
  if (totalSize % HTF_BLOB_ALIGN !== 0) bad(`total_size ${totalSize} is not a multiple of 32`);
  const checksum = dv.getBigUint64(HTF_CHECKSUM_OFFSET, true);
  const actual = htfChecksum(blob);
  if (checksum !== actual) {
    bad(`checksum 0x${checksum.toString(16)} does not match the data (0x${actual.toString(16)})`);
  }
  const tableEnd = HTF_HEADER_SIZE + numDomains * HTF_DOMAIN_ENTRY_SIZE;
  if (tableEnd > blob.length) bad(`the domain table (${numDomains} entries) runs past the blob`);

  const domains: HtfDomain[] = [];
  for (let i = 0; i < numDomains; i++) {
    const o = HTF_HEADER_SIZE + i * HTF_DOMAIN_ENTRY_SIZE;
    const type = dv.getUint8(o);
    const dflags = dv.getUint8(o + 1);
    const vocabSize = dv.getUint32(o + 4, true);
    const dataOffset = u64(dv, o + 8, `domain ${i} data_offset`);
    const dataSize = u64(dv, o + 16, `domain ${i} data_size`);
    const hash = dv.getBigUint64(o + 24, true);
    if (dataOffset < tableEnd || dataOffset + dataSize > blob.length) {
      bad(
        `domain ${i} data [${dataOffset}, ${
          dataOffset + dataSize
        }) is outside the blob after the table`,
      );
    }
    const d: HtfDomain = {
      index: i,
      type,
      name: HASH_TO_NAME.get(hash) ?? TYPE_NAMES[type] ?? "unknown",
      flags: dflags,
      vocabSize,
      dataOffset,
      dataSize,
      nameHash: hash,
      added: [],
      vocab: [],
      merges: new Uint32Array(0),
    };
    const c = new Cursor(dv, blob, dataOffset, dataOffset + dataSize, `domain ${i}`);
    if (type === DomainType.TEXT || type === DomainType.CODE) readTokenizerDomain(c, d);
    else if (type === DomainType.AUDIO) d.audio = readAudio(c);
    else bad(`domain ${i} has type ${type}, which this reader does not parse`);
    if (c.pos !== c.end) bad(`domain ${i}: ${c.end - c.pos} unparsed bytes at the end`);
    domains.push(d);
  }
  const primaries = domains.filter((d) => d.flags & DomainFlag.IS_PRIMARY);
  if (primaries.length !== 1 || primaries[0].type !== DomainType.TEXT) {
    bad("there must be exactly one primary domain, and it must be TEXT");
  }
  return { header: { magic: "HTF3", version, flags, numDomains, totalSize, checksum }, domains };
}

function readTextConfig(c: Cursor): HtfTextConfig {
  const start = c.pos;
  const t: HtfTextConfig = {
    bosTokenId: c.i32("bos"),
    eosTokenId: c.i32("eos"),
    padTokenId: c.i32("pad"),
    unkTokenId: c.i32("unk"),
    vocabSize: c.u32("vocab_size"),
    numAddedTokens: c.u16("num_added_tokens"),
    encodingType: c.u8("encoding_type"),
    flags: c.u8("flags"),
    preTokenizerType: c.u8("byte 24"),
    decoderType: c.u8("byte 25"),
    behaviourFlags: c.u8("byte 26"),
    normalizerType: c.u8("byte 27"),
    modelFlags: c.u8("byte 28"),
  };
  c.pos = start + TEXT_CONFIG_SIZE;
  c.need(0, "text config");
  return t;
}

function readCodeConfig(c: Cursor): HtfCodeConfig {
  const start = c.pos;
  const k: HtfCodeConfig = {
    baseDomainIndex: c.u32("base_domain_index"),
    fimPrefix: c.i32("fim_prefix"),
    fimMiddle: c.i32("fim_middle"),
    fimSuffix: c.i32("fim_suffix"),
    fimPad: c.i32("fim_pad"),
    indent2Spaces: c.i16("indent_2spaces"),
    indent4Spaces: c.i16("indent_4spaces"),
    indentTab: c.i16("indent_tab"),
    flags: c.u16("flags"),
  };
  c.pos = start + CODE_CONFIG_SIZE;
  c.need(0, "code config");
  return k;
}

function readAudio(c: Cursor): HtfAudioConfig {
  const start = c.pos;
  const a: HtfAudioConfig = {
    encoderType: c.u32("encoder_type"),
    sampleRate: c.u32("sample_rate"),
    nMels: c.u32("n_mels"),
    nFft: c.u32("n_fft"),
    hopLength: c.u32("hop_length"),
    hiddenSize: c.u32("hidden_size"),
    numHiddenLayers: c.u32("num_hidden_layers"),
    numAttentionHeads: c.u32("num_attention_heads"),
    chunkLength: c.u32("chunk_length"),
    codebookSize: c.u32("codebook_size"),
    codebookDim: c.u32("codebook_dim"),
    numCodebooks: c.u16("num_codebooks"),
    audioTokenId: (c.u16("reserved"), c.i32("audio_token_id")),
    sotTokenId: c.i32("sot"),
    eotTokenId: c.i32("eot"),
    flags: c.u16("flags"),
  };
  c.pos = start + AUDIO_CONFIG_SIZE;
  c.need(0, "audio config");
  return a;
}

function readTokenizerDomain(c: Cursor, d: HtfDomain): void {
  const base = c.pos;
  d.text = readTextConfig(c);
  if (d.type === DomainType.CODE) d.code = readCodeConfig(c);
  const addedCount = c.u32("added_count");
  if (addedCount !== d.text.numAddedTokens) {
    bad(
      `domain ${d.index}: added_count ${addedCount} but the config says ${d.text.numAddedTokens}`,
    );
  }
  let prev = -1;
  for (let i = 0; i < addedCount; i++) {
    const id = c.u32("added id");
    const len = c.u16("added length");
    const flags = c.u8("added flags");
    c.u8("added reserved");
    const content = c.text(len, `added token ${i}`);
    c.align(4, base);
    if (id <= prev) {
      bad(`domain ${d.index}: added tokens are not sorted by id (${id} after ${prev})`);
    }
    prev = id;
    d.added.push({ id, content, flags } satisfies HtfAddedToken);
  }
  c.align(8, base);
  if (c.pos === c.end) return;
  const vocabCount = c.u32("vocab_count");
  if (vocabCount > (c.end - c.pos) / 8) {
    bad(`domain ${d.index}: vocab_count ${vocabCount} cannot fit in the domain`);
  }
  prev = -1;
  for (let i = 0; i < vocabCount; i++) {
    const id = c.u32("vocab id");
    const len = c.u16("vocab length");
    const flags = c.u8("token flags");
    const scoreType = c.u8("score_type");
    if (scoreType !== 0) {
      bad(`domain ${d.index}: vocab entry ${i} has score_type ${scoreType}; only 0 is defined`);
    }
    const token = c.text(len, `vocab entry ${i}`);
    c.align(4, base);
    if (id < prev) {
      bad(`domain ${d.index}: vocab entries are not sorted by id (${id} after ${prev})`);
    }
    prev = id;
    d.vocab.push({ id, token, flags } satisfies HtfVocabEntry);
  }
  if (c.pos === c.end) return;
  if (!(d.flags & DomainFlag.HAS_MERGES)) {
    bad(`domain ${d.index}: merges present without HAS_MERGES`);
  }
  const n = c.u32("merge_count");
  c.need(n * 8, "merges");
  const merges = new Uint32Array(n * 2);
  const maxId = d.vocab.length > 0 ? d.vocab[d.vocab.length - 1].id : 0;
  for (let i = 0; i < n * 2; i++) {
    const v = c.u32("merge id");
    if (v > maxId) bad(`domain ${d.index}: merge ${i >> 1} names id ${v}, past the vocab`);
    merges[i] = v;
  }
  d.merges = merges;
}
