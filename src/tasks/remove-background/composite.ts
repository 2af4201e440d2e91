import sharp from 'sharp';
import { sharpFromRaw, type RawImage } from '../../image/raw.js';
import type { Mask } from './mask.js';
import type { Rgba } from './models.js';

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Writes the mask into the alpha channel of a decoded RGBA image, in place. An image that already
 * had transparency keeps it: the result's alpha is the product, so a transparent pixel never
 * becomes opaque.
 */
export function applyAlpha(rgba: RawImage, mask: Mask, keepOriginalAlpha: boolean): void {
  const { data } = rgba;
  const alpha = mask.data;
  if (keepOriginalAlpha) {
    for (let i = 0, j = 3; i < alpha.length; i++, j += 4) data[j] = (data[j]! * alpha[i]! + 127) / 255;
  } else {
    for (let i = 0, j = 3; i < alpha.length; i++, j += 4) data[j] = alpha[i]!;
  }
}

/** The alpha channel of an RGBA image as a mask. */
export function alphaOf(rgba: RawImage): Mask {
  const data = new Uint8Array(rgba.width * rgba.height);
  for (let i = 0, j = 3; i < data.length; i++, j += 4) data[i] = rgba.data[j]!;
  return { data, width: rgba.width, height: rgba.height };
}

export function maskAsRaw(mask: Mask): RawImage {
  const data = Buffer.from(mask.data.buffer, mask.data.byteOffset, mask.data.byteLength);
  return { data, width: mask.width, height: mask.height, channels: 1 };
}

/** The cut-out over a solid colour: an opaque RGB image, composited by libvips off the main thread. */
/**
 * The cut-out over a solid colour: opaque RGB for an opaque colour; for a translucent one the
 * "over" composite onto that RGBA canvas (rembg's bgcolor with alpha).
 */
export async function fillBackground(rgba: RawImage, [r, g, b, a]: Rgba): Promise<RawImage> {
  const { width, height } = rgba;
  if (a === 255) {
    const data = await sharpFromRaw(rgba).flatten({ background: { r, g, b } }).raw().toBuffer();
    return { data, width, height, channels: 3 };
  }
  const data = await sharp({ create: { width, height, channels: 4, background: { r, g, b, alpha: a / 255 } } })
    .composite([{ input: rgba.data, raw: { width, height, channels: 4 } }])
    .raw()
    .toBuffer();
  return { data, width, height, channels: 4 };
}

function rowHasSubject(alpha: Uint8Array, start: number, width: number, minAlpha: number): boolean {
  for (let x = start, end = start + width; x < end; x++) if (alpha[x]! >= minAlpha) return true;
  return false;
}

/** The bounding box of pixels with alpha ≥ minAlpha; undefined when there are none. */
export function subjectBounds(mask: Mask, minAlpha: number): Box | undefined {
  const { data, width, height } = mask;
  let top = 0;
  while (top < height && !rowHasSubject(data, top * width, width, minAlpha)) top++;
  if (top === height) return undefined;
  let bottom = height - 1;
  while (!rowHasSubject(data, bottom * width, width, minAlpha)) bottom--;
  let left = width;
  let right = -1;
  for (let y = top; y <= bottom; y++) {
    const row = y * width;
    for (let x = 0; x < left; x++) if (data[row + x]! >= minAlpha) { left = x; break; }
    for (let x = width - 1; x > right; x--) if (data[row + x]! >= minAlpha) { right = x; break; }
  }
  return { left, top, width: right - left + 1, height: bottom - top + 1 };
}

/** Copies a box out of an interleaved raw image, one row at a time. */
export function cropRaw<T extends { data: Uint8Array; width: number; height: number }>(image: T, channels: number, box: Box): T {
  const rowBytes = box.width * channels;
  const out = Buffer.allocUnsafe(rowBytes * box.height);
  const src = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  for (let y = 0; y < box.height; y++) {
    const from = ((box.top + y) * image.width + box.left) * channels;
    src.copy(out, y * rowBytes, from, from + rowBytes);
  }
  return { ...image, data: out, width: box.width, height: box.height };
}
