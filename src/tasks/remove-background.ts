import { z } from 'zod';
import { AppError } from '../errors.js';
import { decodeRaw } from '../image/decode.js';
import { encodeImage } from '../image/encode.js';
import type { RawImage } from '../image/raw.js';
import type { ValidatedImage } from '../image/types.js';
import type { RunResult } from '../models/runner.js';
import type { TaskContext, TaskDefinition, TaskResult } from './types.js';
import { alphaOf, applyAlpha, cropRaw, fillBackground, maskAsRaw, subjectBounds, type Box } from './remove-background/composite.js';
import { finishMask, maskFromOutput, sharpMask, type Mask } from './remove-background/mask.js';
import {
  DEFAULT_SEGMENTATION_MODELS,
  defaultSegmentationModel,
  PORTRAIT,
  PORTRAIT_MODELS,
  portraitModel,
  SEGMENTATION_MODEL_IDS,
  segmentationModel,
  type Rgba,
  type SegmentationModelSpec,
} from './remove-background/models.js';
import { toModelInput } from './remove-background/preprocess.js';

const byte = z.number().int().min(0).max(255);

/** '#rrggbb', '#rrggbbaa', [r,g,b] or [r,g,b,a] (0–255); alpha defaults to opaque. */
const BgColor = z
  .union([
    z.string().regex(/^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/, "expects '#rrggbb' or '#rrggbbaa', e.g. '#ffffff'"),
    z.tuple([byte, byte, byte]),
    z.tuple([byte, byte, byte, byte]),
  ])
  .transform((v): Rgba => {
    if (Array.isArray(v)) return [v[0], v[1], v[2], v[3] ?? 255];
    const hex = (i: number) => Number.parseInt(v.slice(1 + 2 * i, 3 + 2 * i), 16);
    return [hex(0), hex(1), hex(2), v.length === 9 ? hex(3) : 255];
  });

/**
 * Options, all optional. Example request:
 * `{"image":"<base64>","format":"jpeg","options":{"bgColor":"#ffffff","crop":true}}`
 * → `{success:true, result:{image:"<base64 png>", format:"png", metadata:{model, width, height, device, timings}}}`.
 */
export const RemoveBackgroundOptions = z
  .object({
    /**
     * Segmentation model (manifest id). 'isnet-general' is ISNet "medium" in fp32, the default on
     * a GPU; '-int8' the same weights quantised, the default on CPU; '-small' IMG.LY's 8-bit
     * export. 'portrait' is the fast path for people: MediaPipe's selfie or, for landscape
     * photos, Meet segmenter, refined against the photo with the guided filter.
     */
    model: z.enum([...SEGMENTATION_MODEL_IDS, PORTRAIT]).optional(),
    /** Return the grayscale mask (white = subject) instead of the cut-out. Default false. */
    returnMask: z.boolean().default(false),
    postProcessing: z
      .object({
        /** Soften the staircase a mask stretched from 1024² leaves on large photos. Default false. */
        smoothEdges: z.boolean().default(false),
        /** Feather the edge over about this many pixels on each side. Default 0 (off), max 100. */
        featherRadius: z.number().int().min(0).max(100).default(0),
      })
      .strict()
      .prefault({}),
    /** 0..1: mask values at or above become fully opaque, the rest fully transparent. Default: soft alpha. */
    alphaThreshold: z.number().min(0).max(1).optional(),
    /** Fill the background with this colour ('#rrggbb', '#rrggbbaa', [r,g,b] or [r,g,b,a]) instead of transparency; opaque unless an alpha is given. */
    bgColor: BgColor.optional(),
    /**
     * 'guided': refine the mask at full resolution with a colour guided filter over the photo, so
     * its edge follows the photo's (hair, soft focus) rather than the model's 1024² outline. Default 'none'.
     */
    refine: z.enum(['none', 'guided']).default('none'),
    /**
     * rembg's alpha matting: a trimap from the mask (above foregroundThreshold sure subject, below
     * backgroundThreshold sure background, both eroded by erodeSize), then a closed-form matting
     * solve for the band between. Slow (seconds on large photos); off unless given.
     */
    alphaMatting: z
      .strictObject({
        foregroundThreshold: z.number().int().min(0).max(255).default(240),
        backgroundThreshold: z.number().int().min(0).max(255).default(10),
        erodeSize: z.number().int().min(0).max(100).default(10),
      })
      .optional(),
    /** rembg's post_process_mask: an opening, a 5×5 Gaussian and a hard cut at 127 give a clean binary mask. Default false. */
    postProcessMask: z.boolean().default(false),
    /** Trim the result to the subject's bounding box. An image with no subject is returned uncropped. Default false. */
    crop: z.boolean().default(false),
    /** 'png' (default) or 'webp' (lossy colour, lossless alpha). */
    outputFormat: z.enum(['png', 'webp']).default('png'),
  })
  .strict();

export type RemoveBackgroundOptions = z.output<typeof RemoveBackgroundOptions>;

export interface RemoveBackgroundTimings {
  decodeMs: number;
  preprocessMs: number;
  /** Time inside session.run(), measured where the session lives. */
  inferenceMs: number;
  /** The whole ModelRunner call: queueing, the hop to the worker and back, and inferenceMs. */
  runMs: number;
  postprocessMs: number;
  encodeMs: number;
}

/**
 * Alpha below this is left out of the crop box: ISNet leaves a faint haze over busy backgrounds
 * (on faces-group-2.jpg 8.8% of pixels get alpha 1–15), invisible but enough to defeat the trim.
 */
const CROP_MIN_ALPHA = 16;

const round = (ms: number) => Math.round(ms * 10) / 10;

async function runModel(ctx: TaskContext, modelId: string, spec: SegmentationModelSpec, input: RawImage): Promise<{ mask: Mask; run: RunResult; preprocessMs: number; runMs: number }> {
  const t0 = performance.now();
  const tensor = await toModelInput(input, spec);
  const t1 = performance.now();
  ctx.signal.throwIfAborted();
  const outputs = spec.outputName === undefined ? undefined : [spec.outputName];
  const run = await ctx.runner.run(modelId, { [spec.inputName]: tensor }, { signal: ctx.signal, ...(outputs ? { outputs } : {}) });
  const runMs = performance.now() - t1;
  const out = spec.outputName === undefined ? Object.values(run.outputs)[0] : run.outputs[spec.outputName];
  if (!out || out.type !== 'float32') {
    throw new AppError('PROCESSING_ERROR', `Model ${modelId} returned no float32 mask output ("${spec.outputName ?? 'first output'}"); check that MODEL_DIR holds the right ${modelId}.onnx.`);
  }
  const mask = maskFromOutput(out, spec);
  return { mask, run, preprocessMs: t1 - t0, runMs };
}

/** The alpha-applied image (or the mask), optionally flattened and cropped, ready to encode. */
async function compose(rgba: RawImage, alpha: Mask, image: ValidatedImage, opts: RemoveBackgroundOptions): Promise<RawImage> {
  // A mask of an opaque photo is the model's alpha as it is; the RGBA pixels are not needed.
  if (!opts.returnMask || image.hasAlpha) applyAlpha(rgba, alpha, image.hasAlpha);
  const finalAlpha = image.hasAlpha ? alphaOf(rgba) : alpha;
  const box: Box | undefined = opts.crop ? subjectBounds(finalAlpha, CROP_MIN_ALPHA) : undefined;
  if (opts.returnMask) {
    const mask = maskAsRaw(finalAlpha);
    return box ? cropRaw(mask, 1, box) : mask;
  }
  const out = opts.bgColor ? await fillBackground(rgba, opts.bgColor) : rgba;
  return box ? cropRaw(out, out.channels, box) : out;
}

/** Masks stay one-channel grey (encodeImage would write RGB); a WebP mask is lossless, so it stays exact. */
function encodeResult(raw: RawImage, format: RemoveBackgroundOptions['outputFormat']): Promise<Buffer> {
  if (raw.channels !== 1) return encodeImage(raw, format);
  const pipeline = sharpMask(raw);
  return format === 'png' ? pipeline.png({ compressionLevel: 6 }).toBuffer() : pipeline.webp({ lossless: true }).toBuffer();
}

async function removeBackground(image: ValidatedImage, opts: RemoveBackgroundOptions, ctx: TaskContext): Promise<TaskResult> {
  const requested = opts.model ?? defaultSegmentationModel(ctx.config.DEVICE);
  const model = requested === PORTRAIT ? portraitModel(image.width, image.height) : requested;
  const spec = segmentationModel(model);
  ctx.onProgress({ fraction: 0, stage: 'decode' });
  const t0 = performance.now();
  const rgba = await decodeRaw(image, { channels: 4 });
  const decodeMs = performance.now() - t0;
  ctx.signal.throwIfAborted();
  ctx.onProgress({ fraction: 0.1, stage: 'inference' });
  const { mask, run, preprocessMs, runMs } = await runModel(ctx, model, spec, rgba);
  ctx.signal.throwIfAborted();
  ctx.onProgress({ fraction: 0.8, stage: 'postprocess' });
  const t2 = performance.now();
  const alpha = await finishMask(mask, rgba.width, rgba.height, {
    ...opts.postProcessing, binarize: opts.postProcessMask, alphaThreshold: opts.alphaThreshold, ...(opts.refine === 'guided' || spec.refine ? { guide: rgba } : {}),
    ...(opts.alphaMatting ? { matting: { photo: rgba, options: opts.alphaMatting } } : {}),
  });
  const result = await compose(rgba, alpha, image, opts);
  const t3 = performance.now();
  ctx.onProgress({ fraction: 0.9, stage: 'encode' });
  const encoded = await encodeResult(result, opts.outputFormat);
  const timings: RemoveBackgroundTimings = {
    decodeMs: round(decodeMs),
    preprocessMs: round(preprocessMs),
    inferenceMs: round(run.inferenceMs),
    runMs: round(runMs),
    postprocessMs: round(t3 - t2),
    encodeMs: round(performance.now() - t3),
  };
  ctx.onProgress({ fraction: 1, stage: 'done' });
  return {
    kind: 'image',
    image: encoded,
    format: opts.outputFormat,
    metadata: { model, width: result.width, height: result.height, device: run.device, timings },
  };
}

export const removeBackgroundTask: TaskDefinition<typeof RemoveBackgroundOptions> = {
  name: 'remove-background',
  route: 'transformers/remove-background',
  shortRoute: 'remove-background',
  description:
    'Cuts the subject out of a photo (ISNet segmentation): a PNG/WebP with a transparent background, a solid colour fill, or the grayscale mask.',
  options: RemoveBackgroundOptions,
  models: (opts) => (opts.model === PORTRAIT ? PORTRAIT_MODELS : opts.model ? [opts.model] : DEFAULT_SEGMENTATION_MODELS),
  modelChoice: { option: 'model', fallback: (config) => defaultSegmentationModel(config.DEVICE) },
  run: removeBackground,
};
