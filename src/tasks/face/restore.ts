import { AppError } from '../../errors.js';
import type { ModelRunner } from '../../models/runner.js';
import { float32, type Feeds } from '../../models/tensor.js';
import type { RunStats } from '../model-run.js';
import { FFHQ_SIDE } from './ffhq.js';

export const FACE_RESTORERS = ['gfpgan', 'codeformer'] as const;
export type FaceRestorer = (typeof FACE_RESTORERS)[number];

/**
 * Both take the aligned 512² crop as `input` [1,3,512,512] RGB in −1..1 and answer `output`, same
 * shape and range; CodeFormer also takes `weight` [1] float64, its fidelity w (0 = most restored,
 * 1 = most faithful to the input) (the facefusion-assets exports).
 */
const INPUT = 'input';
const OUTPUT = 'output';

/** Fails before any work when the restorer's weights are absent: a clear 503 naming the remedy. */
export function requireRestorer(runner: ModelRunner, model: FaceRestorer): void {
  if (runner.available && !runner.available(model)) {
    throw new AppError('MODEL_UNAVAILABLE', `Model ${model} is not downloaded: run \`npm run models -- pull ${model}\` (or POST /api/v1/models/${model}/load), or place ${model}.onnx in MODEL_DIR.`, { details: { modelId: model, retryable: false } });
  }
}

/** One aligned crop (512²×3 bytes) through the restorer; the restored crop, same layout. */
export async function restoreCrop(runner: ModelRunner, model: FaceRestorer, crop: Uint8Array, fidelity: number, signal: AbortSignal, stats: RunStats): Promise<Uint8Array> {
  const n = FFHQ_SIDE * FFHQ_SIDE;
  const input = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) input[c * n + i] = crop[i * 3 + c]! / 127.5 - 1;
  const feeds: Feeds = { [INPUT]: float32(input, [1, 3, FFHQ_SIDE, FFHQ_SIDE]) };
  if (model === 'codeformer') feeds.weight = { type: 'float64', dims: [1], data: new Float64Array([fidelity]) };
  const result = await runner.run(model, feeds, { signal, outputs: [OUTPUT] });
  stats.device = result.device;
  stats.inferenceMs += result.inferenceMs;
  const out = result.outputs[OUTPUT];
  if (!out || out.type !== 'float32' || out.dims.join() !== [1, 3, FFHQ_SIDE, FFHQ_SIDE].join()) {
    throw new AppError('PROCESSING_ERROR', `Model ${model} returned ${out ? `${out.type} [${out.dims.join(',')}]` : 'no "output"'}; expected float32 [1,3,512,512]. Check that MODEL_DIR holds the right ${model}.onnx.`);
  }
  const planes = out.data as Float32Array;
  const restored = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) restored[i * 3 + c] = Math.max(0, Math.min(255, Math.round((Math.max(-1, Math.min(1, planes[c * n + i]!)) + 1) * 127.5)));
  return restored;
}
