/**
 * Checksums of the HNF container: XXH3-64 (seed 0) per block and the header CRC-32 (§2, §3).
 * Both come from `hash-wasm`.
 *
 * @module
 */
// The package's ES module build (its `module` entry): the default CommonJS one costs ≈ 30 ms
// more of every start in Deno (the CommonJS loader), and nothing else here needs that loader.
// @ts-types="hash-wasm"
import { crc32, createXXHash3 } from "hash-wasm/dist/index.esm.js";
import { HNF_DATA_START, HNF_MANIFEST_CHECK_OFFSET } from "./constants.ts";

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
 * const h = await createXxh3();
 * h.update(new TextEncoder().encode("text"));
 * console.log(h.digest().toString(16)); // "4769fd1c60e8a611"
 * ```
 */
export async function createXxh3(): Promise<Xxh3> {
  const h = await createXXHash3(0, 0);
  h.init();
  return {
    update(bytes) {
      h.update(bytes);
    },
    digest() {
      return BigInt(`0x${h.digest("hex")}`);
    },
  };
}

const oneShot = await createXXHash3(0, 0);

/**
 * XXH3-64 (seed 0) of the concatenation of `parts`, synchronously (the hasher is created once,
 * at module load; the HTF reader and writer need it without awaiting).
 *
 * @example
 * ```ts
 * import { xxh3 } from "./checksum.ts";
 * console.log(xxh3(new TextEncoder().encode("text")).toString(16)); // "4769fd1c60e8a611"
 * ```
 */
export function xxh3(...parts: Uint8Array[]): bigint {
  oneShot.init();
  for (const part of parts) oneShot.update(part);
  return BigInt(`0x${oneShot.digest("hex")}`);
}

/**
 * The header CRC-32 as the reference computes it (§2): over the 64-byte header with flags,
 * manifest_offset, manifest_size, file_size, checksum and the manifest checksum zeroed, followed
 * by the 512-byte table.
 *
 * @example
 * ```ts
 * import { headerCrc } from "./checksum.ts";
 * console.log(typeof await headerCrc(new Uint8Array(576))); // "number"
 * ```
 */
export async function headerCrc(headerAndTable: Uint8Array): Promise<number> {
  const buf = headerAndTable.slice(0, HNF_DATA_START);
  buf.fill(0, 0x0c, 0x10);
  // 0x3C, reserved in the reference (always 0 there), holds our manifest checksum, which is
  // written at finalisation like the fields above: zeroed too, so reference files still match.
  buf.fill(0, 0x20, 0x40);
  return parseInt(await crc32(buf), 16) >>> 0;
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
