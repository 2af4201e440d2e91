import { applyAffine, invertAffine, similarityTransform } from './align.js';
import type { Point } from './geometry.js';
import { warp, type Affine, type RgbImage } from './raster.js';

export const FFHQ_SIDE = 512;

/**
 * The five points (eyes, nose tip, mouth corners) in the 512×512 FFHQ crop that GFPGAN and
 * CodeFormer were trained on (facexlib's face template).
 */
export const FFHQ_512: readonly Point[] = [
  { x: 192.98138, y: 239.94708 },
  { x: 318.90277, y: 240.1936 },
  { x: 256.63416, y: 314.01935 },
  { x: 201.26117, y: 371.41043 },
  { x: 313.08905, y: 371.15118 },
];

/** Image → crop: the least-squares similarity taking the face's five points onto the template. */
export const ffhqTransform = (five: readonly Point[]): Affine => similarityTransform(five, FFHQ_512);

/** The 512×512 RGB crop a face-restoration network takes. */
export function alignFfhq(img: RgbImage, toCrop: Affine): Uint8Array {
  return warp(img, invertAffine(toCrop), FFHQ_SIDE, FFHQ_SIDE);
}

/**
 * The same transform for an image `s` times larger (the background after upscaling), pixel
 * centres kept aligned: x_small = (x_big − (s − 1)/2) / s.
 */
export function scaledTransform(toCrop: Affine, s: number): Affine {
  const k = 1 / s, t = -(s - 1) / (2 * s);
  const [a, b, c, d, e, f] = toCrop;
  return [a * k, b * k, a * t + b * t + c, d * k, e * k, d * t + e * t + f];
}

/**
 * The soft edge of the pasted square, in crop pixels: ≈ 1/20 of the face, as facexlib feathers
 * its paste-back mask (an erosion, then a blur of about the face size over 20).
 */
const FEATHER = FFHQ_SIDE / 20;
const INSET = 2;

function edgeWeight(u: number, v: number): number {
  const d = Math.min(u, v, FFHQ_SIDE - 1 - u, FFHQ_SIDE - 1 - v) - INSET;
  if (d <= 0) return 0;
  if (d >= FEATHER) return 1;
  const t = d / FEATHER;
  return t * t * (3 - 2 * t);
}

function sample(face: Uint8Array, u: number, v: number, c: number): number {
  const x0 = Math.min(FFHQ_SIDE - 2, Math.floor(u)), y0 = Math.min(FFHQ_SIDE - 2, Math.floor(v));
  const fx = u - x0, fy = v - y0;
  const at = (x: number, y: number) => face[(y * FFHQ_SIDE + x) * 3 + c]!;
  return (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
}

/** Where the crop lands in the image: the bounding box of its corners, clipped. */
export function pasteBounds(toCrop: Affine, width: number, height: number): { x0: number; y0: number; x1: number; y1: number } {
  const back = invertAffine(toCrop);
  const corners = [[0, 0], [FFHQ_SIDE - 1, 0], [0, FFHQ_SIDE - 1], [FFHQ_SIDE - 1, FFHQ_SIDE - 1]].map(([x, y]) => applyAffine(back, { x: x!, y: y! }));
  return {
    x0: Math.max(0, Math.floor(Math.min(...corners.map((p) => p.x)))),
    y0: Math.max(0, Math.floor(Math.min(...corners.map((p) => p.y)))),
    x1: Math.min(width - 1, Math.ceil(Math.max(...corners.map((p) => p.x)))),
    y1: Math.min(height - 1, Math.ceil(Math.max(...corners.map((p) => p.y)))),
  };
}

/**
 * Warps a 512² crop back into the image (interleaved, `channels` per pixel, RGB first) and blends
 * it in with a feathered square, scaled by `strength`: 1 takes the crop, 0 keeps the image.
 */
export function pasteFace(target: { data: Uint8Array; width: number; height: number; channels: number }, face: Uint8Array, toCrop: Affine, strength: number): void {
  const { x0, y0, x1, y1 } = pasteBounds(toCrop, target.width, target.height);
  const [a, b, c, d, e, f] = toCrop;
  const ch = target.channels;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const u = a * x + b * y + c, v = d * x + e * y + f;
      if (u < 0 || v < 0 || u > FFHQ_SIDE - 1 || v > FFHQ_SIDE - 1) continue;
      const wgt = strength * edgeWeight(u, v);
      if (wgt === 0) continue;
      const o = (y * target.width + x) * ch;
      for (let k = 0; k < 3; k++) target.data[o + k] = Math.round(target.data[o + k]! + wgt * (sample(face, u, v, k) - target.data[o + k]!));
    }
  }
}
