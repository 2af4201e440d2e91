import sharp, { type Sharp } from 'sharp';
import { AppError } from '../errors.js';
import { rawChannels, type RawImage } from './raw.js';
import type { ValidatedImage } from './types.js';

export interface DecodeOptions {
  /** 3 drops alpha, 4 adds an opaque one; default: 4 if the image has alpha, else 3. */
  channels?: 3 | 4;
}

/**
 * A sharp pipeline over a validated image: EXIF orientation applied, libvips' pixel limit set to
 * the header's own pixel count (already within MAX_IMAGE_PIXELS), so a file whose data claims more
 * than its header cannot inflate. failOn 'error' refuses truncated or undecodable data but, like
 * browsers, tolerates libjpeg warnings ("extraneous bytes before marker", Samsung's bad SOS
 * parameters: lovell/sharp#1578, #3488), which the default 'warning' would reject.
 */
export function openImage(img: ValidatedImage): Sharp {
  return sharp(img.buffer, { failOn: 'error', limitInputPixels: img.width * img.height, autoOrient: true });
}

/** Runs a sharp step over client data; its failures mean the data is bad, not the server. */
export async function decoding<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw new AppError('INVALID_IMAGE', 'The image data is corrupt or truncated and cannot be decoded; send a valid file.', {
      cause: err,
    });
  }
}

/** Decodes to interleaved 8-bit sRGB(A) pixels, oriented as the viewer sees them. */
export async function decodeRaw(img: ValidatedImage, opts: DecodeOptions = {}): Promise<RawImage> {
  const channels = opts.channels ?? (img.hasAlpha ? 4 : 3);
  const pipeline = openImage(img).toColourspace('srgb');
  if (channels === 4) pipeline.ensureAlpha();
  else pipeline.removeAlpha();
  const { data, info } = await decoding(pipeline.raw().toBuffer({ resolveWithObject: true }));
  return { data, width: info.width, height: info.height, channels: rawChannels(info.channels) };
}
