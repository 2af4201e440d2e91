import express, { Router, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { FaceGallery } from '../db/face-gallery.js';
import { AppError } from '../errors.js';
import type { ValidatedImage } from '../image/types.js';
import { sendSuccess } from '../middleware/error-handler.js';
import { intakeLimits, readImageRequest } from '../middleware/image-intake.js';
import type { ConcurrencyGate } from '../middleware/overload.js';
import { requestOwner } from '../middleware/auth.js';
import { parseWith } from '../schema.js';
import type { ModelRunner, RunOptions } from '../models/runner.js';
import { parseOptions } from '../tasks/options.js';
import { similarity } from '../tasks/face/embed.js';
import { DEFAULT_MATCH_THRESHOLD } from '../tasks/face/match.js';
import { FACE_MODEL_IDS } from '../tasks/face/models.js';
import type { AnalyzeOptions, AnalyzedFace } from '../tasks/face/pipeline.js';
import { analyseImage, detectionOptions, round2, roundTimings, type FaceImageAnalysis } from '../tasks/face-detect.js';

export interface FaceRouteDeps {
  runner: ModelRunner;
  db: Db;
  config: Config;
  logger: Logger;
  /** The overload gate the task routes use: face work counts against the same limit. */
  gate: ConcurrencyGate;
  /** Shared with the compatibility APIs, so one in-memory index serves every route; made here when absent. */
  gallery?: FaceGallery;
}

const threshold = z.number().min(-1).max(1).default(DEFAULT_MATCH_THRESHOLD);

export const VerifyOptions = z.strictObject({ ...detectionOptions, threshold });
export const EnrolOptions = z.strictObject({ ...detectionOptions });
export const RecognizeOptions = z.strictObject({
  ...detectionOptions,
  threshold,
  k: z.number().int().min(1).max(50).default(3),
  limit: z.number().int().min(1).max(100).default(20),
});
export const SubjectBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export const GalleryPage = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

const runOptions = (res: Response): RunOptions => (res.locals.signal ? { signal: res.locals.signal as AbortSignal } : {});

export function faceRoutes(deps: FaceRouteDeps): Router {
  const router = Router();
  const service = faceService(deps);
  mountImageRoutes(router, service);
  mountGallery(router, deps.gallery ?? new FaceGallery(deps.db, { cacheMB: deps.config.FACE_INDEX_CACHE_MB }), service);
  return router;
}

/** What the routes share: intake limits, the overload slot, and the analyse-one-image step. */
interface FaceService {
  limits: { maxFileSize: number; maxPixels: number };
  /** Runs a request's model work in one overload-gate slot, taken after its images were read. */
  gated<T>(res: Response, work: () => Promise<T>): Promise<T>;
  analyse(image: ValidatedImage, opts: AnalyzeOptions, res: Response): Promise<FaceImageAnalysis>;
  /** The largest face's embedding, or 422 NO_FACE naming the field when there is none. */
  largestEmbedding(image: ValidatedImage, opts: z.output<typeof EnrolOptions>, field: string, res: Response): Promise<{ face: AnalyzedFace; vector: Float32Array }>;
}

function faceService(deps: FaceRouteDeps): FaceService {
  const limits = intakeLimits(deps.config);
  const analyse = (image: ValidatedImage, opts: AnalyzeOptions, res: Response) => analyseImage(deps.runner, image, opts, runOptions(res));
  async function largestEmbedding(image: ValidatedImage, opts: z.output<typeof EnrolOptions>, field: string, res: Response) {
    const analysis = await analyse(image, { ...opts, plugins: ['embedding'], limit: 100, largestOnly: true }, res);
    const face = analysis.faces[0];
    if (!face?.embedding) {
      throw new AppError('NO_FACE', `No face found in "${field}"; send a photo with a clearly visible face (or lower minScore).`, {
        details: { field },
      });
    }
    return { face, vector: face.embedding.vector };
  }
  const gated = <T>(res: Response, work: () => Promise<T>) => deps.gate.run(res.locals.signal as AbortSignal | undefined, work);
  return { limits, gated, analyse, largestEmbedding };
}

/** /detect and /analyze are tasks (src/tasks/face-detect.ts), served by the generic task routes. */
function mountImageRoutes(router: Router, svc: FaceService): void {
  router.post('/verify', async (req, res) => {
    const { images, options } = await readImageRequest(req, { ...svc.limits, imageFields: ['source', 'target'] });
    const { threshold: t, ...detect } = parseOptions(VerifyOptions, options);
    const [source, target] = await svc.gated(res, () => Promise.all([
      svc.largestEmbedding(images.source!, detect, 'source', res),
      svc.largestEmbedding(images.target!, detect, 'target', res),
    ]));
    const score = similarity(source.vector, target.vector);
    sendSuccess(res, {
      similarity: Math.round(score * 10_000) / 10_000,
      match: score >= t,
      threshold: t,
      source: { box: source.face.box, score: source.face.score },
      target: { box: target.face.box, score: target.face.score },
    });
  });
}

function notFound(what: string, id: string): AppError {
  return new AppError('NOT_FOUND', `No ${what} ${id} in your gallery; list them with GET /api/v1/face/subjects.`, { details: { id } });
}

function mountGallery(router: Router, gallery: FaceGallery, h: FaceService): void {
  router.post('/subjects', express.json({ limit: '64kb' }), (req, res) => {
    const body = parseWith(SubjectBody, req.body, { code: 'INVALID_REQUEST', what: 'body' });
    sendSuccess(res, { subject: gallery.createSubject(requestOwner(res), body) }, 201);
  });

  router.get('/subjects', (req, res) => {
    const page = parseWith(GalleryPage, req.query, { code: 'INVALID_REQUEST', what: 'query' });
    sendSuccess(res, { ...gallery.listSubjects(requestOwner(res), page), ...page });
  });

  router.get('/subjects/:id', (req, res) => {
    const subject = gallery.getSubject(requestOwner(res), req.params.id);
    if (!subject) throw notFound('subject', req.params.id);
    sendSuccess(res, { subject });
  });

  router.delete('/subjects/:id', (req, res) => {
    if (!gallery.deleteSubject(requestOwner(res), req.params.id)) throw notFound('subject', req.params.id);
    sendSuccess(res, { deleted: true, id: req.params.id });
  });

  router.post('/subjects/:id/faces', async (req, res) => {
    // Checked before the image is read, so a wrong id costs no inference.
    if (!gallery.getSubject(requestOwner(res), req.params.id)) throw notFound('subject', req.params.id);
    const { images, options } = await readImageRequest(req, h.limits);
    const opts = parseOptions(EnrolOptions, options);
    const { face, vector } = await h.gated(res, () => h.largestEmbedding(images.image!, opts, 'image', res));
    const enrolled = gallery.addFace(requestOwner(res), req.params.id, { embedding: vector, model: FACE_MODEL_IDS.embed, box: face.box, score: face.score });
    if (!enrolled) throw notFound('subject', req.params.id);
    sendSuccess(res, { face: enrolled }, 201);
  });

  router.delete('/subjects/:id/faces/:faceId', (req, res) => {
    if (!gallery.deleteFace(requestOwner(res), req.params.id, req.params.faceId)) throw notFound('face', req.params.faceId);
    sendSuccess(res, { deleted: true, id: req.params.faceId });
  });

  router.post('/recognize', async (req, res) => {
    const { images, options } = await readImageRequest(req, h.limits);
    const { k, threshold: t, ...opts } = parseOptions(RecognizeOptions, options);
    const analysis = await h.gated(res, () => h.analyse(images.image!, { ...opts, plugins: ['embedding'] }, res));
    const t0 = performance.now();
    const faces = analysis.faces.map((face) => ({
      box: face.box,
      score: face.score,
      matches: gallery.search(requestOwner(res), face.embedding!.vector, k).map((m) => ({
        ...m,
        similarity: Math.round(m.similarity * 10_000) / 10_000,
        match: m.similarity >= t,
      })),
    }));
    const searchMs = performance.now() - t0;
    sendSuccess(res, {
      faces,
      threshold: t,
      timings: { ...roundTimings(analysis.timings), search: { ms: round2(searchMs), inferenceMs: 0 } },
    });
  });
}
