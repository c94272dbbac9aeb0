/**
 * The HTF domain name hash (§10.1): XXH3-64 (seed 0) of the ASCII name, from the HNF checksum
 * module's synchronous hasher.
 *
 * @module
 */
import { xxh3 } from "../hnf/checksum.ts";

/** XXH3-64 of an ASCII name, as written in a domain entry's name_hash (§10.1). */
export function nameHash(name: string): bigint {
  return xxh3(new TextEncoder().encode(name));
}
