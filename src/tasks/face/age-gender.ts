import type { Outputs } from '../../models/tensor.js';
import type { CropPlugin } from './crop-plugin.js';
import { squareCrop } from './geometry.js';
import { FACE_MODELS, outputData } from './models.js';
import { IMAGENET } from './raster.js';

/**
 * SSR-Net soft stagewise regression (Yang et al. 2018), as the faceplugin models export it: three
 * stages of 3 bins, each with bin probabilities `prob_stage_k`, a per-bin shift `index_offset_stagek`
 * and a bin-width scale `stagek_delta_k`:
 *   y = V · Σ_k  Σ_i (i + η_k,i)·p_k,i  /  Π_{j≤k} s_j·(1 + Δ_j)
 * with s = 3 bins and V = 101 for age (years), 1 for gender (0 = female … 1 = male).
 */
export function ssrNetDecode(outputs: Outputs, modelId: string, range: number): number {
  let value = 0;
  let denominator = 1;
  for (let k = 1; k <= 3; k++) {
    const p = outputData(outputs, `prob_stage_${k}`, modelId);
    const eta = outputData(outputs, `index_offset_stage${k}`, modelId);
    const delta = outputData(outputs, `stage${k}_delta_k`, modelId)[0] ?? 0;
    let stage = 0;
    for (let i = 0; i < p.length; i++) stage += (i + (eta[i] ?? 0)) * p[i]!;
    denominator *= p.length * (1 + delta);
    value += stage / denominator;
  }
  return value * range;
}

export interface AgeResult {
  years: number;
}

export interface GenderResult {
  label: 'female' | 'male';
  /** Probability of `label` (0.5..1). */
  probability: number;
  /** The raw SSR-Net output, 0 = female … 1 = male. */
  maleScore: number;
}

/**
 * Both models take a square crop 1.4× the face, 64×64, ImageNet mean/std — in BGR plane order:
 * they come from the SSR-Net PyTorch port, which normalises OpenCV (BGR) images with the RGB
 * ImageNet constants. Measured on the six fixture faces (all women): BGR calls 5 of 6 female,
 * RGB (what the reference's canvas feeds) 3 of 6.
 */
const crop = (box: Parameters<typeof squareCrop>[0], img: Parameters<typeof squareCrop>[1]) => squareCrop(box, img, 1.4);

export const agePlugin: CropPlugin<AgeResult> = {
  model: FACE_MODELS.age,
  crop,
  norm: IMAGENET,
  bgr: true,
  decode: (outputs) => ({ years: Math.round(ssrNetDecode(outputs, FACE_MODELS.age.id, 101) * 10) / 10 }),
};

export const genderPlugin: CropPlugin<GenderResult> = {
  model: FACE_MODELS.gender,
  crop,
  norm: IMAGENET,
  bgr: true,
  decode(outputs) {
    const male = Math.min(1, Math.max(0, ssrNetDecode(outputs, FACE_MODELS.gender.id, 1)));
    const label = male >= 0.5 ? 'male' : 'female';
    const probability = label === 'male' ? male : 1 - male;
    return { label, probability: Math.round(probability * 1000) / 1000, maleScore: Math.round(male * 1000) / 1000 };
  },
};
