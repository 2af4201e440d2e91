import sharp from 'sharp';
import { AppError } from '../errors.js';
import { detectFormat } from './detect-format.js';
import { looksTruncated } from './truncation.js';
import type { ValidatedImage } from './types.js';

export interface ImageLimits {
  /** Bytes of one encoded image (MAX_FILE_SIZE). */
  maxFileSize: number;
  /** width × height read from the header (MAX_IMAGE_PIXELS). */
  maxPixels: number;
}

interface HeaderInfo {
  width: number;
  height: number;
  hasAlpha: boolean;
}

/**
 * Header only: sharp's metadata() parses IHDR/SOF/VP8X without decoding pixels (≈1 ms on the
 * fixtures), so a 30000² PNG bomb costs nothing here. Its own pixel limit is switched off because
 * we apply ours with a better message; decoding later sets limitInputPixels.
 */
async function readHeader(buf: Buffer): Promise<HeaderInfo> {
  try {
    const meta = await sharp(buf, { limitInputPixels: false }).metadata();
    return { width: meta.autoOrient.width, height: meta.autoOrient.height, hasAlpha: meta.hasAlpha };
  } catch (err) {
    throw new AppError('INVALID_IMAGE', 'The image header is corrupt or unreadable; send a valid JPEG, PNG or WebP file.', {
      cause: err,
    });
  }
}

function checkFileSize(buf: Buffer, maxFileSize: number): void {
  if (buf.length <= maxFileSize) return;
  throw new AppError(
    'PAYLOAD_TOO_LARGE',
    `The image is ${buf.length} bytes, over the limit of ${maxFileSize} bytes; send a smaller or more compressed file.`,
    { details: { sizeBytes: buf.length, limitBytes: maxFileSize } },
  );
}

function checkDimensions({ width, height }: HeaderInfo, maxPixels: number): void {
  if (!(width > 0 && height > 0)) {
    throw new AppError('INVALID_IMAGE', `The image header declares ${width}×${height} pixels; the file is corrupt.`);
  }
  const pixels = width * height;
  if (pixels <= maxPixels) return;
  throw new AppError(
    'IMAGE_TOO_LARGE',
    `The image is ${width}×${height} (${pixels} pixels), over the limit of ${maxPixels} pixels; downscale it first.`,
    { details: { width, height, pixels, maxPixels } },
  );
}

/**
 * Intake checks, cheapest first, none of which decodes pixels: byte size, real type by magic
 * bytes, the format's end marker (catches files cut short), header dimensions against the pixel
 * limit. Corruption inside the compressed data surfaces at decode time as INVALID_IMAGE; a full
 * decode here would double the decode cost of every request (bench/image-intake.ts).
 */
export async function validateImage(buffer: Buffer, limits: ImageLimits): Promise<ValidatedImage> {
  checkFileSize(buffer, limits.maxFileSize);
  const format = detectFormat(buffer);
  if (looksTruncated(buffer, format)) {
    throw new AppError('INVALID_IMAGE', `The ${format.toUpperCase()} data is truncated (its end marker is missing); send the complete file.`);
  }
  const header = await readHeader(buffer);
  checkDimensions(header, limits.maxPixels);
  return { buffer, format, width: header.width, height: header.height, hasAlpha: header.hasAlpha };
}
