import type { CropPlugin } from './crop-plugin.js';
import { squareCrop } from './geometry.js';
import { FACE_MODELS, outputData, softmax } from './models.js';
import { RAW_0_255 } from './raster.js';

export interface AntispoofResult {
  /** Probability the face is a live person rather than a print, screen or mask (0..1). */
  score: number;
  label: 'real' | 'spoof';
  threshold: number;
}

/** Below this live probability a face is labelled a spoof (the model's softmax decision point). */
export const ANTISPOOF_THRESHOLD = 0.5;

/**
 * fr_liveness: 128×128 RGB, raw 0..255, of a square crop 2.7× the face (context around the face —
 * screen bezels, paper edges — is what it looks at) → 3 logits; class 0 is "live", as the
 * reference reads it. On the fixture photos of real people, class 0 wins on 5 of 6 faces.
 */
export const antispoofPlugin: CropPlugin<AntispoofResult> = {
  model: FACE_MODELS.antispoof,
  crop: (box, img) => squareCrop(box, img, 2.7),
  norm: RAW_0_255,
  bgr: false,
  decode(outputs) {
    const p = softmax(outputData(outputs, 'output', FACE_MODELS.antispoof.id));
    const score = round(p[0] ?? 0, 4);
    return { score, label: score >= ANTISPOOF_THRESHOLD ? 'real' : 'spoof', threshold: ANTISPOOF_THRESHOLD };
  },
};

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
