/**
 * Encoder and multimodal mappers: CLIP/SigLIP vision towers (block 1), the Whisper audio
 * encoder (block 2), and checkpoints holding several towers (LLaVA, Gemma 3) that are split
 * by name prefix (reference §5.3, §5.5).
 *
 * @module
 */
import { BLOCK_PREFIX, BlockId } from "../hnf/constants.ts";
import { decoderCore, type DecoderOptions, ignoredBuffer, placed } from "./llama.ts";
import {
  audioExpect,
  audioRequired,
  decoderRequired,
  visionExpect,
  visionRequired,
  withExpect,
} from "./shapes.ts";
import type { AudioDims, Mapper, MapResult, TensorClass, VisionDims } from "./types.ts";

const V = BlockId.VISION;
const A = BlockId.AUDIO;

function vis(name: string, cls: TensorClass): MapResult {
  return { name, block: V, class: cls };
}

/** A CLIP/SigLIP/Whisper encoder layer tensor: `encoder.layers.N.<part>.(weight|bias)`. */
const ENCODER_LAYER = /^encoder\.layers\.(\d+)\.(.+)\.(weight|bias)$/;
const ATTN_PART: Record<string, string> = {
  "self_attn.q_proj": "attn.q_proj",
  "self_attn.k_proj": "attn.k_proj",
  "self_attn.v_proj": "attn.v_proj",
  "self_attn.out_proj": "attn.o_proj",
};

/**
 * Maps an encoder layer tensor through `parts` to `<prefix>.layerN.<part>.<kind>` in `block`:
 * linear weights are matrices; biases and norms (`ln*`) FP16.
 */
function encoderLayer(
  name: string,
  parts: Record<string, string>,
  prefix: string,
  block: number,
): MapResult {
  const m = ENCODER_LAYER.exec(name);
  const part = m && parts[m[2]];
  if (!m || !part) return null;
  const cls: TensorClass = part.startsWith("ln") || m[3] === "bias" ? "fp16" : "matrix";
  return { name: `${prefix}.layer${m[1]}.${part}.${m[3]}`, block, class: cls };
}

const VISION_LAYER_PART: Record<string, string> = {
  ...ATTN_PART,
  "mlp.fc1": "mlp.fc1",
  "mlp.fc2": "mlp.fc2",
  "layer_norm1": "ln1",
  "layer_norm2": "ln2",
};
const SIGLIP_HEAD: Record<string, [string, TensorClass]> = {
  "probe": ["vision.head.probe", "fp16"],
  "attention.in_proj_weight": ["vision.head.attn.in_proj.weight", "matrix"],
  "attention.in_proj_bias": ["vision.head.attn.in_proj.bias", "fp16"],
  "attention.out_proj.weight": ["vision.head.attn.o_proj.weight", "matrix"],
  "attention.out_proj.bias": ["vision.head.attn.o_proj.bias", "fp16"],
  "layernorm.weight": ["vision.head.ln.weight", "fp16"],
  "layernorm.bias": ["vision.head.ln.bias", "fp16"],
  "mlp.fc1.weight": ["vision.head.mlp.fc1.weight", "matrix"],
  "mlp.fc1.bias": ["vision.head.mlp.fc1.bias", "fp16"],
  "mlp.fc2.weight": ["vision.head.mlp.fc2.weight", "matrix"],
  "mlp.fc2.bias": ["vision.head.mlp.fc2.bias", "fp16"],
};

const DUAL_TEXT_SIDE = /^(text_model\.|text_projection\.|logit_scale$|logit_bias$)/;

/**
 * Maps a CLIP/SigLIP name to the vision block: `vision_model.…` (Transformers 4.x, and the dual
 * `CLIPModel`/`SiglipModel`), the same names without `vision_model.` (a Transformers 5
 * `CLIPVisionModel`/`SiglipVisionModel` save, and 5.x towers inside LLaVA and Gemma 3),
 * `visual_projection.weight`, or the text side of a dual encoder, which is ignored.
 *
 * @example
 * ```ts
 * import { visionCore } from "./encoders.ts";
 * console.log(visionCore("vision_model.encoder.layers.1.self_attn.out_proj.weight"));
 * // { name: "vision.layer1.attn.o_proj.weight", block: 1, class: "matrix" }
 * ```
 */
export function visionCore(name: string): MapResult {
  const buffer = ignoredBuffer(name);
  if (buffer) return buffer;
  if (DUAL_TEXT_SIDE.test(name)) {
    return {
      ignore: "text side of a dual (CLIP/SigLIP) encoder; only the vision tower is written",
    };
  }
  if (name === "visual_projection.weight") return vis("vision.head.weight", "matrix");
  const rest = name.startsWith("vision_model.") ? name.slice("vision_model.".length) : name;
  switch (rest) {
    case "embeddings.patch_embedding.weight":
      return vis("vision.patch_embed.weight", "fp16");
    case "embeddings.patch_embedding.bias":
      return vis("vision.patch_embed.bias", "fp16");
    case "embeddings.position_embedding.weight":
      return vis("vision.pos_embed.weight", "fp16");
    case "embeddings.class_embedding":
      return vis("vision.cls_token", "fp16");
  }
  const norm = /^(pre_layrnorm|pre_layernorm|post_layernorm)\.(weight|bias)$/.exec(rest);
  if (norm) {
    const which = norm[1] === "post_layernorm" ? "post_layernorm" : "pre_layernorm";
    return vis(`vision.${which}.${norm[2]}`, "fp16");
  }
  if (rest.startsWith("head.")) {
    const hit = SIGLIP_HEAD[rest.slice("head.".length)];
    return hit ? vis(hit[0], hit[1]) : null;
  }
  return encoderLayer(rest, VISION_LAYER_PART, "vision", V);
}

/**
 * Creates the CLIP/SigLIP mapper (always block 1, whatever the CLI slot).
 *
 * @example
 * ```ts
 * import { visionMapper } from "./encoders.ts";
 * console.log(visionMapper("siglip").map("vision_model.post_layernorm.bias", [768]));
 * // { name: "vision.post_layernorm.bias", block: 1, class: "fp16" }
 * ```
 */
export function visionMapper(family: string, dims?: VisionDims): Mapper {
  return {
    family,
    required: dims ? visionRequired(dims) : [],
    map: (hfName: string) => visionChecked(visionCore(hfName), dims),
  };
}

/** A {@link visionCore} answer with the shape `dims` implies attached. */
function visionChecked(hit: MapResult, dims: VisionDims | undefined): MapResult {
  if (!dims || hit === null || "ignore" in hit || !hit.name.startsWith("vision.")) return hit;
  return withExpect(hit, visionExpect(hit.name.slice("vision.".length), dims));
}

const WHISPER_LAYER_PART: Record<string, string> = {
  ...ATTN_PART,
  "fc1": "mlp.fc1",
  "fc2": "mlp.fc2",
  "self_attn_layer_norm": "ln1",
  "final_layer_norm": "ln2",
};

/**
 * Creates the Whisper mapper: the encoder goes to the audio block (names of the §5.5
 * dictionary, biases kept); the decoder and `proj_out` are ignored with a reason, because
 * the HELIOS audio block holds an encoder only.
 *
 * @example
 * ```ts
 * import { whisperMapper } from "./encoders.ts";
 * console.log(whisperMapper().map("model.encoder.layers.0.fc1.weight", [5120, 1280]));
 * // { name: "audio.layer0.mlp.fc1.weight", block: 2, class: "matrix" }
 * ```
 */
export function whisperMapper(dims?: AudioDims): Mapper {
  return {
    family: "whisper",
    required: dims ? audioRequired(dims) : [],
    map(hfName: string): MapResult {
      const hit = whisperCore(hfName);
      if (!dims || hit === null || "ignore" in hit) return hit;
      return withExpect(hit, audioExpect(hit.name.slice("audio.".length), dims));
    },
  };
}

function whisperCore(hfName: string): MapResult {
  const name = hfName.startsWith("model.") ? hfName.slice("model.".length) : hfName;
  const buffer = ignoredBuffer(name);
  if (buffer) return buffer;
  if (name.startsWith("decoder.") || name === "proj_out.weight") {
    return { ignore: "Whisper decoder: the audio block holds the encoder only" };
  }
  const conv = /^encoder\.(conv[12])\.(weight|bias)$/.exec(name);
  if (conv) return { name: `audio.${conv[1]}.${conv[2]}`, block: A, class: "fp16" };
  if (name === "encoder.embed_positions.weight") {
    return { name: "audio.pos_embed.weight", block: A, class: "fp16" };
  }
  const post = /^encoder\.layer_norm\.(weight|bias)$/.exec(name);
  if (post) return { name: `audio.ln_post.${post[1]}`, block: A, class: "fp16" };
  return encoderLayer(name, WHISPER_LAYER_PART, "audio", A);
}

/** Options of {@link multimodalMapper}. */
export interface MultimodalOptions {
  /** Block of the language model (0, 7 or 8), or `null` when given as `--vision`. */
  textBlock: number | null;
  /** Tied embeddings (no `lm_head` written). */
  tied: boolean;
  /** Decoder dimensions (and MoE routing): when given, text tensors carry expected shapes. */
  text?: Pick<DecoderOptions, "dims" | "moe">;
  /** Vision tower dimensions: when given, vision tensors carry expected shapes. */
  vision?: VisionDims;
}

const PROJECTOR: Record<string, [string, TensorClass]> = {
  "linear_1.weight": ["projector.vision.linear1.weight", "matrix"],
  "linear_1.bias": ["projector.vision.linear1.bias", "fp16"],
  "linear_2.weight": ["projector.vision.linear2.weight", "matrix"],
  "linear_2.bias": ["projector.vision.linear2.bias", "fp16"],
  // Gemma 3 stores the projection as [vision, text] and applies x·W: kept FP16, unquantized.
  "mm_input_projection_weight": ["projector.vision.input_projection.weight", "fp16"],
  "mm_soft_emb_norm.weight": ["projector.vision.soft_emb_norm.weight", "fp16"],
};

/**
 * Creates the mapper of a checkpoint holding a language model, a vision tower and a projector
 * (LLaVA, Gemma 3), in both the classic layout (`language_model.model.*`, `vision_tower.*`,
 * `multi_modal_projector.*`) and the Transformers ≥ 4.52 layout (`model.language_model.*`,
 * `model.vision_tower.*`, `model.multi_modal_projector.*`, `lm_head.*`). The language model
 * goes to `textBlock`; the vision tower and the projector go to the vision block, the
 * projector under the dictionary's `projector.vision.*` names.
 *
 * @example
 * ```ts
 * import { multimodalMapper } from "./encoders.ts";
 * const m = multimodalMapper("llava", { textBlock: 0, tied: false });
 * console.log(m.map("multi_modal_projector.linear_1.weight", [4096, 1024]));
 * // { name: "projector.vision.linear1.weight", block: 1, class: "matrix" }
 * ```
 */
export function multimodalMapper(family: string, opts: MultimodalOptions): Mapper {
  const text = (rest: string): MapResult => {
    if (opts.textBlock === null) {
      return { ignore: "language model of a multimodal checkpoint given as --vision" };
    }
    return placed(decoderCore(rest, { tied: opts.tied }), opts.textBlock, opts.text);
  };
  const required = [
    ...(opts.textBlock !== null && opts.text?.dims
      ? decoderRequired(BLOCK_PREFIX[opts.textBlock] ?? "", opts.text.dims, opts.text.moe)
      : []),
    ...(opts.vision ? visionRequired(opts.vision) : []),
  ];
  return {
    family,
    required,
    map(hfName: string): MapResult {
      let name = hfName;
      if (/^model\.(language_model|vision_tower|multi_modal_projector)\./.test(name)) {
        name = name.slice("model.".length);
        if (name.startsWith("language_model.")) {
          return text(name.slice("language_model.".length));
        }
      }
      if (name.startsWith("language_model.model.")) {
        return text(name.slice("language_model.model.".length));
      }
      if (name.startsWith("language_model.lm_head.")) {
        return text(name.slice("language_model.".length));
      }
      if (name.startsWith("lm_head.")) return text(name);
      if (name.startsWith("vision_tower.")) {
        return visionChecked(visionCore(name.slice("vision_tower.".length)), opts.vision);
      }
      if (name.startsWith("multi_modal_projector.")) {
        const hit = PROJECTOR[name.slice("multi_modal_projector.".length)];
        return hit ? vis(hit[0], hit[1]) : null;
      }
      return ignoredBuffer(name);
    },
  };
}
