import type { RGB } from '../../image/tensor.js';

/**
 * The depth models' input contracts, as transformers.js's DPT image processor feeds the ONNX
 * exports (onnx-community/depth-anything-v2-*, Xenova/dpt-large): `pixel_values` [1,3,H,W] in,
 * `predicted_depth` [1,H,W] (relative inverse depth: larger is nearer) out.
 */
export interface DepthModelSpec {
  /** The target size; with keepAspectRatio the side that changes less sets the scale. */
  size: { width: number; height: number };
  keepAspectRatio: boolean;
  /** Each side is rounded to a multiple of this (the ViT patch size, 14, for Depth Anything). */
  multipleOf: number;
  /** Pixel values as (x / 255 − mean) / std. */
  mean: RGB;
  std: RGB;
}

const IMAGENET: Pick<DepthModelSpec, 'mean' | 'std'> = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const DEPTH_ANYTHING: DepthModelSpec = { size: { width: 518, height: 518 }, keepAspectRatio: true, multipleOf: 14, ...IMAGENET };

export const DEPTH_MODELS = {
  'depth-anything-v2-small': DEPTH_ANYTHING,
  'depth-anything-v2-base': DEPTH_ANYTHING,
  /** Intel/dpt-large: a fixed 384² input, mean and std 0.5 (the seed's named model). */
  'dpt-large': { size: { width: 384, height: 384 }, keepAspectRatio: false, multipleOf: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
} as const satisfies Record<string, DepthModelSpec>;

export type DepthModelId = keyof typeof DEPTH_MODELS;
export const DEPTH_MODEL_IDS = Object.keys(DEPTH_MODELS) as [DepthModelId, ...DepthModelId[]];
export const DEFAULT_DEPTH_MODEL: DepthModelId = 'depth-anything-v2-small';

/** Round half to even, as transformers.js's constraint_to_multiple_of does. */
function bankersRound(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function multipleOf(v: number, m: number): number {
  return Math.max(m, bankersRound(v / m) * m);
}

/** The model input size for a photo: transformers.js's DPT resize rule ("scale as little as possible"). */
export function depthInputSize(spec: DepthModelSpec, width: number, height: number): { width: number; height: number } {
  if (!spec.keepAspectRatio) return spec.size;
  let sh = spec.size.height / height;
  let sw = spec.size.width / width;
  if (Math.abs(1 - sw) < Math.abs(1 - sh)) sh = sw;
  else sw = sh;
  return { width: multipleOf(sw * width, spec.multipleOf), height: multipleOf(sh * height, spec.multipleOf) };
}
