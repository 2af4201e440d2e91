import sharp, { type Sharp } from 'sharp';
import { maskToAlpha } from '../../image/tensor.js';
import { float32, type TensorLike } from '../../models/tensor.js';
import type { RawImage } from '../../image/raw.js';
import { binarizeMask } from './binarize.js';
import { refineGuided } from './guided.js';
import { alphaMatte, type AlphaMattingOptions } from './matting.js';
import type { SegmentationModelSpec } from './models.js';

/** A one-channel 8-bit mask, row-major; 255 = subject. */
export interface Mask {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * sharp over a one-channel mask. sharp 0.35 writes sRGB unless told otherwise, which would triple
 * a mask's channels; 'b-w' keeps it one channel.
 */
export function sharpMask(mask: Mask): Sharp {
  return sharp(mask.data, { raw: { width: mask.width, height: mask.height, channels: 1 } }).toColourspace('b-w');
}

export interface MaskPostProcessing {
  /** rembg's post_process_mask: opening, blur, hard cut (binarize.ts), right after the stretch. */
  binarize?: boolean;
  /** Refine the stretched mask against this photo (the guided filter, guided.ts). */
  guide?: RawImage;
  /** Replace the mask's uncertain band by a matting solve against this photo (matting.ts). */
  matting?: { photo: RawImage; options: AlphaMattingOptions };
  smoothEdges: boolean;
  featherRadius: number;
  /** 0..1; undefined keeps the soft mask. */
  alphaThreshold?: number | undefined;
}

/** A channels-last output ([1,H,W,1] probabilities, [1,H,W,2] background/foreground logits) as one [1,1,H,W] probability plane. */
function probabilityPlane(output: TensorLike, spec: Pick<SegmentationModelSpec, 'layout' | 'output'>): TensorLike {
  if (spec.layout !== 'NHWC') return output;
  const [, h, w, c] = output.dims as [number, number, number, number];
  const src = output.data as Float32Array;
  if (spec.output !== 'two-class-logits') return float32(src, [1, 1, h, w]);
  if (c !== 2) throw new RangeError(`expected [1, H, W, 2] logits, got [${output.dims.join(', ')}]`);
  const p = new Float32Array(h * w);
  for (let i = 0; i < p.length; i++) p[i] = 1 / (1 + Math.exp(src[2 * i]! - src[2 * i + 1]!));
  return float32(p, [1, 1, h, w]);
}

/** The model's raw output → a 0..255 mask at the model's resolution, scaled as the model's reference does. */
export function maskFromOutput(output: TensorLike, spec: Pick<SegmentationModelSpec, 'maskScaling' | 'layout' | 'output'>): Mask {
  const { data, width, height } = maskToAlpha(probabilityPlane(output, spec), { normalize: spec.maskScaling === 'minmax' ? 'minmax' : 'none' });
  return { data, width, height };
}

/** Stretches the mask to the original image size (bilinear, as the reference does). */
export async function resizeMask(mask: Mask, width: number, height: number): Promise<Mask> {
  if (mask.width === width && mask.height === height) return mask;
  const data = await sharpMask(mask)
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return { data, width, height };
}

export function thresholdMask(mask: Mask, threshold: number): Mask {
  const cut = Math.round(threshold * 255);
  const data = new Uint8Array(mask.data.length);
  for (let i = 0; i < data.length; i++) data[i] = mask.data[i]! >= cut ? 255 : 0;
  return { ...mask, data };
}

/**
 * Gaussian sigma for the edge softening. smoothEdges hides the staircase left by stretching a
 * 1024² mask over a larger photo (steps of `scale` pixels); the feather radius is ~2σ, so pixels
 * farther than `featherRadius` from the edge keep their value. Gaussians compose by adding variances.
 */
export function blurSigma(post: MaskPostProcessing, scale: number): number {
  const smooth = post.smoothEdges ? Math.max(1, scale / 2) : 0;
  const feather = post.featherRadius / 2;
  return Math.sqrt(smooth * smooth + feather * feather);
}

async function blurMask(mask: Mask, sigma: number): Promise<Mask> {
  const data = await sharpMask(mask)
    .blur(sigma)
    .raw()
    .toBuffer();
  return { ...mask, data };
}

/**
 * The model-resolution mask → the final alpha at the original size: stretch, the optional
 * clean-up and refinement, then the optional hard cut, then the optional softening (so a
 * threshold plus a feather gives a clean, soft edge).
 */
export async function finishMask(mask: Mask, width: number, height: number, post: MaskPostProcessing): Promise<Mask> {
  let out = await resizeMask(mask, width, height);
  if (post.binarize) out = binarizeMask(out);
  if (post.guide) out = await refineGuided(post.guide, out);
  if (post.matting) out = await alphaMatte(post.matting.photo, out, post.matting.options);
  if (post.alphaThreshold !== undefined) out = thresholdMask(out, post.alphaThreshold);
  const scale = Math.max(width / mask.width, height / mask.height);
  const sigma = blurSigma(post, scale);
  // libvips refuses sigma below ~0.3 (a kernel of one pixel): nothing to soften.
  if (sigma >= 0.3) out = await blurMask(out, sigma);
  return out;
}
