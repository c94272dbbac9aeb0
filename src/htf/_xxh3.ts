/**
 * XXH3-64 (seed 0) for the HTF checksum and domain name hashes. The WebAssembly hasher is
 * created once at module load so that reading an HTF blob stays synchronous.
 *
 * @module
 */

import { createXXHash3 } from "hash-wasm";

const hasher = await createXXHash3(0, 0);

/** XXH3-64 with seed 0 over the concatenation of `parts`, as an unsigned 64-bit bigint. */
export function xxh3(...parts: Uint8Array[]): bigint {
  hasher.init();
  for (const part of parts) hasher.update(part);
  return BigInt("0x" + hasher.digest("hex"));
}

/** XXH3-64 of an ASCII name, as written in a domain entry's name_hash (§10.1). */
export function nameHash(name: string): bigint {
  return xxh3(new TextEncoder().encode(name));
}
