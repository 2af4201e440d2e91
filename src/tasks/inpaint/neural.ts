import sharp from 'sharp';
import { AppError } from '../../errors.js';
import type { ModelRunner } from '../../models/runner.js';
import { float32, type TensorLike } from '../../models/tensor.js';
import type { RunStats } from '../model-run.js';
import { rgbAt, scaleArea, type Area } from './work-scale.js';

export const NEURAL_INPAINTERS = ['lama', 'migan'] as const;
export type NeuralInpainter = (typeof NEURAL_INPAINTERS)[number];

/** LaMa's exports take a fixed 512² input. */
export const LAMA_SIDE = 512;

/**
 * lama (big-lama as IOPaint feeds it; e.g. Carve/LaMa-ONNX): `image` [1,3,512,512] RGB 0..1 (not
 * erased) and `mask` [1,1,512,512] 0/1 (1 = fill) → `output` [1,3,512,512] RGB.
 */
const LAMA = { image: 'image', mask: 'mask', output: 'output' } as const;

/**
 * migan (MI-GAN's published pipeline, andraniksargsyan/migan `migan_pipeline_v2.onnx`, the
 * ONNX IOPaint and the browser ports run): `image` [1,3,H,W] uint8 RGB and `mask` [1,1,H,W]
 * uint8 with 255 = keep, 0 = fill, any size (the graph crops around the hole, works at 512 and
 * pastes back itself) → one output, [1,3,H,W] uint8 RGB. Its output name is not relied on.
 */
const MIGAN = { image: 'image', mask: 'mask' } as const;

/** The work area LaMa sees: downscaled to fit 512² if larger, the rest mirrored in (hole 0 there). */
interface Fitted {
  rgb: Uint8Array;
  hole: Uint8Array;
  width: number;
  height: number;
}

async function fitLama(area: Area): Promise<Fitted> {
  const k = Math.min(1, LAMA_SIDE / Math.max(area.width, area.height));
  const sized = await scaleArea(area, Math.max(1, Math.round(area.width * k)), Math.max(1, Math.round(area.height * k)));
  const { width: fw, height: fh } = sized;
  const rgb = await sharp(sized.rgb, { raw: { width: fw, height: fh, channels: 3 } })
    .extend({ right: LAMA_SIDE - fw, bottom: LAMA_SIDE - fh, extendWith: 'mirror' }).raw().toBuffer();
  const hole = new Uint8Array(LAMA_SIDE * LAMA_SIDE);
  for (let y = 0; y < fh; y++) hole.set(sized.hole.subarray(y * fw, (y + 1) * fw), y * LAMA_SIDE);
  return { rgb, hole, width: fw, height: fh };
}

function checked(model: NeuralInpainter, out: TensorLike | undefined, type: 'float32' | 'uint8', dims: number[]): TensorLike {
  if (!out || out.type !== type || out.dims.join() !== dims.join()) {
    throw new AppError('PROCESSING_ERROR', `Model ${model} returned ${out ? `${out.type} [${out.dims.join(',')}]` : 'no output'}; expected ${type} [${dims.join(',')}]. Check that MODEL_DIR holds the right ${model}.onnx.`);
  }
  return out;
}

/**
 * LaMa exports differ in their last step: Carve's bakes in IOPaint's ×255, others stop at the
 * network's 0..1. A value above 1.5 anywhere can only be the former, so the scale is read off
 * the output itself.
 */
async function lama(area: Area, runner: ModelRunner, signal: AbortSignal, stats: RunStats): Promise<Uint8Array> {
  const f = await fitLama(area);
  const n = LAMA_SIDE * LAMA_SIDE;
  const image = new Float32Array(3 * n);
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) image[c * n + i] = f.rgb[i * 3 + c]! / 255;
    mask[i] = f.hole[i]!;
  }
  const result = await runner.run('lama', { [LAMA.image]: float32(image, [1, 3, LAMA_SIDE, LAMA_SIDE]), [LAMA.mask]: float32(mask, [1, 1, LAMA_SIDE, LAMA_SIDE]) }, { signal, outputs: [LAMA.output] });
  stats.device = result.device;
  stats.inferenceMs += result.inferenceMs;
  const planes = checked('lama', result.outputs[LAMA.output], 'float32', [1, 3, LAMA_SIDE, LAMA_SIDE]).data as Float32Array;
  let max = 0;
  for (let i = 0; i < planes.length; i++) if (planes[i]! > max) max = planes[i]!;
  const scale = max > 1.5 ? 1 : 255;
  const out = new Uint8Array(f.width * f.height * 3);
  for (let y = 0; y < f.height; y++) {
    for (let x = 0; x < f.width; x++) {
      const i = y * LAMA_SIDE + x;
      for (let c = 0; c < 3; c++) out[(y * f.width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(planes[c * n + i]! * scale)));
    }
  }
  return rgbAt(out, f.width, f.height, area.width, area.height);
}

async function migan(area: Area, runner: ModelRunner, signal: AbortSignal, stats: RunStats): Promise<Uint8Array> {
  const { width: w, height: h } = area;
  const n = w * h;
  const image = new Uint8Array(3 * n);
  const keep = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) image[c * n + i] = area.rgb[i * 3 + c]!;
    keep[i] = area.hole[i] ? 0 : 255;
  }
  const result = await runner.run('migan', {
    [MIGAN.image]: { type: 'uint8', dims: [1, 3, h, w], data: image },
    [MIGAN.mask]: { type: 'uint8', dims: [1, 1, h, w], data: keep },
  }, { signal });
  stats.device = result.device;
  stats.inferenceMs += result.inferenceMs;
  const planes = checked('migan', Object.values(result.outputs)[0], 'uint8', [1, 3, h, w]).data as Uint8Array;
  const out = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = planes[c * n + i]!;
  return out;
}

/** One work area through LaMa or MI-GAN; the fill comes back at the area's size (the caller keeps only hole pixels). */
export function inpaintNeural(model: NeuralInpainter, area: Area, runner: ModelRunner, signal: AbortSignal, stats: RunStats): Promise<Uint8Array> {
  return model === 'lama' ? lama(area, runner, signal, stats) : migan(area, runner, signal, stats);
}
