/**
 * `helios-convert inspect`: what is inside an HNF file, as text or JSON.
 *
 * @module
 */
import { BLOCK_NAMES } from "../hnf/constants.ts";
import type { HnfFile } from "../hnf/reader.ts";
import { renderRuntime, type RuntimeReport } from "../runtime/report.ts";
import { flagNames, formatBytes, table } from "./format.ts";

/** A JSON-safe description of an HNF file. */
export interface InspectReport {
  /** Path. */
  path: string;
  /** Header fields. */
  header: Record<string, number | string>;
  /** Flag names. */
  flags: string[];
  /** Non-empty blocks. */
  blocks: { id: number; name: string; offset: number; size: number; xxh3: string }[];
  /** Whether checksums were verified. */
  checksumsVerified: boolean;
  /** Whether the manifest checksum was verified (false for files of other writers). */
  manifestChecked: boolean;
  /** Tensors. */
  tensors: {
    name: string;
    block: string;
    dtype: string;
    shape: number[];
    offset: number;
    bytes: number;
  }[];
  /** Totals. */
  totals: {
    tensors: number;
    tensorBytes: number;
    byDtype: Record<string, { count: number; bytes: number }>;
  };
  /** Manifest keys other than `tensors`. */
  manifest: Record<string, unknown>;
  /** Extra sections (tokenizer, hints), when decodable. */
  sections: Record<string, unknown>;
  /** Per tower: does the current runtime load, run and chat with it, and why not. */
  runtime: RuntimeReport;
}

/**
 * Builds the inspect report of an opened file.
 *
 * @example
 * ```ts ignore
 * import { openHnf } from "../hnf/reader.ts";
 * import { inspectReport } from "./inspect.ts";
 * const report = inspectReport(await openHnf("model.hnf"), {}, {});
 * ```
 */
export function inspectReport(
  hnf: HnfFile,
  sections: Record<string, unknown>,
  runtime: RuntimeReport,
): InspectReport {
  const h = hnf.header;
  const byDtype: Record<string, { count: number; bytes: number }> = {};
  for (const t of hnf.tensors) {
    const d = (byDtype[t.dtype] ??= { count: 0, bytes: 0 });
    d.count++;
    d.bytes += t.size;
  }
  const { tensors: _t, ...manifest } = hnf.manifest;
  return {
    path: hnf.path,
    header: {
      version: `${h.versionMajor}.${h.versionMinor}`,
      flags: h.flags,
      blockCount: h.blockCount,
      manifestOffset: h.manifestOffset,
      manifestSize: h.manifestSize,
      fileSize: h.fileSize,
      checksum: h.checksum.toString(16).padStart(8, "0"),
      manifestCheck: h.manifestCheck.toString(16).padStart(8, "0"),
    },
    flags: flagNames(h.flags),
    blocks: hnf.blocks.flatMap((b, id) =>
      b.size > 0
        ? [{
          id,
          name: BLOCK_NAMES[id],
          offset: b.offset,
          size: b.size,
          xxh3: b.checksum.toString(16).padStart(16, "0"),
        }]
        : []
    ),
    checksumsVerified: hnf.checksumsVerified,
    manifestChecked: hnf.manifestChecked,
    tensors: hnf.tensors.map((t) => ({
      name: t.name,
      block: t.block,
      dtype: t.dtype,
      shape: t.shape,
      offset: t.offset,
      bytes: t.size,
    })),
    totals: {
      tensors: hnf.tensors.length,
      tensorBytes: hnf.tensors.reduce((s, t) => s + t.size, 0),
      byDtype,
    },
    manifest,
    sections,
    runtime,
  };
}

/**
 * Renders the inspect report as text.
 *
 * @example
 * ```ts ignore
 * import { renderInspect } from "./inspect.ts";
 * console.log(renderInspect(report));
 * ```
 */
export function renderInspect(r: InspectReport): string {
  const out: string[] = [];
  out.push(`${r.path}: HNFv${r.header.version}, ${formatBytes(r.header.fileSize as number)}`);
  out.push(
    `flags: 0x${(r.header.flags as number).toString(16).padStart(4, "0")} ${
      r.flags.join(" ") || "(none)"
    }`,
  );
  out.push(
    `header CRC-32: ${r.header.checksum}   manifest: ${r.header.manifestCheck}   checksums: ${
      r.checksumsVerified
        ? r.manifestChecked ? "verified OK" : "verified OK (no manifest checksum: other writer)"
        : "not verified"
    }`,
  );
  const gen = r.manifest.generator;
  if (typeof gen === "string") out.push(`generator: ${gen}`);
  out.push("", "Blocks");
  out.push(table(
    ["id", "name", "offset", "size", "bytes", "xxh3-64"],
    r.blocks.map((b) => [
      `0x${b.id.toString(16)}`,
      b.name,
      String(b.offset),
      formatBytes(b.size),
      String(b.size),
      b.xxh3,
    ]),
  ));
  out.push("", "Tensors");
  out.push(table(
    ["name", "block", "dtype", "shape", "bytes"],
    r.tensors.map((t) => [t.name, t.block, t.dtype, `[${t.shape.join(", ")}]`, String(t.bytes)]),
  ));
  out.push("", "Totals");
  out.push(table(
    ["dtype", "tensors", "bytes", "size"],
    [
      ...Object.entries(r.totals.byDtype).map((
        [d, v],
      ) => [d, String(v.count), String(v.bytes), formatBytes(v.bytes)]),
      [
        "all",
        String(r.totals.tensors),
        String(r.totals.tensorBytes),
        formatBytes(r.totals.tensorBytes),
      ],
    ],
  ));
  for (const [name, section] of Object.entries(r.sections)) {
    out.push("", name[0].toUpperCase() + name.slice(1));
    if (typeof section === "string") out.push(section);
    else {
      for (const [k, v] of Object.entries(section as Record<string, unknown>)) {
        out.push(`  ${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`);
      }
    }
  }
  out.push("", renderRuntime(r.runtime));
  return out.join("\n");
}
