/**
 * A small reader for SentencePiece `tokenizer.model` files (protobuf `ModelProto`): the pieces,
 * the trainer settings that matter for tokenizing, and the normalizer settings. Unknown fields
 * are skipped, so newer files still parse.
 *
 * @module
 */

import { HeliosError } from "../errors.ts";

/** SentencePiece piece types (`ModelProto.SentencePiece.Type`). */
export const PieceType = {
  /** An ordinary piece. */
  NORMAL: 1,
  /** The unknown piece. */
  UNKNOWN: 2,
  /** A control symbol such as `<s>`. */
  CONTROL: 3,
  /** A user-defined symbol, always matched whole. */
  USER_DEFINED: 4,
  /** Unused. */
  UNUSED: 5,
  /** A byte-fallback piece `<0xHH>`. */
  BYTE: 6,
} as const;

/** SentencePiece model types (`TrainerSpec.ModelType`). */
export const SpModelType = {
  /** Unigram language model. */
  UNIGRAM: 1,
  /** Byte pair encoding. */
  BPE: 2,
  /** Whitespace-delimited words. */
  WORD: 3,
  /** Characters. */
  CHAR: 4,
} as const;

/** One SentencePiece piece; its id is its index. */
export interface SpPiece {
  /** The piece text ("▁" marks a space). */
  piece: string;
  /** Score (log probability for Unigram, minus the merge rank for BPE). */
  score: number;
  /** {@link PieceType} code. */
  type: number;
}

/** What {@link parseSentencePieceModel} returns. */
export interface SentencePieceModel {
  /** Pieces by id. */
  pieces: SpPiece[];
  /** {@link SpModelType} code. */
  modelType: number;
  /** Unknown characters become byte pieces. */
  byteFallback: boolean;
  /** unk id (default 0). */
  unkId: number;
  /** bos id (default 1, −1 when disabled). */
  bosId: number;
  /** eos id (default 2, −1 when disabled). */
  eosId: number;
  /** pad id (default −1). */
  padId: number;
  /** Normalizer rule name ("identity", "nmt_nfkc", …). */
  normalizerName: string;
  /** A "▁" is put in front of the text. */
  addDummyPrefix: boolean;
  /** Runs of spaces collapse (not reproducible by the runtime). */
  removeExtraWhitespaces: boolean;
  /** The normalizer carries a precompiled character map (not reproducible). */
  hasPrecompiledCharsmap: boolean;
}

class ProtoReader {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly end: number, readonly file: string) {}

  fail(what: string): never {
    throw new HeliosError("BAD_TOKENIZER", `${this.file}: ${what} at byte ${this.pos}`);
  }

  /** Reads a varint; returns its value when it fits 2^53, and its low 32 bits. */
  varint(): { value: number; low32: number } {
    let value = 0;
    let low32 = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("truncated varint");
      const b = this.buf[this.pos++];
      if (i < 5) low32 |= (b & 0x7f) << (7 * i);
      value += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return { value, low32 };
    }
    this.fail("varint longer than 10 bytes");
  }

  /** Returns [field, wireType] or null at the end. */
  tag(): [number, number] | null {
    if (this.pos >= this.end) return null;
    const { value } = this.varint();
    return [Math.floor(value / 8), value % 8];
  }

  bytes(): Uint8Array {
    const { value: len } = this.varint();
    if (len > this.end - this.pos) this.fail(`length ${len} runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  float(): number {
    if (this.pos + 4 > this.end) this.fail("truncated float");
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.advance(8);
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.advance(4);
    else this.fail(`unsupported protobuf wire type ${wire}`);
  }

  advance(n: number): void {
    if (this.pos + n > this.end) this.fail("truncated field");
    this.pos += n;
  }

  sub(bytes: Uint8Array): ProtoReader {
    return new ProtoReader(bytes, bytes.length, this.file);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function text(r: ProtoReader, b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    r.fail("string field is not valid UTF-8");
  }
}

/**
 * Parses a SentencePiece `ModelProto`. Throws `BAD_TOKENIZER` naming `file` when the bytes are
 * not a well-formed model or hold no pieces.
 *
 * @example
 * ```ts
 * import { parseSentencePieceModel } from "./sentencepiece.ts";
 * // field 1 (pieces) holding { piece: "a" (field 1), score: 0 (field 2) }
 * const bytes = new Uint8Array([0x0a, 0x08, 0x0a, 0x01, 0x61, 0x15, 0, 0, 0, 0]);
 * const model = parseSentencePieceModel(bytes, "tokenizer.model");
 * console.log(model.pieces[0].piece); // "a"
 * ```
 *
 * @param bytes The file contents.
 * @param file The file name, for messages.
 */
export function parseSentencePieceModel(bytes: Uint8Array, file: string): SentencePieceModel {
  const r = new ProtoReader(bytes, bytes.length, file);
  const model: SentencePieceModel = {
    pieces: [],
    modelType: SpModelType.UNIGRAM,
    byteFallback: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    normalizerName: "nmt_nfkc",
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    hasPrecompiledCharsmap: false,
  };
  for (let t = r.tag(); t; t = r.tag()) {
    const [field, wire] = t;
    if (field === 1 && wire === 2) model.pieces.push(readPiece(r, r.sub(r.bytes())));
    else if (field === 2 && wire === 2) readTrainer(r.sub(r.bytes()), model);
    else if (field === 3 && wire === 2) readNormalizer(r.sub(r.bytes()), model);
    else r.skip(wire);
  }
  if (model.pieces.length === 0) {
    throw new HeliosError("BAD_TOKENIZER", `${file}: no SentencePiece pieces found`);
  }
  return model;
}

function readPiece(outer: ProtoReader, r: ProtoReader): SpPiece {
  const p: SpPiece = { piece: "", score: 0, type: PieceType.NORMAL };
  let seen = false;
  for (let t = r.tag(); t; t = r.tag()) {
    const [field, wire] = t;
    if (field === 1 && wire === 2) {
      p.piece = text(r, r.bytes());
      seen = true;
    } else if (field === 2 && wire === 5) p.score = r.float();
    else if (field === 3 && wire === 0) p.type = r.varint().low32;
    else r.skip(wire);
  }
  if (!seen) outer.fail("a piece has no text");
  return p;
}

function readTrainer(r: ProtoReader, m: SentencePieceModel): void {
  for (let t = r.tag(); t; t = r.tag()) {
    const [field, wire] = t;
    if (wire !== 0) {
      r.skip(wire);
      continue;
    }
    const v = r.varint().low32; // int32 fields: the low 32 bits carry the sign
    if (field === 3) m.modelType = v;
    else if (field === 35) m.byteFallback = v !== 0;
    else if (field === 40) m.unkId = v;
    else if (field === 41) m.bosId = v;
    else if (field === 42) m.eosId = v;
    else if (field === 43) m.padId = v;
  }
}

function readNormalizer(r: ProtoReader, m: SentencePieceModel): void {
  for (let t = r.tag(); t; t = r.tag()) {
    const [field, wire] = t;
    if (field === 1 && wire === 2) m.normalizerName = text(r, r.bytes());
    else if (field === 2 && wire === 2) m.hasPrecompiledCharsmap = r.bytes().length > 0;
    else if (field === 3 && wire === 0) m.addDummyPrefix = r.varint().low32 !== 0;
    else if (field === 4 && wire === 0) m.removeExtraWhitespaces = r.varint().low32 !== 0;
    else r.skip(wire);
  }
}

/**
 * Derives BPE merges from SentencePiece BPE pieces the way Hugging Face's `LlamaConverter` does
 * (`SentencePieceExtractor`): for every piece, every split into two pieces that are both in the
 * vocab, grouped per piece by (left id, right id), then ordered by the piece's score, highest
 * first (a stable sort, so ties keep piece order). Returns flat (left id, right id) pairs.
 *
 * @example
 * ```ts
 * import { deriveSentencePieceMerges } from "./sentencepiece.ts";
 * const merges = deriveSentencePieceMerges([
 *   { piece: "a", score: 0, type: 1 },
 *   { piece: "b", score: 0, type: 1 },
 *   { piece: "ab", score: -1, type: 1 },
 * ]);
 * console.log([...merges]); // [0, 1]
 * ```
 *
 * @param pieces Pieces by id.
 */
export function deriveSentencePieceMerges(pieces: SpPiece[]): Uint32Array {
  const ids = new Map<string, number>();
  pieces.forEach((p, i) => {
    if (!ids.has(p.piece)) ids.set(p.piece, i);
  });
  const found: { l: number; r: number; score: number }[] = [];
  for (let id = 0; id < pieces.length; id++) {
    const { piece, score } = pieces[id];
    const chars = Array.from(piece);
    if (chars.length < 2) continue;
    const local: { l: number; r: number; score: number }[] = [];
    let prefix = "";
    for (let i = 1; i < chars.length; i++) {
      prefix += chars[i - 1];
      const l = ids.get(prefix);
      if (l === undefined) continue;
      const rId = ids.get(chars.slice(i).join(""));
      if (rId !== undefined) local.push({ l, r: rId, score });
    }
    local.sort((a, b) => a.l - b.l || a.r - b.r);
    for (const m of local) found.push(m);
  }
  // Array.prototype.sort is stable, as Python's sorted(reverse=True) is.
  found.sort((a, b) => b.score - a.score);
  const out = new Uint32Array(found.length * 2);
  found.forEach((m, i) => {
    out[2 * i] = m.l;
    out[2 * i + 1] = m.r;
  });
  return out;
}
