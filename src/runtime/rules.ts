/**
 * The "runs in" rules: what the current HELIOS runtime (Hector-engine a540432) does with each
 * tower of a file, one rule per fact of `runtime-contract.md`. Each rule looks at one tower
 * (its tensors, its hints section, the tokenizer) and returns a one-line reason when it hits;
 * its stage says what that costs: the tower does not load, does not run, is not chat-ready, or
 * (`note`) runs with a caveat.
 *
 * Adding a family's rule (e.g. Gemma 4's graph contract) means adding an entry to
 * {@link RUNTIME_RULES}; the assessment (`report.ts`) and every report read this list.
 *
 * @module
 */
import type { TensorDtype } from "../hnf/constants.ts";
import { embeddingProblem, LOADABLE, matmulProblem } from "./formats.ts";

/** A tower of a file, by the block prefix of its tensors. */
export type TowerName = "text" | "vision" | "audio" | "cortex" | "code";

/** What a rule's hit costs: loading, running, chatting, or nothing (a caveat). */
export type RuntimeStage = "loads" | "runs" | "chat" | "note";

/** One tensor as the rules see it. */
export interface RuntimeTensor {
  /** Name without the tower prefix (`layer0.attn.q_proj.weight`). */
  name: string;
  /** Dtype as written. */
  dtype: string;
  /** Shape. */
  shape: readonly number[];
}

/** One tower of a file, as the rules see it. */
export interface TowerView {
  /** Which tower. */
  tower: TowerName;
  /** Its tensors by name without the prefix. */
  tensors: ReadonlyMap<string, RuntimeTensor>;
  /** Its flat JSON hints section (block 0xA), or null when the file has none. */
  hints: Readonly<Record<string, unknown>> | null;
  /**
   * Whether the tokenizer domain the runtime reads for it holds a token string (a `Set` will
   * do); null without one.
   */
  tokens: { has(token: string): boolean } | null;
}

/** A fact about the runtime, checked per tower. */
export interface RuntimeRule {
  /** Stable id (tests, docs). */
  id: string;
  /** Towers it applies to. */
  towers: readonly TowerName[];
  /** What a hit costs. */
  stage: RuntimeStage;
  /** The one-line reason when the rule hits, else null. */
  check(view: TowerView): string | null;
}

const DECODERS: readonly TowerName[] = ["text", "cortex", "code"];

/** Tensors only Gemma 4's explicit graph reads (per-layer embeddings, layer scalar). */
const GEMMA4_GRAPH = [
  "ple.token_embedding.weight",
  "ple.model_projection.weight",
  "ple.projection_norm.weight",
  "layer0.layer_scalar",
  "layer0.ln_ple_post.weight",
];

/** The certified compact profile's dtype of a Gemma 4 text tensor (runtime contract §5.4). */
function gemma4CompactDtype(name: string): string {
  if (/\.mlp\.(gate|up|down)\.weight$/.test(name)) return "hq41k";
  if (
    /(attn\.[qkvo]_proj|ple\.(input_gate|projection|token_embedding|model_projection))\.weight$|^lm_head\.weight$/
      .test(name)
  ) {
    return "hq51k";
  }
  return "fp16";
}

function names(v: TowerView, re: RegExp): string[] {
  return [...v.tensors.keys()].filter((n) => re.test(n));
}

function hint(v: TowerView, key: string): unknown {
  return v.hints?.[key];
}

function arch(v: TowerView): string {
  const a = hint(v, "arch");
  return typeof a === "string" ? a : "unknown";
}

function ropeType(v: TowerView): string {
  const t = hint(v, "rope_type");
  return typeof t === "string" ? t : "default";
}

/** Matmul weights of the generic graph (contract §3.2). */
const MATMUL = /^(layer\d+\.(attn\.\w+_proj|mlp\.\w+)\.weight|lm_head\.weight)$/;

/** The first tensor whose dtype its op cannot run, as "name: why (and N more)". */
function dtypeProblems(v: TowerView): string | null {
  const tied = !v.tensors.has("lm_head.weight");
  const problems: string[] = [];
  for (const t of v.tensors.values()) {
    const d = t.dtype as TensorDtype;
    let p: string | null = null;
    if (!LOADABLE.current.has(d)) continue; // the loads rule says it
    if (MATMUL.test(t.name)) p = matmulProblem(d, t.shape, "current");
    else if (t.name === "token_embedding.weight") {
      p = embeddingProblem(d, t.shape, "current", tied);
    } else if (d !== "fp16" && t.shape.length === 1) p = `${d}, but its op reads fp16 only`;
    if (p) problems.push(`${t.name}: ${p}`);
  }
  if (problems.length === 0) return null;
  return problems[0] + (problems.length > 1 ? ` (and ${problems.length - 1} more)` : "");
}

const GEMMA_SEMANTICS: Readonly<Record<string, string>> = {
  gemma: "Gemma semantics (√hidden embedding scale, 1 + w norms)",
  gemma2:
    "Gemma 2 semantics (√hidden embedding scale, 1 + w norms, sandwich norms, softcaps, local attention)",
  gemma3:
    "Gemma 3 semantics (√hidden embedding scale, 1 + w norms, sandwich norms, local/global RoPE)",
};

const CHAT_ADAPTER_ARCHS = new Set(["qwen", "qwen2", "gemma4"]);

/** The turn markers the runtime's chat session needs, by architecture (`*` for the others). */
const TURN_TOKENS: Readonly<Record<string, readonly [string, string]>> = {
  gemma4: ["<|turn>", "<turn|>"],
  "*": ["<|im_start|>", "<|im_end|>"],
};

/**
 * Every token string a rule looks up in a tokenizer: a conversion finds these in the tokenizer
 * it builds instead of keeping all its tokens (`TowerView.tokens` is asked for no other).
 */
export const RUNTIME_TOKENS: readonly string[] = Object.values(TURN_TOKENS).flat();

/** The rules, in the order their reasons are reported. */
export const RUNTIME_RULES: readonly RuntimeRule[] = [
  {
    id: "retired-dtype",
    towers: ["text", "vision", "audio", "cortex", "code"],
    stage: "loads",
    check(v) {
      const bad = new Set<string>();
      for (const t of v.tensors.values()) {
        if (!LOADABLE.current.has(t.dtype as TensorDtype)) bad.add(t.dtype);
      }
      return bad.size === 0
        ? null
        : `${
          [...bad].join("/")
        } tensors: the current runtime rejects them at load (retired 2026-08-01); convert with --runtime current`;
    },
  },
  {
    id: "hints",
    towers: DECODERS,
    stage: "runs",
    check: (v) =>
      v.hints === null
        ? "no execution hints (0xA): the runtime would run with default dimensions"
        : null,
  },
  {
    id: "layers",
    towers: DECODERS,
    stage: "runs",
    check(v) {
      const layers = new Set(names(v, /^layer\d+\./).map((n) => n.split(".")[0])).size;
      if (layers === 0) return "no layerN.* tensors: the runtime's detector finds no layers";
      const declared = hint(v, "num_hidden_layers");
      return typeof declared === "number" && declared !== layers
        ? `hints say ${declared} layers, the tensors have ${layers}`
        : null;
    },
  },
  {
    id: "moe",
    towers: DECODERS,
    stage: "runs",
    check: (v) =>
      names(v, /^layer\d+\.moe\./).length
        ? "the runtime has no MoE graph (Mixtral): its detector throws 'Cannot detect MLP structure'"
        : null,
  },
  {
    id: "graph-names",
    towers: DECODERS,
    stage: "runs",
    check(v) {
      if (names(v, /^layer\d+\.moe\./).length) return null;
      const has = (n: string) => v.tensors.has(n);
      if (!has("layer0.ln_attn_in.weight") && !has("layer0.ln1.weight")) {
        return "no layer0.ln_attn_in/ln1 norm: the runtime's detector cannot find the norms";
      }
      if (
        !has("layer0.mlp.gate.weight") && !has("layer0.mlp.gate_up.weight") &&
        !has("layer0.mlp.fc1.weight")
      ) return "no mlp.gate, mlp.gate_up or mlp.fc1: the runtime cannot detect the MLP";
      if (!has("token_embedding.weight")) return "no token_embedding.weight";
      return null;
    },
  },
  {
    id: "gemma-semantics",
    towers: DECODERS,
    stage: "runs",
    check(v) {
      const s = GEMMA_SEMANTICS[arch(v)];
      return s ? `${s} are not implemented by the runtime` : null;
    },
  },
  {
    id: "layernorm",
    towers: DECODERS,
    stage: "runs",
    check: (v) =>
      names(v, /(^|\.)(ln_\w+|final_norm)\.bias$/).length
        ? "norm biases (LayerNorm): the runtime's LayerNorm path is broken (contract §3.6)"
        : null,
  },
  {
    id: "mlp-bias",
    towers: DECODERS,
    stage: "runs",
    check(v) {
      const n = names(v, /^(layer\d+\.mlp\.\w+\.bias|lm_head\.bias)$/);
      return n.length
        ? `${n[0]}: the runtime never adds MLP or lm_head biases (contract §3.6)`
        : null;
    },
  },
  {
    id: "dtypes",
    towers: DECODERS,
    stage: "runs",
    check: dtypeProblems,
  },
  {
    id: "rope-factor",
    towers: DECODERS,
    stage: "runs",
    check(v) {
      const f = hint(v, "rope_scaling_factor");
      return typeof f === "number" && f !== 1 && ropeType(v) !== "linear"
        ? `rope_scaling_factor ${f} with rope type '${
          ropeType(v)
        }': the runtime divides every position by it (reconvert with this version)`
        : null;
    },
  },
  {
    id: "attention-shape",
    towers: DECODERS,
    stage: "runs",
    check(v) {
      const hd = hint(v, "head_dim");
      const h = hint(v, "num_attention_heads");
      const kv = hint(v, "num_key_value_heads");
      if (typeof hd === "number" && hd > 512) return `head_dim ${hd} exceeds the runtime's 512`;
      return typeof h === "number" && typeof kv === "number" && kv > 0 && h % kv !== 0
        ? `${h} heads are not a multiple of ${kv} KV heads`
        : null;
    },
  },
  {
    id: "rope-approximated",
    towers: DECODERS,
    stage: "note",
    check(v) {
      const t = ropeType(v);
      if (t === "default" || t === "linear" || t === "none") return null;
      const orig = hint(v, "original_max_position_embeddings");
      return `the runtime applies plain RoPE, not ${t} scaling: long contexts${
        typeof orig === "number" ? ` (past ${orig} positions)` : ""
      } degrade`;
    },
  },
  {
    id: "sliding-window",
    towers: DECODERS,
    stage: "note",
    check(v) {
      // Gemma 4's own graph applies each layer's window from GM4X.
      if (arch(v) === "gemma4") return null;
      const w = hint(v, "sliding_window");
      const max = hint(v, "max_position_embeddings");
      return typeof w === "number" && w > 0 && (typeof max !== "number" || w < max)
        ? `the runtime ignores sliding_window ${w} (full attention): contexts past ${w} positions differ`
        : null;
    },
  },
  {
    id: "gemma4-graph",
    towers: ["text"],
    stage: "runs",
    check(v) {
      if (arch(v) !== "gemma4") return null;
      const missing = GEMMA4_GRAPH.filter((n) => !v.tensors.has(n));
      return missing.length
        ? `the runtime's Gemma 4 graph needs ${missing.join(", ")} (runtime contract §5.4)`
        : null;
    },
  },
  {
    id: "gemma4-profile",
    towers: ["text"],
    stage: "note",
    check(v) {
      if (arch(v) !== "gemma4") return null;
      const ts = [...v.tensors.values()];
      if (!ts.some((t) => t.dtype === "hq41k" || t.dtype === "hq51k")) return null;
      const off = ts.filter((t) => t.dtype !== gemma4CompactDtype(t.name));
      return off.length
        ? `${off.length} tensor(s) differ from the certified Gemma 4 profile (e.g. ${off[0].name} ${
          off[0].dtype
        }): the runtime's Gemma 4 validator rejects the file, its engine loads it`
        : null;
    },
  },
  {
    id: "fuse-qkv-bias",
    towers: DECODERS,
    stage: "note",
    check: (v) =>
      v.tensors.has("layer0.attn.q_proj.bias")
        ? "do not set HELIOS_FUSE_QKV=1: the runtime's fusion drops the q/k/v biases (contract §3.6)"
        : null,
  },
  {
    id: "capability",
    towers: ["text"],
    stage: "note",
    check: (v) =>
      CHAT_ADAPTER_ARCHS.has(arch(v))
        ? null
        : `the runtime's capability probe says metadata_ready for arch '${
          arch(v)
        }' (adapter rules: qwen, qwen2, gemma4)`,
  },
  {
    id: "tokenizer",
    towers: ["text"],
    stage: "chat",
    check: (v) =>
      v.tokens === null
        ? "no tokenizer: the runtime's chat session needs one; runs through its test tools only"
        : null,
  },
  {
    id: "turn-tokens",
    towers: ["text"],
    stage: "chat",
    check(v) {
      if (v.tokens === null) return null;
      const [a, b] = TURN_TOKENS[arch(v) === "gemma4" ? "gemma4" : "*"];
      return v.tokens.has(a) && v.tokens.has(b)
        ? null
        : `tokenizer lacks ${a}/${b}: runs through the runtime's test tools only`;
    },
  },
  {
    id: "not-chat-block",
    towers: ["cortex", "code"],
    stage: "chat",
    check: (v) =>
      `the runtime's chat session uses the text block only${
        v.tower === "code" ? " (code runs through text_code_relay)" : ""
      }`,
  },
  {
    id: "vision-runner",
    towers: ["vision"],
    stage: "runs",
    check(v) {
      const enc = hint(v, "encoder_arch");
      if (enc === "gemma4") return null;
      const name = typeof enc === "string" ? enc.toUpperCase().replace("SIGLIP", "SigLIP") : "this";
      return `no runner for ${name} vision: the runtime runs Gemma 4 vision only`;
    },
  },
  {
    id: "audio-runner",
    towers: ["audio"],
    stage: "runs",
    check: () => "no audio runner: the runtime declares audio blocks only (Whisper)",
  },
];
