import { z } from 'zod';
import { decodeRaw } from '../image/decode.js';
import { packedRgb } from '../image/raw.js';
import { IMAGE_FORMATS, type ValidatedImage } from '../image/types.js';
import { alignFfhq, ffhqTransform, pasteFace, scaledTransform } from './face/ffhq.js';
import { locateFaces } from './face/locate.js';
import { modelsFor } from './face/pipeline.js';
import { FACE_RESTORERS, requireRestorer, restoreCrop } from './face/restore.js';
import { imageResult } from './image-result.js';
import type { RunStats } from './model-run.js';
import { faceFinding, strengthOption } from './retouch-options.js';
import type { TaskContext, TaskDefinition, TaskResult } from './types.js';
import { defaultUpscaleModels, upscaleDecoded } from './upscale.js';

/** Example: `{ image, options: { model: 'codeformer', fidelity: 0.7, upscale: 2 } }` → the photo ×2 with every face restored. */
export const EnhanceFaceOptions = z.strictObject({
  model: z.enum(FACE_RESTORERS).default('gfpgan').describe("'gfpgan' (GFPGAN v1.4) or 'codeformer'; both operator-supplied weights (`npm run models -- pull gfpgan`)."),
  fidelity: z.number().min(0).max(1).default(0.5).describe('codeformer: 0 restores most, 1 stays closest to the input face.'),
  upscale: z.union([z.literal(1), z.literal(2), z.literal(4)]).default(1).describe('1, 2 or 4: the whole photo is upscaled by Real-ESRGAN first and the restored faces pasted at that size.'),
  strength: strengthOption('Blend of the restored face with the original: 1 is all restored.', 1),
  ...faceFinding,
  outputFormat: z.enum(IMAGE_FORMATS).default('png').describe('png, webp or jpeg (jpeg has no alpha: transparency becomes white).'),
});
export type EnhanceFaceOptions = z.output<typeof EnhanceFaceOptions>;

async function enhanceFace(image: ValidatedImage, o: EnhanceFaceOptions, ctx: TaskContext): Promise<TaskResult> {
  const started = performance.now();
  requireRestorer(ctx.runner, o.model);
  ctx.onProgress({ fraction: 0, stage: 'detect' });
  const located = await locateFaces(ctx.runner, image, o, { signal: ctx.signal });
  const raw = await decodeRaw(image);
  const photo = packedRgb(raw);
  let target = raw;
  let upscaled: { models: string[]; inferenceMs: number } | undefined;
  if (o.upscale > 1) {
    const up = await upscaleDecoded(raw, o.upscale, ctx, (done, total) => ctx.onProgress({ fraction: 0.1 + (0.5 * done) / total, stage: 'upscale' }));
    target = up.image;
    upscaled = { models: up.models, inferenceMs: up.inferenceMs };
  }
  const out = { data: Buffer.from(target.data), width: target.width, height: target.height, channels: target.channels };
  const stats: RunStats = { device: undefined, inferenceMs: 0 };
  const base = o.upscale > 1 ? 0.6 : 0.1;
  for (const [i, face] of located.faces.entries()) {
    ctx.signal.throwIfAborted();
    ctx.onProgress({ fraction: base + ((0.95 - base) * i) / located.faces.length, stage: `face ${i + 1}/${located.faces.length}` });
    const toCrop = ffhqTransform(face.five);
    const restored = await restoreCrop(ctx.runner, o.model, alignFfhq(photo, toCrop), o.fidelity, ctx.signal, stats);
    pasteFace(out, restored, scaledTransform(toCrop, o.upscale), o.strength);
  }
  return imageResult(ctx, out, o.outputFormat, () => ({
    model: o.model,
    device: stats.device ?? null,
    faces: located.faces.map((f) => ({ box: f.box, score: f.score })),
    upscale: o.upscale,
    ...(upscaled ? { upscaler: upscaled.models.join(','), upscaleInferenceMs: Math.round(upscaled.inferenceMs) } : {}),
    strength: o.strength,
    ...(o.model === 'codeformer' ? { fidelity: o.fidelity } : {}),
    width: out.width,
    height: out.height,
    inferenceMs: Math.round((stats.inferenceMs + located.inferenceMs) * 10) / 10,
    totalMs: Math.round(performance.now() - started),
  }));
}

export const enhanceFaceTask: TaskDefinition<typeof EnhanceFaceOptions> = {
  name: 'enhance-face',
  route: 'gfpgan/enhance-face',
  shortRoute: 'enhance-face',
  description: 'Restores every face: detected, aligned to the FFHQ 512 template, restored by GFPGAN or CodeFormer, warped back and feathered in; optionally the whole photo upscaled ×2/×4 by Real-ESRGAN.',
  options: EnhanceFaceOptions,
  models: (o) => [...modelsFor({ plugins: ['landmarks'], detector: o.detector }), o.model, ...(o.upscale > 1 ? defaultUpscaleModels(o.upscale) : [])],
  run: enhanceFace,
};
