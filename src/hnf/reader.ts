/**
 * HNF reader: parses and validates what the runtime checks (§13, §16) plus every checksum,
 * and decodes tensors.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import { openForRead, readExactly } from "../io.ts";
import { getKernel } from "../hqs/registry.ts";
import type { HqsFormat } from "../hqs/kernel.ts";
import { decodeToF32 } from "../safetensors/dtype.ts";
import {
  BLOCK_NAMES,
  dtypeByteSize,
  HNF_DATA_START,
  HQ_BLOCK_BYTES,
  numelOf,
} from "./constants.ts";
import { decodeHeaderAndTable, type HnfBlockEntry, type HnfHeader } from "./header.ts";
import type { ManifestTensor } from "./manifest.ts";
import { checkLayout, verifyHnf } from "./verify.ts";

/** Options of {@link openHnf}. */
export interface OpenHnfOptions {
  /**
   * Verify the header CRC, the manifest checksum, every block's XXH3, the padding and the
   * flags (reads the whole file; default true).
   */
  verifyChecksums?: boolean;
}

/** An opened HNF file. */
export interface HnfFile {
  /** The path. */
  path: string;
  /** Decoded header. */
  header: HnfHeader;
  /** The 16 table entries. */
  blocks: HnfBlockEntry[];
  /** The parsed manifest (all keys). */
  manifest: Record<string, unknown>;
  /** Tensors in manifest order, with their extra keys. */
  tensors: ManifestTensor[];
  /** Whether checksums were verified (and matched) at open. */
  checksumsVerified: boolean;
  /**
   * Whether the manifest checksum (header 0x3C) was verified; false without verification and
   * for files of other writers, which leave it 0.
   */
  manifestChecked: boolean;
  /** Raw bytes of a block (empty when absent). */
  readBlock(id: number): Promise<Uint8Array>;
  /** Raw payload of a tensor. */
  readRaw(name: string): Promise<Uint8Array>;
  /** Decodes a tensor to f32 (fp16, fp32, bf16 and every HQ dtype). */
  readTensor(name: string): Promise<Float32Array>;
  /** Closes the file. */
  close(): void;
}

/** `len` bytes of `file` at `pos`. */
async function readAt(file: Deno.FsFile, pos: number, len: number, path: string) {
  const buf = new Uint8Array(len);
  await readExactly(file, pos, buf, path, "BAD_HNF");
  return buf;
}

/** Manifest dtypes decoded like the safetensors dtype of the same layout. */
const PLAIN_DECODE: Readonly<Record<string, string>> = { fp16: "F16", bf16: "BF16", fp32: "F32" };

function parseTensors(manifest: Record<string, unknown>, path: string): ManifestTensor[] {
  const raw = manifest.tensors;
  if (!Array.isArray(raw)) {
    throw new HeliosError("BAD_HNF", `${path}: manifest has no 'tensors' array`);
  }
  const out: ManifestTensor[] = [];
  const seen = new Set<string>();
  for (const [i, e] of raw.entries()) {
    const o = e as Record<string, unknown>;
    const where = `${path}: manifest tensor #${i}`;
    if (typeof o?.name !== "string" || o.name === "") {
      throw new HeliosError("BAD_HNF", `${where} has no name`);
    }
    if (seen.has(o.name)) throw new HeliosError("BAD_HNF", `${path}: duplicate tensor '${o.name}'`);
    seen.add(o.name);
    const { name, block, offset, size, dtype, shape, ...extra } = o;
    if (
      typeof block !== "string" || typeof dtype !== "string" || !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(size) || !Array.isArray(shape) ||
      !shape.every((d) => Number.isSafeInteger(d) && d > 0)
    ) {
      throw new HeliosError("BAD_HNF", `${path}: tensor '${name}' has a malformed entry`);
    }
    out.push({
      name: name as string,
      block,
      offset: offset as number,
      size: size as number,
      dtype,
      shape: shape as number[],
      extra: extra as Record<string, string | number | boolean>,
    });
  }
  if (out.length === 0) throw new HeliosError("BAD_HNF", `${path}: manifest lists no tensors`);
  return out;
}

/**
 * Opens and validates an HNF file.
 *
 * @example
 * ```ts ignore
 * import { openHnf } from "./reader.ts";
 * const hnf = await openHnf("model.hnf");
 * const w = await hnf.readTensor("text.token_embedding.weight");
 * hnf.close();
 * ```
 */
export async function openHnf(path: string, options: OpenHnfOptions = {}): Promise<HnfFile> {
  const file = await openForRead(path, "BAD_HNF");
  try {
    const size = (await file.stat()).size;
    if (size < HNF_DATA_START) {
      throw new HeliosError("BAD_HNF", `${path}: ${size} bytes, too short for an HNF file`);
    }
    const head = await readAt(file, 0, HNF_DATA_START, path);
    const { header, blocks } = decodeHeaderAndTable(head);
    if (header.manifestSize <= 0) throw new HeliosError("BAD_HNF", `${path}: manifest_size is 0`);
    if (header.manifestOffset + header.manifestSize > size) {
      throw new HeliosError("BAD_HNF", `${path}: manifest runs past the end of the file`);
    }
    if (header.fileSize !== size) {
      throw new HeliosError(
        "BAD_HNF",
        `${path}: header says ${header.fileSize} bytes, file has ${size}`,
      );
    }
    for (const [i, b] of blocks.entries()) {
      if (b.size > 0 && (b.offset < HNF_DATA_START || b.offset + b.size > size)) {
        throw new HeliosError(
          "BAD_HNF",
          `${path}: block ${i} (${BLOCK_NAMES[i]}) lies outside the file`,
        );
      }
    }
    const mbytes = await readAt(file, header.manifestOffset, header.manifestSize, path);
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(mbytes));
    } catch (e) {
      throw new HeliosError(
        "BAD_HNF",
        `${path}: manifest is not valid JSON (${(e as Error).message})`,
      );
    }
    const tensors = parseTensors(manifest, path);
    for (const t of tensors) {
      const expected = dtypeByteSize(t.dtype, numelOf(t.shape));
      if (expected === undefined) {
        throw new HeliosError(
          "BAD_HNF",
          `${path}: tensor '${t.name}' has unknown dtype '${t.dtype}'`,
        );
      }
      if (expected !== t.size) {
        throw new HeliosError(
          "BAD_HNF",
          `${path}: tensor '${t.name}' is ${t.size} bytes, but ${t.dtype} ${
            JSON.stringify(t.shape)
          } needs ${expected}`,
        );
      }
      const id = BLOCK_NAMES.indexOf(t.block);
      if (id < 0 || id >= 0xe) {
        throw new HeliosError(
          "BAD_HNF",
          `${path}: tensor '${t.name}' names unknown block '${t.block}'`,
        );
      }
      const b = blocks[id];
      if (b.size === 0) {
        throw new HeliosError(
          "BAD_HNF",
          `${path}: tensor '${t.name}' is in empty block '${t.block}'`,
        );
      }
      if (t.offset < b.offset || t.offset + t.size > b.offset + b.size) {
        throw new HeliosError(
          "BAD_HNF",
          `${path}: tensor '${t.name}' lies outside block '${t.block}'`,
        );
      }
    }
    checkLayout(path, header, blocks, tensors);
    let verified = false;
    let manifestChecked = false;
    if (options.verifyChecksums ?? true) {
      const read = (pos: number, len: number) => readAt(file, pos, len, path);
      manifestChecked = await verifyHnf(path, read, {
        head,
        header,
        blocks,
        tensors,
        manifest: mbytes,
      });
      verified = true;
    }
    const byName = new Map(tensors.map((t) => [t.name, t]));
    const find = (name: string) => {
      const t = byName.get(name);
      if (!t) throw new HeliosError("BAD_HNF", `${path}: no tensor named '${name}'`);
      return t;
    };
    return {
      path,
      header,
      blocks,
      manifest,
      tensors,
      checksumsVerified: verified,
      manifestChecked,
      readBlock: (id) =>
        blocks[id]?.size
          ? readAt(file, blocks[id].offset, blocks[id].size, path)
          : Promise.resolve(new Uint8Array(0)),
      readRaw: (name) => {
        const t = find(name);
        return readAt(file, t.offset, t.size, path);
      },
      async readTensor(name) {
        const t = find(name);
        const raw = await readAt(file, t.offset, t.size, path);
        const n = numelOf(t.shape);
        const out = new Float32Array(n);
        const plain = PLAIN_DECODE[t.dtype];
        if (plain) {
          decodeToF32(plain, raw, n, out, 0);
          return out;
        }
        if (HQ_BLOCK_BYTES[t.dtype] !== undefined) {
          const nb = Math.ceil(n / 256);
          const full = new Float32Array(nb * 256);
          getKernel(t.dtype as HqsFormat).decode(raw, 0, nb, full, 0);
          return full.subarray(0, n).slice();
        }
        throw new HeliosError("BAD_HNF", `${path}: cannot decode dtype '${t.dtype}' of '${name}'`);
      },
      close() {
        try {
          file.close();
        } catch { /* closed */ }
      },
    };
  } catch (e) {
    file.close();
    throw e;
  }
}
