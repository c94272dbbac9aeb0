/**
 * `@helios/convert`: convert Hugging Face models (config.json + safetensors + tokenizer files)
 * into HELIOS HNFv9.1 files, quantizing weights with HQS.
 *
 * ```ts ignore
 * import { convert, openHnf } from "@helios/convert";
 *
 * const report = await convert({
 *   models: { text: "models/llama" },
 *   output: "llama.hnf",
 *   quant: "hq41k-m",
 *   onEvent: (e) => e.type === "progress" && console.log(e.bytesDone, "/", e.bytesTotal),
 * });
 * const hnf = await openHnf("llama.hnf");
 * const emb = await hnf.readTensor("text.token_embedding.weight");
 * hnf.close();
 * ```
 *
 * @module
 */
export {
  chooseDtype,
  type ConversionPlan,
  type ConversionReport,
  convert,
  type ConvertOptions,
  type DtypeContext,
  type DtypeDecision,
  type DtypeTensor,
  type EmbeddingChoice,
  type LmHeadChoice,
  type NonfinitePolicy,
  parseOverrides,
  parseQuantChoice,
  planConversion,
  type PlannedTensor,
  type PlannedTower,
  type PlanOptions,
  type PresetRole,
  type QuantChoice,
  type QuantPreset,
  type SkippedTensor,
  type TensorOverride,
} from "./src/convert/mod.ts";
export {
  assessRuntime,
  LOADABLE,
  LOOKUP_DTYPES,
  MATMUL_DTYPES,
  RUNTIME_RULES,
  type RuntimeInputs,
  type RuntimeReport,
  type RuntimeRule,
  type RuntimeStage,
  type RuntimeTarget,
  type RuntimeTensor,
  type RuntimeTokenizer,
  type TowerName,
  type TowerRuntime,
  type TowerView,
} from "./src/runtime/mod.ts";
export type {
  ConvertEvent,
  ConvertTimings,
  DownloadEvent,
  PlanEvent,
  ProgressEvent,
  TensorDoneEvent,
  TensorReport,
  TimingsEvent,
  WarningEvent,
} from "./src/convert/progress.ts";
export {
  hubCacheDir,
  type HubId,
  type HubOptions,
  parseHubId,
  resolveModel,
} from "./src/hub/mod.ts";
export { type HnfFile, openHnf, type OpenHnfOptions } from "./src/hnf/reader.ts";
export { HnfWriter, type HnfWriterOptions, type TensorHeader } from "./src/hnf/writer.ts";
export type { HnfBlockEntry, HnfHeader } from "./src/hnf/header.ts";
export type { ManifestTensor } from "./src/hnf/manifest.ts";
export { BLOCK_NAMES, BlockId, HnfFlag, type TensorDtype } from "./src/hnf/constants.ts";
export {
  dequantize,
  hqsByteSize,
  type HqsFormat,
  type HqsKernel,
  type HqsSearch,
  parseQuantName,
  quantize,
  type QuantizeOptions,
  relativeRmse,
} from "./src/hqs/mod.ts";
export { HqsPool, type HqsPoolOptions, type HqsPoolResult } from "./src/hqs/pool.ts";
export {
  openSafetensorsFolder,
  readSafetensorsHeader,
  type SafetensorsFolder,
  type SourceTensor,
} from "./src/safetensors/folder.ts";
export type { SafetensorsHeader, SafetensorsTensorInfo } from "./src/safetensors/header.ts";
export {
  loadModelSpec,
  mapperFor,
  type RopeParams,
  type RopeSpec,
  specFromConfig,
} from "./src/model/mod.ts";
export type {
  AudioDims,
  ExpectedShape,
  Gemma4Dims,
  Gemma4Layer,
  Gemma4Vision,
  IgnoredTensor,
  JsonObject,
  MappedTensor,
  Mapper,
  MapResult,
  ModelSpec,
  MoeDims,
  RequiredTensor,
  SynthesizedTensor,
  TensorClass,
  TensorRole,
  TextDims,
  TowerRole,
  VisionDims,
} from "./src/model/types.ts";
export {
  type FixtureDtype,
  type GeneratedModel,
  generateModel,
  type GenerateOptions,
  type HfGeneration,
} from "./src/fixtures/mod.ts";
export type {
  ArchTemplate,
  FixtureSize,
  TensorInit,
  TensorTemplate,
} from "./src/fixtures/archs.ts";
export { type ErrorCode, HeliosError } from "./src/errors.ts";
export { VERSION } from "./src/version.ts";

if (import.meta.main) {
  // `deno run -A jsr:@helios/convert …` runs the command line; library users never load it.
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(Deno.args));
}
