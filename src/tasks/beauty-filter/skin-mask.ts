import { boxMean } from '../../image/box-mean.js';
import type { Point, Rect } from '../face/geometry.js';

/** iBUG 300-W indices of the 68 landmarks. */
const JAW = range(0, 16);
const RIGHT_BROW = range(17, 21);
const LEFT_BROW = range(22, 26);
const NOSTRILS = range(31, 35);
const RIGHT_EYE = range(36, 41);
const LEFT_EYE = range(42, 47);
const OUTER_LIPS = range(48, 59);

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

const dist = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);
const pick = (pts: readonly Point[], idx: readonly number[]) => idx.map((i) => pts[i]!);

/** The features the filter must never touch, as closed polygons (or open polylines for brows). */
export interface FaceFeatures {
  eyes: Point[][];
  brows: Point[][];
  lips: Point[];
  nostrils: Point[];
}

export function faceFeatures(pts: readonly Point[]): FaceFeatures {
  return { eyes: [pick(pts, RIGHT_EYE), pick(pts, LEFT_EYE)], brows: [pick(pts, RIGHT_BROW), pick(pts, LEFT_BROW)], lips: pick(pts, OUTER_LIPS), nostrils: pick(pts, NOSTRILS) };
}

/** The skin outline: the jaw, closed over the forehead by the brows raised by a third of the chin-to-brow height. */
export function faceOutline(pts: readonly Point[]): Point[] {
  const chin = pts[8]!, bridge = pts[27]!;
  const len = dist(chin, bridge);
  const up = { x: (bridge.x - chin.x) / len, y: (bridge.y - chin.y) / len };
  const lift = 0.45 * len;
  const forehead = [...LEFT_BROW].reverse().concat([...RIGHT_BROW].reverse()).map((i) => ({ x: pts[i]!.x + up.x * lift, y: pts[i]!.y + up.y * lift }));
  return [...pick(pts, JAW), ...forehead];
}

/** The face's size scale: the jaw's width. */
export const faceWidth = (pts: readonly Point[]) => dist(pts[0]!, pts[16]!);

function inside(poly: readonly Point[], x: number, y: number): boolean {
  let hit = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i]!, b = poly[j]!;
    if ((a.y > y) !== (b.y > y) && x < ((b.x - a.x) * (y - a.y)) / (b.y - a.y) + a.x) hit = !hit;
  }
  return hit;
}

function segmentDistance2(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x, dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
  return (p.x - a.x - t * dx) ** 2 + (p.y - a.y - t * dy) ** 2;
}

/**
 * Sets `value` on every ROI pixel (centre) inside the polygon or within `grow` of its outline;
 * `closed: false` is a polyline (a brow), which only grows.
 */
function paint(mask: Float32Array, roi: Rect, poly: readonly Point[], grow: number, value: number, closed = true): void {
  const xs = poly.map((p) => p.x), ys = poly.map((p) => p.y);
  const x0 = Math.max(roi.x, Math.floor(Math.min(...xs) - grow)), x1 = Math.min(roi.x + roi.width - 1, Math.ceil(Math.max(...xs) + grow));
  const y0 = Math.max(roi.y, Math.floor(Math.min(...ys) - grow)), y1 = Math.min(roi.y + roi.height - 1, Math.ceil(Math.max(...ys) + grow));
  const g2 = grow * grow;
  const edges = closed ? poly.length : poly.length - 1;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const p = { x: x + 0.5, y: y + 0.5 };
      let hit = closed && inside(poly, p.x, p.y);
      for (let k = 0; !hit && k < edges; k++) hit = segmentDistance2(p, poly[k]!, poly[(k + 1) % poly.length]!) <= g2;
      if (hit) mask[(y - roi.y) * roi.width + (x - roi.x)] = value;
    }
  }
}

/**
 * The skin mask over `roi` (0..1, row-major): the face outline minus the eyes, brows, lips and
 * nostrils, feathered. Each excluded feature is first grown by its own margin plus the feather's
 * whole reach, so after feathering its pixels are exactly 0: eyes and lips come back untouched.
 */
export function skinMask(pts: readonly Point[], roi: Rect): Float32Array {
  const fw = faceWidth(pts);
  const eyeW = (dist(pts[36]!, pts[39]!) + dist(pts[42]!, pts[45]!)) / 2;
  const mouthW = dist(pts[48]!, pts[54]!);
  const r = Math.max(1, Math.round((0.03 * fw) / 3));
  const reach = 3 * r + 1;
  const mask = new Float32Array(roi.width * roi.height);
  paint(mask, roi, faceOutline(pts), 0, 1);
  const f = faceFeatures(pts);
  for (const eye of f.eyes) paint(mask, roi, eye, 0.35 * eyeW + reach, 0);
  for (const brow of f.brows) paint(mask, roi, brow, 0.25 * eyeW + reach, 0, false);
  paint(mask, roi, f.lips, 0.12 * mouthW + reach, 0);
  paint(mask, roi, f.nostrils, 0.2 * dist(pts[31]!, pts[35]!) + reach, 0);
  // Three box means ≈ a Gaussian, reaching 3r.
  let soft: Float32Array = mask;
  for (let pass = 0; pass < 3; pass++) soft = boxMean(soft, roi.width, roi.height, r);
  // The blur must not lift the excluded features off zero, nor add skin outside the outline's reach.
  for (let i = 0; i < soft.length; i++) if (mask[i] === 0 && soft[i]! < 1e-3) soft[i] = 0;
  return soft;
}
