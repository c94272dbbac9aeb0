/**
 * Checksums of the HNF container: XXH3-64 (seed 0) per block and the header CRC-32 (§2, §3).
 * XXH3 is our WebAssembly SIMD port (xxh3.ts), CRC-32 a table loop: `hash-wasm`, which did both,
 * cost ≈ 35 ms of every start (loading its 270 KB module and compiling it) and hashed at half
 * the speed; it remains the tests' oracle for both.
 *
 * @module
 */
import { HNF_DATA_START, HNF_MANIFEST_CHECK_OFFSET } from "./constants.ts";
import { Xxh3Hasher } from "./xxh3.ts";

/** An incremental XXH3-64 hasher. */
export interface Xxh3 {
  /** Feeds bytes. */
  update(bytes: Uint8Array): void;
  /** Returns the 64-bit digest. */
  digest(): bigint;
}

/**
 * Creates an incremental XXH3-64 (seed 0) hasher.
 *
 * @example
 * ```ts
 * import { createXxh3 } from "./checksum.ts";
 * const h = createXxh3();
 * h.update(new TextEncoder().encode("text"));
 * console.log(h.digest().toString(16)); // "4769fd1c60e8a611"
 * ```
 */
export function createXxh3(): Xxh3 {
  return new Xxh3Hasher();
}

/**
 * XXH3-64 (seed 0) of the concatenation of `parts`, synchronously (the HTF reader and writer
 * need it without awaiting).
 *
 * @example
 * ```ts
 * import { xxh3 } from "./checksum.ts";
 * console.log(xxh3(new TextEncoder().encode("text")).toString(16)); // "4769fd1c60e8a611"
 * ```
 */
export function xxh3(...parts: Uint8Array[]): bigint {
  const h = new Xxh3Hasher();
  for (const part of parts) h.update(part);
  return h.digest();
}

let crcTable: Int32Array | null = null;

/**
 * CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, initial and final value 0xFFFFFFFF, as
 * zlib's `crc32`) of `bytes`, one table lookup per byte: it only covers the 576-byte header.
 *
 * @example
 * ```ts
 * import { crc32 } from "./checksum.ts";
 * console.log(crc32(new TextEncoder().encode("123456789")).toString(16)); // "cbf43926"
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  const t = crcTable ??= Int32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * The header CRC-32 as the reference computes it (§2): over the 64-byte header with flags,
 * manifest_offset, manifest_size, file_size, checksum and the manifest checksum zeroed, followed
 * by the 512-byte table.
 *
 * @example
 * ```ts
 * import { headerCrc } from "./checksum.ts";
 * console.log(typeof headerCrc(new Uint8Array(576))); // "number"
 * ```
 */
export function headerCrc(headerAndTable: Uint8Array): number {
  const buf = headerAndTable.slice(0, HNF_DATA_START);
  buf.fill(0, 0x0c, 0x10);
  // 0x3C, reserved in the reference (always 0 there), holds our manifest checksum, which is
  // written at finalisation like the fields above: zeroed too, so reference files still match.
  buf.fill(0, 0x20, 0x40);
  return crc32(buf);
}

/**
 * Our manifest checksum (header 0x3C, docs/HNFv9.md): the low 32 bits of XXH3-64 over header
 * bytes 0x00–0x3B (flags, offsets, sizes and the CRC included) followed by the manifest, so
 * every byte of the header and manifest is covered by it or by the CRC.
 *
 * @example
 * ```ts
 * import { manifestCheck } from "./checksum.ts";
 * console.log(typeof manifestCheck(new Uint8Array(64), new Uint8Array(2))); // "number"
 * ```
 */
export function manifestCheck(header: Uint8Array, manifest: Uint8Array): number {
  return Number(xxh3(header.subarray(0, HNF_MANIFEST_CHECK_OFFSET), manifest) & 0xffffffffn);
}
