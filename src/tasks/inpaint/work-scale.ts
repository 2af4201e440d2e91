import sharp from 'sharp';
import { resizeRaw } from '../../image/raw.js';

/** A work area's pixels and hole at one size. */
export interface Area {
  rgb: Uint8Array;
  hole: Uint8Array;
  width: number;
  height: number;
}

const bytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.length);

/**
 * The area at width × height. A downscaled pixel any part of which was a hole stays a hole, so
 * the fill, scaled back, covers every hole pixel of the original.
 */
export async function scaleArea(a: Area, width: number, height: number): Promise<Area> {
  if (a.width === width && a.height === height) return a;
  const rgb = await sharp(a.rgb, { raw: { width: a.width, height: a.height, channels: 3 } }).resize(width, height, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
  const hole = await sharp(Buffer.from(a.hole.map((v) => v * 255)), { raw: { width: a.width, height: a.height, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  return { rgb: bytes(rgb), hole: Uint8Array.from(hole, (v) => (v > 0 ? 1 : 0)), width, height };
}

/**
 * Runs `fill` on the area brought down to `limit` on its longest side (as it is when smaller) and
 * brings the fill back to the area's size.
 */
export async function atMostSide(area: Area, limit: number, fill: (work: Area) => Promise<Uint8Array>): Promise<Uint8Array> {
  const k = Math.min(1, limit / Math.max(area.width, area.height));
  const work = await scaleArea(area, Math.max(1, Math.round(area.width * k)), Math.max(1, Math.round(area.height * k)));
  return rgbAt(await fill(work), work.width, work.height, area.width, area.height);
}

/** RGB bytes at width × height (resizeRaw's Lanczos), the same bytes when already that size. */
export async function rgbAt(rgb: Uint8Array, w: number, h: number, width: number, height: number): Promise<Uint8Array> {
  const raw = await resizeRaw({ data: Buffer.from(rgb.buffer, rgb.byteOffset, rgb.length), width: w, height: h, channels: 3 }, width, height);
  return bytes(raw.data);
}
