import { sharpFromRaw, type RawImage } from '../../image/raw.js';
import { maskAsRaw } from './composite.js';
import type { Mask } from './mask.js';

/**
 * Largest side the mask refinements work at: ISNet's own mask is 1024², and above it their JS
 * loops cost more than they show (the guided filter at 1920×1280: 250–300 ms at full size, ~150 ms here).
 */
export const MAX_WORK_SIDE = 1024;

/** Bilinear resize; a one-channel image stays grey, a colour one loses its alpha. */
export function resizeLinear(raw: RawImage, width: number, height: number): Promise<Buffer> {
  const pipeline = sharpFromRaw(raw).resize(width, height, { fit: 'fill', kernel: 'linear' });
  return (raw.channels === 1 ? pipeline.toColourspace('b-w') : pipeline.removeAlpha()).raw().toBuffer();
}

/**
 * Runs a mask refinement at MAX_WORK_SIDE when the photo is larger, and stretches its result
 * back in libvips; smaller photos are refined as they are.
 */
export async function atWorkSize(photo: RawImage, mask: Mask, refine: (photo: RawImage, mask: Mask, scale: number) => Promise<Mask>): Promise<Mask> {
  const { width: w, height: h } = mask;
  const scale = Math.min(1, MAX_WORK_SIDE / Math.max(w, h));
  if (scale === 1) return refine(photo, mask, 1);
  const [ww, wh] = [Math.max(1, Math.round(w * scale)), Math.max(1, Math.round(h * scale))];
  const small = await refine(
    { data: await resizeLinear(photo, ww, wh), width: ww, height: wh, channels: 3 },
    { data: await resizeLinear(maskAsRaw(mask), ww, wh), width: ww, height: wh },
    scale,
  );
  return { data: await resizeLinear(maskAsRaw(small), w, h), width: w, height: h };
}
