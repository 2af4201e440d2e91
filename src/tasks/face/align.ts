import type { Point } from './geometry.js';
import { warp, type Affine, type RgbImage } from './raster.js';

/**
 * Where the five points (eyes, nose tip, mouth corners) sit in the 112×112 ArcFace crop the
 * embedding model was trained on (insightface's reference, the same the faceplugin lib uses).
 */
export const ARCFACE_112: readonly Point[] = [
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 41.5493, y: 92.3655 },
  { x: 70.7299, y: 92.2041 },
];

/**
 * Least-squares similarity (rotation, uniform scale, translation; no reflection) taking `src` onto
 * `dst` — Umeyama's estimate, which in 2-D has this closed form. The reference instead solves an
 * exact affine on three points (eyes and nose), which shears the face whenever a landmark is off;
 * five points averaged by least squares are steadier.
 */
export function similarityTransform(src: readonly Point[], dst: readonly Point[]): Affine {
  const n = Math.min(src.length, dst.length);
  if (n < 2) throw new RangeError('similarityTransform needs at least two point pairs');
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i]!.x; sy += src[i]!.y; dx += dst[i]!.x; dy += dst[i]!.y;
  }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let a = 0, b = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i]!.x - sx, py = src[i]!.y - sy;
    const qx = dst[i]!.x - dx, qy = dst[i]!.y - dy;
    a += px * qx + py * qy;
    b += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (norm === 0) throw new RangeError('similarityTransform: source points coincide');
  // s·cosθ and s·sinθ directly: a = s·cosθ·|P|², b = s·sinθ·|P|².
  const c = a / norm;
  const s = b / norm;
  return [c, -s, dx - (c * sx - s * sy), s, c, dy - (s * sx + c * sy)];
}

export function applyAffine(m: Affine, p: Point): Point {
  return { x: m[0] * p.x + m[1] * p.y + m[2], y: m[3] * p.x + m[4] * p.y + m[5] };
}

export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (det === 0) throw new RangeError('invertAffine: singular matrix');
  const ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/** The 112×112 RGB crop for the embedding model, aligned on five landmarks. */
export function alignFace(img: RgbImage, five: readonly Point[], size = 112): Uint8Array {
  const ref = size === 112 ? ARCFACE_112 : ARCFACE_112.map((p) => ({ x: (p.x * size) / 112, y: (p.y * size) / 112 }));
  const toCrop = similarityTransform(five, ref);
  return warp(img, invertAffine(toCrop), size, size);
}
