import sharp from 'sharp';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { decoding } from '../image/decode.js';
import { resamplePlane } from '../image/resample.js';
import { imageToTensor } from '../image/tensor.js';
import type { ValidatedImage } from '../image/types.js';
import type { TaskContext, TaskDefinition, TaskResult } from './types.js';
import { lut, type Colormap } from './estimate-depth/colormaps.js';
import { DEFAULT_DEPTH_MODEL, DEPTH_MODEL_IDS, DEPTH_MODELS, depthInputSize } from './estimate-depth/models.js';

/**
 * Example: `{"image":"<base64>","options":{"colormap":"inferno"}}` → a PNG depth map at the
 * photo's size, near = bright; `{"options":{"output":"array"}}` → `{width, height, min, max, data}`.
 */
export const EstimateDepthOptions = z
  .strictObject({
    model: z.enum(DEPTH_MODEL_IDS).default(DEFAULT_DEPTH_MODEL).describe('depth-anything-v2-small (default), depth-anything-v2-base or dpt-large; operator-supplied weights.'),
    output: z.enum(['image', 'array']).default('image').describe("'image': a PNG depth map; 'array': the raw relative inverse depth at the photo's size as base64 float32."),
    colormap: z.enum(['gray', 'inferno', 'turbo']).default('gray').describe('How the image shows depth: grey levels or a colour map; near is bright (gray) or warm.'),
    bitDepth: z.union([z.literal(8), z.literal(16)]).default(8).describe('Grey depth images may be 16-bit; colour maps are 8-bit RGB.'),
  })
  .superRefine((o, ctx) => {
    if (o.bitDepth === 16 && o.colormap !== 'gray') ctx.addIssue({ code: 'custom', path: ['bitDepth'], message: 'bitDepth 16 needs colormap gray (colour maps are 8-bit RGB)' });
  });
export type EstimateDepthOptions = z.output<typeof EstimateDepthOptions>;

interface DepthPlane {
  data: Float32Array;
  width: number;
  height: number;
  min: number;
  max: number;
}

async function predict(image: ValidatedImage, opts: EstimateDepthOptions, ctx: TaskContext): Promise<{ plane: DepthPlane; device: string; inferenceMs: number }> {
  const spec = DEPTH_MODELS[opts.model];
  const size = depthInputSize(spec, image.width, image.height);
  ctx.onProgress({ fraction: 0, stage: 'preprocess' });
  const pre = await imageToTensor(image, { size, fit: 'fill', kernel: 'cubic', channelOrder: 'RGB', layout: 'NCHW', scale: 1 / 255, mean: spec.mean, std: spec.std });
  ctx.signal.throwIfAborted();
  ctx.onProgress({ fraction: 0.2, stage: 'inference' });
  const run = await ctx.runner.run(opts.model, { pixel_values: pre.tensor }, { signal: ctx.signal });
  const out = run.outputs.predicted_depth ?? Object.values(run.outputs)[0];
  const [h, w] = (out?.dims ?? []).slice(-2) as [number, number];
  if (!out || out.type !== 'float32' || out.data.length !== h * w) {
    throw new AppError('PROCESSING_ERROR', `Model ${opts.model} returned no float32 [1, H, W] "predicted_depth"; check that MODEL_DIR holds the right ${opts.model}.onnx.`);
  }
  ctx.onProgress({ fraction: 0.8, stage: 'postprocess' });
  const data = resamplePlane(out.data as Float32Array, w, h, image.width, image.height);
  let [min, max] = [Infinity, -Infinity];
  for (let i = 0; i < data.length; i++) {
    if (data[i]! < min) min = data[i]!;
    if (data[i]! > max) max = data[i]!;
  }
  return { plane: { data, width: image.width, height: image.height, min, max }, device: run.device, inferenceMs: run.inferenceMs };
}

/** The plane scaled min..max → 0..1 and drawn: 8- or 16-bit grey, or a colour map; near (larger inverse depth) is bright. */
function render(plane: DepthPlane, colormap: Colormap, bitDepth: 8 | 16): Promise<Buffer> {
  const { data, width, height, min, max } = plane;
  const span = max - min || 1;
  if (colormap === 'gray' && bitDepth === 16) {
    const px = Uint16Array.from(data, (v) => Math.round(((v - min) / span) * 65535));
    return decoding(sharp(px, { raw: { width, height, channels: 1 } }).toColourspace('grey16').png().toBuffer());
  }
  if (colormap === 'gray') {
    const px = Buffer.from(Uint8Array.from(data, (v) => Math.round(((v - min) / span) * 255)));
    return decoding(sharp(px, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toBuffer());
  }
  const table = lut(colormap);
  const px = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) {
    const k = Math.round(((data[i]! - min) / span) * 255) * 3;
    px[i * 3] = table[k]!;
    px[i * 3 + 1] = table[k + 1]!;
    px[i * 3 + 2] = table[k + 2]!;
  }
  return decoding(sharp(px, { raw: { width, height, channels: 3 } }).png().toBuffer());
}

async function estimateDepth(image: ValidatedImage, opts: EstimateDepthOptions, ctx: TaskContext): Promise<TaskResult> {
  const { plane, device, inferenceMs } = await predict(image, opts, ctx);
  const metadata = { model: opts.model, device, width: plane.width, height: plane.height, min: plane.min, max: plane.max, inferenceMs: Math.round(inferenceMs * 10) / 10 };
  ctx.onProgress({ fraction: 0.9, stage: 'encode' });
  const result: TaskResult = opts.output === 'array'
    ? { kind: 'json', data: { width: plane.width, height: plane.height, min: plane.min, max: plane.max, data: Buffer.from(plane.data.buffer, plane.data.byteOffset, plane.data.byteLength).toString('base64') }, metadata }
    : { kind: 'image', image: await render(plane, opts.colormap, opts.bitDepth), format: 'png', metadata };
  ctx.onProgress({ fraction: 1, stage: 'done' });
  return result;
}

export const estimateDepthTask: TaskDefinition<typeof EstimateDepthOptions> = {
  name: 'estimate-depth',
  route: 'transformers/estimate-depth',
  shortRoute: 'estimate-depth',
  description: "Estimates relative depth (near = bright) at the photo's size: a grey or colour-mapped PNG, or the raw values.",
  options: EstimateDepthOptions,
  models: (opts) => [opts.model],
  modelChoice: { option: 'model', fallback: () => DEFAULT_DEPTH_MODEL },
  run: estimateDepth,
  shortJson: (data) => data,
};
