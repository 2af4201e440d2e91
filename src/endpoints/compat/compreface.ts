import express, { Router, type ErrorRequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../config.js';
import type { FaceGallery } from '../../db/face-gallery.js';
import { AppError, isAppError } from '../../errors.js';
import type { Box } from '../../image/geometry.js';
import type { ValidatedImage } from '../../image/types.js';
import { requestOwner } from '../../middleware/auth.js';
import { intakeLimits, readImageRequest } from '../../middleware/image-intake.js';
import type { ConcurrencyGate } from '../../middleware/overload.js';
import type { ModelRunner } from '../../models/runner.js';
import { parseWith } from '../../schema.js';
import { similarity as cosine } from '../../tasks/face/embed.js';
import { onScale } from '../../tasks/face/match.js';
import { FACE_MODEL_IDS } from '../../tasks/face/models.js';
import type { AnalyzedFace, FacePlugin } from '../../tasks/face/pipeline.js';
import { compatFaces } from './faces.js';

export interface CompreFaceDeps {
  runner: ModelRunner;
  config: Config;
  gate: ConcurrencyGate;
  gallery: FaceGallery;
}

/** CompreFace's numeric error codes that clients test for; others carry the HTTP status. */
const NO_FACE_CODE = 28;

const Flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const Threshold = z.coerce.number().min(0).max(1);
/** CompreFace's query parameters; unknown face_plugins are ignored, as CompreFace does. */
export const CompreFaceQuery = z.object({
  limit: z.coerce.number().int().min(0).default(0),
  prediction_count: z.coerce.number().int().min(1).max(100).default(1),
  det_prob_threshold: Threshold.optional(),
  face_plugins: z.string().default(''),
  status: Flag.default(false),
  detect_faces: Flag.default(true),
  subject: z.string().trim().min(1).max(200).optional(),
  page: z.coerce.number().int().min(0).default(0),
  size: z.coerce.number().int().min(1).max(1000).default(20),
});
type Query = z.output<typeof CompreFaceQuery>;

export const CompreFaceSubject = z.object({ subject: z.string().trim().min(1).max(200) });
const Ids = z.array(z.string().min(1)).max(10_000);
const Embedding = z.array(z.number()).length(512);
export const EmbeddingsRecognize = z.object({ embeddings: z.array(Embedding).min(1).max(100) });
export const EmbeddingsVerify = z.object({ source: Embedding, targets: z.array(Embedding).min(1).max(100) });

/** CompreFace's five landmarks and age brackets (the agegender plugin's classes). */
const AGE_BRACKETS: readonly [number, number][] = [[0, 2], [4, 6], [8, 12], [15, 20], [25, 32], [38, 43], [48, 53], [60, 100]];
const PLUGIN_MAP: Record<string, FacePlugin> = { age: 'age', gender: 'gender', landmarks: 'landmarks', calculator: 'embedding', pose: 'pose' };
const PLUGIN_VERSIONS: Record<string, string> = {
  detector: 'fotofun.UltraFace', calculator: 'fotofun.FaceEmbed', age: 'fotofun.SSRNetAge', gender: 'fotofun.SSRNetGender', landmarks: 'fotofun.Landmarks68', pose: 'fotofun.HeadPose',
};

const round5 = (v: number) => Math.round(v * 100_000) / 100_000;
/**
 * CompreFace's similarity is 0–1 with 0.5 between most right and most wrong guesses
 * (docs/Face-Recognition-Similarity-Threshold.md): our measured threshold is put at 0.5.
 */
const SIMILARITY_THRESHOLD = 0.5;
const scaled = (c: number) => round5(onScale(c, SIMILARITY_THRESHOLD));
const similarity01 = (a: Float32Array, b: Float32Array) => scaled(cosine(a, b));
const boxOf = (b: Box, score: number) => ({ probability: round5(score), x_max: Math.round(b.x2), y_max: Math.round(b.y2), x_min: Math.round(b.x1), y_min: Math.round(b.y1) });

function pluginsOf(q: Query): string[] {
  return q.face_plugins.split(',').map((p) => p.trim()).filter((p) => p in PLUGIN_MAP);
}

function bracket(years: number): [number, number] {
  return AGE_BRACKETS.reduce((best, b) => (Math.abs((b[0] + b[1]) / 2 - years) < Math.abs((best[0] + best[1]) / 2 - years) ? b : best));
}

/** A face in CompreFace's shape: box plus what each requested plugin found. */
function describe(face: AnalyzedFace, plugins: string[], status: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { box: boxOf(face.box, face.score) };
  const times: Record<string, number> = {};
  if (plugins.includes('age') && face.age) {
    const [low, high] = bracket(face.age.years);
    // SSR-Net regresses an age; it has no class probability to report.
    out.age = { probability: null, high, low };
    times.age = face.age.ms;
  }
  if (plugins.includes('gender') && face.gender) {
    out.gender = { probability: round5(face.gender.probability), value: face.gender.label };
    times.gender = face.gender.ms;
  }
  if (plugins.includes('landmarks') && face.landmarks) {
    out.landmarks = face.landmarks.fivePoints.map((p) => [Math.round(p.x), Math.round(p.y)]);
    times.landmarks = face.landmarks.ms;
  }
  if (plugins.includes('pose') && face.pose) {
    out.pose = { pitch: face.pose.pitch, roll: face.pose.roll, yaw: face.pose.yaw };
    times.pose = face.pose.ms;
  }
  if (plugins.includes('calculator') && face.embedding) {
    out.embedding = [...face.embedding.vector];
    times.calculator = face.embedding.ms;
  }
  if (status) out.execution_time = times;
  return out;
}

const versions = (plugins: string[]) => Object.fromEntries(['detector', ...plugins].map((p) => [p, PLUGIN_VERSIONS[p]]));

/** CompreFace's error body: `{ message, code }` with the HTTP status of our code. */
const compreFaceErrors: ErrorRequestHandler = (err, _req, res, _next) => {
  if (!isAppError(err)) {
    res.status(500).json({ message: 'Something went wrong, please try again', code: 0 });
    return;
  }
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  const code = err.code === 'NO_FACE' ? NO_FACE_CODE : err.status;
  res.status(err.code === 'NO_FACE' ? 400 : err.status).json({ message: err.message, code });
};

const noFace = () => new AppError('NO_FACE', 'No face is found in the given image');
const subjectNotFound = (s: string) => new AppError('NOT_FOUND', `Subject ${s} not found`, { details: { subject: s } });

/**
 * CompreFace's REST API (docs/Rest-API-description.md) at /api/v1/recognition, /detection and
 * /verification. `x-api-key` is our API key; the face collection is our gallery: a subject is a
 * gallery subject's name, an image_id an enrolled face's id. Images are not stored, only embeddings.
 */
export function compreFaceRoutes(deps: CompreFaceDeps): Router {
  const router = Router();
  const limits = intakeLimits(deps.config);
  // Only names, ids and embeddings come as parsed JSON (≤ 100 × 512 numbers); images are read by readImageRequest.
  const json = express.json({ limit: '2mb' });
  const { gallery } = deps;
  const query = (raw: unknown) => parseWith(CompreFaceQuery, raw, { code: 'INVALID_REQUEST', what: 'query' });
  const image = async (req: express.Request, field = 'file') => (await readImageRequest(req, { ...limits, imageFields: [field] })).images[field]!;
  const faces = (img: ValidatedImage, q: Query, plugins: FacePlugin[], res: Response, largestOnly = false) => compatFaces(deps, img, {
    limit: q.limit > 0 ? q.limit : 100, plugins, wholeImage: !q.detect_faces, largestOnly,
    ...(q.det_prob_threshold === undefined ? {} : { minScore: q.det_prob_threshold }),
  }, res);
  const wanted = (q: Query, extra: FacePlugin[] = []) => [...new Set([...pluginsOf(q).map((p) => PLUGIN_MAP[p]!), ...extra])];

  // subjects
  router.post('/recognition/subjects', json, (req, res) => {
    const { subject } = parseWith(CompreFaceSubject, req.body, { code: 'INVALID_REQUEST', what: 'body' });
    if (gallery.subjectsNamed(requestOwner(res), subject).length) throw new AppError('INVALID_REQUEST', `Subject ${subject} already exists`);
    gallery.createSubject(requestOwner(res), { name: subject });
    res.status(201).json({ subject });
  });
  router.get('/recognition/subjects', (_req, res) => {
    res.json({ subjects: gallery.subjectNamesOf(requestOwner(res)) });
  });
  router.put('/recognition/subjects/:subject', json, (req, res) => {
    const { subject } = parseWith(CompreFaceSubject, req.body, { code: 'INVALID_REQUEST', what: 'body' });
    res.json({ updated: gallery.rename(requestOwner(res), req.params.subject!, subject) });
  });
  router.delete('/recognition/subjects/:subject', (req, res) => {
    const named = gallery.subjectsNamed(requestOwner(res), req.params.subject!);
    if (named.length === 0) throw subjectNotFound(req.params.subject!);
    for (const s of named) gallery.deleteSubject(requestOwner(res), s.id);
    res.json({ subject: req.params.subject });
  });
  router.delete('/recognition/subjects', (_req, res) => {
    res.json({ deleted: gallery.deleteAllSubjects(requestOwner(res)) });
  });

  // the face collection
  router.post('/recognition/faces', async (req, res) => {
    const q = query(req.query);
    if (!q.subject) throw new AppError('INVALID_REQUEST', 'subject is required', { details: { field: 'subject' } });
    const [face] = await faces(await image(req), q, ['embedding'], res, true);
    if (!face?.embedding) throw noFace();
    const owner = requestOwner(res);
    const subject = gallery.subjectsNamed(owner, q.subject)[0] ?? gallery.createSubject(owner, { name: q.subject });
    const added = gallery.addFace(owner, subject.id, { embedding: face.embedding.vector, model: FACE_MODEL_IDS.embed, box: face.box, score: face.score })!;
    res.status(201).json({ image_id: added.id, subject: q.subject });
  });
  router.get('/recognition/faces', (req, res) => {
    const q = query(req.query);
    const { faces: list, total } = gallery.listFaces(requestOwner(res), { ...(q.subject ? { name: q.subject } : {}), limit: q.size, offset: q.page * q.size });
    res.json({ faces: list.map((f) => ({ image_id: f.id, subject: f.subject })), page_number: q.page, page_size: q.size, total_pages: Math.ceil(total / q.size), total_elements: total });
  });
  const removeFace = (owner: string, id: string) => {
    const face = gallery.face(owner, id);
    if (!face) return undefined;
    gallery.deleteFace(owner, face.subjectId, id);
    return { image_id: id, subject: face.subject };
  };
  router.delete('/recognition/faces', (req, res) => {
    const q = query(req.query);
    const owner = requestOwner(res);
    const { faces: list } = gallery.listFaces(owner, { ...(q.subject ? { name: q.subject } : {}), limit: 1_000_000, offset: 0 });
    for (const f of list) removeFace(owner, f.id);
    res.json({ deleted: list.length });
  });
  router.delete('/recognition/faces/:image_id', (req, res) => {
    const removed = removeFace(requestOwner(res), req.params.image_id!);
    if (!removed) throw new AppError('NOT_FOUND', `Image ${req.params.image_id} not found`);
    res.json(removed);
  });
  router.post('/recognition/faces/delete', json, (req, res) => {
    const ids = parseWith(Ids, req.body, { code: 'INVALID_REQUEST', what: 'body' });
    res.json(ids.flatMap((id) => removeFace(requestOwner(res), id) ?? []));
  });
  router.get('/recognition/faces/:image_id/img', () => {
    throw new AppError('NOT_FOUND', 'Images are not stored here: the face collection keeps embeddings only.');
  });

  // recognition and verification against the collection
  router.post('/recognition/recognize', async (req, res) => {
    const q = query(req.query);
    const plugins = pluginsOf(q);
    const found = await faces(await image(req), q, wanted(q, ['embedding']), res);
    if (found.length === 0) throw noFace();
    const owner = requestOwner(res);
    const result = found.map((f) => ({
      ...describe(f, plugins, q.status),
      subjects: gallery.search(owner, f.embedding!.vector, q.prediction_count).map((m) => ({ subject: m.name, similarity: scaled(m.similarity) })),
    }));
    res.json({ result, ...(q.status ? { plugins_versions: versions(plugins) } : {}) });
  });
  router.post('/recognition/faces/:image_id/verify', async (req, res) => {
    const q = query(req.query);
    const stored = gallery.face(requestOwner(res), req.params.image_id!);
    if (!stored) throw new AppError('NOT_FOUND', `Image ${req.params.image_id} not found`);
    const plugins = pluginsOf(q);
    const found = await faces(await image(req), q, wanted(q, ['embedding']), res);
    if (found.length === 0) throw noFace();
    const result = found.map((f) => ({ ...describe(f, plugins, q.status), subject: stored.subject, similarity: similarity01(stored.embedding, f.embedding!.vector) }));
    res.json({ result, ...(q.status ? { plugins_versions: versions(plugins) } : {}) });
  });

  // the detection and verification services
  router.post('/detection/detect', async (req, res) => {
    const q = query(req.query);
    const plugins = pluginsOf(q);
    const found = await faces(await image(req), q, wanted(q), res);
    if (found.length === 0) throw noFace();
    res.json({ result: found.map((f) => describe(f, plugins, q.status)), ...(q.status ? { plugins_versions: versions(plugins) } : {}) });
  });
  router.post('/verification/verify', async (req, res) => {
    const q = query(req.query);
    const plugins = pluginsOf(q);
    const { images } = await readImageRequest(req, { ...limits, imageFields: ['source_image', 'target_image'] });
    const [source, targets] = await Promise.all([faces(images.source_image!, q, wanted(q, ['embedding']), res, true), faces(images.target_image!, q, wanted(q, ['embedding']), res)]);
    if (source.length === 0 || targets.length === 0) throw noFace();
    const s = source[0]!;
    res.json({
      result: [{
        source_image_face: describe(s, plugins, q.status),
        face_matches: targets.map((t) => ({ ...describe(t, plugins, q.status), similarity: similarity01(s.embedding!.vector, t.embedding!.vector) })),
        ...(q.status ? { plugins_versions: versions(plugins) } : {}),
      }],
    });
  });

  // the embeddings variants
  router.post('/recognition/embeddings/recognize', json, (req, res) => {
    const q = query(req.query);
    const { embeddings } = parseWith(EmbeddingsRecognize, req.body, { code: 'INVALID_REQUEST', what: 'body' });
    const result = embeddings.map((e) => {
      const v = Float32Array.from(e);
      return { embedding: e, similarities: gallery.search(requestOwner(res), v, q.prediction_count).map((m) => ({ subject: m.name, similarity: scaled(m.similarity) })) };
    });
    res.json({ result });
  });
  router.post('/verification/embeddings/verify', json, (req, res) => {
    const { source, targets } = parseWith(EmbeddingsVerify, req.body, { code: 'INVALID_REQUEST', what: 'body' });
    const s = Float32Array.from(source);
    res.json({ result: targets.map((t) => ({ embedding: t, similarity: similarity01(s, Float32Array.from(t)) })) });
  });

  router.use(compreFaceErrors);
  return router;
}
