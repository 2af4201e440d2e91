import type { ModelRunner, RunOptions } from '../../models/runner.js';
import { agePlugin, genderPlugin, type AgeResult, type GenderResult } from './age-gender.js';
import { antispoofPlugin, type AntispoofResult } from './antispoof.js';
import { blazeFaceDetector } from './blazeface.js';
import { runCropPlugin, type CropPlugin, type StageResult } from './crop-plugin.js';
import { ultraFaceDetector, type DetectedFace, type FaceDetector } from './detect.js';
import { embedFaces } from './embed.js';
import { expressionPlugin, type ExpressionResult } from './expression.js';
import { area, rounded, type Box, type Point } from './geometry.js';
import { fivePoints, predictLandmarks } from './landmarks.js';
import { posePlugin, type PoseResult } from './pose.js';
import type { RgbImage } from './raster.js';

export const FACE_PLUGINS = ['landmarks', 'embedding', 'antispoof', 'age', 'gender', 'pose', 'expression'] as const;
export type FacePlugin = (typeof FACE_PLUGINS)[number];
export const FACE_DETECTORS = ['ultraface', 'blazeface'] as const;
export type FaceDetectorName = (typeof FACE_DETECTORS)[number];

export const DETECTORS: Readonly<Record<FaceDetectorName, FaceDetector>> = Object.freeze({
  ultraface: ultraFaceDetector(),
  blazeface: blazeFaceDetector(),
});

export interface AnalyzeOptions {
  plugins: readonly FacePlugin[];
  detector: FaceDetectorName;
  /** Defaults to the detector's own threshold. */
  minScore?: number;
  iouThreshold: number;
  limit: number;
  /** Run the plugins on the largest detected face only (enrolment, verification). */
  largestOnly?: boolean;
  /** The image is one face already (a crop; CompreFace's detect_faces=false): no detection, the face is the whole image. */
  wholeImage?: boolean;
}

/** Each plugin result carries `ms`: that face's preprocessing, its share of the run, decoding. */
type Timed<T> = T & { ms: number };

export interface AnalyzedFace {
  box: Box;
  score: number;
  landmarks?: Timed<{ points: Point[]; fivePoints: Point[] }>;
  /** L2-normalised; kept as a Float32Array internally, serialised by the endpoint. */
  embedding?: Timed<{ vector: Float32Array }>;
  antispoof?: Timed<AntispoofResult>;
  age?: Timed<AgeResult>;
  gender?: Timed<GenderResult>;
  pose?: Timed<PoseResult>;
  expression?: Timed<ExpressionResult>;
}

export interface StageTiming {
  /** Wall time of the stage. */
  ms: number;
  /** Time inside session.run(), summed over the stage's runs. */
  inferenceMs: number;
}

export interface FaceAnalysis {
  faces: AnalyzedFace[];
  timings: Partial<Record<'detect' | FacePlugin, StageTiming>>;
}

const CROP_PLUGINS = {
  antispoof: antispoofPlugin,
  age: agePlugin,
  gender: genderPlugin,
  pose: posePlugin,
  expression: expressionPlugin,
} as const satisfies Partial<Record<FacePlugin, CropPlugin<unknown>>>;

/** Model ids a request with these options runs (for readiness and job bookkeeping). */
export function modelsFor(opts: Pick<AnalyzeOptions, 'plugins' | 'detector'>): string[] {
  const ids = new Set([DETECTORS[opts.detector].modelId]);
  for (const p of opts.plugins) {
    if (p === 'landmarks' || p === 'embedding') ids.add('face-landmark');
    if (p === 'embedding') ids.add('face-embed');
    if (p in CROP_PLUGINS) ids.add(CROP_PLUGINS[p as keyof typeof CROP_PLUGINS].model.id);
  }
  return [...ids];
}

/**
 * Detect, then every requested plugin over all faces. Plugins are independent of each other
 * (except embedding, which needs landmarks), so they are started together: with the ModelManager's
 * worker pool their runs overlap.
 */
export async function analyzeFaces(
  runner: ModelRunner,
  img: RgbImage,
  opts: AnalyzeOptions,
  run: RunOptions = {},
): Promise<FaceAnalysis> {
  const detector = DETECTORS[opts.detector];
  const t0 = performance.now();
  const detection = opts.wholeImage
    ? { faces: [{ x1: 0, y1: 0, x2: img.width, y2: img.height, score: 1 }], inferenceMs: 0 }
    : await detector.detect(runner, img, { minScore: opts.minScore ?? detector.defaultMinScore, iouThreshold: opts.iouThreshold, limit: opts.limit }, run);
  const timings: FaceAnalysis['timings'] = {
    detect: { ms: performance.now() - t0, inferenceMs: detection.inferenceMs },
  };
  const boxes = opts.largestOnly ? keepLargest(detection.faces) : detection.faces;
  const faces: AnalyzedFace[] = boxes.map((f) => ({ box: rounded(f), score: round3(f.score) }));
  if (faces.length === 0) return { faces, timings };
  run.signal?.throwIfAborted();
  const wanted = new Set(opts.plugins);
  await Promise.all([
    landmarkAndEmbed(runner, img, boxes, wanted, faces, timings, run),
    ...Object.entries(CROP_PLUGINS)
      .filter(([name]) => wanted.has(name as FacePlugin))
      .map(([name, plugin]) => timed(timings, name as FacePlugin, () => runCropPlugin(runner, plugin as CropPlugin<object>, img, boxes, run))
        .then((stage) => attach(faces, name as keyof AnalyzedFace, stage))),
  ]);
  return { faces, timings };
}

async function landmarkAndEmbed(
  runner: ModelRunner,
  img: RgbImage,
  boxes: readonly DetectedFace[],
  wanted: ReadonlySet<FacePlugin>,
  faces: AnalyzedFace[],
  timings: FaceAnalysis['timings'],
  run: RunOptions,
): Promise<void> {
  if (!wanted.has('landmarks') && !wanted.has('embedding')) return;
  const marks = await timed(timings, 'landmarks', () => predictLandmarks(runner, img, boxes, run));
  const fives = marks.results.map(fivePoints);
  if (wanted.has('landmarks')) {
    attach(faces, 'landmarks', {
      ...marks,
      results: marks.results.map((points, i) => ({ points: points.map(roundPoint), fivePoints: fives[i]!.map(roundPoint) })),
    });
  }
  if (!wanted.has('embedding')) return;
  const embedded = await timed(timings, 'embedding', () => embedFaces(runner, img, fives, run));
  attach(faces, 'embedding', { ...embedded, results: embedded.results.map((vector) => ({ vector })) });
}

async function timed<R>(
  timings: FaceAnalysis['timings'],
  name: FacePlugin,
  stage: () => Promise<StageResult<R>>,
): Promise<StageResult<R>> {
  const t0 = performance.now();
  const result = await stage();
  timings[name] = { ms: performance.now() - t0, inferenceMs: result.inferenceMs };
  return result;
}

function attach<R extends object>(faces: AnalyzedFace[], key: keyof AnalyzedFace, stage: StageResult<R>): void {
  stage.results.forEach((r, i) => {
    const face = faces[i] as unknown as Record<string, unknown>;
    face[key] = { ...r, ms: Math.round((stage.itemMs[i] ?? 0) * 100) / 100 };
  });
}

/**
 * Reports an analysis made on a downscaled decode in original pixels (boxes, landmarks). A scale
 * of 1 returns the faces as they are.
 */
export function toOriginalPixels(faces: AnalyzedFace[], scale: number): AnalyzedFace[] {
  if (scale === 1) return faces;
  const p = (pt: Point): Point => roundPoint({ x: pt.x * scale, y: pt.y * scale });
  return faces.map((f) => ({
    ...f,
    box: rounded({ x1: f.box.x1 * scale, y1: f.box.y1 * scale, x2: f.box.x2 * scale, y2: f.box.y2 * scale }),
    ...(f.landmarks ? { landmarks: { ...f.landmarks, points: f.landmarks.points.map(p), fivePoints: f.landmarks.fivePoints.map(p) } } : {}),
  }));
}

function keepLargest<T extends Box>(boxes: readonly T[]): T[] {
  let best: T | undefined;
  for (const b of boxes) if (!best || area(b) > area(best)) best = b;
  return best ? [best] : [];
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
const roundPoint = (p: Point): Point => ({ x: Math.round(p.x * 10) / 10, y: Math.round(p.y * 10) / 10 });
