import { AppError } from '../errors.js';
import { sharpFromRaw, type RawImage } from './raw.js';
import type { ImageFormat } from './types.js';

export interface EncodeOptions {
  /** 1–100 for JPEG and WebP (default 90); ignored for PNG, which is lossless. */
  quality?: number;
}

export const DEFAULT_QUALITY = 90;

/** JPEG has no alpha channel: transparent pixels become white, as in most editors' JPEG export. */
const JPEG_MATTE = { r: 255, g: 255, b: 255 };

function checkQuality(quality: number): void {
  if (Number.isInteger(quality) && quality >= 1 && quality <= 100) return;
  throw new AppError('INVALID_OPTIONS', `quality must be a whole number from 1 to 100, got ${quality}.`);
}

/** Encodes raw pixels; alpha is kept for PNG and WebP (lossless alpha plane). */
export async function encodeImage(raw: RawImage, format: ImageFormat, opts: EncodeOptions = {}): Promise<Buffer> {
  const quality = opts.quality ?? DEFAULT_QUALITY;
  checkQuality(quality);
  const pipeline = sharpFromRaw(raw);
  switch (format) {
    case 'png':
      return pipeline.png({ compressionLevel: 6 }).toBuffer();
    case 'webp':
      return pipeline.webp({ quality, alphaQuality: 100 }).toBuffer();
    case 'jpeg':
      return pipeline.flatten({ background: JPEG_MATTE }).jpeg({ quality, mozjpeg: false }).toBuffer();
  }
}

export const MIME_TYPES: Record<ImageFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
};
