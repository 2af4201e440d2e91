import { AppError } from '../errors.js';
import type { DeviceId, ModelRunner } from '../models/runner.js';
import { float32, type TensorLike } from '../models/tensor.js';

/** What a multi-run task reports: where its models ran and their session.run time in all. */
export interface RunStats {
  device: DeviceId | undefined;
  inferenceMs: number;
}

/**
 * One run of a single-input float model, fetching only `output`, added to `stats`; an output that
 * is missing or not float32 is a clear PROCESSING_ERROR naming the model file to check.
 */
export async function runFloat(runner: ModelRunner, id: string, io: { input: string; output: string }, data: Float32Array, dims: number[], signal: AbortSignal, stats: RunStats): Promise<TensorLike> {
  const result = await runner.run(id, { [io.input]: float32(data, dims) }, { signal, outputs: [io.output] });
  stats.device = result.device;
  stats.inferenceMs += result.inferenceMs;
  const out = result.outputs[io.output];
  if (!out || out.type !== 'float32' || out.dims[0] !== dims[0]) {
    throw new AppError('PROCESSING_ERROR', `Model ${id} returned no float32 "${io.output}" for a batch of ${dims[0]}; check that MODEL_DIR holds the right ${id}.onnx.`);
  }
  return out;
}
