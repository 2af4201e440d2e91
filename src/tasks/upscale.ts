import { z } from 'zod';
import type { Config } from '../config.js';
import { decodeRaw } from '../image/decode.js';
import { encodeImage } from '../image/encode.js';
import type { RawImage } from '../image/raw.js';
import { checkTileOptions, tileSizeForBudget } from '../image/tiling.js';
import { IMAGE_FORMATS, type ValidatedImage } from '../image/types.js';
import type { TaskContext, TaskDefinition, TaskResult } from './types.js';
import { withSourceAlpha } from './upscale/alpha.js';
import { DENOISE_MODELS, UPSCALER_NAMES, UPSCALERS, defaultUpscaler, type UpscalerName } from './upscale/models.js';
import { runPlan } from './upscale/pipeline.js';
import { checkOutputSize, modelIds, planUpscale, type UpscalePlan } from './upscale/plan.js';

/** Larger tiles stop paying on CPU and only grow the arena; 512² x4fast ≈ 0.5 GiB. */
const MAX_AUTO_TILE = 512;

export const UpscaleOptions = z
  .strictObject({
    scale: z
      .union([z.literal(2), z.literal(3), z.literal(4), z.literal(8)])
      .default(4)
      .describe('Output size factor: 2, 3 and 4 run natively where the model has them (else the next native scale and a Lanczos resize); 8 runs two passes.'),
    outscale: z
      .number()
      .gt(1)
      .max(16)
      .optional()
      .describe('Any other factor, e.g. 2.5: overrides scale; the nearest native scale above runs, then a Lanczos resize.'),
    model: z
      .enum(UPSCALER_NAMES)
      .optional()
      .describe('Default realesrgan-x4fast on CPU, realesrgan-x4plus on a GPU. realesr-animevideov3 has native ×2/×3/×4.'),
    tileSize: z
      .number()
      .int()
      .min(16)
      .max(4096)
      .optional()
      .describe('Tile side in input pixels; default: the largest tile (≤ 512) whose activations fit a quarter of CPU_MODEL_MEMORY_MB.'),
    tilePad: z.number().int().min(0).max(128).optional().describe('Seam context in input pixels; tiles overlap by twice this. Default per model: 12 for the compact networks, 40 for the RRDB ones (x4plus, x4plus-anime).'),
    outputFormat: z.enum(IMAGE_FORMATS).default('png').describe('png, webp or jpeg (jpeg has no alpha: transparency becomes white).'),
    denoise: z.number().min(0).max(1).optional().describe(`Denoise strength 0..1: needs ${DENOISE_MODELS.join(', ')}, which none of the offered models is, so it is rejected.`),
  })
  .superRefine((o, ctx) => {
    if (o.denoise !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['denoise'],
        message: `none of ${UPSCALER_NAMES.join(', ')} supports denoise; it needs ${DENOISE_MODELS.join(' or ')}, which this service does not ship. Omit denoise.`,
      });
    }
    const problem = o.tileSize === undefined || o.tilePad === undefined ? undefined : checkTileOptions(o.tileSize, o.tilePad);
    if (problem) ctx.addIssue({ code: 'custom', path: ['tileSize'], message: problem });
  });

export type UpscaleOptions = z.output<typeof UpscaleOptions>;

export function upscalerFor(options: UpscaleOptions, config: Pick<Config, 'DEVICE'>): UpscalerName {
  return options.model ?? defaultUpscaler(config.DEVICE === 'cuda' ? 'gpu' : 'cpu');
}

/** Tile side from the memory a run may take: a quarter of CPU_MODEL_MEMORY_MB for activations. */
export function autoTileSize(model: UpscalerName, config: Pick<Config, 'CPU_MODEL_MEMORY_MB'>, tilePad: number): number {
  const budget = (config.CPU_MODEL_MEMORY_MB * 2 ** 20) / 4;
  const size = tileSizeForBudget(budget / UPSCALERS[model].bytesPerInputPixel, 64, MAX_AUTO_TILE);
  return Math.max(size, 4 * tilePad + 2);
}

/**
 * Tile size and pad: an explicit pair was checked by the schema; a pad alone sizes the automatic
 * tile around it; a size alone takes the model's pad, narrowed to what fits that tile.
 */
function tiling(options: UpscaleOptions, model: UpscalerName, config: Config): { tileSize: number; tilePad: number } {
  if (options.tileSize === undefined) {
    const tilePad = options.tilePad ?? UPSCALERS[model].tilePad;
    return { tileSize: autoTileSize(model, config, tilePad), tilePad };
  }
  const fits = Math.floor((options.tileSize - 2) / 4);
  return { tileSize: options.tileSize, tilePad: options.tilePad ?? Math.min(UPSCALERS[model].tilePad, fits) };
}

function planFor(image: ValidatedImage, options: UpscaleOptions, model: UpscalerName, config: Config): UpscalePlan {
  const target = options.outscale ?? options.scale;
  const plan = planUpscale(UPSCALERS[model].variants, image.width, image.height, target);
  checkOutputSize(plan, image.width, image.height, target, config.MAX_OUTPUT_PIXELS);
  return plan;
}

async function run(image: ValidatedImage, options: UpscaleOptions, ctx: TaskContext): Promise<TaskResult> {
  const started = performance.now();
  const model = upscalerFor(options, ctx.config);
  const plan = planFor(image, options, model, ctx.config);
  const { tileSize, tilePad } = tiling(options, model, ctx.config);
  const source = await decodeRaw(image);
  const decodeMs = performance.now() - started;
  const passes = await runPlan(source, plan, {
    runner: ctx.runner,
    signal: ctx.signal,
    tileSize,
    tilePad,
    onTile: (done, total) => ctx.onProgress({ fraction: (0.95 * done) / total, stage: 'upscale' }),
  });
  const alphaStart = performance.now();
  const result = await withSourceAlpha(source, passes.image);
  const alphaMs = performance.now() - alphaStart;
  ctx.onProgress({ fraction: 0.95, stage: 'encode' });
  const encodeStart = performance.now();
  const encoded = await encodeImage(result, options.outputFormat);
  const encodeMs = performance.now() - encodeStart;
  const timings = {
    decodeMs, inferenceMs: passes.inferenceMs, upscaleMs: passes.modelMs, resizeMs: passes.resizeMs, alphaMs, encodeMs,
    totalMs: performance.now() - started,
  };
  return {
    kind: 'image',
    image: encoded,
    format: options.outputFormat,
    metadata: {
      model, models: modelIds(plan), scale: options.outscale ?? options.scale, width: result.width, height: result.height,
      tiles: passes.tiles, tileSize, tilePad, device: passes.device, timings,
    },
  };
}

export const upscaleTask: TaskDefinition<typeof UpscaleOptions> = {
  name: 'upscale',
  route: 'realesrgan/upscale',
  shortRoute: 'upscale',
  description: 'Upscales an image ×2, ×3, ×4 or ×8 with Real-ESRGAN, tile by tile with feathered seams; alpha is resampled and kept.',
  options: UpscaleOptions,
  models(options) {
    const target = options.outscale ?? options.scale;
    if (!options.model) return defaultUpscaleModels(target);
    return modelIds(planUpscale(UPSCALERS[options.model].variants, 1, 1, target));
  },
  modelChoice: { option: 'model', fallback: (config) => defaultUpscaler(config.DEVICE === 'cuda' ? 'gpu' : 'cpu') },
  run,
};

/** The models `upscaleDecoded` may run for a scale (either device's default upscaler). */
export function defaultUpscaleModels(scale: number): string[] {
  const names = [defaultUpscaler('cpu'), defaultUpscaler('gpu')];
  return [...new Set(names.flatMap((n) => modelIds(planUpscale(UPSCALERS[n].variants, 1, 1, scale))))];
}

/**
 * Decoded pixels upscaled by the device's default upscaler with automatic tiles, alpha resampled
 * and kept: the background pass of enhance-face.
 */
export async function upscaleDecoded(source: RawImage, scale: number, ctx: TaskContext, onTile: (done: number, total: number) => void) {
  const model = defaultUpscaler(ctx.config.DEVICE === 'cuda' ? 'gpu' : 'cpu');
  const plan = planUpscale(UPSCALERS[model].variants, source.width, source.height, scale);
  checkOutputSize(plan, source.width, source.height, scale, ctx.config.MAX_OUTPUT_PIXELS);
  const tilePad = UPSCALERS[model].tilePad;
  const run = await runPlan(source, plan, { runner: ctx.runner, signal: ctx.signal, tileSize: autoTileSize(model, ctx.config, tilePad), tilePad, onTile });
  return { image: await withSourceAlpha(source, run.image), models: modelIds(plan), device: run.device, inferenceMs: run.inferenceMs };
}
