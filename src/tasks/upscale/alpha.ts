import { sharpFromRaw, type RawImage } from '../../image/raw.js';

/**
 * Re-attaches the source's alpha to the upscaled RGB: the plane is resampled with Lanczos (alpha is
 * not worth a model pass). Both steps run in libvips' threads; the output can be 64 MP, far too
 * large for a per-pixel loop on the main thread.
 */
export async function withSourceAlpha(source: RawImage, rgb: RawImage): Promise<RawImage> {
  if (source.channels !== 4) return rgb;
  const { width, height } = rgb;
  const alpha = await sharpFromRaw(source).extractChannel(3).resize(width, height, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer();
  if (alpha.length !== width * height) throw new Error(`alpha resize gave ${alpha.length} bytes for ${width}×${height}`);
  const data = await sharpFromRaw(rgb).joinChannel(alpha, { raw: { width, height, channels: 1 } }).raw().toBuffer();
  return { data, width, height, channels: 4 };
}
