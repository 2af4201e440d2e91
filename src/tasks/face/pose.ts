import type { CropPlugin } from './crop-plugin.js';
import { grownCrop } from './geometry.js';
import { FACE_MODELS, outputData, softmax } from './models.js';
import { IMAGENET } from './raster.js';

export interface PoseResult {
  /** Degrees; positive = the face turns to the image's left. */
  yaw: number;
  /** Degrees; negative = looking down. */
  pitch: number;
  /** Degrees; in-plane tilt. */
  roll: number;
}

/** Hopenet bins: 66 bins of 3° from −99°; the angle is the softmax expectation. */
export function binnedAngle(logits: Float32Array): number {
  const p = softmax(logits);
  let expectation = 0;
  for (let i = 0; i < p.length; i++) expectation += p[i]! * i;
  return Math.round((expectation * 3 - 99) * 10) / 10 + 0; // + 0 turns −0 into 0
}

/**
 * fr_pose (Hopenet): 224×224 RGB, ImageNet mean/std, of the box grown by a quarter on every side →
 * three 66-bin heads, exported as `output` (yaw), `617` (pitch), `618` (roll). Hopenet was trained
 * on RGB; the reference's BGR2RGB on a canvas's RGBA actually feeds BGR, which we do not copy.
 */
export const posePlugin: CropPlugin<PoseResult> = {
  model: FACE_MODELS.pose,
  crop: (box, img) => grownCrop(box, img, 0.25),
  norm: IMAGENET,
  bgr: false,
  decode: (outputs) => ({
    yaw: binnedAngle(outputData(outputs, 'output', FACE_MODELS.pose.id)),
    pitch: binnedAngle(outputData(outputs, '617', FACE_MODELS.pose.id)),
    roll: binnedAngle(outputData(outputs, '618', FACE_MODELS.pose.id)),
  }),
};
