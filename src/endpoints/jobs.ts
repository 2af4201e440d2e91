import express, { Router, type Request } from 'express';
import { z } from 'zod';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { decodeBase64Image } from '../image/base64.js';
import type { ValidatedImage } from '../image/types.js';
import { validateImage } from '../image/validate.js';
import { systemClock, type Clock } from '../jobs/clock.js';
import type { JobQueue } from '../jobs/queue.js';
import { JOB_STATUSES } from '../jobs/schema.js';
import { streamJobEvents } from '../jobs/sse.js';
import { sendSuccess } from '../middleware/error-handler.js';
import { intakeLimits, readImageRequest } from '../middleware/image-intake.js';
import { requestOwner } from '../middleware/auth.js';
import { parseWith } from '../schema.js';
import { noteInput } from '../identity/usage.js';

export interface JobRouteDeps {
  queue: JobQueue;
  config: Config;
  /** SSE comment heartbeat interval. */
  heartbeatMs?: number;
  clock?: Clock;
}

export const JsonSubmit = z.looseObject({
  operation: z.string().min(1, 'name the task, e.g. "remove-background"'),
  image: z.string().min(1, 'send the image as base64 or a data URL'),
  options: z.record(z.string(), z.unknown()).optional(),
  webhookUrl: z.string().max(2048).optional(),
  format: z.string().optional(),
});

export const JobListQuery = z.object({
  status: z.enum(JOB_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

const IdempotencyKey = z.string().regex(/^[\x21-\x7e]{1,255}$/, 'Idempotency-Key must be 1–255 visible ASCII characters');

interface SubmitRequest {
  operation: string;
  image: ValidatedImage;
  extras: Record<string, ValidatedImage>;
  options: unknown;
  webhookUrl?: string;
}

/** A multi-image task's further images ride beside `image` under their own names (`style`). */
async function fromJson(req: Request, deps: JobRouteDeps): Promise<SubmitRequest> {
  const body = parseWith(JsonSubmit, req.body, { code: 'INVALID_REQUEST', what: 'job request' });
  const limits = intakeLimits(deps.config);
  const image = await validateImage(decodeBase64Image(body.image, 'image'), limits);
  const extras: Record<string, ValidatedImage> = {};
  for (const field of deps.queue.task(body.operation).images?.extra ?? []) {
    const value = body[field];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') throw new AppError('INVALID_REQUEST', `Field "${field}" must be a base64 string or a data URL.`, { details: { field } });
    extras[field] = await validateImage(decodeBase64Image(value, field), limits);
  }
  return { operation: body.operation, image, extras, options: body.options ?? {}, ...(body.webhookUrl ? { webhookUrl: body.webhookUrl } : {}) };
}

/** Multipart or raw bodies: `operation` and `webhookUrl` arrive as form fields or query parameters. */
async function fromIntake(req: Request, deps: JobRouteDeps): Promise<SubmitRequest> {
  const extra = deps.queue.extraImageFields();
  const { images, options } = await readImageRequest(req, { ...intakeLimits(deps.config), imageFields: ['image', ...extra], optionalFields: extra });
  const { operation, webhookUrl, ...rest } = options as Record<string, unknown>;
  if (typeof operation !== 'string' || operation === '') {
    throw new AppError('INVALID_REQUEST', 'Name the task in an "operation" field (or ?operation=), e.g. "remove-background".');
  }
  const { image, ...extras } = images;
  return { operation, image: image!, extras, options: rest, ...(typeof webhookUrl === 'string' ? { webhookUrl } : {}) };
}

/** The Idempotency-Key header, checked: task routes handing off to a job use this too. */
export function idempotencyKey(req: Request): string | undefined {
  const raw = req.get('idempotency-key');
  if (raw === undefined) return undefined;
  return parseWith(IdempotencyKey, raw, { code: 'INVALID_REQUEST', what: 'Idempotency-Key header' });
}

/**
 * /api/v1/jobs: submit any task as a durable job, read it, list, fetch the result, follow progress
 * over SSE, cancel. Owners see only their own jobs; another owner's job is a 404.
 */
export function jobRoutes(deps: JobRouteDeps): Router {
  const router = Router();
  const { queue, config } = deps;
  const json = express.json({ limit: Math.ceil((config.MAX_FILE_SIZE * 4) / 3) + 64 * 1024, type: ['application/json', 'application/*+json'] });

  router.post('/', json, async (req, res) => {
    const input = req.is(['application/json', 'application/*+json']) ? await fromJson(req, deps) : await fromIntake(req, deps);
    const key = idempotencyKey(req);
    noteInput(res, `${input.operation} (job)`, [input.image, ...Object.values(input.extras)]);
    const { job, created } = await queue.submit({ owner: requestOwner(res), ...input, ...(key ? { idempotencyKey: key } : {}) });
    res.setHeader('Location', job.links.self);
    sendSuccess(res, { jobId: job.id, status: job.status, links: job.links }, created ? 202 : 200);
  });

  router.get('/', (req, res) => {
    const q = parseWith(JobListQuery, req.query, { code: 'INVALID_REQUEST', what: 'query' });
    const page = queue.list(requestOwner(res), q);
    sendSuccess(res, page);
  });

  router.get('/:id', (req, res) => {
    sendSuccess(res, queue.get(req.params.id, requestOwner(res)));
  });

  router.get('/:id/result', async (req, res) => {
    const { body, contentType, kind, job } = await queue.result(req.params.id, requestOwner(res));
    if (kind === 'json') {
      sendSuccess(res, { data: JSON.parse(body.toString('utf8')) as unknown, metadata: job.result?.metadata ?? {} });
      return;
    }
    if (req.accepts([contentType, 'application/json']) === 'application/json') {
      sendSuccess(res, { image: body.toString('base64'), format: contentType.replace('image/', ''), metadata: job.result?.metadata ?? {} });
      return;
    }
    res.status(200).type(contentType).setHeader('Content-Disposition', `inline; filename="${job.id}.${contentType.replace('image/', '')}"`);
    res.end(body);
  });

  router.get('/:id/events', (req, res) => {
    streamJobEvents(queue, req, res, req.params.id, requestOwner(res), { heartbeatMs: deps.heartbeatMs ?? 15_000, clock: deps.clock ?? systemClock });
  });

  router.delete('/:id', (req, res) => {
    sendSuccess(res, queue.cancel(req.params.id, requestOwner(res)));
  });

  return router;
}
