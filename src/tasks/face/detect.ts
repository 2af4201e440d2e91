import type { ModelRunner, RunOptions } from '../../models/runner.js';
import { float32 } from '../../models/tensor.js';
import { hasArea, nms, unletterboxBox, type Point, type ScoredBox, type SizeWH } from './geometry.js';
import { letterboxInput } from './letterbox-input.js';
import { FACE_MODEL_IDS, outputData } from './models.js';
import { PLUS_MINUS_ONE, type RgbImage } from './raster.js';

export interface DetectOptions {
  /** Faces scoring below this are dropped (0..1). */
  minScore: number;
  /** Overlapping boxes above this IoU are merged into the higher-scoring one. */
  iouThreshold: number;
  /** At most this many faces, highest score first. */
  limit: number;
}

export interface DetectedFace extends ScoredBox {
  /** Detector key points in original pixels, when the detector has them (BlazeFace: 6). */
  keypoints?: Point[];
}

export interface Detection {
  faces: DetectedFace[];
  inferenceMs: number;
}

export interface FaceDetector {
  modelId: string;
  /** Score threshold the model was tuned for, used when the caller gives none. */
  defaultMinScore: number;
  detect(runner: ModelRunner, img: RgbImage, opts: DetectOptions, run?: RunOptions): Promise<Detection>;
}

/**
 * Ultra-Light-Fast (RFB-320) face detector as shipped in faceplugin: `input` [1,3,240,320] RGB
 * (x−127)/128; `scores` [1,N,2] already softmaxed (column 1 = face), `boxes` [1,N,4] already
 * decoded against its priors to normalised x1,y1,x2,y2 of the model input (the reference decodes
 * priors and then discards them).
 */
export const ULTRAFACE_INPUT: SizeWH = { width: 320, height: 240 };

export function ultraFaceDetector(modelId: string = FACE_MODEL_IDS.detect): FaceDetector {
  return {
    modelId,
    // The reference uses 0.65. On the fixture photos faces score ≥ 0.93 and the best non-face 0.42.
    defaultMinScore: 0.7,
    async detect(runner, img, opts, run = {}) {
      const { data, letterbox } = await letterboxInput(img, ULTRAFACE_INPUT, PLUS_MINUS_ONE, 'chw');
      const dims = [1, 3, ULTRAFACE_INPUT.height, ULTRAFACE_INPUT.width];
      const result = await runner.run(modelId, { input: float32(data, dims) }, run);
      const scores = outputData(result.outputs, 'scores', modelId);
      const boxes = outputData(result.outputs, 'boxes', modelId);
      const candidates = decodeUltraFace(scores, boxes, opts.minScore, ULTRAFACE_INPUT)
        .map((b) => ({ ...unletterboxBox(b, letterbox, img), score: b.score }))
        .filter(hasArea);
      return { faces: nms(candidates, opts.iouThreshold, opts.limit), inferenceMs: result.inferenceMs };
    },
  };
}

/** Boxes over the threshold, in model-input pixels. */
export function decodeUltraFace(scores: Float32Array, boxes: Float32Array, minScore: number, input: SizeWH): ScoredBox[] {
  const out: ScoredBox[] = [];
  const n = Math.min(scores.length / 2, boxes.length / 4);
  for (let i = 0; i < n; i++) {
    const score = scores[2 * i + 1]!;
    if (score < minScore) continue;
    out.push({
      x1: boxes[4 * i]! * input.width,
      y1: boxes[4 * i + 1]! * input.height,
      x2: boxes[4 * i + 2]! * input.width,
      y2: boxes[4 * i + 3]! * input.height,
      score,
    });
  }
  return out;
}
