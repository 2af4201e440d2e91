import { AppError } from '../../errors.js';
import type { PreprocessSpec } from '../../image/tensor.js';
import type { RunResult } from '../../models/runner.js';
import type { Candidate } from './candidates.js';
import { decodeCenterNet } from './centernet.js';
import { COCO_LABELS } from './labels.js';
import { decodeNanoDet } from './nanodet.js';

/** How one detector is fed and read. Boxes come back in model-input pixels. */
export interface DetectorSpec {
  inputName: string;
  /** Square input side. */
  size: number;
  preprocess: Omit<PreprocessSpec, 'size'>;
  /** Outputs to fetch; the others are not copied back. */
  outputs: string[];
  /**
   * Score threshold used when the caller gives none. Measured on the fixture photos: the weakest
   * person there scores 0.32 (centernet) and 0.34 (nanodet), so 0.3 keeps every one while the
   * spurious labels cluster at 0.20–0.29.
   */
  defaultMinScore: number;
  /** Candidates scoring at least `minScore`, in model-input pixels, before NMS. */
  decode(outputs: RunResult['outputs'], modelId: string, minScore: number): Candidate[];
}

function output(outputs: RunResult['outputs'], name: string, modelId: string): Float32Array {
  const t = outputs[name];
  if (!t || t.type !== 'float32') {
    throw new AppError('PROCESSING_ERROR', `Model ${modelId} returned no float32 output "${name}"; check that MODEL_DIR holds the right ${modelId}.onnx.`);
  }
  return t.data as Float32Array;
}

/**
 * MobileNetV3-CenterNet (610265158/mobilenetv3_centernet) takes raw 0–255 RGB, as
 * @vladmandic/human feeds it; scaled to 0–1 or ±1 it finds nothing on the fixture photos.
 * Letterboxed rather than stretched: the persons on the group photos score 0.55–0.72 letterboxed
 * against 0.45–0.67 stretched. Both detectors resize bilinearly, as human's resizeBilinear does.
 */
const CENTERNET: DetectorSpec = {
  inputName: 'tower_0/images',
  size: 512,
  preprocess: { fit: 'contain', kernel: 'linear', channelOrder: 'RGB', layout: 'NHWC', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
  outputs: ['tower_0/detections'],
  defaultMinScore: 0.3,
  decode: (outputs, modelId, minScore) => decodeCenterNet(output(outputs, 'tower_0/detections', modelId), minScore),
};

/** NanoDet's three head levels: scores then box distributions, per stride. */
const NANODET_LEVELS = [
  { stride: 8, scores: 'Identity', distributions: 'Identity_3' },
  { stride: 16, scores: 'Identity_1', distributions: 'Identity_4' },
  { stride: 32, scores: 'Identity_2', distributions: 'Identity_5' },
] as const;

/**
 * NanoDet (RangiLyu/nanodet, exported through ONNX to TF) keeps PyTorch's NCHW input and its
 * training normalisation: BGR, mean (103.53, 116.28, 123.675), std (57.375, 57.12, 58.395), as
 * NanoDet's own demos feed it. @vladmandic/human feeds RGB / 255 instead, which scores the
 * fixture photos' persons lower (0.48–0.61 against 0.51–0.72).
 */
const NANODET: DetectorSpec = {
  inputName: 'input_1',
  size: 416,
  preprocess: { fit: 'contain', kernel: 'linear', channelOrder: 'BGR', layout: 'NCHW', scale: 1, mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] },
  outputs: NANODET_LEVELS.flatMap((l) => [l.scores, l.distributions]),
  defaultMinScore: 0.3,
  decode: (outputs, modelId, minScore) =>
    NANODET_LEVELS.flatMap((l) =>
      decodeNanoDet({ stride: l.stride, scores: output(outputs, l.scores, modelId), distributions: output(outputs, l.distributions, modelId) }, 416, COCO_LABELS.length, minScore),
    ),
};

export const DETECTORS = { centernet: CENTERNET, nanodet: NANODET } as const satisfies Record<string, DetectorSpec>;
export type DetectorId = keyof typeof DETECTORS;
export const DETECTOR_IDS = Object.keys(DETECTORS) as [DetectorId, ...DetectorId[]];
export const DEFAULT_DETECTOR: DetectorId = 'centernet';
