import { z } from 'zod';
import { AppError } from '../errors.js';
import { decodeRaw } from '../image/decode.js';
import { imageToTensor } from '../image/tensor.js';
import type { ValidatedImage } from '../image/types.js';
import type { ModelRunner } from '../models/runner.js';
import type { TaskContext, TaskDefinition, TaskResult } from './types.js';
import { dbBoxes } from './ocr/db-postprocess.js';
import { lineQuad } from './ocr/line-crop.js';
import { characterList, DET, OCR_MODELS, REC } from './ocr/models.js';
import type { Quad } from './ocr/quad.js';
import type { RunStats } from './model-run.js';
import { orient, recognise } from './ocr/recognize.js';

/**
 * Example: `{"image":"<base64>","options":{"detectRotation":true}}` →
 * `{text: "line 1\nline 2", lines: [{text, confidence, box: [[x,y]×4]}], metadata}`.
 */
export const OcrOptions = z.strictObject({
  minConfidence: z.number().min(0).max(1).default(0.5).describe("Lines read with less mean confidence are dropped (PaddleOCR's drop_score)."),
  detectRotation: z.boolean().default(false).describe('Run the direction classifier and read lines it finds upside down turned (PaddleOCR use_angle_cls).'),
  maxSide: z.number().int().min(32).max(4096).default(960).describe('The detector sees the image with its longer side at most this (sides multiples of 32); small text in large images needs more.'),
  boxThreshold: z.number().min(0).max(1).default(0.6).describe('Mean text probability a detected box needs (box_thresh).'),
  // PaddleOCR's 1.5 crops lines so tight that PP-OCRv4 drops the spaces between words (rendered
  // lines at 16–40 px: "FotoFunreads2026signs"); from 2.0 on every space came back.
  unclipRatio: z.number().min(0.5).max(4).default(2).describe("How far a box grows around the detector's shrunk text kernel (PaddleOCR's unclip_ratio; its 1.5 loses spaces between words)."),
});
export type OcrOptions = z.output<typeof OcrOptions>;

export interface OcrLine {
  text: string;
  confidence: number;
  box: Quad;
}

/** Binarisation threshold of the probability map (PaddleOCR's det_db_thresh). */
const BINARY_THRESHOLD = 0.3;

/** The detector's input size: longer side at most maxSide, each side rounded to a multiple of 32. */
export function detectorSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const ratio = Math.min(1, maxSide / Math.max(width, height));
  const side = (v: number) => Math.max(DET.multiple, Math.round((v * ratio) / DET.multiple) * DET.multiple);
  return { width: side(width), height: side(height) };
}

const characters = new WeakMap<ModelRunner, Promise<string[]>>();
function charactersOf(runner: ModelRunner): Promise<string[]> {
  let chars = characters.get(runner);
  if (!chars) {
    if (!runner.file) throw new AppError('MODEL_UNAVAILABLE', `This runner cannot read ${REC.keysFile}, the recogniser's character list.`);
    chars = runner.file(OCR_MODELS.rec, REC.keysFile).then((b) => characterList(b.toString('utf8')));
    chars.catch(() => characters.delete(runner));
    characters.set(runner, chars);
  }
  return chars;
}

async function ocr(image: ValidatedImage, o: OcrOptions, ctx: TaskContext): Promise<TaskResult> {
  const started = performance.now();
  const stats: RunStats = { device: undefined, inferenceMs: 0 };
  ctx.onProgress({ fraction: 0, stage: 'detect' });
  const src = await decodeRaw(image, { channels: 3 });
  const size = detectorSize(src.width, src.height, o.maxSide);
  const pre = await imageToTensor(src, { size, fit: 'fill', kernel: 'linear', channelOrder: 'BGR', layout: 'NCHW', scale: 1 / 255, mean: DET.mean, std: DET.std });
  const det = await ctx.runner.run(OCR_MODELS.det, { [DET.input]: pre.tensor }, { signal: ctx.signal, outputs: [DET.output] });
  stats.device = det.device;
  stats.inferenceMs += det.inferenceMs;
  const map = det.outputs[DET.output];
  if (!map || map.type !== 'float32' || map.dims.join() !== [1, 1, size.height, size.width].join()) {
    throw new AppError('PROCESSING_ERROR', `Model ${OCR_MODELS.det} returned no float32 [1,1,${size.height},${size.width}] probability map; check that MODEL_DIR holds the right ${OCR_MODELS.det}.onnx.`);
  }
  const boxes = dbBoxes(map.data as Float32Array, size.width, size.height, src, {
    binaryThreshold: BINARY_THRESHOLD, boxThreshold: o.boxThreshold, unclipRatio: o.unclipRatio, maxCandidates: 1000,
  });
  ctx.signal.throwIfAborted();
  let lines = boxes.map((b) => lineQuad(b.quad));
  if (lines.length && o.detectRotation) {
    ctx.onProgress({ fraction: 0.4, stage: 'orientation' });
    lines = await orient(src, lines, ctx.runner, ctx.signal, stats);
  }
  ctx.onProgress({ fraction: 0.5, stage: `recognise ${lines.length} lines` });
  const read = lines.length ? await recognise(src, lines, await charactersOf(ctx.runner), ctx.runner, ctx.signal, stats) : [];
  const found: OcrLine[] = read.flatMap((r, i) => (r.confidence >= o.minConfidence && r.text.trim() ? [{ text: r.text, confidence: Math.round(r.confidence * 10_000) / 10_000, box: boxes[i]!.quad }] : []));
  ctx.onProgress({ fraction: 1, stage: 'done' });
  const models = [OCR_MODELS.det, ...(o.detectRotation && lines.length ? [OCR_MODELS.cls] : []), ...(lines.length ? [OCR_MODELS.rec] : [])];
  return {
    kind: 'json',
    data: { text: found.map((l) => l.text).join('\n'), lines: found },
    metadata: {
      model: models.join(','), device: stats.device ?? 'cpu', width: src.width, height: src.height, detectorSize: size,
      boxes: boxes.length, inferenceMs: Math.round(stats.inferenceMs * 10) / 10, totalMs: Math.round((performance.now() - started) * 10) / 10,
    },
  };
}

export const ocrTask: TaskDefinition<typeof OcrOptions> = {
  name: 'ocr',
  route: 'ocr/recognize',
  shortRoute: 'ocr',
  description: 'Finds and reads the text in a photo (PP-OCRv4): lines in reading order with their boxes and confidences.',
  options: OcrOptions,
  models: (o) => [OCR_MODELS.det, OCR_MODELS.rec, ...(o.detectRotation ? [OCR_MODELS.cls] : [])],
  run: ocr,
};
