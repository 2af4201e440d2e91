import express, { Router, type Request, type Response } from 'express';
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
import { readImageRequest } from '../middleware/image-intake.js';

export interface JobRouteDeps {
  queue: JobQueue;
  config: Config;
  /** SSE comment heartbeat interval. */
  heartbeatMs?: number;
  clock?: Clock;
}

const JsonSubmit = z.object({
  operation: z.string().min(1, 'name the task, e.g. "remove-background"'),
  image: z.string().min(1, 'send the image as base64 or a data URL'),
  options: z.record(z.string(), z.unknown()).optional(),
  webhookUrl: z.string().max(2048).optional(),
  format: z.string().optional(),
});

const ListQuery = z.object({
  status: z.enum(JOB_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

const IdempotencyKey = z.string().regex(/^[\x21-\x7e]{1,255}$/, 'Idempotency-Key must be 1–255 visible ASCII characters');

interface SubmitRequest {
  operation: string;
  image: ValidatedImage;
  options: unknown;
  webhookUrl?: string;
}

function invalid(error: z.ZodError, what: string): AppError {
  const issues = error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const first = issues[0];
  return new AppError('INVALID_REQUEST', `Invalid ${what}${first ? `: ${first.path || '(root)'}: ${first.message}` : ''}.`, { details: { issues } });
}

function limitsOf(config: Config) {
  return { maxFileSize: config.MAX_FILE_SIZE, maxPixels: config.MAX_IMAGE_PIXELS };
}

async function fromJson(req: Request, config: Config): Promise<SubmitRequest> {
  const body = JsonSubmit.safeParse(req.body);
  if (!body.success) throw invalid(body.error, 'job request');
  const image = await validateImage(decodeBase64Image(body.data.image, 'image'), limitsOf(config));
  return { operation: body.data.operation, image, options: body.data.options ?? {}, ...(body.data.webhookUrl ? { webhookUrl: body.data.webhookUrl } : {}) };
}

/** Multipart or raw bodies: `operation` and `webhookUrl` arrive as form fields or query parameters. */
async function fromIntake(req: Request, config: Config): Promise<SubmitRequest> {
  const { images, options } = await readImageRequest(req, limitsOf(config));
  const { operation, webhookUrl, ...rest } = options as Record<string, unknown>;
  if (typeof operation !== 'string' || operation === '') {
    throw new AppError('INVALID_REQUEST', 'Name the task in an "operation" field (or ?operation=), e.g. "remove-background".');
  }
  return { operation, image: images.image as ValidatedImage, options: rest, ...(typeof webhookUrl === 'string' ? { webhookUrl } : {}) };
}

function idempotencyKey(req: Request): string | undefined {
  const raw = req.get('idempotency-key');
  if (raw === undefined) return undefined;
  const parsed = IdempotencyKey.safeParse(raw);
  if (!parsed.success) throw invalid(parsed.error, 'Idempotency-Key header');
  return parsed.data;
}

const owner = (res: Response) => String(res.locals.owner ?? 'anonymous');

/**
 * /api/v1/jobs: submit any task as a durable job, read it, list, fetch the result, follow progress
 * over SSE, cancel. Owners see only their own jobs; another owner's job is a 404.
 */
export function jobRoutes(deps: JobRouteDeps): Router {
  const router = Router();
  const { queue, config } = deps;
  const json = express.json({ limit: Math.ceil((config.MAX_FILE_SIZE * 4) / 3) + 64 * 1024, type: ['application/json', 'application/*+json'] });

  router.post('/', json, async (req, res) => {
    const input = req.is(['application/json', 'application/*+json']) ? await fromJson(req, config) : await fromIntake(req, config);
    const key = idempotencyKey(req);
    const { job, created } = await queue.submit({ owner: owner(res), ...input, ...(key ? { idempotencyKey: key } : {}) });
    res.setHeader('Location', job.links.self);
    sendSuccess(res, { jobId: job.id, status: job.status, links: job.links }, created ? 202 : 200);
  });

  router.get('/', (req, res) => {
    const q = ListQuery.safeParse(req.query);
    if (!q.success) throw invalid(q.error, 'query');
    const page = queue.list(owner(res), q.data);
    sendSuccess(res, page);
  });

  router.get('/:id', (req, res) => {
    sendSuccess(res, queue.get(req.params.id, owner(res)));
  });

  router.get('/:id/result', async (req, res) => {
    const { body, contentType, kind, job } = await queue.result(req.params.id, owner(res));
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
    streamJobEvents(queue, req, res, req.params.id, owner(res), { heartbeatMs: deps.heartbeatMs ?? 15_000, clock: deps.clock ?? systemClock });
  });

  router.delete('/:id', (req, res) => {
    sendSuccess(res, queue.cancel(req.params.id, owner(res)));
  });

  return router;
}
