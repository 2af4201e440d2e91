import type { ModelRunner, RunOptions } from '../../models/runner.js';
import { alignFace } from './align.js';
import type { Point } from './geometry.js';
import { runStage, type StageResult } from './crop-plugin.js';
import { FACE_MODELS, outputData } from './models.js';
import { PLUS_MINUS_ONE, toChw, type RgbImage } from './raster.js';

export const EMBEDDING_SIZE = 512;

/**
 * fr_feature: the 112×112 ArcFace-aligned RGB crop, (x−127)/128 → 512 floats, returned
 * L2-normalised so a dot product is the cosine similarity.
 */
export function embeddingInput(img: RgbImage, five: readonly Point[], out: Float32Array, offset: number): void {
  const { width, height } = FACE_MODELS.embed;
  toChw(alignFace(img, five, width), width * height, PLUS_MINUS_ONE, out, offset);
}

export function l2Normalise(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * inv;
  return out;
}

export async function embedFaces(
  runner: ModelRunner,
  img: RgbImage,
  fivePointsPerFace: readonly (readonly Point[])[],
  run: RunOptions = {},
): Promise<StageResult<Float32Array>> {
  const id = FACE_MODELS.embed.id;
  return runStage(runner, FACE_MODELS.embed, fivePointsPerFace, (five, out, offset) => embeddingInput(img, five, out, offset),
    (o) => l2Normalise(outputData(o, 'output', id)), run);
}

/** Cosine similarity of two L2-normalised embeddings. */
export function similarity(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let dot = 0;
  for (let i = 0; i < n; i++) dot += a[i]! * b[i]!;
  return dot;
}
