/**
 * Serializes prepared domains into an HTF v1.3 blob (§10.1–§10.2): header, domain table,
 * 16-aligned domain data, padding to 32, and the XXH3-64 checksum.
 *
 * @module
 */

import { HeliosError } from "../errors.ts";
import { xxh3 } from "../hnf/checksum.ts";
import { nameHash } from "./_xxh3.ts";
import {
  AddedFlag,
  AUDIO_CONFIG_SIZE,
  CODE_CONFIG_SIZE,
  DomainFlag,
  DomainType,
  HTF3_MAGIC,
  HTF_BLOB_ALIGN,
  HTF_CHECKSUM_OFFSET,
  HTF_DOMAIN_ALIGN,
  HTF_DOMAIN_ENTRY_SIZE,
  HTF_HEADER_SIZE,
  HTF_VERSION_1_3,
  HtfHeaderFlag,
  TEXT_CONFIG_SIZE,
} from "./constants.ts";
import type { HtfAudioConfig, HtfCodeConfig } from "./types.ts";
import type { PreparedTokenizer } from "./_prepare.ts";

/** One domain to write. */
export type DomainToWrite =
  | { role: "text" | "cortex"; primary: boolean; tok: PreparedTokenizer }
  | { role: "code"; primary: false; tok: PreparedTokenizer; code: HtfCodeConfig }
  | { role: "audio"; primary: false; audio: HtfAudioConfig };

const enc = new TextEncoder();

class ByteSink {
  buf: Uint8Array;
  len = 0;
  private view: DataView;

  /** A sink whose first buffer holds `capacity` bytes (it grows beyond by doubling). */
  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.grow(1);
    this.buf[this.len++] = v;
  }
  u16(v: number): void {
    this.grow(2);
    this.view.setUint16(this.len, v, true);
    this.len += 2;
  }
  i16(v: number): void {
    this.grow(2);
    this.view.setInt16(this.len, v, true);
    this.len += 2;
  }
  u32(v: number): void {
    this.grow(4);
    this.view.setUint32(this.len, v, true);
    this.len += 4;
  }
  i32(v: number): void {
    this.grow(4);
    this.view.setInt32(this.len, v, true);
    this.len += 4;
  }
  /**
   * A token entry's header (id, byte length, flags, score type 0) and its UTF-8 bytes: ASCII
   * byte by byte, anything else through `encodeInto` (no array per token: Gemma's 262 144).
   */
  token(id: number, flags: number, text: string, file: string): void {
    const n = text.length;
    this.grow(8 + 3 * n); // UTF-8 takes at most 3 bytes per UTF-16 unit
    let len = n;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) {
        len = enc.encodeInto(text, this.buf.subarray(this.len + 8)).written;
        break;
      }
      this.buf[this.len + 8 + i] = c;
    }
    if (len > 0xffff) {
      throw new HeliosError(
        "BAD_TOKENIZER",
        `${file}: token ${
          JSON.stringify(text.slice(0, 40))
        }… is ${len} bytes, over the 65535 an HTF entry holds`,
      );
    }
    this.view.setUint32(this.len, id, true);
    this.view.setUint16(this.len + 4, len, true);
    this.buf[this.len + 6] = flags;
    this.buf[this.len + 7] = 0;
    this.len += 8 + len;
  }
  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  padTo(align: number, base = 0): void {
    while ((this.len - base) % align !== 0) this.u8(0);
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function writeTextConfig(s: ByteSink, t: PreparedTokenizer): void {
  const start = s.len;
  s.i32(t.bos);
  s.i32(t.eos);
  s.i32(t.pad);
  s.i32(t.unk);
  s.u32(t.vocabSize);
  s.u16(t.added.length);
  s.u8(t.encodingType);
  s.u8(t.flags);
  s.u8(0); // byte 24 pre_tokenizer_type (§17: zero)
  s.u8(t.decoderType);
  s.u8(0); // behaviour_flags
  s.u8(t.normalizerType);
  s.u8(t.modelFlags);
  while (s.len - start < TEXT_CONFIG_SIZE) s.u8(0);
}

function writeCodeConfig(s: ByteSink, c: HtfCodeConfig): void {
  const start = s.len;
  s.u32(c.baseDomainIndex);
  s.i32(c.fimPrefix);
  s.i32(c.fimMiddle);
  s.i32(c.fimSuffix);
  s.i32(c.fimPad);
  s.i16(c.indent2Spaces);
  s.i16(c.indent4Spaces);
  s.i16(c.indentTab);
  s.u16(c.flags);
  while (s.len - start < CODE_CONFIG_SIZE) s.u8(0);
}

function writeAudioConfig(s: ByteSink, a: HtfAudioConfig): void {
  const start = s.len;
  for (
    const v of [
      a.encoderType,
      a.sampleRate,
      a.nMels,
      a.nFft,
      a.hopLength,
      a.hiddenSize,
      a.numHiddenLayers,
      a.numAttentionHeads,
      a.chunkLength,
      a.codebookSize,
      a.codebookDim,
    ]
  ) s.u32(v);
  s.u16(a.numCodebooks);
  s.u16(0);
  s.i32(a.audioTokenId);
  s.i32(a.sotTokenId);
  s.i32(a.eotTokenId);
  s.u16(a.flags);
  while (s.len - start < AUDIO_CONFIG_SIZE) s.u8(0);
}

function writeTokenizerBody(s: ByteSink, t: PreparedTokenizer, domainStart: number): void {
  s.u32(t.added.length);
  for (const a of t.added) {
    const flags = (a.special ? AddedFlag.SPECIAL : 0) | (a.lstrip ? AddedFlag.LSTRIP : 0) |
      (a.rstrip ? AddedFlag.RSTRIP : 0) | (a.singleWord ? AddedFlag.SINGLE_WORD : 0) |
      (a.normalized ? AddedFlag.NORMALIZED : 0);
    s.token(a.id, flags, a.content, t.file); // its reserved byte is 0, as a score type 0
    s.padTo(4, domainStart);
  }
  s.padTo(8, domainStart);
  if (t.vocab.length === 0) return;
  s.u32(t.vocab.length);
  for (const v of t.vocab) {
    // score_type 0: none (§10.2); the runtime parses entries without bounds checks
    s.token(v.id, v.flags, v.token, t.file);
    s.padTo(4, domainStart);
  }
  const n = t.merges.length / 2;
  if (n === 0) return;
  s.u32(n);
  for (let i = 0; i < t.merges.length; i++) s.u32(t.merges[i]);
}

/** UTF-8 bytes of a string (2 per unit below U+0800, 4 per surrogate pair, else 3). */
function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) n += c < 0x800 || (c >= 0xd800 && c < 0xe000) ? 1 : 2;
  }
  return n;
}

/** At least the blob's size: every entry with its header and padding, the merges, the rest. */
function sizeBound(domains: DomainToWrite[]): number {
  let n = 1 << 16; // header, table, configs and paddings, with room to spare
  for (const d of domains) {
    if (d.role === "audio") continue;
    for (const a of d.tok.added) n += 12 + utf8Length(a.content);
    for (const v of d.tok.vocab) n += 12 + utf8Length(v.token);
    n += 4 * d.tok.merges.length;
  }
  return n;
}

const TYPE_OF = {
  text: DomainType.TEXT,
  cortex: DomainType.TEXT,
  code: DomainType.CODE,
  audio: DomainType.AUDIO,
};

/**
 * Writes the HTF v1.3 blob for `domains`: primary TEXT first, 1 to 8 of them (`buildHtf`
 * checks the count).
 *
 * @example
 * ```ts ignore
 * import { writeHtf } from "./writer.ts";
 * const blob = writeHtf([{ role: "text", primary: true, tok }]);
 * ```
 */
export function writeHtf(domains: DomainToWrite[]): Uint8Array {
  // Sized from the tokens up front: growing by doubling to Gemma's 9 MB blob allocated ≈ 25 MB
  // more on the way, at the tokenizer's memory peak.
  const s = new ByteSink(sizeBound(domains));
  const tableEnd = HTF_HEADER_SIZE + HTF_DOMAIN_ENTRY_SIZE * domains.length;
  while (s.len < tableEnd) s.u8(0);
  const entries: {
    type: number;
    flags: number;
    vocab: number;
    off: number;
    size: number;
    hash: bigint;
  }[] = [];
  let anyMerges = false;
  for (const d of domains) {
    s.padTo(HTF_DOMAIN_ALIGN);
    const off = s.len;
    let flags = d.primary ? DomainFlag.IS_PRIMARY : 0;
    let vocab = 0;
    if (d.role === "audio") writeAudioConfig(s, d.audio);
    else {
      writeTextConfig(s, d.tok);
      if (d.role === "code") writeCodeConfig(s, d.code);
      writeTokenizerBody(s, d.tok, off);
      vocab = d.tok.vocabSize;
      if (d.tok.vocab.length > 0) flags |= DomainFlag.HAS_VOCAB;
      if (d.tok.vocab.length > 0 && d.tok.merges.length > 0) {
        flags |= DomainFlag.HAS_MERGES;
        anyMerges = true;
      }
    }
    entries.push({
      type: TYPE_OF[d.role],
      flags,
      vocab,
      off,
      size: s.len - off,
      hash: nameHash(d.role),
    });
  }
  s.padTo(HTF_BLOB_ALIGN);
  const blob = s.done();
  const dv = new DataView(blob.buffer);
  dv.setUint32(0, HTF3_MAGIC, true);
  dv.setUint16(4, HTF_VERSION_1_3, true);
  dv.setUint16(6, anyMerges ? HtfHeaderFlag.HAS_MERGES : 0, true);
  dv.setUint8(8, domains.length);
  dv.setBigUint64(16, BigInt(blob.length), true);
  entries.forEach((e, i) => {
    const o = HTF_HEADER_SIZE + i * HTF_DOMAIN_ENTRY_SIZE;
    dv.setUint8(o, e.type);
    dv.setUint8(o + 1, e.flags);
    dv.setUint32(o + 4, e.vocab, true);
    dv.setBigUint64(o + 8, BigInt(e.off), true);
    dv.setBigUint64(o + 16, BigInt(e.size), true);
    dv.setBigUint64(o + 24, e.hash, true);
  });
  dv.setBigUint64(HTF_CHECKSUM_OFFSET, htfChecksum(blob), true);
  return blob;
}

/**
 * XXH3-64 (seed 0) of the blob with its checksum field read as zero (§10.1).
 *
 * @example
 * ```ts ignore
 * import { htfChecksum } from "./writer.ts";
 * const sum: bigint = htfChecksum(blob);
 * ```
 */
export function htfChecksum(blob: Uint8Array): bigint {
  return xxh3(
    blob.subarray(0, HTF_CHECKSUM_OFFSET),
    new Uint8Array(8),
    blob.subarray(HTF_CHECKSUM_OFFSET + 8),
  );
}
