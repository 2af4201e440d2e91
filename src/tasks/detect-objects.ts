import { z } from 'zod';
import { encodeImage } from '../image/encode.js';
import { decoding } from '../image/decode.js';
import { imageToTensor } from '../image/tensor.js';
import { IMAGE_FORMATS, type ValidatedImage } from '../image/types.js';
import { rawChannels } from '../image/raw.js';
import type { TaskContext, TaskDefinition, TaskResult } from './types.js';
import { drawDetections } from './detect-objects/annotate.js';
import { selectDetections, type ObjectDetection } from './detect-objects/detection.js';
import { COCO_LABELS } from './detect-objects/labels.js';
import { DEFAULT_DETECTOR, DETECTOR_IDS, DETECTORS } from './detect-objects/models.js';

/** Comma-separated text (form fields, query strings) or a JSON array of COCO labels. */
const classList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.enum(COCO_LABELS, { error: `expects COCO labels: ${COCO_LABELS.join(', ')}` })).min(1),
);

/**
 * Example: `{"image":"<base64>","options":{"classes":["person","dog"],"minScore":0.4}}` →
 * `{success:true, result:{detections:[{label:"person", classId:0, score:0.72, box:{x,y,width,height}}], image:{width,height}, metadata}}`.
 */
export const DetectObjectsOptions = z.strictObject({
  model: z.enum(DETECTOR_IDS).default(DEFAULT_DETECTOR).describe('centernet (MobileNetV3-CenterNet, 512², default) or nanodet (NanoDet, 416²); both COCO-80.'),
  minScore: z.number().min(0).max(1).optional().describe(`Drop detections scoring below this. Default per model: ${DETECTOR_IDS.map((id) => `${id} ${DETECTORS[id].defaultMinScore}`).join(', ')}.`),
  maxDetections: z.number().int().min(1).max(100).default(100).describe('At most this many detections, highest score first.'),
  classes: classList.optional().describe('Only these COCO labels, e.g. ["person","dog"] or "person,dog".'),
  iouThreshold: z.number().min(0).max(1).default(0.5).describe('Boxes of one class overlapping more than this are merged into the higher-scoring one.'),
  annotate: z.boolean().default(false).describe('Return the photo with labelled boxes drawn on it instead of JSON.'),
  outputFormat: z.enum(IMAGE_FORMATS).default('jpeg').describe('Format of the annotated image: jpeg (default), png or webp.'),
});
export type DetectObjectsOptions = z.output<typeof DetectObjectsOptions>;

const round = (ms: number) => Math.round(ms * 10) / 10;

async function detect(image: ValidatedImage, opts: DetectObjectsOptions, ctx: TaskContext): Promise<{ detections: ObjectDetection[]; metadata: Record<string, unknown> }> {
  const spec = DETECTORS[opts.model];
  ctx.onProgress({ fraction: 0, stage: 'preprocess' });
  const t0 = performance.now();
  const pre = await imageToTensor(image, { ...spec.preprocess, size: { width: spec.size, height: spec.size } });
  ctx.signal.throwIfAborted();
  const t1 = performance.now();
  ctx.onProgress({ fraction: 0.2, stage: 'inference' });
  const run = await ctx.runner.run(opts.model, { [spec.inputName]: pre.tensor }, { signal: ctx.signal, outputs: spec.outputs });
  const t2 = performance.now();
  const candidates = spec.decode(run.outputs, opts.model, opts.minScore ?? spec.defaultMinScore);
  const detections = selectDetections(candidates, pre.transform, pre.originalSize, {
    iouThreshold: opts.iouThreshold,
    maxDetections: opts.maxDetections,
    ...(opts.classes ? { classes: opts.classes } : {}),
  });
  const timings = { preprocessMs: round(t1 - t0), inferenceMs: round(run.inferenceMs), runMs: round(t2 - t1), postprocessMs: round(performance.now() - t2) };
  return { detections, metadata: { model: opts.model, device: run.device, minScore: opts.minScore ?? spec.defaultMinScore, timings } };
}

async function detectObjects(image: ValidatedImage, opts: DetectObjectsOptions, ctx: TaskContext): Promise<TaskResult> {
  const { detections, metadata } = await detect(image, opts, ctx);
  if (!opts.annotate) {
    ctx.onProgress({ fraction: 1, stage: 'done' });
    return { kind: 'json', data: { detections, image: { width: image.width, height: image.height } }, metadata };
  }
  ctx.onProgress({ fraction: 0.9, stage: 'annotate' });
  const drawn = await decoding(drawDetections(image, detections).raw().toBuffer({ resolveWithObject: true }));
  const raw = { data: drawn.data, width: drawn.info.width, height: drawn.info.height, channels: rawChannels(drawn.info.channels) };
  const encoded = await encodeImage(raw, opts.outputFormat);
  ctx.onProgress({ fraction: 1, stage: 'done' });
  return { kind: 'image', image: encoded, format: opts.outputFormat, metadata: { ...metadata, detections } };
}

export const detectObjectsTask: TaskDefinition<typeof DetectObjectsOptions> = {
  name: 'detect-objects',
  route: 'transformers/detect-objects',
  shortRoute: 'detect-objects',
  description: 'Finds COCO-80 objects (person, car, dog, cup…): labelled boxes in original-image pixels, or the photo with the boxes drawn on it.',
  options: DetectObjectsOptions,
  models: (opts) => [opts.model],
  modelChoice: { option: 'model', fallback: () => DEFAULT_DETECTOR },
  run: detectObjects,
  shortJson: (data) => (data as { detections: ObjectDetection[] }).detections,
};
