import { sharpFromRaw, type RawImage } from '../../image/raw.js';
import { pixelsToFloat } from '../../image/tensor.js';
import { float32, type TensorLike } from '../../models/tensor.js';
import type { SegmentationModelSpec } from './models.js';

/** Pixels in HWC order, RGB, at the model's input size. */
async function resizeToInput(image: RawImage, spec: SegmentationModelSpec): Promise<RawImage> {
  const [height, width] = spec.inputSize;
  // Stretched, not letterboxed: both references resize straight to the square input, and the
  // mask is stretched back the same way, so aspect ratio survives the round trip.
  const data = await sharpFromRaw(image).removeAlpha().resize(width, height, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  return { data, width, height, channels: 3 };
}

function brightest(rgb: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < rgb.length; i++) if (rgb[i]! > max) max = rgb[i]!;
  return max;
}

/** HWC 8-bit RGB → float32 in the model's layout (planar CHW unless NHWC), `(x·gain − mean) / std` per channel. */
export function normalisePlanar(rgb: RawImage, spec: SegmentationModelSpec): Float32Array {
  const gain = spec.stretchToMax ? 255 / Math.max(brightest(rgb.data), 1) : 1;
  return pixelsToFloat(rgb, { channelOrder: 'RGB', layout: spec.layout ?? 'NCHW', scale: gain, mean: spec.mean, std: spec.std });
}

/** The model's input tensor, [1, 3, H, W] (or [1, H, W, 3]), from the decoded full-size image. */
export async function toModelInput(image: RawImage, spec: SegmentationModelSpec): Promise<TensorLike> {
  const [height, width] = spec.inputSize;
  const rgb = await resizeToInput(image, spec);
  return float32(normalisePlanar(rgb, spec), spec.layout === 'NHWC' ? [1, height, width, 3] : [1, 3, height, width]);
}
