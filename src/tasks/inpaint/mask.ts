import sharp from 'sharp';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { decoding, openImage } from '../../image/decode.js';
import type { ValidatedImage } from '../../image/types.js';

export const MaskBox = z.strictObject({
  x: z.number(),
  y: z.number(),
  width: z.number().positive(),
  height: z.number().positive(),
}).describe('A rectangle to erase in image pixels (the shape detect-objects returns, so its boxes can be sent as they are).');

export const MaskStroke = z.strictObject({
  points: z.array(z.strictObject({ x: z.number(), y: z.number() })).min(1).max(10_000),
  width: z.number().positive().max(2000).default(24).describe('Brush diameter in image pixels.'),
}).describe('A brush stroke through these points (one point is a dot).');

export type MaskBox = z.output<typeof MaskBox>;
export type MaskStroke = z.output<typeof MaskStroke>;

/** w×h, 1 where the image is to be filled. */
export interface HoleMask {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * The mask image as the editor draws it: white (or any light value) marks what to erase, black
 * what to keep; transparency counts as keep. Any size: it is stretched onto the image.
 */
async function maskFromImage(mask: ValidatedImage, width: number, height: number): Promise<Uint8Array> {
  const grey = await decoding(openImage(mask)
    .flatten({ background: '#000000' })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .greyscale()
    .raw()
    .toBuffer());
  return Uint8Array.from(grey, (v) => (v > 127 ? 1 : 0));
}

function fillBox(hole: Uint8Array, w: number, h: number, b: MaskBox): void {
  const x0 = Math.max(0, Math.floor(b.x)), y0 = Math.max(0, Math.floor(b.y));
  const x1 = Math.min(w, Math.ceil(b.x + b.width)), y1 = Math.min(h, Math.ceil(b.y + b.height));
  for (let y = y0; y < y1; y++) hole.fill(1, y * w + x0, y * w + Math.max(x0, x1));
}

/** Every pixel whose centre lies within width/2 of the polyline (round caps and joins). */
function fillStroke(hole: Uint8Array, w: number, h: number, s: MaskStroke): void {
  const r = s.width / 2;
  const pts = s.points.length === 1 ? [s.points[0]!, s.points[0]!] : s.points;
  for (let k = 0; k + 1 < pts.length; k++) {
    const a = pts[k]!, b = pts[k + 1]!;
    const dx = b.x - a.x, dy = b.y - a.y;
    const len2 = dx * dx + dy * dy;
    const x0 = Math.max(0, Math.floor(Math.min(a.x, b.x) - r)), x1 = Math.min(w - 1, Math.ceil(Math.max(a.x, b.x) + r));
    const y0 = Math.max(0, Math.floor(Math.min(a.y, b.y) - r)), y1 = Math.min(h - 1, Math.ceil(Math.max(a.y, b.y) + r));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const px = x + 0.5 - a.x, py = y + 0.5 - a.y;
        const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, (px * dx + py * dy) / len2));
        const ex = px - t * dx, ey = py - t * dy;
        if (ex * ex + ey * ey <= r * r) hole[y * w + x] = 1;
      }
    }
  }
}

export interface MaskSources {
  image?: ValidatedImage;
  boxes?: readonly MaskBox[];
  strokes?: readonly MaskStroke[];
}

/** The union of the mask image, the boxes and the strokes, at the image's size. */
export async function buildHoleMask(src: MaskSources, width: number, height: number): Promise<HoleMask> {
  if (!src.image && !src.boxes?.length && !src.strokes?.length) {
    throw new AppError('INVALID_REQUEST', 'Say what to erase: a "mask" image (white = erase), options.boxes or options.strokes.', { details: { field: 'mask' } });
  }
  const data = src.image ? await maskFromImage(src.image, width, height) : new Uint8Array(width * height);
  for (const b of src.boxes ?? []) fillBox(data, width, height, b);
  for (const s of src.strokes ?? []) fillStroke(data, width, height, s);
  return { data, width, height };
}

/** A mask as a white-on-black PNG (for `returnMask` and for debugging a client's strokes). */
export function maskPng(mask: HoleMask): Promise<Buffer> {
  return sharp(Buffer.from(mask.data.map((v) => v * 255)), { raw: { width: mask.width, height: mask.height, channels: 1 } }).png().toBuffer();
}
