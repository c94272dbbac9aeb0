/**
 * Progress events of a conversion, for the CLI's progress bar and for library callers.
 *
 * @module
 */
import type { DownloadEvent } from "../hub/download.ts";
import type { ConversionPlan } from "./plan.ts";

export type { DownloadEvent } from "../hub/download.ts";

/** Emitted once the plan is ready, before any data is read. */
export interface PlanEvent {
  /** Event kind. */
  type: "plan";
  /** The plan. */
  plan: ConversionPlan;
}

/** Emitted after each chunk of tensor data is written. */
export interface ProgressEvent {
  /** Event kind. */
  type: "progress";
  /** Name of the tensor being written. */
  tensor: string;
  /** Tensors completely written. */
  tensorsDone: number;
  /** Tensors in the plan. */
  tensorsTotal: number;
  /** Source bytes processed. */
  bytesDone: number;
  /** Source bytes in the plan. */
  bytesTotal: number;
  /** Milliseconds since the data phase started. */
  elapsedMs: number;
}

/** Emitted when a tensor is complete. */
export interface TensorDoneEvent {
  /** Event kind. */
  type: "tensor";
  /** The tensor's report line. */
  tensor: TensorReport;
  /** Its index in the plan. */
  index: number;
}

/** Emitted for each non-fatal problem. */
export interface WarningEvent {
  /** Event kind. */
  type: "warning";
  /** The message. */
  message: string;
}

/**
 * Where the data phase spent its time. Main-thread figures are wall time; worker figures are
 * summed over the workers (so they can exceed the wall time with several threads).
 */
export interface ConvertTimings {
  /** Tensor elements converted. */
  elements: number;
  /** Wall time of the data phase. */
  totalMs: number;
  /** Main thread: waiting for source bytes (each chunk is read while the one before converts). */
  readMs: number;
  /** Main thread: waiting for the workers. */
  waitMs: number;
  /** Main thread: handing output to the writer (hashing and file writes included). */
  writeMs: number;
  /** Main thread: XXH3 of the output (part of `writeMs`). */
  hashMs: number;
  /** Workers: decoding source values to f32. */
  decodeMs: number;
  /** Workers: the NaN/Inf, clamp and statistics pass. */
  scanMs: number;
  /** Workers: FP16 conversion or HQ quantization. */
  quantizeMs: number;
}

/** Emitted once, after the last tensor is written. */
export interface TimingsEvent {
  /** Event kind. */
  type: "timings";
  /** The breakdown. */
  timings: ConvertTimings;
}

/** Any conversion event. */
export type ConvertEvent =
  | DownloadEvent
  | PlanEvent
  | ProgressEvent
  | TensorDoneEvent
  | WarningEvent
  | TimingsEvent;

/** One written tensor in the report. */
export interface TensorReport {
  /** Final name. */
  name: string;
  /** Source name. */
  source: string;
  /** Dtype written. */
  dtype: string;
  /** Shape. */
  shape: number[];
  /** Payload bytes. */
  bytes: number;
  /** RMSE / population σ of the quantization (HQ dtypes only). */
  relRmse?: number;
  /** Finite values beyond ±65504 clamped to ±65504. */
  clamped: number;
  /** Non-finite values replaced by 0 (`nonfinite: "zero"`). */
  nonfiniteZeroed: number;
  /** Why its dtype is not the preset's (row rule, hq31k row limit, an override). */
  note?: string;
  /** The tensor this one copies (same source written twice, e.g. a tied `lm_head`). */
  copyOf?: string;
  /** Why the data is not the source's as is (a copy, a constant, a saturated clamp). */
  origin?: string;
}
