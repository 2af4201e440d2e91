import sharp, { type Sharp } from 'sharp';

/** Interleaved 8-bit pixels, row-major (HWC), sRGB; channels 1 = grey, 3 = RGB, 4 = RGBA. */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** A sharp pipeline over raw pixels already in memory. */
export function sharpFromRaw(raw: RawImage): Sharp {
  return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });
}

export function rawChannels(n: number): RawImage['channels'] {
  if (n === 1 || n === 2 || n === 3 || n === 4) return n;
  throw new RangeError(`raw images have 1 to 4 channels, got ${n}`);
}

/** A Lanczos resize to exactly width × height, channels kept; the same image when it is that size already. */
export async function resizeRaw(image: RawImage, width: number, height: number): Promise<RawImage> {
  if (image.width === width && image.height === height) return image;
  const data = await sharpFromRaw(image).resize(width, height, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer();
  if (data.length !== width * height * image.channels) throw new Error(`resize gave ${data.length} bytes for ${width}×${height}×${image.channels}`);
  return { data, width, height, channels: image.channels };
}

/** The RGB of an image as tightly packed bytes (the raw data itself when it has no alpha). */
export function packedRgb(raw: RawImage): { data: Uint8Array; width: number; height: number } {
  if (raw.channels === 3) return { data: raw.data, width: raw.width, height: raw.height };
  const data = new Uint8Array(raw.width * raw.height * 3);
  for (let i = 0; i < raw.width * raw.height; i++) for (let c = 0; c < 3; c++) data[i * 3 + c] = raw.data[i * raw.channels + c]!;
  return { data, width: raw.width, height: raw.height };
}
