/**
 * Encoding and decoding of the 64-byte header and the 16-entry block table (§2, §3).
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import {
  HNF_BLOCK_COUNT,
  HNF_BLOCK_ENTRY_SIZE,
  HNF_DATA_START,
  HNF_HEADER_SIZE,
  HNF_MAGIC,
  HNF_MANIFEST_CHECK_OFFSET,
  HNF_VERSION_MAJOR,
  HNF_VERSION_MINOR,
} from "./constants.ts";

/** The header fields (§2). */
export interface HnfHeader {
  /** version_major (9). */
  versionMajor: number;
  /** version_minor (1). */
  versionMinor: number;
  /** Capability flags. */
  flags: number;
  /** block_count (16). */
  blockCount: number;
  /** header_size (64). */
  headerSize: number;
  /** block_table_offset (64). */
  blockTableOffset: number;
  /** Absolute offset of the manifest. */
  manifestOffset: number;
  /** Manifest length in bytes. */
  manifestSize: number;
  /** Total file length. */
  fileSize: number;
  /** Header CRC-32 (§2). */
  checksum: number;
  /**
   * The §2 `reserved` u32: our manifest checksum (low 32 bits of XXH3-64 of header bytes
   * 0x00–0x3B and the manifest), 0 in files of other writers.
   */
  manifestCheck: number;
}

/** One block-table entry (§3). */
export interface HnfBlockEntry {
  /** block_id (= table index). */
  id: number;
  /** block_type (= table index). */
  type: number;
  /** Absolute offset (0 when empty). */
  offset: number;
  /** Length in bytes (0 = empty). */
  size: number;
  /** XXH3-64 of the block bytes (0 when empty). */
  checksum: bigint;
}

function u64(dv: DataView, off: number, what: string): number {
  const v = dv.getBigUint64(off, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new HeliosError("BAD_HNF", `Header field ${what} is too large (${v})`);
  }
  return Number(v);
}

/**
 * Encodes header and table into the first 576 bytes of a file.
 *
 * @example
 * ```ts
 * import { encodeHeaderAndTable } from "./header.ts";
 * const bytes = encodeHeaderAndTable({ flags: 0, manifestOffset: 0, manifestSize: 0, fileSize: 0, checksum: 0 }, []);
 * console.log(bytes.length); // 576
 * ```
 */
export function encodeHeaderAndTable(
  h:
    & Pick<HnfHeader, "flags" | "manifestOffset" | "manifestSize" | "fileSize" | "checksum">
    & Partial<Pick<HnfHeader, "manifestCheck">>,
  blocks: readonly HnfBlockEntry[],
): Uint8Array {
  const out = new Uint8Array(HNF_DATA_START);
  const dv = new DataView(out.buffer);
  out.set(HNF_MAGIC, 0);
  dv.setUint16(0x08, HNF_VERSION_MAJOR, true);
  dv.setUint16(0x0a, HNF_VERSION_MINOR, true);
  dv.setUint32(0x0c, h.flags >>> 0, true);
  dv.setUint32(0x10, HNF_BLOCK_COUNT, true);
  dv.setUint32(0x14, HNF_HEADER_SIZE, true);
  dv.setBigUint64(0x18, BigInt(HNF_HEADER_SIZE), true);
  dv.setBigUint64(0x20, BigInt(h.manifestOffset), true);
  dv.setBigUint64(0x28, BigInt(h.manifestSize), true);
  dv.setBigUint64(0x30, BigInt(h.fileSize), true);
  dv.setUint32(0x38, h.checksum >>> 0, true);
  dv.setUint32(HNF_MANIFEST_CHECK_OFFSET, (h.manifestCheck ?? 0) >>> 0, true);
  for (let i = 0; i < HNF_BLOCK_COUNT; i++) {
    const e = blocks[i];
    const at = HNF_HEADER_SIZE + i * HNF_BLOCK_ENTRY_SIZE;
    // §3: the writer sets block_id = block_type = i for every entry, empty ones included.
    dv.setUint32(at, i, true);
    dv.setUint32(at + 4, i, true);
    if (e && e.size > 0) {
      dv.setBigUint64(at + 8, BigInt(e.offset), true);
      dv.setBigUint64(at + 16, BigInt(e.size), true);
      dv.setBigUint64(at + 24, e.checksum, true);
    }
  }
  return out;
}

/**
 * Decodes and checks the header as the runtime does (§13: magic, version_major 9,
 * block_count 16, header_size 64), plus the table.
 *
 * @example
 * ```ts
 * import { decodeHeaderAndTable, encodeHeaderAndTable } from "./header.ts";
 * const bytes = encodeHeaderAndTable({ flags: 0, manifestOffset: 0, manifestSize: 0, fileSize: 0, checksum: 0 }, []);
 * console.log(decodeHeaderAndTable(bytes).header.versionMajor); // 9
 * ```
 */
export function decodeHeaderAndTable(
  bytes: Uint8Array,
): { header: HnfHeader; blocks: HnfBlockEntry[] } {
  if (bytes.length < HNF_DATA_START) {
    throw new HeliosError(
      "BAD_HNF",
      `File is ${bytes.length} bytes, too short for the ${HNF_DATA_START}-byte header and table`,
    );
  }
  for (let i = 0; i < 8; i++) {
    if (bytes[i] !== HNF_MAGIC[i]) {
      throw new HeliosError("BAD_HNF", "Not an HNFv9 file (bad magic)");
    }
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header: HnfHeader = {
    versionMajor: dv.getUint16(0x08, true),
    versionMinor: dv.getUint16(0x0a, true),
    flags: dv.getUint32(0x0c, true),
    blockCount: dv.getUint32(0x10, true),
    headerSize: dv.getUint32(0x14, true),
    blockTableOffset: u64(dv, 0x18, "block_table_offset"),
    manifestOffset: u64(dv, 0x20, "manifest_offset"),
    manifestSize: u64(dv, 0x28, "manifest_size"),
    fileSize: u64(dv, 0x30, "file_size"),
    checksum: dv.getUint32(0x38, true),
    manifestCheck: dv.getUint32(HNF_MANIFEST_CHECK_OFFSET, true),
  };
  if (header.versionMajor !== HNF_VERSION_MAJOR) {
    throw new HeliosError(
      "BAD_HNF",
      `Unsupported version_major ${header.versionMajor} (expected 9)`,
    );
  }
  if (header.blockCount !== HNF_BLOCK_COUNT) {
    throw new HeliosError("BAD_HNF", `block_count is ${header.blockCount}, expected 16`);
  }
  if (header.headerSize !== HNF_HEADER_SIZE) {
    throw new HeliosError("BAD_HNF", `header_size is ${header.headerSize}, expected 64`);
  }
  if (header.blockTableOffset !== HNF_HEADER_SIZE) {
    throw new HeliosError(
      "BAD_HNF",
      `block_table_offset is ${header.blockTableOffset}, expected 64`,
    );
  }
  const blocks: HnfBlockEntry[] = [];
  for (let i = 0; i < HNF_BLOCK_COUNT; i++) {
    const at = HNF_HEADER_SIZE + i * HNF_BLOCK_ENTRY_SIZE;
    blocks.push({
      id: dv.getUint32(at, true),
      type: dv.getUint32(at + 4, true),
      offset: u64(dv, at + 8, `block ${i} offset`),
      size: u64(dv, at + 16, `block ${i} size`),
      checksum: dv.getBigUint64(at + 24, true),
    });
  }
  return { header, blocks };
}
