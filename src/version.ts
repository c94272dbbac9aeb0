/**
 * The package version, kept equal to deno.json's (a test checks it).
 *
 * @module
 */

/** Package version. */
export const VERSION = "0.1.0";

/** The `generator` string written in every manifest. */
export const GENERATOR = `@helios/convert ${VERSION}`;
