import type { ValidatedImage } from '../../image/types.js';
import type { ModelRunner, RunOptions } from '../../models/runner.js';
import { analyseImage, detectionOptions } from '../face-detect.js';
import type { Box, Point } from './geometry.js';
import type { FaceDetectorName } from './pipeline.js';

export { detectionOptions };

/** A face to retouch: box and 68 landmarks in original pixels, and the five alignment points. */
export interface LocatedFace {
  box: Box;
  score: number;
  points: Point[];
  five: Point[];
}

export interface LocateOptions {
  detector: FaceDetectorName;
  minScore?: number;
  iouThreshold: number;
  limit: number;
  /** Only the face nearest the image centre (GFPGAN's only_center_face). */
  onlyCenterFace: boolean;
}

/** Detects faces and their landmarks (at most 2048 px on the long side), in the original image's pixels. */
export async function locateFaces(runner: ModelRunner, image: ValidatedImage, o: LocateOptions, run: RunOptions): Promise<{ faces: LocatedFace[]; inferenceMs: number }> {
  const analysis = await analyseImage(runner, image, { detector: o.detector, ...(o.minScore !== undefined ? { minScore: o.minScore } : {}), iouThreshold: o.iouThreshold, limit: o.limit, plugins: ['landmarks'] }, run);
  let faces = analysis.faces.flatMap((f) => (f.landmarks ? [{ box: f.box, score: f.score, points: f.landmarks.points, five: f.landmarks.fivePoints }] : []));
  if (o.onlyCenterFace && faces.length > 1) {
    const cx = image.width / 2, cy = image.height / 2;
    const off = (f: LocatedFace) => ((f.box.x1 + f.box.x2) / 2 - cx) ** 2 + ((f.box.y1 + f.box.y2) / 2 - cy) ** 2;
    faces = [faces.reduce((best, f) => (off(f) < off(best) ? f : best))];
  }
  const inferenceMs = Object.values(analysis.timings).reduce((s, t) => s + (t?.inferenceMs ?? 0), 0);
  return { faces, inferenceMs };
}
