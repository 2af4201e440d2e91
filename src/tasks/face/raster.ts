import sharp from 'sharp';
import { decoding, openImage } from '../../image/decode.js';
import type { ValidatedImage } from '../../image/types.js';
import type { Rect } from './geometry.js';

/**
 * Decoded pixels, 3 channels RGB interleaved (HWC). Face crops are small (≤ 224²), so they are
 * resampled here with tight loops straight from this buffer: a sharp pipeline per crop costs
 * ≈0.5 ms of setup each (measured in bench/faces.ts), more than the resampling itself.
 */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Longest side faces are analysed at. The detector sees 320×240, so a face it can find is at least
 * ≈ 1/30 of the image; at 2048 px such a face is still ≥ 64 px, enough for every per-face model
 * (the largest input is 224), while a 40 MP upload would otherwise decode to 120 MB of RGB.
 */
export const MAX_ANALYSIS_SIDE = 2048;

/**
 * Longest side when only boxes are wanted: twice the detector's 320 px input, so detection sees
 * the same pixels, while JPEG shrink-on-load decodes the 1920 px fixture in 17 ms instead of 27.
 */
export const DETECT_ONLY_SIDE = 640;

export interface DecodedForFaces {
  img: RgbImage;
  /** Original pixels per analysed pixel (≥ 1): multiply coordinates by it to report them. */
  scale: number;
  original: { width: number; height: number };
}

/** Decodes a validated image to RGB, EXIF orientation applied, alpha dropped, capped in size. */
export async function decodeRgb(image: ValidatedImage, maxSide = MAX_ANALYSIS_SIDE): Promise<DecodedForFaces> {
  const { data, info } = await decoding(openImage(image)
    .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true }));
  const img = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  return { img, scale: image.width / info.width, original: { width: image.width, height: image.height } };
}

/** Resizes the whole image with sharp (proper area filtering for the big downscale to the detector). */
export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
}

/**
 * Row-major 2×3 affine matrix [a, b, c, d, e, f] mapping (x, y) → (a·x + b·y + c, d·x + e·y + f).
 */
export type Affine = [number, number, number, number, number, number];

/**
 * Bilinear warp: each output pixel centre (dx, dy) samples the source at `dstToSrc(dx, dy)`;
 * samples outside the image are black, as in OpenCV's warpAffine with a constant border.
 *
 * A row whose samples all fall inside the image (the affine map is linear along a row, so its two
 * ends decide) takes a loop without border checks: face crops are mostly interior, and this loop
 * is ~2× faster than the checked one (3 faces × 5 crops: 2.3 → ~1 ms a request).
 */
export function warp(img: RgbImage, dstToSrc: Affine, outW: number, outH: number): Uint8Array {
  const out = new Uint8Array(outW * outH * 3);
  const [a, b, c, d, e, f] = dstToSrc;
  const { data, width: w, height: h } = img;
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < w - 1 && y < h - 1;
  for (let dy = 0; dy < outH; dy++) {
    const x0 = b * dy + c;
    const y0 = e * dy + f;
    const last = outW - 1;
    if (inside(x0, y0) && inside(a * last + x0, d * last + y0)) {
      interiorRow(data, w, out, dy * outW * 3, outW, x0, y0, a, d);
    } else {
      for (let dx = 0, o = dy * outW * 3; dx < outW; dx++, o += 3) borderPixel(data, w, h, out, o, a * dx + x0, d * dx + y0);
    }
  }
  return out;
}

function interiorRow(data: Uint8Array, w: number, out: Uint8Array, start: number, n: number, sx: number, sy: number, stepX: number, stepY: number): void {
  for (let i = 0, o = start; i < n; i++, o += 3, sx += stepX, sy += stepY) {
    const xi = sx | 0;
    const yi = sy | 0;
    const fx = sx - xi;
    const fy = sy - yi;
    const p00 = (yi * w + xi) * 3;
    const p10 = p00 + w * 3;
    const w11 = fx * fy;
    const w01 = fx - w11;
    const w10 = fy - w11;
    const w00 = 1 - fx - w10;
    out[o] = data[p00]! * w00 + data[p00 + 3]! * w01 + data[p10]! * w10 + data[p10 + 3]! * w11 + 0.5;
    out[o + 1] = data[p00 + 1]! * w00 + data[p00 + 4]! * w01 + data[p10 + 1]! * w10 + data[p10 + 4]! * w11 + 0.5;
    out[o + 2] = data[p00 + 2]! * w00 + data[p00 + 5]! * w01 + data[p10 + 2]! * w10 + data[p10 + 5]! * w11 + 0.5;
  }
}

/** One sample near or past the border: neighbours are clamped, and a sample wholly outside stays black. */
function borderPixel(data: Uint8Array, w: number, h: number, out: Uint8Array, o: number, sx: number, sy: number): void {
  const x0 = Math.floor(sx);
  const y0 = Math.floor(sy);
  if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) return;
  const fx = sx - x0;
  const fy = sy - y0;
  const xa = x0 < 0 ? 0 : x0;
  const xb = x0 + 1 >= w ? w - 1 : x0 + 1;
  const ya = y0 < 0 ? 0 : y0;
  const yb = y0 + 1 >= h ? h - 1 : y0 + 1;
  const p00 = (ya * w + xa) * 3;
  const p01 = (ya * w + xb) * 3;
  const p10 = (yb * w + xa) * 3;
  const p11 = (yb * w + xb) * 3;
  const w00 = (1 - fx) * (1 - fy);
  const w01 = fx * (1 - fy);
  const w10 = (1 - fx) * fy;
  const w11 = fx * fy;
  out[o] = data[p00]! * w00 + data[p01]! * w01 + data[p10]! * w10 + data[p11]! * w11 + 0.5;
  out[o + 1] = data[p00 + 1]! * w00 + data[p01 + 1]! * w01 + data[p10 + 1]! * w10 + data[p11 + 1]! * w11 + 0.5;
  out[o + 2] = data[p00 + 2]! * w00 + data[p01 + 2]! * w01 + data[p10 + 2]! * w10 + data[p11 + 2]! * w11 + 0.5;
}

/** Resamples `rect` of the image to outW×outH (pixel-centre aligned, like cv.resize of an ROI). */
export function cropResize(img: RgbImage, rect: Rect, outW: number, outH: number): Uint8Array {
  const sx = rect.width / outW;
  const sy = rect.height / outH;
  return warp(img, [sx, 0, rect.x + 0.5 * sx - 0.5, 0, sy, rect.y + 0.5 * sy - 0.5], outW, outH);
}

/** Per-channel normalisation: value = (pixel − mean[c]) / std[c]. */
export interface Normalisation {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

export const PLUS_MINUS_ONE: Normalisation = { mean: [127, 127, 127], std: [128, 128, 128] };
export const IMAGENET: Normalisation = {
  mean: [0.485 * 255, 0.456 * 255, 0.406 * 255],
  std: [0.229 * 255, 0.224 * 255, 0.225 * 255],
};
export const RAW_0_255: Normalisation = { mean: [0, 0, 0], std: [1, 1, 1] };
export const UNIT: Normalisation = { mean: [0, 0, 0], std: [255, 255, 255] };

/**
 * Interleaved RGB (HWC) → planar CHW floats written into `out` at `offset`. With `bgr`, plane 0
 * holds blue: models trained on OpenCV-decoded images expect that, normalised with the same
 * per-plane mean/std they were trained with.
 */
export function toChw(
  rgb: Uint8Array,
  pixels: number,
  norm: Normalisation,
  out: Float32Array,
  offset = 0,
  bgr = false,
): void {
  const [m0, m1, m2] = norm.mean;
  const i0 = 1 / norm.std[0];
  const i1 = 1 / norm.std[1];
  const i2 = 1 / norm.std[2];
  const first = bgr ? 2 : 0;
  const last = bgr ? 0 : 2;
  const p0 = offset;
  const p1 = offset + pixels;
  const p2 = offset + 2 * pixels;
  for (let p = 0, s = 0; p < pixels; p++, s += 3) {
    out[p0 + p] = (rgb[s + first]! - m0) * i0;
    out[p1 + p] = (rgb[s + 1]! - m1) * i1;
    out[p2 + p] = (rgb[s + last]! - m2) * i2;
  }
}

/** Interleaved RGB → one grey plane (BT.601 luma, as cv.cvtColor RGB2GRAY), scaled by `scale`. */
export function toGrey(rgb: Uint8Array, pixels: number, scale: number, out: Float32Array, offset = 0): void {
  for (let p = 0, s = 0; p < pixels; p++, s += 3) {
    out[offset + p] = (0.299 * rgb[s]! + 0.587 * rgb[s + 1]! + 0.114 * rgb[s + 2]!) * scale;
  }
}
