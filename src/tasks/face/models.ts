import { AppError } from '../../errors.js';
import type { ModelRunner, RunOptions } from '../../models/runner.js';
import { float32, type Outputs, type TensorLike } from '../../models/tensor.js';

/** Model ids in models.manifest.json for the face family. */
export const FACE_MODEL_IDS = {
  detect: 'face-detect',
  detectBlazeface: 'face-detect-blazeface',
  landmark: 'face-landmark',
  embed: 'face-embed',
  antispoof: 'face-antispoof',
  age: 'face-age',
  gender: 'face-gender',
  pose: 'face-pose',
  expression: 'face-expression',
} as const;

/** Input contract of one per-face model. */
export interface FaceModelSpec {
  id: string;
  input: string;
  channels: 1 | 3;
  height: number;
  width: number;
  /**
   * How many faces one run may carry. faceplugin's files declare a fixed batch of 1; the model
   * store's `batch-dim` conversion makes it symbolic (models.manifest.json), so an image's faces
   * share a run. The cap bounds what a run's activations add to the session's memory arena.
   */
  maxBatch: number;
}

/**
 * Faces per run. The 224² models get half: face-expression's arena grew 177 MB after a batch of
 * 8 (12 MB after one), memory the scheduler's per-model estimate does not see.
 */
const FACES_PER_RUN = 8;
const FACES_PER_RUN_224 = 4;

const spec = (id: string, channels: 1 | 3, size: number, input = 'input'): FaceModelSpec => ({
  id, input, channels, height: size, width: size, maxBatch: size >= 224 ? FACES_PER_RUN_224 : FACES_PER_RUN,
});

export const FACE_MODELS = {
  landmark: spec(FACE_MODEL_IDS.landmark, 1, 64),
  embed: spec(FACE_MODEL_IDS.embed, 3, 112),
  antispoof: spec(FACE_MODEL_IDS.antispoof, 3, 128),
  age: spec(FACE_MODEL_IDS.age, 3, 64),
  gender: spec(FACE_MODEL_IDS.gender, 3, 64),
  pose: spec(FACE_MODEL_IDS.pose, 3, 224),
  expression: spec(FACE_MODEL_IDS.expression, 3, 224),
} as const satisfies Record<string, FaceModelSpec>;

export interface BatchRun {
  /** One Outputs per input item, batch dim 1 each. */
  perItem: Outputs[];
  /** Sum of session.run() times reported by the runner. */
  inferenceMs: number;
  /** Each item's share of the session.run() time of the run that carried it. */
  itemInferenceMs: number[];
}

/** Writes face `index`'s CHW input (the spec's size) into `out` at `offset`. */
export type FillInput = (index: number, out: Float32Array, offset: number) => void;

/**
 * Runs one model over `count` faces, packing up to `maxBatch` per run: each face's input is
 * written straight into the batch tensor, and the outputs are split back per face.
 */
export async function runPerFace(
  runner: ModelRunner,
  model: FaceModelSpec,
  count: number,
  fill: FillInput,
  opts: RunOptions = {},
): Promise<BatchRun> {
  const per = model.channels * model.height * model.width;
  const perItem: Outputs[] = [];
  const itemInferenceMs: number[] = [];
  let inferenceMs = 0;
  for (let start = 0; start < count; start += model.maxBatch) {
    const n = Math.min(model.maxBatch, count - start);
    const data = new Float32Array(per * n);
    for (let i = 0; i < n; i++) fill(start + i, data, i * per);
    const dims = [n, model.channels, model.height, model.width];
    const result = await runner.run(model.id, { [model.input]: float32(data, dims) }, opts);
    inferenceMs += result.inferenceMs;
    perItem.push(...splitBatch(result.outputs, n));
    for (let i = 0; i < n; i++) itemInferenceMs.push(result.inferenceMs / n);
  }
  return { perItem, inferenceMs, itemInferenceMs };
}

/** Splits every output along its first dim into `n` single-item outputs (views, no copies). */
export function splitBatch(outputs: Outputs, n: number): Outputs[] {
  if (n === 1) return [outputs];
  const items: Outputs[] = Array.from({ length: n }, () => ({}));
  for (const [name, t] of Object.entries(outputs)) {
    const size = t.data.length / n;
    items.forEach((item, i) => {
      item[name] = { type: t.type, dims: [1, ...t.dims.slice(1)], data: t.data.subarray(i * size, (i + 1) * size) } as TensorLike;
    });
  }
  return items;
}

/** The float data of a named output, or a clear error naming what the model returned instead. */
export function outputData(outputs: Outputs, name: string, modelId: string): Float32Array {
  const t = outputs[name];
  if (!t || !(t.data instanceof Float32Array)) {
    const got = Object.keys(outputs).join(', ') || 'none';
    throw new AppError('PROCESSING_ERROR', `Model ${modelId} returned no float output "${name}" (got: ${got}); check that MODEL_DIR holds the manifest's file for it.`);
  }
  return t.data;
}

export function softmax(logits: ArrayLike<number>): Float64Array {
  const out = new Float64Array(logits.length);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i]! - max);
    sum += out[i]!;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}
