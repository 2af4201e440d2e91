import { sharpFromRaw, type RawImage } from '../../image/raw.js';

/** Channel `c` of interleaved pixels as a one-channel image. */
export function takeChannel(raw: RawImage, c: number): RawImage {
  const n = raw.width * raw.height;
  const out = Buffer.allocUnsafe(n);
  const { data, channels } = raw;
  for (let i = 0, s = c; i < n; i++, s += channels) out[i] = data[s] as number;
  return { data: out, width: raw.width, height: raw.height, channels: 1 };
}

/**
 * Resamples a one-channel image with Lanczos (alpha is not worth a model pass). sharp turns a
 * one-channel raw input into sRGB on output, hence extractChannel.
 */
export async function resizeChannel(plane: RawImage, width: number, height: number): Promise<RawImage> {
  const data = await sharpFromRaw(plane).resize(width, height, { kernel: 'lanczos3', fit: 'fill' }).extractChannel(0).raw().toBuffer();
  if (data.length !== width * height) throw new Error(`alpha resize gave ${data.length} bytes for ${width}×${height}`);
  return { data, width, height, channels: 1 };
}

/** RGB + a same-sized alpha plane → RGBA. */
export function attachAlpha(rgb: RawImage, alpha: RawImage): RawImage {
  if (rgb.width !== alpha.width || rgb.height !== alpha.height) {
    throw new Error(`alpha ${alpha.width}×${alpha.height} does not match RGB ${rgb.width}×${rgb.height}`);
  }
  const n = rgb.width * rgb.height;
  const out = Buffer.allocUnsafe(n * 4);
  const src = rgb.data;
  const a = alpha.data;
  for (let i = 0, s = 0, d = 0; i < n; i++, s += 3, d += 4) {
    out[d] = src[s] as number;
    out[d + 1] = src[s + 1] as number;
    out[d + 2] = src[s + 2] as number;
    out[d + 3] = a[i] as number;
  }
  return { data: out, width: rgb.width, height: rgb.height, channels: 4 };
}
