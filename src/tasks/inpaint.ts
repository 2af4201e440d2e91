import { z } from 'zod';
import { decodeRaw } from '../image/decode.js';
import type { RawImage } from '../image/raw.js';
import { blendRgb, cropRgb } from '../image/region.js';
import { IMAGE_FORMATS, type ValidatedImage } from '../image/types.js';
import { imageResult } from './image-result.js';
import type { RunStats } from './model-run.js';
import type { TaskContext, TaskDefinition, TaskResult } from './types.js';
import { EXEMPLAR_METHODS, inpaintInWorker, type ExemplarMethod } from './inpaint/exemplar.js';
import { buildHoleMask, MaskBox, MaskStroke, type HoleMask } from './inpaint/mask.js';
import { inpaintNeural, LAMA_SIDE, NEURAL_INPAINTERS, type NeuralInpainter } from './inpaint/neural.js';
import { workAreas, type Rect } from './inpaint/regions.js';
import { atMostSide, type Area } from './inpaint/work-scale.js';

export const INPAINT_MODELS = [...EXEMPLAR_METHODS, ...NEURAL_INPAINTERS] as const;
export type InpaintModel = (typeof INPAINT_MODELS)[number];
const isNeural = (m: InpaintModel): m is NeuralInpainter => (NEURAL_INPAINTERS as readonly string[]).includes(m);

/**
 * Example: multipart `image` + `mask` (white = erase) → the image with the masked object gone;
 * or JSON `{ image, options: { boxes: [{ x, y, width, height }] } }` with boxes from detect-objects.
 */
export const InpaintOptions = z.strictObject({
  model: z.enum(INPAINT_MODELS).default('patchmatch').describe("'patchmatch' (default, no weights): copies texture from the rest of the image into the hole, for removing objects; 'telea' (no weights): smooth fast-marching fill for scratches, text and blemishes; 'lama' / 'migan': the neural inpainters (operator-supplied weights)."),
  boxes: z.array(MaskBox).max(256).optional().describe('Rectangles to erase, added to the mask image if one is sent.'),
  strokes: z.array(MaskStroke).max(256).optional().describe('Brush strokes to erase, added to the mask image if one is sent.'),
  strategy: z.enum(['crop', 'resize']).default('crop').describe("'crop' (default): each masked region is inpainted in a crop with cropMargin of context; 'resize': the whole image is one region. Either way a region longer than resizeLimit is worked on downscaled and its fill scaled back; pixels outside the mask come back unchanged."),
  cropMargin: z.number().int().min(0).max(2048).default(128).describe('Context in pixels around each masked region (strategy crop).'),
  resizeLimit: z.number().int().min(128).max(4096).default(1280).describe('patchmatch, telea and migan: the longest side a region is inpainted at (migan itself then works at 512 around the hole; lama always takes the region at 512).'),
  patchSize: z.number().int().min(3).max(15).refine((v) => v % 2 === 1, 'patchSize must be odd').default(7).describe('patchmatch: patch side in pixels; larger keeps bigger structures.'),
  radius: z.number().int().min(1).max(32).default(5).describe('telea: the neighbourhood each filled pixel averages over.'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1).describe('patchmatch: seeds its random search; the same request gives the same image.'),
  outputFormat: z.enum(IMAGE_FORMATS).default('png').describe('png, webp or jpeg (jpeg has no alpha: transparency becomes white).'),
});
export type InpaintOptions = z.output<typeof InpaintOptions>;

function crop(image: RawImage, mask: HoleMask, r: Rect): Area {
  const hole = new Uint8Array(r.width * r.height);
  for (let y = 0; y < r.height; y++) hole.set(mask.data.subarray((r.y + y) * image.width + r.x, (r.y + y) * image.width + r.x + r.width), y * r.width);
  return { rgb: cropRgb(image, r), hole, width: r.width, height: r.height };
}

interface RegionReport extends Rect {
  workWidth: number;
  workHeight: number;
}

async function fillArea(area: Area, o: InpaintOptions, ctx: TaskContext, stats: RunStats, report: RegionReport, onLevel: (f: number) => void): Promise<Uint8Array> {
  if (o.model === 'lama') {
    const k = Math.min(1, LAMA_SIDE / Math.max(area.width, area.height));
    [report.workWidth, report.workHeight] = [Math.round(area.width * k), Math.round(area.height * k)];
    return inpaintNeural(o.model, area, ctx.runner, ctx.signal, stats);
  }
  return atMostSide(area, o.resizeLimit, (work) => {
    [report.workWidth, report.workHeight] = [work.width, work.height];
    if (o.model === 'migan') return inpaintNeural(o.model, work, ctx.runner, ctx.signal, stats);
    const job = { method: o.model as ExemplarMethod, rgb: work.rgb, hole: work.hole, width: work.width, height: work.height, patchSize: o.patchSize, radius: o.radius, seed: o.seed };
    return inpaintInWorker(job, ctx.signal, ({ done, total }) => onLevel(done / total));
  });
}

async function inpaint(image: ValidatedImage, o: InpaintOptions, ctx: TaskContext): Promise<TaskResult> {
  const started = performance.now();
  ctx.onProgress({ fraction: 0, stage: 'decode' });
  const raw = await decodeRaw(image);
  const mask = await buildHoleMask({ image: ctx.images?.mask, boxes: o.boxes, strokes: o.strokes }, raw.width, raw.height);
  const maskedPixels = mask.data.reduce((s, v) => s + v, 0);
  const areas = maskedPixels === 0 ? [] : o.strategy === 'crop' ? workAreas(mask, o.cropMargin) : [{ x: 0, y: 0, width: raw.width, height: raw.height }];
  const out = Buffer.from(raw.data);
  const stats: RunStats = { device: undefined, inferenceMs: 0 };
  const regions: RegionReport[] = [];
  for (const [i, r] of areas.entries()) {
    ctx.signal.throwIfAborted();
    const progress = (f: number) => ctx.onProgress({ fraction: 0.05 + (0.9 * (i + f)) / areas.length, stage: `region ${i + 1}/${areas.length}` });
    progress(0);
    const area = crop(raw, mask, r);
    const report: RegionReport = { ...r, workWidth: r.width, workHeight: r.height };
    const fill = await fillArea(area, o, ctx, stats, report, progress);
    blendRgb({ ...raw, data: out }, r, area.rgb, fill, (k) => area.hole[k]!);
    regions.push(report);
  }
  return imageResult(ctx, { ...raw, data: out }, o.outputFormat, () => ({
    model: o.model,
    device: isNeural(o.model) ? (stats.device ?? null) : 'cpu',
    strategy: o.strategy,
    maskedPixels,
    regions,
    width: raw.width,
    height: raw.height,
    ...(isNeural(o.model) ? { inferenceMs: Math.round(stats.inferenceMs * 10) / 10 } : {}),
    totalMs: Math.round(performance.now() - started),
  }));
}

export const inpaintTask: TaskDefinition<typeof InpaintOptions> = {
  name: 'inpaint',
  route: 'lama/inpaint',
  shortRoute: 'inpaint',
  description: 'Smart erase: fills the masked part of the image (a mask image, boxes or strokes) from its surroundings — PatchMatch by default, Telea for scratches, LaMa or MI-GAN with their weights.',
  options: InpaintOptions,
  models: (o) => (isNeural(o.model) ? [o.model] : []),
  modelChoice: { option: 'model', fallback: () => 'patchmatch' },
  run: inpaint,
  images: { main: ['image'], extra: ['mask'] },
};
