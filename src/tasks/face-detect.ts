import { z } from 'zod';
import type { ValidatedImage } from '../image/types.js';
import type { ModelRunner, RunOptions } from '../models/runner.js';
import { FACE_DETECTORS, FACE_PLUGINS, analyzeFaces, modelsFor, toOriginalPixels, type AnalyzeOptions, type AnalyzedFace, type FaceAnalysis } from './face/pipeline.js';
import { DETECT_ONLY_SIDE, MAX_ANALYSIS_SIDE, decodeRgb } from './face/raster.js';
import type { TaskDefinition } from './types.js';

/** Comma-separated text (form fields, query strings) or a JSON array. */
const pluginList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.enum(FACE_PLUGINS)),
);

/** Detection options every face operation shares. */
export const detectionOptions = {
  detector: z.enum(FACE_DETECTORS).default('ultraface'),
  minScore: z.number().min(0).max(1).optional(),
  iouThreshold: z.number().min(0).max(1).default(0.4),
};

export const FaceDetectOptions = z.strictObject({
  ...detectionOptions,
  plugins: pluginList.default([]),
  limit: z.number().int().min(1).max(100).default(20),
});

export const FaceAnalyzeOptions = FaceDetectOptions.extend({
  plugins: pluginList.default(['landmarks', 'antispoof', 'age', 'gender', 'pose', 'expression']),
});

export type FaceImageAnalysis = FaceAnalysis & { image: { width: number; height: number } };

/**
 * Decodes (downscaled: 640 px when only boxes are wanted, else 2048 px on the long side), runs the
 * face pipeline, and reports boxes and landmarks in the original image's pixels.
 */
export async function analyseImage(runner: ModelRunner, image: ValidatedImage, opts: AnalyzeOptions, run: RunOptions): Promise<FaceImageAnalysis> {
  const side = opts.plugins.length > 0 ? MAX_ANALYSIS_SIDE : DETECT_ONLY_SIDE;
  const { img, scale, original } = await decodeRgb(image, side);
  const analysis = await analyzeFaces(runner, img, opts, run);
  return { ...analysis, faces: toOriginalPixels(analysis.faces, scale), image: original };
}

/** Embeddings are compact in JSON at 6 decimals (cosine error < 1e-5). */
function serialiseFace(face: AnalyzedFace): Record<string, unknown> {
  const { embedding, ...rest } = face;
  if (!embedding) return rest;
  return { ...rest, embedding: { vector: Array.from(embedding.vector, (v) => Math.round(v * 1e6) / 1e6), ms: embedding.ms } };
}

export const round2 = (v: number) => Math.round(v * 100) / 100;

export function roundTimings(t: FaceAnalysis['timings']): Record<string, { ms: number; inferenceMs: number }> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { ms: round2(v.ms), inferenceMs: round2(v.inferenceMs) }]));
}

function report(analysis: FaceImageAnalysis) {
  return { image: analysis.image, faces: analysis.faces.map(serialiseFace), timings: roundTimings(analysis.timings) };
}

function faceTask<S extends typeof FaceDetectOptions>(name: string, action: string, description: string, options: S): TaskDefinition<S> {
  return {
    name,
    route: `face/${action}`,
    description,
    options,
    models: (opts) => modelsFor(opts),
    modelChoice: { option: 'detector', fallback: () => 'ultraface' },
    async run(image, opts, ctx) {
      ctx.onProgress({ fraction: 0, stage: 'detect' });
      const analysis = await analyseImage(ctx.runner, image, opts, { signal: ctx.signal });
      return { kind: 'json', data: report(analysis) };
    },
  };
}

/** POST /api/v1/face/detect: boxes and the plugins asked for. */
export const faceDetectTask = faceTask('face-detect', 'detect', 'Finds faces, with any of landmarks, embedding, antispoof, age, gender, pose and expression.', FaceDetectOptions);

/** POST /api/v1/face/analyze (the seed's face/analyze): every attribute plugin unless told otherwise. */
export const faceAnalyzeTask = faceTask('face-analyze', 'analyze', 'Finds faces and analyses each: landmarks, anti-spoofing, age, gender, pose and expression.', FaceAnalyzeOptions);
