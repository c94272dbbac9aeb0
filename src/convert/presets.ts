/**
 * Formats by tensor role: `--quant` names a preset that gives each role of weight matrix its
 * dtype (a uniform format, or the mixed `HQ4.1K-M`), and `--override PATTERN=FORMAT` then
 * changes single tensors by HNF name.
 *
 * A tensor's role comes from the mapper when it sets {@link MappedTensor.role}, else from
 * {@link ROLE_RULES} (patterns on the HNF name). A new family (e.g. Gemma 4's PLE projections)
 * either names matching tensors or sets `role` in its mapper; presets then apply unchanged.
 *
 * @module
 */
import { HeliosError } from "../errors.ts";
import type { TensorDtype } from "../hnf/constants.ts";
import { parseQuantName } from "../hqs/mod.ts";
import type { MappedTensor, TensorRole } from "../model/types.ts";
import { LOADABLE, type RuntimeTarget } from "../runtime/formats.ts";

export type { TensorRole } from "../model/types.ts";

/**
 * Role of a mapped tensor by its HNF name, first match wins; tensors the mapper keeps FP16
 * are `fixed`, embeddings `embedding`, any other matrix `matrix`.
 */
export const ROLE_RULES: readonly { pattern: RegExp; role: TensorRole }[] = [
  { pattern: /(^|\.)lm_head\.weight$/, role: "lm_head" },
  { pattern: /\.attn\.[a-z_]+_proj\.weight$/, role: "attention" },
  { pattern: /\.(mlp|moe\.experts\.\d+)\.[a-z_0-9]+\.weight$/, role: "mlp" },
];

/**
 * The role that decides a mapped tensor's preset format.
 *
 * @example
 * ```ts
 * import { tensorRole } from "./presets.ts";
 * console.log(tensorRole({ name: "text.layer0.mlp.down.weight", class: "matrix" })); // "mlp"
 * ```
 */
export function tensorRole(
  m: Pick<MappedTensor, "name" | "class" | "embedding" | "role">,
): TensorRole {
  if (m.role) return m.role;
  if (m.embedding) return "embedding";
  const hit = ROLE_RULES.find((r) => r.pattern.test(m.name))?.role;
  // lm_head is mapped FP16-class (the legacy rule); on the current runtime a preset decides it.
  if (hit === "lm_head") return hit;
  return m.class === "fp16" ? "fixed" : hit ?? "matrix";
}

/** The roles a preset decides (embeddings follow `--embeddings`, `fixed` is always FP16). */
export type PresetRole = Exclude<TensorRole, "embedding" | "fixed">;

/** What `--quant` names: a dtype for every weight-matrix role. */
export interface QuantPreset {
  /** The `--quant` value as recorded in the manifest (`hq51k`, `hq41k-m`, …). */
  name: string;
  /** Dtype per role. */
  formats: Readonly<Record<PresetRole, TensorDtype>>;
}

/** `--quant` choices: a dtype, or a mixed preset name. */
export type QuantChoice = "fp16" | TensorDtype | "hq41k-m";

/** The mixed presets: role → dtype (all current-runtime formats). */
const MIXED: Readonly<Record<string, Readonly<Record<PresetRole, TensorDtype>>>> = {
  // Like llama.cpp's Q4_K_M and the runtime's certified Gemma 4 profile: attention (and the
  // logits matrix) HQ5.1K, MLP HQ4.1K; other matrices (projections of new families) HQ5.1K.
  "hq41k-m": { attention: "hq51k", mlp: "hq41k", lm_head: "hq51k", matrix: "hq51k" },
};

/**
 * Parses a `--quant` value: the format names of `parseQuantName`, or `HQ4.1K-M`.
 *
 * @example
 * ```ts
 * import { parseQuantChoice } from "./presets.ts";
 * console.log(parseQuantChoice("HQ4.1K-M")); // "hq41k-m"
 * ```
 */
export function parseQuantChoice(s: string): QuantChoice {
  const key = s.trim().toLowerCase().replace(".", "");
  if (Object.hasOwn(MIXED, key)) return key as QuantChoice;
  return parseQuantName(s);
}

/**
 * The preset of a `--quant` choice on a target. A uniform format applies to every matrix role;
 * on the current runtime an HQ preset writes `lm_head` HQ5.1K (as the runtime's own files
 * do), on the legacy runtime `lm_head` stays FP16 as it always has.
 *
 * @example
 * ```ts
 * import { presetFor } from "./presets.ts";
 * console.log(presetFor("hq41k", "current").formats.lm_head); // "hq51k"
 * ```
 */
export function presetFor(quant: QuantChoice, target: RuntimeTarget): QuantPreset {
  if (quant === "hq62k") {
    throw new HeliosError(
      "BAD_OPTION",
      "--quant hq62k: no runtime multiplies hq62k matrices; it is an embedding format (--embeddings hq62k)",
    );
  }
  const mixed = MIXED[quant];
  const formats = mixed ?? {
    attention: quant as TensorDtype,
    mlp: quant as TensorDtype,
    matrix: quant as TensorDtype,
    lm_head: quant === "fp16" || target === "legacy" ? "fp16" : "hq51k",
  };
  for (const d of new Set(Object.values(formats))) {
    if (!LOADABLE[target].has(d)) {
      throw new HeliosError(
        "BAD_OPTION",
        `--quant ${quant} writes ${d}, which the ${target} runtime cannot load; ${
          target === "current"
            ? "use HQ5.1K, HQ4.1K, HQ4.1K-M or HQ3.1K (or --runtime legacy)"
            : "use HQ5K or HQ4K (or --runtime current)"
        }`,
      );
    }
  }
  return { name: quant, formats };
}

/** One `--override`: a glob on the HNF name and the dtype to write. */
export interface TensorOverride {
  /** The text as given (`PATTERN=FORMAT`), for messages. */
  text: string;
  /** The glob compiled: `*` any run of characters, `?` one character. */
  pattern: RegExp;
  /** Dtype to write. */
  dtype: TensorDtype;
}

/**
 * Compiles overrides given as glob → format (`{ "text.layer*.mlp.down.weight": "hq51k" }`);
 * later entries win where patterns overlap. HNF names have no path separators, so `*` crosses
 * dots.
 *
 * @example
 * ```ts
 * import { parseOverrides } from "./presets.ts";
 * const [o] = parseOverrides({ "text.layer0.*": "fp16" });
 * console.log(o.pattern.test("text.layer0.mlp.up.weight"), o.dtype); // true "fp16"
 * ```
 */
export function parseOverrides(overrides: Readonly<Record<string, string>>): TensorOverride[] {
  return Object.entries(overrides).map(([glob, format]) => {
    const text = `${glob}=${format}`;
    if (!glob) throw new HeliosError("BAD_OPTION", `--override '${text}' has an empty pattern`);
    const dtype = parseQuantChoice(format);
    if (dtype === "hq41k-m") {
      throw new HeliosError("BAD_OPTION", `--override '${text}': name a format, not a preset`);
    }
    const re = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    return { text, pattern: new RegExp(`^${re}$`), dtype };
  });
}

/**
 * Splits CLI `--override PATTERN=FORMAT` texts into the library's glob → format record.
 *
 * @example
 * ```ts
 * import { overridesFromCli } from "./presets.ts";
 * console.log(overridesFromCli(["text.layer0.*=fp16"])); // { "text.layer0.*": "fp16" }
 * ```
 */
export function overridesFromCli(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.lastIndexOf("=");
    if (eq <= 0 || eq === item.length - 1) {
      throw new HeliosError(
        "BAD_OPTION",
        `--override '${item}' must be PATTERN=FORMAT, e.g. 'text.layer*.mlp.down.weight=hq51k'`,
      );
    }
    const glob = item.slice(0, eq);
    delete out[glob]; // a repeated pattern moves to the end: the last one given wins
    out[glob] = item.slice(eq + 1);
  }
  return out;
}
