import sharp from 'sharp';

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

/** RGB pixels resized (cubic) to width × height. */
export async function resizeRgbBytes(rgb: Uint8Array, w: number, h: number, width: number, height: number): Promise<Uint8Array> {
  if (w === width && h === height) return rgb;
  return bytes(await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).resize(width, height, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer());
}
