/**
 * Streaming, strictly validated safetensors input.
 *
 * @module
 */
export * from "./dtype.ts";
export * from "./header.ts";
export * from "./folder.ts";
