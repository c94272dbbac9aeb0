/**
 * What `openHnf` checks beyond the runtime's own checks, so that a changed byte that changes
 * what a file says is caught: the layout (blocks and tensors aligned, in bounds and disjoint,
 * the manifest last) always, and with verification every checksum (header CRC-32, the manifest
 * checksum at 0x3C, each block's XXH3-64), zero padding between blocks and between tensors,
 * and header flags equal to what the blocks and tensors imply.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import { createXxh3, headerCrc, manifestCheck } from "./checksum.ts";
import { BLOCK_NAMES, HNF_ALIGN, HNF_DATA_START, HnfFlag } from "./constants.ts";
import type { HnfBlockEntry, HnfHeader } from "./header.ts";
import type { ManifestTensor } from "./manifest.ts";

/** Reads `len` bytes at `pos` of the file being checked. */
export type ReadAt = (pos: number, len: number) => Promise<Uint8Array>;

function bad(path: string, message: string): HeliosError {
  return new HeliosError("BAD_HNF", `${path}: ${message}`);
}

/** §2: the flag each block sets when it is not empty. */
const BLOCK_FLAGS: Readonly<Record<number, number>> = {
  0x1: HnfFlag.HAS_VISION | HnfFlag.IS_MULTIMODAL,
  0x2: HnfFlag.HAS_AUDIO | HnfFlag.IS_MULTIMODAL,
  0x3: HnfFlag.HAS_VIDEO | HnfFlag.IS_MULTIMODAL,
  0x4: HnfFlag.HAS_SPATIAL | HnfFlag.IS_MULTIMODAL,
  0x5: HnfFlag.HAS_PERSONALITY,
  0x6: HnfFlag.HAS_MEMORY,
  0x7: HnfFlag.HAS_CORTEX,
  0x8: HnfFlag.HAS_CODE_EXEC,
  0x9: HnfFlag.HAS_TOKENIZER,
  0xb: HnfFlag.HAS_EXEC_HINTS_BIN,
  0xc: HnfFlag.HAS_TOOLS,
  0xd: HnfFlag.HAS_EXPERT_ROUTER,
};

const EXPERT_TENSOR = /(^|\.)layer\d+\.moe\.experts\./;

/**
 * The header flags a file's blocks and tensors imply, as this package writes them (truthfully,
 * docs/HNFv9.md deviation 4).
 */
function impliedFlags(
  blocks: readonly Pick<HnfBlockEntry, "size">[],
  tensors: readonly Pick<ManifestTensor, "name">[],
): number {
  let flags = 0;
  for (const [i, b] of blocks.entries()) if (b.size > 0) flags |= BLOCK_FLAGS[i] ?? 0;
  if (tensors.some((t) => EXPERT_TENSOR.test(t.name))) flags |= HnfFlag.IS_MOE;
  return flags;
}

/**
 * Checks the layout against the header: the manifest 32-aligned and last, every block entry
 * at its own index, empty ones all zero, non-empty ones 32-aligned, disjoint and before the
 * manifest; every tensor 32-aligned (or in a densely packed block) and disjoint from the others.
 *
 * @example
 * ```ts ignore
 * import { checkLayout } from "./verify.ts";
 * checkLayout("m.hnf", header, blocks, tensors);
 * ```
 */
export function checkLayout(
  path: string,
  header: HnfHeader,
  blocks: readonly HnfBlockEntry[],
  tensors: readonly ManifestTensor[],
): void {
  const m = header.manifestOffset;
  if (m % HNF_ALIGN !== 0 || m < HNF_DATA_START) {
    throw bad(path, `manifest_offset ${m} is not a 32-byte boundary after the block table`);
  }
  if (m + header.manifestSize !== header.fileSize) {
    throw bad(
      path,
      `the manifest (${m} + ${header.manifestSize} bytes) does not end the ${header.fileSize}-byte file`,
    );
  }
  for (const [i, b] of blocks.entries()) {
    if (b.id !== i || b.type !== i) {
      throw bad(path, `block table entry ${i} says block_id ${b.id}, block_type ${b.type}`);
    }
    if (b.size === 0 && (b.offset !== 0 || b.checksum !== 0n)) {
      throw bad(path, `empty block ${i} (${BLOCK_NAMES[i]}) has a nonzero offset or checksum`);
    }
    if (b.size > 0 && (b.offset % HNF_ALIGN !== 0 || b.offset + b.size > m)) {
      throw bad(
        path,
        `block ${i} (${BLOCK_NAMES[i]}) at ${b.offset} is not 32-aligned or overlaps the manifest`,
      );
    }
  }
  const used = blocks.filter((b) => b.size > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < used.length; i++) {
    if (used[i].offset < used[i - 1].offset + used[i - 1].size) {
      throw bad(path, `blocks ${used[i - 1].id} and ${used[i].id} overlap`);
    }
  }
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset);
  const dense = denseBlocks(blocks, sorted);
  for (const [i, t] of sorted.entries()) {
    if (t.offset % HNF_ALIGN !== 0 && !dense.has(t.block)) {
      throw bad(path, `tensor '${t.name}' at offset ${t.offset} is not 32-byte aligned`);
    }
    const prev = sorted[i - 1];
    if (prev && t.offset < prev.offset + prev.size) {
      throw bad(path, `tensors '${prev.name}' and '${t.name}' overlap`);
    }
  }
}

/**
 * Blocks whose tensors are densely packed: the first at the block's start, each where the
 * previous ends, the last at the block's end (Gemma 4's vision block, runtime contract §5.6).
 * Their tensors need not be 32-aligned.
 */
function denseBlocks(
  blocks: readonly HnfBlockEntry[],
  sorted: readonly ManifestTensor[],
): Set<string> {
  const out = new Set<string>();
  for (const b of blocks) {
    const name = BLOCK_NAMES[b.id];
    const inBlock = sorted.filter((t) => t.block === name);
    if (b.size === 0 || inBlock.length === 0) continue;
    let at = b.offset;
    const packed = inBlock.every((t) => {
      const abuts = t.offset === at;
      at += t.size;
      return abuts;
    });
    if (packed && at === b.offset + b.size) out.add(name);
  }
  return out;
}

async function checkZero(read: ReadAt, from: number, to: number, path: string, what: string) {
  const chunk = 1 << 20;
  for (let at = from; at < to; at += chunk) {
    const bytes = await read(at, Math.min(chunk, to - at));
    const i = bytes.findIndex((b) => b !== 0);
    if (i >= 0) throw bad(path, `nonzero padding byte at ${at + i} (${what})`);
  }
}

/**
 * Verifies every checksum and every padding byte of a file whose layout passed
 * {@link checkLayout}. Returns whether the file carried a manifest checksum (files of other
 * writers have 0 there and cannot have their manifest checked); when it does, the header flags
 * must also equal {@link impliedFlags}.
 *
 * @example
 * ```ts ignore
 * import { verifyHnf } from "./verify.ts";
 * const manifestChecked = await verifyHnf(path, read, { head, header, blocks, tensors, manifest });
 * ```
 */
export async function verifyHnf(
  path: string,
  read: ReadAt,
  f: {
    head: Uint8Array;
    header: HnfHeader;
    blocks: readonly HnfBlockEntry[];
    tensors: readonly ManifestTensor[];
    manifest: Uint8Array;
  },
): Promise<boolean> {
  const { head, header, blocks, tensors } = f;
  const crc = headerCrc(head);
  if (crc !== header.checksum) {
    throw bad(
      path,
      `header CRC-32 is ${header.checksum.toString(16)}, computed ${crc.toString(16)}`,
    );
  }
  const checked = header.manifestCheck !== 0;
  if (checked) {
    const got = manifestCheck(head, f.manifest);
    if (got !== header.manifestCheck) {
      throw bad(
        path,
        `manifest checksum is ${header.manifestCheck.toString(16)}, computed ${
          got.toString(16)
        } (header or manifest changed)`,
      );
    }
    const implied = impliedFlags(blocks, tensors);
    if (implied !== header.flags) {
      throw bad(
        path,
        `header flags are 0x${header.flags.toString(16)} but the blocks and tensors imply 0x${
          implied.toString(16)
        }`,
      );
    }
  }
  for (const [i, b] of blocks.entries()) {
    if (b.size === 0) continue;
    const h = createXxh3();
    const chunk = 8 << 20;
    for (let off = 0; off < b.size; off += chunk) {
      h.update(await read(b.offset + off, Math.min(chunk, b.size - off)));
    }
    const got = h.digest();
    if (got !== b.checksum) {
      throw bad(
        path,
        `block ${i} (${BLOCK_NAMES[i]}) XXH3 is ${b.checksum.toString(16)}, computed ${
          got.toString(16)
        }`,
      );
    }
  }
  // Padding outside the blocks is covered by no checksum: it must be zero.
  let at = HNF_DATA_START;
  for (const b of blocks.filter((b) => b.size > 0).sort((x, y) => x.offset - y.offset)) {
    await checkZero(read, at, b.offset, path, "between blocks");
    at = b.offset + b.size;
    const inBlock = tensors.filter((t) => t.block === BLOCK_NAMES[b.id])
      .sort((x, y) => x.offset - y.offset);
    if (inBlock.length === 0) continue;
    let t0 = b.offset;
    for (const t of inBlock) {
      await checkZero(read, t0, t.offset, path, `before tensor '${t.name}'`);
      t0 = t.offset + t.size;
    }
    await checkZero(read, t0, at, path, `after the last tensor of block ${b.id}`);
  }
  await checkZero(read, at, header.manifestOffset, path, "before the manifest");
  return checked;
}
