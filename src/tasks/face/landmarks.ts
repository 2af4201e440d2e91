import type { ModelRunner, RunOptions } from '../../models/runner.js';
import { squareCrop, type Box, type Point, type Rect } from './geometry.js';
import { runStage, type StageResult } from './crop-plugin.js';
import { FACE_MODELS, outputData } from './models.js';
import { cropResize, toGrey, type RgbImage } from './raster.js';

export interface LandmarkResult {
  /** 68 points (iBUG 300-W order) in original pixels. */
  points: Point[];
  inferenceMs: number;
}

/**
 * fr_landmark: grey [1,1,64,64] in 0..1 (pixel/256, as the reference) of the square crop on the
 * box → 136 values, x/y pairs relative to that crop.
 */
export function landmarkCrop(box: Box, img: RgbImage): Rect {
  return squareCrop(box, img, 1.0);
}

export function landmarkInput(img: RgbImage, rect: Rect, out: Float32Array, offset: number): void {
  const { width, height } = FACE_MODELS.landmark;
  toGrey(cropResize(img, rect, width, height), width * height, 1 / 256, out, offset);
}

export function decodeLandmarks(values: Float32Array, rect: Rect): Point[] {
  const points: Point[] = [];
  for (let i = 0; i + 1 < values.length; i += 2) {
    points.push({ x: rect.x + values[i]! * rect.width, y: rect.y + values[i + 1]! * rect.height });
  }
  return points;
}

export async function predictLandmarks(
  runner: ModelRunner,
  img: RgbImage,
  boxes: readonly Box[],
  run: RunOptions = {},
): Promise<StageResult<Point[]>> {
  const rects = boxes.map((b) => landmarkCrop(b, img));
  const id = FACE_MODELS.landmark.id;
  return runStage(runner, FACE_MODELS.landmark, rects, (r, out, offset) => landmarkInput(img, r, out, offset),
    (o, i) => decodeLandmarks(outputData(o, 'output', id), rects[i]!), run);
}

const mean = (pts: readonly Point[], idx: readonly number[]): Point => ({
  x: idx.reduce((s, i) => s + pts[i]!.x, 0) / idx.length,
  y: idx.reduce((s, i) => s + pts[i]!.y, 0) / idx.length,
});

/**
 * 68 → 5 points (left eye, right eye, nose tip, left and right mouth corner) the way the reference
 * does: eye centre from the four lid points, mouth corners from the outer and inner lip corners.
 */
export function fivePoints(pts: readonly Point[]): Point[] {
  if (pts.length < 68) throw new RangeError(`fivePoints needs 68 landmarks, got ${pts.length}`);
  return [
    mean(pts, [37, 38, 40, 41]),
    mean(pts, [43, 44, 46, 47]),
    mean(pts, [30]),
    mean(pts, [48, 60]),
    mean(pts, [54, 64]),
  ];
}
