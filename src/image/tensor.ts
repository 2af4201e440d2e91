import type { KernelEnum, Sharp } from 'sharp';
import { elementCount, float32, type TensorLike } from '../models/tensor.js';
import { decoding, openImage } from './decode.js';
import { planResize, type Fit, type ImageTransform, type WidthHeight } from './geometry.js';
import { rawChannels, sharpFromRaw, type RawImage } from './raw.js';
import type { ValidatedImage } from './types.js';

export { boxToOriginal, planResize, toInput, toOriginal } from './geometry.js';
export type { Box, Fit, ImageTransform, WidthHeight } from './geometry.js';

/** Per-channel values always listed red, green, blue, whatever the model's channel order. */
export type RGB = readonly [r: number, g: number, b: number];

/**
 * How one model wants its input, transformers.js-style: resize, then per value
 * `(pixel × scale − mean) / std`, written in `channelOrder` and `layout`.
 */
export interface PreprocessSpec {
  size: WidthHeight;
  fit: Fit;
  /** Letterbox colour for 'contain', 0–255; default black. */
  padColor?: RGB;
  channelOrder: 'RGB' | 'BGR';
  layout: 'NCHW' | 'NHWC';
  /** Applied to the 0–255 value first, e.g. 1/255. */
  scale: number;
  mean: RGB;
  std: RGB;
  /** One luminance channel; mean[0] and std[0] apply to it. */
  grayscale?: boolean;
  /** Resampling kernel; default sharp's lanczos3. 'linear' is TF's ResizeBilinear, ~2 ms cheaper at 640→512. */
  kernel?: keyof KernelEnum;
}

export interface Preprocessed {
  tensor: TensorLike;
  originalSize: WidthHeight;
  inputSize: WidthHeight;
  transform: ImageTransform;
}

export type ImageInput = ValidatedImage | RawImage;

function isRaw(input: ImageInput): input is RawImage {
  return 'data' in input;
}

function sourcePipeline(input: ImageInput): Sharp {
  return (isRaw(input) ? sharpFromRaw(input) : openImage(input)).toColourspace('srgb');
}

/** Resize, letterbox or crop in libvips (native threads); only the float conversion runs in JS. */
async function resizeForModel(input: ImageInput, spec: PreprocessSpec): Promise<{ raw: RawImage; transform: ImageTransform }> {
  const original = { width: input.width, height: input.height };
  const { resized, transform } = planResize(original, spec.size, spec.fit);
  const pipeline = sourcePipeline(input).removeAlpha();
  if (resized.width !== original.width || resized.height !== original.height) {
    pipeline.resize(resized.width, resized.height, { fit: 'fill', ...(spec.kernel ? { kernel: spec.kernel } : {}) });
  }
  if (spec.fit === 'contain' && (transform.padX > 0 || transform.padY > 0)) {
    const [r, g, b] = spec.padColor ?? [0, 0, 0];
    pipeline.extend({
      left: transform.padX,
      top: transform.padY,
      right: spec.size.width - resized.width - transform.padX,
      bottom: spec.size.height - resized.height - transform.padY,
      background: { r, g, b },
    });
  }
  if (spec.fit === 'cover') {
    pipeline.extract({ left: -transform.padX, top: -transform.padY, ...spec.size });
  }
  if (spec.grayscale) pipeline.grayscale();
  const { data, info } = await decoding(pipeline.raw().toBuffer({ resolveWithObject: true }));
  return { raw: { data, width: info.width, height: info.height, channels: rawChannels(info.channels) }, transform };
}

/**
 * Interleaved 8-bit pixels → normalised float32, one pass: `out = pixel × mul[c] + add[c]` with
 * mul = scale/std and add = −mean/std folded per output channel beforehand.
 */
export function pixelsToFloat(raw: RawImage, spec: Pick<PreprocessSpec, 'channelOrder' | 'layout' | 'scale' | 'mean' | 'std'>): Float32Array {
  const { data, channels } = raw;
  if (channels !== 1 && channels !== 3) throw new RangeError(`expected 1 or 3 channels, got ${channels}`);
  // Raw 0–255 values in interleaved RGB (centernet's input): a plain widening, 9× faster than the loop.
  const identity = spec.scale === 1 && spec.mean.every((m) => m === 0) && spec.std.every((d) => d === 1);
  if (identity && (channels === 1 || (spec.layout === 'NHWC' && spec.channelOrder === 'RGB'))) return Float32Array.from(data);
  const hw = raw.width * raw.height;
  const out = new Float32Array(hw * channels);
  const planar = spec.layout === 'NCHW';
  const stride = planar ? 1 : channels;
  const mul = [0, 0, 0];
  const add = [0, 0, 0];
  const src = [0, 0, 0];
  const dst = [0, 0, 0];
  for (let c = 0; c < channels; c++) {
    // RGB index of the colour written to output channel c
    const colour = spec.channelOrder === 'BGR' && channels === 3 ? 2 - c : c;
    mul[c] = spec.scale / spec.std[colour]!;
    add[c] = -spec.mean[colour]! / spec.std[colour]!;
    src[c] = colour;
    dst[c] = planar ? c * hw : c;
  }
  const [m0, m1, m2] = mul as [number, number, number];
  const [a0, a1, a2] = add as [number, number, number];
  const [s0, s1, s2] = src as [number, number, number];
  const [d0, d1, d2] = dst as [number, number, number];
  if (channels === 1) {
    for (let i = 0; i < hw; i++) out[i] = data[i]! * m0 + a0;
    return out;
  }
  for (let i = 0, p = 0, o = 0; i < hw; i++, p += 3, o += stride) {
    out[o + d0] = data[p + s0]! * m0 + a0;
    out[o + d1] = data[p + s1]! * m1 + a1;
    out[o + d2] = data[p + s2]! * m2 + a2;
  }
  return out;
}

/** Image → model input tensor plus what postprocessing needs to map results back. */
export async function imageToTensor(input: ImageInput, spec: PreprocessSpec): Promise<Preprocessed> {
  const { raw, transform } = await resizeForModel(input, spec);
  const data = pixelsToFloat(raw, spec);
  const c = raw.channels;
  const dims = spec.layout === 'NCHW' ? [1, c, raw.height, raw.width] : [1, raw.height, raw.width, c];
  return {
    tensor: float32(data, dims),
    originalSize: { width: input.width, height: input.height },
    inputSize: { width: raw.width, height: raw.height },
    transform,
  };
}

export interface TensorToRawOptions {
  /** Multiplies each value, e.g. 255 for a model that outputs 0–1. Default 255. */
  scale?: number;
  /** Added after scaling, e.g. 127.5 with scale 127.5 for a −1…1 output. Default 0. */
  offset?: number;
  /** Clamps each value before scaling, e.g. [0, 1]. Results always saturate to 0–255. */
  clamp?: readonly [min: number, max: number];
  /** Channel order of the tensor; output is always RGB(A). Default 'RGB'. */
  channelOrder?: 'RGB' | 'BGR';
}

/** [C, H, W] of a float NCHW tensor with a batch of one (or no batch axis). */
function chwOf(tensor: TensorLike): [c: number, h: number, w: number] {
  const dims = tensor.dims.length === 4 ? tensor.dims.slice(1) : tensor.dims;
  const batchOfOne = tensor.dims.length === 3 || tensor.dims[0] === 1;
  if (tensor.type !== 'float32' || dims.length !== 3 || !batchOfOne || tensor.data.length !== elementCount(dims)) {
    throw new RangeError(`expected a float32 [1, C, H, W] tensor, got ${tensor.type} [${tensor.dims.join(', ')}]`);
  }
  return dims as [number, number, number];
}

/**
 * Float NCHW image tensor → interleaved 8-bit RGB(A). Uint8ClampedArray does the rounding and
 * saturation, so the inner loop is one multiply-add per value.
 */
export function tensorToRaw(tensor: TensorLike, opts: TensorToRawOptions = {}): RawImage {
  const [c, h, w] = chwOf(tensor);
  const channels = rawChannels(c);
  const { scale = 255, offset = 0, clamp, channelOrder = 'RGB' } = opts;
  const src = tensor.data as Float32Array;
  const hw = h * w;
  const out = Buffer.allocUnsafe(hw * c);
  const view = new Uint8ClampedArray(out.buffer, out.byteOffset, out.length);
  const [lo, hi] = clamp ?? [-Infinity, Infinity];
  for (let ch = 0; ch < c; ch++) {
    const d = channelOrder === 'BGR' && ch < 3 && c >= 3 ? 2 - ch : ch;
    const base = ch * hw;
    for (let i = 0, o = d; i < hw; i++, o += c) {
      const v = src[base + i]!;
      view[o] = (v < lo ? lo : v > hi ? hi : v) * scale + offset;
    }
  }
  return { data: out, width: w, height: h, channels };
}

export interface MaskOptions {
  /** 'minmax' stretches the mask's own range to 0–255 (ISNet/RMBG-style outputs); 'none' maps 0–1 → 0–255. */
  normalize?: 'none' | 'minmax';
  invert?: boolean;
}

/** A single-channel float mask ([1,1,H,W], [1,H,W] or [H,W]) → 8-bit greyscale raw, e.g. an alpha plane. */
export function maskToAlpha(tensor: TensorLike, opts: MaskOptions = {}): RawImage {
  const dims = tensor.dims;
  const h = dims[dims.length - 2] ?? 0;
  const w = dims[dims.length - 1] ?? 0;
  if (tensor.type !== 'float32' || dims.length < 2 || dims.slice(0, -2).some((d) => d !== 1) || tensor.data.length !== h * w) {
    throw new RangeError(`expected a float32 [1, 1, H, W] mask, got ${tensor.type} [${dims.join(', ')}]`);
  }
  const src = tensor.data as Float32Array;
  let min = 0;
  let max = 1;
  if (opts.normalize === 'minmax') {
    min = Infinity;
    max = -Infinity;
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const span = max - min || 1;
  const mul = (opts.invert ? -255 : 255) / span;
  const add = opts.invert ? 255 + (min * 255) / span : (-min * 255) / span;
  const out = Buffer.allocUnsafe(h * w);
  const view = new Uint8ClampedArray(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < view.length; i++) view[i] = src[i]! * mul + add;
  return { data: out, width: w, height: h, channels: 1 };
}
