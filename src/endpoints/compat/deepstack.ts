import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../config.js';
import type { FaceGallery } from '../../db/face-gallery.js';
import { AppError, isAppError } from '../../errors.js';
import { credential } from '../../middleware/auth.js';
import type { Scope } from '../../identity/scopes.js';
import type { Box } from '../../image/geometry.js';
import type { ValidatedImage } from '../../image/types.js';
import { intakeLimits, readImageRequest } from '../../middleware/image-intake.js';
import type { ConcurrencyGate } from '../../middleware/overload.js';
import type { ModelRunner } from '../../models/runner.js';
import { parseWith } from '../../schema.js';
import { detectObjectsTask } from '../../tasks/detect-objects.js';
import type { ObjectDetection } from '../../tasks/detect-objects/detection.js';
import { similarity } from '../../tasks/face/embed.js';
import { onScale } from '../../tasks/face/match.js';
import { FACE_MODEL_IDS } from '../../tasks/face/models.js';
import type { AnalyzeOptions } from '../../tasks/face/pipeline.js';
import { runGated } from '../tasks.js';
import type { CompatAuth } from './credentials.js';
import { compatFaces } from './faces.js';

export interface DeepStackDeps {
  runner: ModelRunner;
  config: Config;
  gate: ConcurrencyGate;
  gallery: FaceGallery;
  auth: CompatAuth;
}

/** DeepStack takes `image`, and `image1`… for several faces of one person or the two of a match. */
const IMAGE_FIELDS = ['image', ...Array.from({ length: 10 }, (_, i) => `image${i + 1}`)];

const Confidence = z.number().min(0).max(1);
/** The form fields DeepStack's clients send; anything else is ignored, as DeepStack does. */
export const DeepStackFields = z.object({
  api_key: z.string().optional(),
  min_confidence: Confidence.optional(),
  userid: z.union([z.string(), z.number()]).transform(String).pipe(z.string().trim().min(1).max(200)).optional(),
});
type Fields = z.output<typeof DeepStackFields>;

/**
 * DeepStack reports a face match's confidence on 0–1 with 0.67 as its default cut; our measured
 * match threshold is put there, so a client's min_confidence keeps its meaning.
 */
export const matchConfidence = (cosine: number): number => onScale(cosine, 0.67);

const corners = (b: Box) => ({ x_min: Math.round(b.x1), y_min: Math.round(b.y1), x_max: Math.round(b.x2), y_max: Math.round(b.y2) });
const fromXywh = (b: { x: number; y: number; width: number; height: number }): Box => ({ x1: b.x, y1: b.y, x2: b.x + b.width, y2: b.y + b.height });
const round4 = (v: number) => Math.round(v * 10_000) / 10_000;

interface Call {
  images: ValidatedImage[];
  byField: Record<string, ValidatedImage>;
  fields: Fields;
  owner: string;
  req: Request;
  res: Response;
}

/** The DeepStack error shape: `{ success: false, error }` with the HTTP status of our code. */
const deepStackErrors: ErrorRequestHandler = (err, _req, res, _next) => {
  const status = isAppError(err) ? err.status : 500;
  if (isAppError(err) && err.headers) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  res.status(status).json({ success: false, error: isAppError(err) ? err.message : 'Internal error.', ...(isAppError(err) ? { code: err.code } : {}) });
};

/**
 * DeepStack / CodeProject.AI's vision API at /v1/vision: face detect, register, recognize, list,
 * delete, match, and object detection; `api_key` in the form (or our usual headers) authenticates.
 * The face store is our gallery: a DeepStack userid is a subject's name.
 */
export function deepStackRoutes(deps: DeepStackDeps): Router {
  const router = Router();
  const limits = intakeLimits(deps.config);
  const route = (path: string, need: Scope, work: (call: Call) => Promise<Record<string, unknown>>) => {
    router.post(path, async (req, res) => {
      const started = performance.now();
      const { images, options } = await readImageRequest(req, { ...limits, imageFields: IMAGE_FIELDS, optionalFields: IMAGE_FIELDS });
      const fields = parseWith(DeepStackFields, options, { code: 'INVALID_REQUEST', what: 'form' });
      await deps.auth(req, res, fields.api_key ?? credential(req), need);
      const owner = String(res.locals.owner);
      const ordered = IMAGE_FIELDS.flatMap((f) => (images[f] ? [images[f]] : []));
      const body = await work({ images: ordered, byField: images, fields, owner, req, res });
      res.json({ success: true, ...body, duration: Math.round(performance.now() - started) });
    });
  };
  const need = (call: Call, n: number, what: string) => {
    if (call.images.length < n) throw new AppError('INVALID_REQUEST', `Send ${what}.`, { details: { field: 'image' } });
    return call.images;
  };
  const faces = (image: ValidatedImage, res: Response, opts: Partial<AnalyzeOptions> = {}) => compatFaces(deps, image, opts, res);

  route('/face', 'tasks', async (call) => {
    const [image] = need(call, 1, 'an image');
    const found = await faces(image!, call.res, call.fields.min_confidence === undefined ? {} : { minScore: call.fields.min_confidence });
    return { predictions: found.map((f) => ({ confidence: round4(f.score), ...corners(f.box) })) };
  });

  route('/face/register', 'gallery', async (call) => {
    const userid = call.fields.userid;
    if (!userid) throw new AppError('INVALID_REQUEST', 'userid is required.', { details: { field: 'userid' } });
    const images = need(call, 1, 'at least one image of the person');
    const vectors = await Promise.all(images.map(async (img) => (await faces(img, call.res, { plugins: ['embedding'], largestOnly: true }))[0]));
    if (vectors.some((v) => !v?.embedding)) throw new AppError('NO_FACE', 'No face found in one of the images.');
    const subject = deps.gallery.subjectsNamed(call.owner, userid)[0] ?? deps.gallery.createSubject(call.owner, { name: userid });
    for (const face of vectors) deps.gallery.addFace(call.owner, subject.id, { embedding: face!.embedding!.vector, model: FACE_MODEL_IDS.embed, box: face!.box, score: face!.score });
    return { message: 'face added' };
  });

  route('/face/recognize', 'gallery', async (call) => {
    const [image] = need(call, 1, 'an image');
    const min = call.fields.min_confidence ?? 0.67;
    const found = await faces(image!, call.res, { plugins: ['embedding'] });
    const predictions = found.map((f) => {
      const best = f.embedding ? deps.gallery.search(call.owner, f.embedding.vector, 1)[0] : undefined;
      const confidence = best ? matchConfidence(best.similarity) : 0;
      return { userid: best && confidence >= min ? best.name : 'unknown', confidence: round4(best && confidence >= min ? confidence : 0), ...corners(f.box) };
    });
    return { predictions };
  });

  route('/face/list', 'gallery', async (call) => {
    return { faces: deps.gallery.subjectNamesOf(call.owner) };
  });

  route('/face/delete', 'gallery', async (call) => {
    const userid = call.fields.userid;
    if (!userid) throw new AppError('INVALID_REQUEST', 'userid is required.', { details: { field: 'userid' } });
    for (const subject of deps.gallery.subjectsNamed(call.owner, userid)) deps.gallery.deleteSubject(call.owner, subject.id);
    return {};
  });

  route('/face/match', 'tasks', async (call) => {
    const a = call.byField.image1 ?? call.images[0];
    const b = call.byField.image2 ?? call.images[1];
    if (!a || !b) throw new AppError('INVALID_REQUEST', 'Send two images, image1 and image2.', { details: { field: 'image2' } });
    const largest = { plugins: ['embedding'], largestOnly: true } as const;
    const [[x], [y]] = await Promise.all([faces(a, call.res, largest), faces(b, call.res, largest)]);
    if (!x?.embedding || !y?.embedding) throw new AppError('NO_FACE', `No face found in ${!x?.embedding ? 'image1' : 'image2'}.`);
    return { similarity: round4(matchConfidence(similarity(x.embedding.vector, y.embedding.vector))) };
  });

  route('/detection', 'tasks', async (call) => {
    const [image] = need(call, 1, 'an image');
    const result = await runGated(deps, call.req, call.res, detectObjectsTask, { image: image!, extras: {}, options: detectObjectsTask.options.parse({ minScore: call.fields.min_confidence ?? 0.4 }) });
    const detections = result.kind === 'json' ? (result.data as { detections: ObjectDetection[] }).detections : [];
    return { predictions: detections.map((d) => ({ label: d.label, confidence: round4(d.score), ...corners(fromXywh(d.box)) })) };
  });

  router.use(deepStackErrors);
  return router;
}
