/** Pixel-space geometry shared by the face stages: letterbox mapping, crop rectangles (boxes and NMS live in src/image). */
import type { Box } from '../../image/geometry.js';

export type { Box, ScoredBox } from '../../image/geometry.js';
export { area, iou, nms } from '../../image/geometry.js';

export interface Point {
  x: number;
  y: number;
}

export interface SizeWH {
  width: number;
  height: number;
}

/** A source region to resample: top-left corner and size, may extend past the image. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * How an image is placed into a fixed model input without distortion: scaled by `scale`, pasted
 * at (`padX`, `padY`) in a `input.width`×`input.height` canvas.
 */
export interface Letterbox {
  scale: number;
  padX: number;
  padY: number;
  /** Size of the scaled image inside the canvas. */
  resized: SizeWH;
  input: SizeWH;
}

export function letterbox(original: SizeWH, input: SizeWH): Letterbox {
  const scale = Math.min(input.width / original.width, input.height / original.height);
  const resized = {
    width: Math.max(1, Math.min(input.width, Math.round(original.width * scale))),
    height: Math.max(1, Math.min(input.height, Math.round(original.height * scale))),
  };
  const padX = Math.floor((input.width - resized.width) / 2);
  const padY = Math.floor((input.height - resized.height) / 2);
  return { scale, padX, padY, resized, input };
}

/** Maps a box given in model-input pixels back to original pixels, clipped to the image. */
export function unletterboxBox(b: Box, lb: Letterbox, original: SizeWH): Box {
  // The exact per-axis scale (rounding of the resized size) keeps edges within a pixel.
  const sx = lb.resized.width / original.width;
  const sy = lb.resized.height / original.height;
  return {
    x1: clamp((b.x1 - lb.padX) / sx, 0, original.width),
    y1: clamp((b.y1 - lb.padY) / sy, 0, original.height),
    x2: clamp((b.x2 - lb.padX) / sx, 0, original.width),
    y2: clamp((b.y2 - lb.padY) / sy, 0, original.height),
  };
}

/**
 * A detection that fired in the letterbox padding clamps to a box without area; it must not reach
 * alignment (coincident points) nor take one of the `limit` slots in NMS.
 */
export function hasArea(b: Box): boolean {
  return b.x2 - b.x1 >= 1 && b.y2 - b.y1 >= 1;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * The square crop the faceplugin reference feeds its landmark, liveness and age/gender models:
 * the box made square on its height, scaled about its centre by `scale` (capped so it fits the
 * image), then shifted, not shrunk, to stay inside the image.
 */
export function squareCrop(b: Box, image: SizeWH, scale: number): Rect {
  const side = b.y2 - b.y1;
  const cx = (b.x1 + b.x2) / 2;
  const cy = (b.y1 + b.y2) / 2;
  const s = Math.min(scale, (image.width - 1) / side, (image.height - 1) / side);
  const size = side * s;
  const x = clamp(cx - size / 2, 0, Math.max(0, image.width - size));
  const y = clamp(cy - size / 2, 0, Math.max(0, image.height - size));
  return { x, y, width: size, height: size };
}

/** The box grown by `fraction` of its size on every side (pose model input), clipped to the image. */
export function grownCrop(b: Box, image: SizeWH, fraction: number): Rect {
  const w = b.x2 - b.x1;
  const h = b.y2 - b.y1;
  const x1 = Math.max(0, b.x1 - w * fraction);
  const y1 = Math.max(0, b.y1 - h * fraction);
  const x2 = Math.min(image.width, b.x2 + w * fraction);
  const y2 = Math.min(image.height, b.y2 + h * fraction);
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}

export function rounded(b: Box, digits = 1): Box {
  const f = 10 ** digits;
  return {
    x1: Math.round(b.x1 * f) / f,
    y1: Math.round(b.y1 * f) / f,
    x2: Math.round(b.x2 * f) / f,
    y2: Math.round(b.y2 * f) / f,
  };
}
