/**
 * The "runs in" report: for each tower of a file, whether the current HELIOS runtime loads
 * it, runs it and can chat with it, and the one-line reasons (from {@link RUNTIME_RULES}).
 * Built from what the file holds (tensor names, dtypes and shapes, the JSON hints, the
 * tokenizer), so a conversion and `inspect` give the same answer.
 *
 * @module
 */
import {
  RUNTIME_RULES,
  type RuntimeRule,
  type RuntimeTensor,
  type TowerName,
  type TowerView,
} from "./rules.ts";

export type { RuntimeRule, RuntimeStage, RuntimeTensor, TowerName, TowerView } from "./rules.ts";
export { RUNTIME_RULES, RUNTIME_TOKENS } from "./rules.ts";

/** What the runtime does with one tower. */
export interface TowerRuntime {
  /** The loader accepts its tensors. */
  loads: boolean;
  /** A graph the runtime has can be built and computes this model. */
  runs: boolean;
  /** The runtime's chat session (`InferenceSession`) can serve it. */
  chat: boolean;
  /** One line per rule that hit, in rule order (caveats included). */
  reasons: string[];
  /** The ids of those rules, in the same order. */
  rules: string[];
}

/** The report per tower present in the file. */
export type RuntimeReport = Partial<Record<TowerName, TowerRuntime>>;

/** What the report reads of a tokenizer block: each domain's token strings (`HtfContents`). */
export interface RuntimeTokenizer {
  /** Domains by name (`text`, `code`, …). */
  domains: readonly {
    name: string;
    vocab: readonly { token: string }[];
    added: readonly { content: string }[];
  }[];
}

/** What {@link assessRuntime} reads from a file. */
export interface RuntimeInputs {
  /** Every tensor, full name (block prefix included). */
  tensors: readonly { name: string; dtype: string; shape: readonly number[] }[];
  /** The parsed JSON hints block (0xA), or null. */
  hints: Readonly<Record<string, unknown>> | null;
  /** The parsed tokenizer block (0x9), or null. */
  tokenizer: RuntimeTokenizer | null;
}

const PREFIXES: readonly [string, TowerName][] = [
  ["text.", "text"],
  ["vision.", "vision"],
  ["projector.vision.", "vision"],
  ["audio.", "audio"],
  ["cortex.", "cortex"],
  ["code.", "code"],
];

const ORDER: readonly TowerName[] = ["text", "vision", "audio", "cortex", "code"];

/** The tokenizer domain the runtime reads for a tower. */
const DOMAIN: Readonly<Record<TowerName, string | undefined>> = {
  text: "text",
  cortex: "cortex",
  code: "code",
  vision: undefined,
  audio: undefined,
};

/**
 * The domain's token lookup. The rules ask for a few tokens, so each is a scan (added tokens
 * first, where the turn markers are): a Set of Gemma's 262 144 tokens cost ≈ 0.18 s to build.
 */
function tokenSet(
  htf: RuntimeTokenizer | null,
  domain: string | undefined,
): { has(token: string): boolean } | null {
  const d = htf?.domains.find((d) => d.name === domain);
  if (!d) return null;
  return {
    has: (token) =>
      d.added.some((a) => a.content === token) || d.vocab.some((v) => v.token === token),
  };
}

/**
 * Assesses every tower of a file against `rules`.
 *
 * @example
 * ```ts
 * import { assessRuntime } from "./report.ts";
 * const r = assessRuntime({
 *   tensors: [{ name: "text.layer0.moe.gate.weight", dtype: "fp16", shape: [4, 256] }],
 *   hints: null,
 *   tokenizer: null,
 * });
 * console.log(r.text?.runs); // false
 * ```
 */
export function assessRuntime(
  inputs: RuntimeInputs,
  rules: readonly RuntimeRule[] = RUNTIME_RULES,
): RuntimeReport {
  const byTower = new Map<TowerName, Map<string, RuntimeTensor>>();
  for (const t of inputs.tensors) {
    const hit = PREFIXES.find(([p]) => t.name.startsWith(p));
    if (!hit) continue;
    const [prefix, tower] = hit;
    const map = byTower.get(tower) ?? new Map<string, RuntimeTensor>();
    byTower.set(tower, map);
    const name = prefix === "projector.vision." ? t.name : t.name.slice(prefix.length);
    map.set(name, { name, dtype: t.dtype, shape: t.shape });
  }
  const out: RuntimeReport = {};
  for (const name of ORDER) {
    const tensors = byTower.get(name);
    if (!tensors) continue;
    const section = inputs.hints?.[name];
    const view: TowerView = {
      tower: name,
      tensors,
      hints: section && typeof section === "object" ? section as Record<string, unknown> : null,
      tokens: tokenSet(inputs.tokenizer, DOMAIN[name]),
    };
    const r: TowerRuntime = { loads: true, runs: true, chat: true, reasons: [], rules: [] };
    for (const rule of rules) {
      if (!rule.towers.includes(name)) continue;
      const reason = rule.check(view);
      if (reason === null) continue;
      r.reasons.push(reason);
      r.rules.push(rule.id);
      if (rule.stage === "loads") r.loads = false;
      if (rule.stage === "runs") r.runs = false;
      if (rule.stage === "chat") r.chat = false;
    }
    r.runs &&= r.loads;
    r.chat &&= r.runs;
    if (name === "vision" && r.chat && !out.text?.chat) {
      // Images reach the model only through the text tower's chat session.
      r.chat = false;
      r.reasons.push(
        out.text
          ? "images reach the model through the text tower's chat session, which is not chat-ready"
          : "no text tower in this file: images reach the model only through one",
      );
      r.rules.push("text-chat");
    }
    out[name] = r;
  }
  return out;
}

/**
 * One line per tower, for the CLI summary and `inspect`:
 * `text: loads yes · runs yes · chat no — tokenizer lacks …`.
 *
 * @example
 * ```ts
 * import { renderRuntime } from "./report.ts";
 * console.log(renderRuntime({ text: { loads: true, runs: true, chat: true, reasons: [], rules: [] } }));
 * // "runs in the current HELIOS runtime (a540432):\n  text: loads yes · runs yes · chat yes"
 * ```
 */
export function renderRuntime(report: RuntimeReport): string {
  const yes = (b: boolean) => (b ? "yes" : "no");
  const lines = ["runs in the current HELIOS runtime (a540432):"];
  for (const [tower, r] of Object.entries(report)) {
    lines.push(`  ${tower}: loads ${yes(r.loads)} · runs ${yes(r.runs)} · chat ${yes(r.chat)}`);
    for (const reason of r.reasons) lines.push(`    - ${reason}`);
  }
  return lines.join("\n");
}
