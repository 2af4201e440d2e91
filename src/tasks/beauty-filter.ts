import { z } from 'zod';
import { decodeRaw } from '../image/decode.js';
import { packedRgb } from '../image/raw.js';
import { blendRgb, cropRgb, type Pixels } from '../image/region.js';
import { IMAGE_FORMATS, type ValidatedImage } from '../image/types.js';
import { faceOutline, faceWidth, skinMask } from './beauty-filter/skin-mask.js';
import { smoothSkin } from './beauty-filter/smooth.js';
import { yieldToLoop } from './event-loop.js';
import { alignFfhq, ffhqTransform, pasteFace } from './face/ffhq.js';
import type { Point, Rect } from './face/geometry.js';
import { locateFaces, type LocatedFace } from './face/locate.js';
import { modelsFor } from './face/pipeline.js';
import { FACE_RESTORERS, requireRestorer, restoreCrop } from './face/restore.js';
import { imageResult } from './image-result.js';
import type { RunStats } from './model-run.js';
import { faceFinding, strengthOption } from './retouch-options.js';
import type { TaskContext, TaskDefinition, TaskResult } from './types.js';

/** Example: `{ image, options: { strength: 0.6 } }` → the photo with every face's skin smoothed and evened. */
export const BeautyFilterOptions = z.strictObject({
  strength: strengthOption('0 leaves the face as it is, 1 is the full smoothing (and, with restore, the full restoration).', 0.5),
  tone: z.number().min(0).max(1).default(0.5).describe('How far skin colour is evened towards its local mean (redness, blotches), as part of the smoothing.'),
  restore: z.boolean().default(false).describe('Blend in a face-restoration model first (restoreModel; needs its weights).'),
  restoreModel: z.enum(FACE_RESTORERS).default('gfpgan').describe('restore only: gfpgan or codeformer.'),
  fidelity: z.number().min(0).max(1).default(0.7).describe('restore with codeformer: 0 restores most, 1 stays closest to the face.'),
  ...faceFinding,
  outputFormat: z.enum(IMAGE_FORMATS).default('png').describe('png, webp or jpeg (jpeg has no alpha: transparency becomes white).'),
});
export type BeautyFilterOptions = z.output<typeof BeautyFilterOptions>;

/** The outline's bounds with a tenth of the face around them, clipped to the image. */
function faceRoi(pts: readonly Point[], width: number, height: number): Rect {
  const outline = faceOutline(pts);
  const m = 0.1 * faceWidth(pts);
  const x0 = Math.max(0, Math.floor(Math.min(...outline.map((p) => p.x)) - m)), x1 = Math.min(width, Math.ceil(Math.max(...outline.map((p) => p.x)) + m));
  const y0 = Math.max(0, Math.floor(Math.min(...outline.map((p) => p.y)) - m)), y1 = Math.min(height, Math.ceil(Math.max(...outline.map((p) => p.y)) + m));
  return { x: x0, y: y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0) };
}

/** Smooths one face in place; returns how many pixels the skin mask covers. */
function retouchFace(t: Pixels, pts: readonly Point[], o: BeautyFilterOptions): number {
  const roi = faceRoi(pts, t.width, t.height);
  const mask = skinMask(pts, roi);
  const before = cropRgb(t, roi);
  const smooth = smoothSkin(before, roi.width, roi.height, { faceWidth: faceWidth(pts), tone: o.tone, mask });
  return blendRgb(t, roi, before, smooth, (i) => o.strength * mask[i]!);
}

async function beautyFilter(image: ValidatedImage, o: BeautyFilterOptions, ctx: TaskContext): Promise<TaskResult> {
  const started = performance.now();
  if (o.restore) requireRestorer(ctx.runner, o.restoreModel);
  ctx.onProgress({ fraction: 0, stage: 'detect' });
  const located = await locateFaces(ctx.runner, image, o, { signal: ctx.signal });
  const raw = await decodeRaw(image);
  const out = { ...raw, data: Buffer.from(raw.data) };
  const photo = o.restore ? packedRgb(raw) : undefined;
  const stats: RunStats = { device: undefined, inferenceMs: 0 };
  const faces: { box: LocatedFace['box']; score: number; skinPixels: number }[] = [];
  for (const [i, face] of located.faces.entries()) {
    ctx.signal.throwIfAborted();
    ctx.onProgress({ fraction: 0.1 + (0.85 * i) / located.faces.length, stage: `face ${i + 1}/${located.faces.length}` });
    if (photo) {
      const toCrop = ffhqTransform(face.five);
      pasteFace(out, await restoreCrop(ctx.runner, o.restoreModel, alignFfhq(photo, toCrop), o.fidelity, ctx.signal, stats), toCrop, o.strength);
    }
    faces.push({ box: face.box, score: face.score, skinPixels: retouchFace(out, face.points, o) });
    await yieldToLoop();
  }
  return imageResult(ctx, out, o.outputFormat, () => ({
    model: o.restore ? o.restoreModel : null,
    device: stats.device ?? 'cpu',
    faces,
    strength: o.strength,
    tone: o.tone,
    restore: o.restore,
    width: raw.width,
    height: raw.height,
    inferenceMs: Math.round((stats.inferenceMs + located.inferenceMs) * 10) / 10,
    totalMs: Math.round(performance.now() - started),
  }));
}

export const beautyFilterTask: TaskDefinition<typeof BeautyFilterOptions> = {
  name: 'beauty-filter',
  route: 'gfpgan/beauty-filter',
  shortRoute: 'beauty-filter',
  description: 'Smooths and evens the skin of every face (a landmark skin mask that spares eyes, brows, lips and nostrils; edge-preserving smoothing), needing no restoration weights; restore: true blends GFPGAN or CodeFormer in as well.',
  options: BeautyFilterOptions,
  models: (o) => [...modelsFor({ plugins: ['landmarks'], detector: o.detector }), ...(o.restore ? [o.restoreModel] : [])],
  run: beautyFilter,
};
