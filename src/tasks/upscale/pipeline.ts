import { AppError } from '../../errors.js';
import { resizeRaw, type RawImage } from '../../image/raw.js';
import { tileGrid, upscaleTiled, type TileModel } from '../../image/tiling.js';
import type { DeviceId, ModelRunner } from '../../models/runner.js';
import { float32 } from '../../models/tensor.js';
import type { UpscalePlan, UpscaleStep } from './plan.js';

export const INPUT_NAME = 'data';
export const OUTPUT_NAME = 'output';

export interface PassContext {
  runner: ModelRunner;
  signal: AbortSignal;
  tileSize: number;
  tilePad: number;
  /** Called after each tile with tiles done and tiles in the whole plan. */
  onTile: (done: number, total: number) => void;
}

export interface PlanRun {
  image: RawImage;
  tiles: number;
  device: DeviceId | undefined;
  inferenceMs: number;
  modelMs: number;
  resizeMs: number;
}

type ModelStep = Extract<UpscaleStep, { kind: 'model' }>;

/** Tiles of every model pass, known up front from the plan's sizes, for progress. */
export function countTiles(plan: UpscalePlan, width: number, height: number, tileSize: number, tilePad: number): number {
  let [w, h] = [width, height];
  let total = 0;
  for (const step of plan.steps) {
    if (step.kind === 'model') {
      const { xs, ys } = tileGrid(w, h, { scale: step.scale, tileSize, tilePad });
      total += xs.length * ys.length;
    }
    [w, h] = [step.width, step.height];
  }
  return total;
}

/** A TileModel over the runner, checking the output against the upscaler contract. */
function runnerTileModel(step: ModelStep, ctx: PassContext, stats: PlanRun): TileModel {
  return async (input, width, height) => {
    const result = await ctx.runner.run(
      step.modelId,
      { [INPUT_NAME]: float32(input, [1, 3, height, width]) },
      { signal: ctx.signal, outputs: [OUTPUT_NAME] },
    );
    stats.device = result.device;
    stats.inferenceMs += result.inferenceMs;
    const out = result.outputs[OUTPUT_NAME];
    const want = [1, 3, height * step.scale, width * step.scale];
    if (!out || out.type !== 'float32' || out.dims.join() !== want.join()) {
      throw new AppError('PROCESSING_ERROR', `Model ${step.modelId} returned ${out ? `${out.type} [${out.dims.join(',')}]` : 'no "output"'}; expected float32 [${want.join(',')}]. Check that the model file matches the manifest.`);
    }
    return out.data as Float32Array;
  };
}

/** Runs the plan's passes and resizes on the RGB channels of `image` (alpha is the caller's). */
export async function runPlan(image: RawImage, plan: UpscalePlan, ctx: PassContext): Promise<PlanRun> {
  const total = countTiles(plan, image.width, image.height, ctx.tileSize, ctx.tilePad);
  const stats: PlanRun = { image, tiles: 0, device: undefined, inferenceMs: 0, modelMs: 0, resizeMs: 0 };
  for (const step of plan.steps) {
    const start = performance.now();
    if (step.kind === 'resize') {
      stats.image = await resizeRaw(stats.image, step.width, step.height);
      stats.resizeMs += performance.now() - start;
      continue;
    }
    const done = stats.tiles;
    const out = await upscaleTiled(stats.image, runnerTileModel(step, ctx, stats), {
      scale: step.scale,
      tileSize: ctx.tileSize,
      tilePad: ctx.tilePad,
      signal: ctx.signal,
      onTile: (n) => ctx.onTile(done + n, total),
    });
    stats.image = out;
    stats.tiles += out.tiles;
    stats.modelMs += performance.now() - start;
  }
  return stats;
}
