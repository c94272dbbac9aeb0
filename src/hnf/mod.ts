/**
 * The HNFv9.1 container: constants, header and table, manifest, checksums, writer and reader.
 *
 * @module
 */
export * from "./constants.ts";
export * from "./header.ts";
export * from "./manifest.ts";
export * from "./checksum.ts";
export * from "./writer.ts";
export * from "./reader.ts";
