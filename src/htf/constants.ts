/**
 * On-disk constants of the HTF v1.3 tokenizer blob (HNF block 0x9), named as the reference
 * names them. Every value gives its section of `HNFv9-reference.md`.
 *
 * @module
 */

/** §10.1: magic "HTF3" read as a little-endian u32. */
export const HTF3_MAGIC = 0x33465448;
/** §10.1: magic "HTF2" (v1.2, legacy; read as a little-endian u32). */
export const HTF2_MAGIC = 0x32465448;
/** §10.1: version u16 written with "HTF3". */
export const HTF_VERSION_1_3 = 0x0130;
/** §10.1: header size in bytes. */
export const HTF_HEADER_SIZE = 32;
/** §10.1: size of one domain table entry in bytes. */
export const HTF_DOMAIN_ENTRY_SIZE = 32;
/** §10.1: the Rust validator accepts 1–8 domains. */
export const HTF_MAX_DOMAINS = 8;
/** §10.1: every domain's data starts on this boundary. */
export const HTF_DOMAIN_ALIGN = 16;
/** §10.1: the blob is padded to a multiple of this. */
export const HTF_BLOB_ALIGN = 32;
/** §10.1: offset of the u64 checksum in the header. */
export const HTF_CHECKSUM_OFFSET = 24;

/** §10.1: header flag bits (u16 at 6). */
export const HtfHeaderFlag = {
  /** §10.1: some domain carries a codebook (never written here). */
  HAS_CODEBOOK: 0x0001,
  /** §10.1: some domain carries merges. */
  HAS_MERGES: 0x0002,
} as const;

/** §10.1: domain_type codes (u8 at 0 of a domain entry). */
export const DomainType = {
  /** §10.1: text tokenizer. */
  TEXT: 0,
  /** §10.1: vision (no tokenizer; never written here). */
  VISION: 1,
  /** §10.1: audio encoder settings. */
  AUDIO: 2,
  /** §10.1: code tokenizer with FIM/indent settings. */
  CODE: 3,
  /** §10.1: known to the C++ reader only; cortex is written as a second TEXT domain. */
  CORTEX: 4,
} as const;

/** §10.1: domain_flags bits (u8 at 1 of a domain entry). */
export const DomainFlag = {
  /** §10.1: the domain has a non-empty vocab. */
  HAS_VOCAB: 0x01,
  /** §10.1: the domain has a codebook (never written). */
  HAS_CODEBOOK: 0x02,
  /** §10.1: the domain has merges; the runtime reads merges only with this flag. */
  HAS_MERGES: 0x04,
  /** §10.1: the primary domain (exactly one, and it is TEXT). */
  IS_PRIMARY: 0x08,
  /** §10.1: defined, never set. */
  SHARED_SPECIAL: 0x10,
} as const;

/** §10.2: TextDomainConfigBin size in bytes. */
export const TEXT_CONFIG_SIZE = 32;
/** §10.2: CodeDomainConfigBin size in bytes. */
export const CODE_CONFIG_SIZE = 32;
/** §10.2: AudioDomainConfigBin size in bytes. */
export const AUDIO_CONFIG_SIZE = 64;

/** §10.2: encoding_type (u8 at 22 of TextDomainConfigBin). */
export const EncodingType = {
  /** §10.2, §17: BPE; also the right choice for SentencePiece-style BPE. */
  BPE: 0,
  /** §10.2, §17: the runtime's greedy matcher; never written for BPE vocabularies. */
  SENTENCEPIECE: 1,
  /** §10.2: WordPiece. */
  WORDPIECE: 2,
  /** §10.2: Unigram (the runtime runs the greedy matcher). */
  UNIGRAM: 3,
} as const;

/** §10.2: TextDomainConfigBin flags (u8 at 23). */
export const TextFlag = {
  /** §10.2, §17: map bytes to the GPT-2 characters before BPE. */
  BYTE_LEVEL: 0x01,
  /** §10.2, §17: put an ASCII space before a segment that does not start with one. */
  ADD_PREFIX_SPACE: 0x02,
  /** §10.2: defined, never read by the runtime. */
  TRIM_OFFSETS: 0x04,
  /** §10.2: defined, never read by the runtime. */
  LEGACY: 0x08,
} as const;

/** §17: model_flags bit 0: unknown characters become `<0xHH>` byte tokens. */
export const MODEL_FLAG_BYTE_FALLBACK = 0x01;
/** §17: decoder_type value of the SentencePiece decoder. */
export const DECODER_TYPE_SENTENCEPIECE = 1;
/** §17: normalizer_type value "replace spaces with ▁". */
export const NORMALIZER_TYPE_METASPACE = 1;

/** §10.2: added-token entry flags. */
export const AddedFlag = {
  /** §10.2: special token. */
  SPECIAL: 0x01,
  /** §10.2: lstrip (ignored by the runtime, §17). */
  LSTRIP: 0x02,
  /** §10.2: rstrip (ignored by the runtime, §17). */
  RSTRIP: 0x04,
  /** §10.2: single_word (defined; written here for losslessness, ignored by the runtime). */
  SINGLE_WORD: 0x08,
  /** §10.2: normalized (defined; written here for losslessness, ignored by the runtime). */
  NORMALIZED: 0x10,
} as const;

/** §10.2: vocab entry token_flags. */
export const TokenFlag = {
  /** §10.2: special in the added tokens. */
  SPECIAL: 0x01,
  /** §10.2: id == unk id. */
  UNKNOWN: 0x02,
  /** §10.2: bos, eos, pad, unk or an eos_token_ids entry. */
  CONTROL: 0x04,
  /** §10.2: the token looks like `<0xHH>`. */
  BYTE: 0x08,
  /** §10.2: the id appears in the added tokens. */
  ADDED: 0x10,
} as const;

/** §10.5, §16: limits the runtime enforces when loading a TEXT domain. */
export const RuntimeLimit = {
  /** §10.5: added_count ≤ 10 000. */
  MAX_ADDED: 10_000,
  /** §10.5: vocab_count ≤ 1 000 000. */
  MAX_VOCAB: 1_000_000,
  /** §10.5: merges are read only if count < 1 000 000. */
  MAX_MERGES: 1_000_000,
  /** §10.5: CODE: vocab_count ≤ 500 000. */
  MAX_CODE_VOCAB: 500_000,
  /** §10.5: CODE: merges < 500 000. */
  MAX_CODE_MERGES: 500_000,
} as const;

/** §10.2: AudioDomainConfigBin encoder_type codes. */
export const AudioEncoderType = {
  /** §10.2: Whisper. */
  WHISPER: 0,
  /** §10.2: EnCodec. */
  ENCODEC: 1,
  /** §10.2: Seamless. */
  SEAMLESS: 2,
  /** §10.2: wav2vec2. */
  WAV2VEC2: 3,
} as const;

/** §10.2: CodeDomainConfigBin flags bit 0. */
export const CODE_FLAG_FIM_ENABLED = 0x1;
