/**
 * Tensors a checkpoint lacks but its target layout needs (runtime contract §5.10): copies of
 * other source tensors, constants, and clamp bounds saturated from ±inf, as a mapper asks for
 * them ({@link Mapper.synthesize}, {@link MappedTensor.saturate}), with the report's counts.
 *
 * @module
 */
import { assertInternal } from "../errors.ts";
import { F16_MAX } from "../hqs/f16.ts";
import type { MappedTensor, Mapper, SynthesizedTensor } from "../model/types.ts";
import type { SafetensorsFolder, SourceTensor } from "../safetensors/mod.ts";
import type { PlannedTower } from "./plan.ts";

/** A tensor to plan: its source, its target, and (when synthesized) a constant and a reason. */
export interface PlanEntry {
  /** The source tensor read (for a constant: the tensor it belongs to). */
  src: SourceTensor;
  /** The target. */
  m: MappedTensor;
  /** A constant written instead of the source's data. */
  fill?: number;
  /** Why the data is not the source's as is. */
  note?: string;
  /** The tensor this one copies (a mapper's {@link MappedTensor.copies}). */
  copyOf?: string;
}

/** Every source tensor's name and shape, for {@link Mapper.synthesize}. */
function presentOf(folder: SafetensorsFolder): Map<string, readonly number[]> {
  return new Map(folder.tensors.map((t) => [t.name, t.shape]));
}

/** Resolves synthesized tensors to the source tensors they copy (or belong to). */
function synthesized(
  list: SynthesizedTensor[],
  tower: PlannedTower,
): PlanEntry[] {
  const byName = new Map(tower.folder.tensors.map((t) => [t.name, t]));
  return list.map(({ from, fill, reason, ...m }) => {
    const src = byName.get(from);
    assertInternal(src, `synthesized '${m.name}' from missing '${from}'`);
    return { src, m, note: reason, ...(fill !== undefined ? { fill } : {}) };
  });
}

/** A clamp bound that is ±inf in the source becomes the constant ±65504 (counted). */
async function saturate(
  x: PlanEntry,
  folder: SafetensorsFolder,
): Promise<void> {
  const v = new Float32Array(1);
  await folder.readF32(x.src, 0, 1, v);
  if (v[0] === Infinity || v[0] === -Infinity) {
    x.fill = Math.sign(v[0]) * F16_MAX;
    x.note = `${v[0] > 0 ? "+" : "-"}inf clamp written as ${x.fill} (runtime contract §5.10)`;
  }
}

/** One warning line per kind of synthesized tensor, with counts (the report's evidence). */
function synthesisSummary(
  dir: string,
  made: PlanEntry[],
): string[] {
  const copies = made.filter((x) => x.fill === undefined);
  // A saturate-marked tensor has a note only when its source was ±inf (saturate below).
  const inf = made.filter((x) => x.m.saturate);
  const missing = made.length - copies.length - inf.length;
  const out: string[] = [];
  const heads = copies.filter((x) => x.m.name.endsWith("lm_head.weight"));
  for (const x of heads) out.push(`${dir}: ${x.m.name} written as ${x.src.name}: ${x.note}`);
  if (copies.length > heads.length) {
    out.push(
      `${dir}: ${
        copies.length - heads.length
      } tensor(s) missing in the checkpoint written as copies of their KV-source layer's (${
        copies.filter((x) => !heads.includes(x)).slice(0, 3).map((x) => x.m.name).join(", ")
      }${copies.length - heads.length > 3 ? ", …" : ""}; runtime contract §5.10)`,
    );
  }
  if (missing > 0) {
    out.push(`${dir}: ${missing} clamp bound(s) missing in the checkpoint, written as ±65504`);
  }
  if (inf.length > 0) out.push(`${dir}: ${inf.length} ±inf clamp bound(s) written as ±65504`);
  return out;
}

/**
 * Completes a tower's mapped tensors: appends what its mapper synthesizes and saturates ±inf
 * clamp bounds (reading those scalars now), and returns the report lines saying what was made.
 *
 * @example
 * ```ts ignore
 * import { completeTower } from "./synthesize.ts";
 * const { entries, warnings } = await completeTower(mapper, tower, mapped);
 * ```
 */
export async function completeTower(
  mapper: Mapper,
  tower: PlannedTower,
  mapped: PlanEntry[],
): Promise<{ entries: PlanEntry[]; warnings: string[] }> {
  const entries = [
    ...mapped,
    ...synthesized(mapper.synthesize?.(presentOf(tower.folder)) ?? [], tower),
  ];
  for (const x of entries) {
    if (x.m.saturate && x.src.numel === 1) await saturate(x, tower.folder);
  }
  const made = entries.filter((x) => x.note !== undefined);
  return { entries, warnings: made.length ? synthesisSummary(tower.spec.dir, made) : [] };
}
