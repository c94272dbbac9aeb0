/**
 * Public types of the HTF module: what {@link buildHtf} takes and returns, and what
 * {@link readHtf} gives back.
 *
 * @module
 */

/** Which HTF domain a tokenizer source fills (§10.1). */
export type HtfDomainRole = "text" | "code" | "cortex" | "audio";

/** A folder with tokenizer files and the domain it fills. */
export interface TokenizerSource {
  /** Folder holding tokenizer.json, vocab.json + merges.txt or tokenizer.model, and configs. */
  dir: string;
  /** "text" is the primary TEXT domain; "cortex" a second TEXT domain; "audio" needs a Whisper config. */
  domain: HtfDomainRole;
}

/** Options of {@link buildHtf}. */
export interface HtfBuildOptions {
  /**
   * Token strings to look up in every domain written; the result's `probed` says which each
   * domain holds (in its vocab or its added tokens). The runtime report asks for a few this way
   * without keeping every token.
   */
  probeTokens?: readonly string[];
}

/** The tokenizer algorithm a domain was written for. */
export type TokenizerKind =
  | "byte-level-bpe"
  | "sentencepiece-bpe"
  | "bpe"
  | "unigram"
  | "wordpiece"
  | "none";

/** One domain of a summary. */
export interface HtfDomainSummary {
  /** Index in the domain table. */
  index: number;
  /** Role ("text", "code", "cortex", "audio", or "vision"/"unknown" when read back). */
  name: string;
  /** Whether this is the primary domain. */
  primary: boolean;
  /** Tokenizer algorithm ("none" for AUDIO). */
  kind: TokenizerKind;
  /** Number of model vocab entries (ids), without the SentencePiece `" "` alias. */
  vocabSize: number;
  /** Number of added tokens. */
  addedTokens: number;
  /** Distinct token ids over the vocab and the added tokens. */
  tokenIds: number;
  /** Number of merges. */
  merges: number;
  /** bos/eos/pad/unk ids (−1 when absent). */
  specials: HtfSpecialIds;
}

/** bos/eos/pad/unk ids of a TEXT or CODE domain; −1 when absent. */
export interface HtfSpecialIds {
  /** Beginning-of-sequence id. */
  bos: number;
  /** End-of-sequence id. */
  eos: number;
  /** Padding id. */
  pad: number;
  /** Unknown-token id. */
  unk: number;
}

/** A short description of an HTF blob, used by `inspect` and the conversion report. */
export interface TokenizerSummary {
  /** Algorithm of the primary domain. */
  type: TokenizerKind;
  /** Model vocab size of the primary domain. */
  vocabSize: number;
  /** Merges of the primary domain. */
  merges: number;
  /** Added tokens of the primary domain. */
  addedTokens: number;
  /** Distinct token ids of the primary domain (vocab ∪ added tokens). */
  tokenIds: number;
  /** Special ids of the primary domain. */
  specials: HtfSpecialIds;
  /** Every domain, in table order. */
  domains: HtfDomainSummary[];
  /** Blob size in bytes. */
  blobSize: number;
}

/** JSON-safe values kept in {@link HtfBuildResult.manifestExtra}. */
export type ManifestValue =
  | string
  | number
  | boolean
  | ManifestValue[]
  | { [key: string]: ManifestValue };

/** What {@link buildHtf} returns. */
export interface HtfBuildResult {
  /** The HTF v1.3 blob, already padded to 32 bytes; write it as block 0x9 as is. */
  blob: Uint8Array;
  /** Summary for the report and `inspect`. */
  summary: TokenizerSummary;
  /** Everything the runtime cannot reproduce, and everything dropped. Never empty-handed. */
  warnings: string[];
  /**
   * Data HTF v1.3 cannot hold, safe for the runtime's textual manifest scanner (§16):
   * `chat_template_b64` (base64 of the UTF-8 template, because templates contain braces),
   * `chat_templates_b64` (named templates), `eos_token_ids`, `add_bos_token`,
   * `add_eos_token`, `generation` (numeric/boolean generation defaults).
   */
  manifestExtra: Record<string, ManifestValue>;
  /** Per domain name, those of the options' `probeTokens` it holds (in their order). */
  probed: Record<string, string[]>;
}

/** The 32-byte HTF header (§10.1). */
export interface HtfHeader {
  /** "HTF3". */
  magic: string;
  /** 0x0130. */
  version: number;
  /** Header flags ({@link HtfHeaderFlag}). */
  flags: number;
  /** Number of domains. */
  numDomains: number;
  /** Blob length. */
  totalSize: number;
  /** Stored XXH3-64 checksum. */
  checksum: bigint;
}

/** TextDomainConfigBin (§10.2, §17). */
export interface HtfTextConfig {
  /** bos id or −1. */
  bosTokenId: number;
  /** eos id or −1. */
  eosTokenId: number;
  /** pad id or −1. */
  padTokenId: number;
  /** unk id or −1. */
  unkTokenId: number;
  /** Model vocab size. */
  vocabSize: number;
  /** Number of added tokens. */
  numAddedTokens: number;
  /** 0 BPE, 1 SentencePiece (greedy), 2 WordPiece, 3 Unigram. */
  encodingType: number;
  /** 0x01 byte_level, 0x02 add_prefix_space. */
  flags: number;
  /** Byte 24. */
  preTokenizerType: number;
  /** Byte 25 (1 = SentencePiece decoder). */
  decoderType: number;
  /** Byte 26. */
  behaviourFlags: number;
  /** Byte 27 (1 = spaces become "▁"). */
  normalizerType: number;
  /** Byte 28 (bit 0 = byte fallback). */
  modelFlags: number;
}

/** CodeDomainConfigBin (§10.2). */
export interface HtfCodeConfig {
  /** Index of the TEXT domain this code domain extends. */
  baseDomainIndex: number;
  /** FIM prefix id or −1. */
  fimPrefix: number;
  /** FIM middle id or −1. */
  fimMiddle: number;
  /** FIM suffix id or −1. */
  fimSuffix: number;
  /** FIM pad id or −1. */
  fimPad: number;
  /** Id of the two-space token or −1 (i16). */
  indent2Spaces: number;
  /** Id of the four-space token or −1 (i16). */
  indent4Spaces: number;
  /** Id of the tab token or −1 (i16). */
  indentTab: number;
  /** 0x1 fim_enabled. */
  flags: number;
}

/** AudioDomainConfigBin (§10.2). */
export interface HtfAudioConfig {
  /** 0 whisper, 1 encodec, 2 seamless, 3 wav2vec2. */
  encoderType: number;
  /** Sample rate in Hz. */
  sampleRate: number;
  /** Mel bins. */
  nMels: number;
  /** FFT size. */
  nFft: number;
  /** Hop length. */
  hopLength: number;
  /** Encoder width. */
  hiddenSize: number;
  /** Encoder layers. */
  numHiddenLayers: number;
  /** Encoder heads. */
  numAttentionHeads: number;
  /** Seconds per chunk. */
  chunkLength: number;
  /** Codebook size (0). */
  codebookSize: number;
  /** Codebook dim (0). */
  codebookDim: number;
  /** Number of codebooks (0). */
  numCodebooks: number;
  /** Audio placeholder token id or −1. */
  audioTokenId: number;
  /** Start-of-transcript id or −1. */
  sotTokenId: number;
  /** End-of-text id or −1. */
  eotTokenId: number;
  /** Flags (0). */
  flags: number;
}

/** One added token (§10.2 item 2). */
export interface HtfAddedToken {
  /** Token id. */
  id: number;
  /** Token text. */
  content: string;
  /** {@link AddedFlag} bits. */
  flags: number;
}

/** One vocab entry (§10.2 item 4). */
export interface HtfVocabEntry {
  /** Token id (repeated once for the SentencePiece `" "` alias, §17). */
  id: number;
  /** Token text. */
  token: string;
  /** {@link TokenFlag} bits. */
  flags: number;
}

/** One domain as read back. */
export interface HtfDomain {
  /** Index in the table. */
  index: number;
  /** domain_type code. */
  type: number;
  /** "text", "code", "cortex", "audio", "vision" (from name_hash, else from type) or "unknown". */
  name: string;
  /** domain_flags. */
  flags: number;
  /** vocab_size in the table entry. */
  vocabSize: number;
  /** data_offset from the blob start. */
  dataOffset: number;
  /** data_size. */
  dataSize: number;
  /** name_hash. */
  nameHash: bigint;
  /** TEXT/CODE config. */
  text?: HtfTextConfig;
  /** CODE config. */
  code?: HtfCodeConfig;
  /** AUDIO config. */
  audio?: HtfAudioConfig;
  /** Added tokens, by id. */
  added: HtfAddedToken[];
  /** Vocab entries in file order (ascending id). */
  vocab: HtfVocabEntry[];
  /** Merges as flat (left, right) id pairs in rank order. */
  merges: Uint32Array;
}

/** A parsed HTF blob. */
export interface HtfContents {
  /** Header. */
  header: HtfHeader;
  /** Domains in table order. */
  domains: HtfDomain[];
}
