import type { DeviceId } from '../vram/types.js';
import type { Feeds, Outputs } from './tensor.js';

export type { DeviceId };

export interface RunOptions {
  /** Aborts a queued run, and tells a multi-step caller to stop between steps. */
  signal?: AbortSignal;
  /** Only these outputs are copied back from the worker (the ISNet side outputs are large). */
  outputs?: string[];
}

export interface RunResult {
  outputs: Outputs;
  device: DeviceId;
  /** Time inside session.run(), measured in the worker. */
  inferenceMs: number;
}

/**
 * What task pipelines see of the ModelManager: the only way any code runs a model.
 * Pipelines take a ModelRunner so they are tested with tiny real ONNX models on CPU.
 */
export interface ModelRunner {
  run(modelId: string, feeds: Feeds, opts?: RunOptions): Promise<RunResult>;
  /**
   * Whether the model's weights are on disk, so a run will not answer MODEL_UNAVAILABLE for
   * missing weights (requests never fetch them). Runners that cannot tell leave it out.
   */
  available?(modelId: string): boolean;
  /**
   * A data file the model ships beside its weights (the OCR recogniser's character list), by its
   * MODEL_DIR file name, verified with the model's other files.
   */
  file?(modelId: string, name: string): Promise<Buffer>;
}
