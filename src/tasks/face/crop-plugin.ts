import type { ModelRunner, RunOptions } from '../../models/runner.js';
import type { Outputs } from '../../models/tensor.js';
import type { Box, Rect } from './geometry.js';
import { runPerFace, type FaceModelSpec } from './models.js';
import { cropResize, toChw, type Normalisation, type RgbImage } from './raster.js';

/**
 * A per-face model fed a crop around the detector box: how to crop and normalise, and how to read
 * its outputs. Preprocess and decode are plain functions so each is tested on its own.
 */
export interface CropPlugin<R> {
  model: FaceModelSpec;
  crop(box: Box, img: RgbImage): Rect;
  norm: Normalisation;
  /** Plane 0 is blue (models trained on OpenCV-decoded images). */
  bgr: boolean;
  decode(outputs: Outputs): R;
}

export function cropInput(plugin: CropPlugin<unknown>, img: RgbImage, box: Box, out: Float32Array, offset: number): void {
  const { width, height } = plugin.model;
  toChw(cropResize(img, plugin.crop(box, img), width, height), width * height, plugin.norm, out, offset, plugin.bgr);
}

/** Per-face results of one stage with each face's own cost (its preprocessing, run share, decode). */
export interface StageResult<R> {
  results: R[];
  itemMs: number[];
  /** Sum of session.run() times of the stage. */
  inferenceMs: number;
}

export async function runCropPlugin<R>(
  runner: ModelRunner,
  plugin: CropPlugin<R>,
  img: RgbImage,
  boxes: readonly Box[],
  run: RunOptions = {},
): Promise<StageResult<R>> {
  return runStage(runner, plugin.model, boxes, (b, out, offset) => cropInput(plugin, img, b, out, offset), plugin.decode, run);
}

/** Prepares every face's input, runs the model over them, decodes — timing each face's share. */
export async function runStage<T, R>(
  runner: ModelRunner,
  model: FaceModelSpec,
  items: readonly T[],
  prepare: (item: T, out: Float32Array, offset: number) => void,
  decode: (outputs: Outputs, index: number) => R,
  run: RunOptions = {},
): Promise<StageResult<R>> {
  const itemMs: number[] = [];
  const { perItem, inferenceMs, itemInferenceMs } = await runPerFace(runner, model, items.length, (i, out, offset) => {
    const t0 = performance.now();
    prepare(items[i]!, out, offset);
    itemMs[i] = performance.now() - t0;
  }, run);
  const results = perItem.map((o, i) => {
    const t0 = performance.now();
    const r = decode(o, i);
    itemMs[i] = (itemMs[i] ?? 0) + (itemInferenceMs[i] ?? 0) + performance.now() - t0;
    return r;
  });
  return { results, itemMs, inferenceMs };
}
