import sharp from 'sharp';
import { AppError } from '../../errors.js';
import type { ModelRunner } from '../../models/runner.js';
import { float32, type Feeds } from '../../models/tensor.js';
import type { RunStats } from '../model-run.js';
import { resizeRgbBytes, scaleArea, type Area } from './work-scale.js';

export const NEURAL_INPAINTERS = ['lama', 'migan'] as const;
export type NeuralInpainter = (typeof NEURAL_INPAINTERS)[number];

/** Both exports take a fixed 512² input. */
export const NEURAL_SIDE = 512;

/**
 * The contracts, as IOPaint feeds these networks:
 * - lama (big-lama, e.g. Carve/LaMa-ONNX): `image` [1,3,512,512] RGB 0..1 (unmasked) and `mask`
 *   [1,1,512,512] 0/1 (1 = fill) → `output` [1,3,512,512] RGB.
 * - migan (Picsart's MI-GAN generator, IOPaint's migan_traced.pt exported to ONNX): `input`
 *   [1,4,512,512] = (0.5 − mask, the image in −1..1 with the hole zeroed) → `output` [1,3,512,512]
 *   RGB in −1..1.
 */
export const INPAINT_CONTRACTS = {
  lama: { inputs: ['image', 'mask'], output: 'output' },
  migan: { inputs: ['input'], output: 'output' },
} as const;

/** A work area fitted into 512² for the network: downscaled if larger, the rest mirrored in (hole 0 there). */
interface Fitted {
  rgb: Uint8Array;
  hole: Uint8Array;
  width: number;
  height: number;
}

async function fit(area: Area): Promise<Fitted> {
  const k = Math.min(1, NEURAL_SIDE / Math.max(area.width, area.height));
  const sized = await scaleArea(area, Math.max(1, Math.round(area.width * k)), Math.max(1, Math.round(area.height * k)));
  const { width: fw, height: fh } = sized;
  const rgb = await sharp(sized.rgb, { raw: { width: fw, height: fh, channels: 3 } })
    .extend({ right: NEURAL_SIDE - fw, bottom: NEURAL_SIDE - fh, extendWith: 'mirror' }).raw().toBuffer();
  const hole = new Uint8Array(NEURAL_SIDE * NEURAL_SIDE);
  for (let y = 0; y < fh; y++) hole.set(sized.hole.subarray(y * fw, (y + 1) * fw), y * NEURAL_SIDE);
  return { rgb, hole, width: fw, height: fh };
}

function feeds(model: NeuralInpainter, f: Fitted): Feeds {
  const n = NEURAL_SIDE * NEURAL_SIDE;
  if (model === 'lama') {
    const image = new Float32Array(3 * n);
    const mask = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) image[c * n + i] = f.rgb[i * 3 + c]! / 255;
      mask[i] = f.hole[i]!;
    }
    return { image: float32(image, [1, 3, NEURAL_SIDE, NEURAL_SIDE]), mask: float32(mask, [1, 1, NEURAL_SIDE, NEURAL_SIDE]) };
  }
  const input = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const m = f.hole[i]!;
    input[i] = 0.5 - m;
    for (let c = 0; c < 3; c++) input[(c + 1) * n + i] = m ? 0 : (f.rgb[i * 3 + c]! / 255) * 2 - 1;
  }
  return { input: float32(input, [1, 4, NEURAL_SIDE, NEURAL_SIDE]) };
}

/**
 * The network's RGB planes back to bytes. MI-GAN ends in −1..1. LaMa exports differ in their last
 * step: Carve's bakes in IOPaint's ×255, others stop at the network's 0..1; a bright value above
 * 1.5 anywhere can only be the former, so the scale is read off the output itself.
 */
function toBytes(model: NeuralInpainter, planes: Float32Array, f: Fitted): Uint8Array {
  const n = NEURAL_SIDE * NEURAL_SIDE;
  let scale = 127.5, offset = 127.5;
  if (model === 'lama') {
    let max = 0;
    for (let i = 0; i < planes.length; i++) if (planes[i]! > max) max = planes[i]!;
    [scale, offset] = max > 1.5 ? [1, 0] : [255, 0];
  }
  const out = new Uint8Array(f.width * f.height * 3);
  for (let y = 0; y < f.height; y++) {
    for (let x = 0; x < f.width; x++) {
      const i = y * NEURAL_SIDE + x;
      for (let c = 0; c < 3; c++) out[(y * f.width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(planes[c * n + i]! * scale + offset)));
    }
  }
  return out;
}

/** One work area through LaMa or MI-GAN; the fill comes back at the area's size (the caller keeps only hole pixels). */
export async function inpaintNeural(model: NeuralInpainter, area: Area, runner: ModelRunner, signal: AbortSignal, stats: RunStats): Promise<Uint8Array> {
  const fitted = await fit(area);
  const io = INPAINT_CONTRACTS[model];
  const result = await runner.run(model, feeds(model, fitted), { signal, outputs: [io.output] });
  stats.device = result.device;
  stats.inferenceMs += result.inferenceMs;
  const out = result.outputs[io.output];
  if (!out || out.type !== 'float32' || out.dims.join() !== [1, 3, NEURAL_SIDE, NEURAL_SIDE].join()) {
    throw new AppError('PROCESSING_ERROR', `Model ${model} returned ${out ? `${out.type} [${out.dims.join(',')}]` : `no "${io.output}"`}; expected float32 [1,3,512,512]. Check that MODEL_DIR holds the right ${model}.onnx.`);
  }
  return resizeRgbBytes(toBytes(model, out.data as Float32Array, fitted), fitted.width, fitted.height, area.width, area.height);
}
