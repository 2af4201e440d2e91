import { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { ValidatedImage } from '../image/types.js';
import type { SubmitInput } from '../jobs/queue.js';
import { elapsedMs, sendSuccess } from '../middleware/error-handler.js';
import { deadline } from '../middleware/deadline.js';
import { intakeLimits, readImageRequest } from '../middleware/image-intake.js';
import { requestOwner } from '../middleware/auth.js';
import { MIME_TYPES } from '../image/encode.js';
import { jobLinks } from '../jobs/view.js';
import { idempotencyKey } from './jobs.js';
import type { ConcurrencyGate } from '../middleware/overload.js';
import type { ModelRunner } from '../models/runner.js';
import { noteInput } from '../identity/usage.js';
import { parseOptions } from '../tasks/options.js';
import { FALLBACK_HEADER, fallbackHeaderValue, runTask } from '../tasks/fallback.js';
import type { TaskRegistry } from '../tasks/registry.js';
import type { TaskContext, TaskDefinition, TaskImageFields, TaskResult } from '../tasks/types.js';

/** What the task routes need of the job queue to hand a request off as an async job. */
export interface AsyncSubmitter {
  submit(input: SubmitInput): Promise<{ job: { id: string; status: string }; created: boolean }>;
}

export interface TaskRouteDeps {
  config: Config;
  logger: Logger;
  runner: ModelRunner;
  tasks: TaskRegistry;
  gate: ConcurrencyGate;
  jobs?: AsyncSubmitter;
}

function wantsAsync(req: Request): boolean {
  return /\brespond-async\b/i.test(req.get('prefer') ?? '') || req.query.async === 'true' || req.query.async === '1';
}

type RunDeps = Pick<TaskRouteDeps, 'config' | 'runner' | 'gate'>;

function contextFor(deps: RunDeps, req: Request, res: Response, images: TaskInput['extras']): TaskContext {
  return {
    images,
    runner: deps.runner,
    config: deps.config,
    logger: req.log,
    signal: res.locals.signal as AbortSignal,
    onProgress: () => undefined,
    owner: requestOwner(res),
  };
}

export interface TaskInput {
  image: ValidatedImage;
  /** The further images of a multi-image task, by field (TaskDefinition.images.extra). */
  extras: Record<string, ValidatedImage>;
  /** As sent: a job parses them again when it runs. */
  raw: unknown;
  options: unknown;
}

/** The main image is the first of `main` present; sending it under two names is refused as ambiguous. */
function pickImages(fields: TaskImageFields, images: Record<string, ValidatedImage>): Pick<TaskInput, 'image' | 'extras'> {
  const given = fields.main.filter((f) => images[f]);
  if (given.length === 0) {
    throw new AppError('INVALID_REQUEST', `The request has no image: send it as ${fields.main.map((f) => `"${f}"`).join(' or ')}.`, { details: { field: fields.main[0] } });
  }
  if (given.length > 1) throw new AppError('INVALID_REQUEST', `Send the image once, as ${given.map((f) => `"${f}"`).join(' or ')}, not both.`, { details: { fields: given } });
  const extras = Object.fromEntries(fields.extra.flatMap((f) => (images[f] ? [[f, images[f]] as const] : [])));
  return { image: images[given[0]!]!, extras };
}

export async function readTaskInput(config: Config, req: Request, task: TaskDefinition): Promise<TaskInput> {
  const fields = task.images;
  const names = fields ? [...fields.main, ...fields.extra] : undefined;
  const limits = { ...intakeLimits(config), ...(names ? { imageFields: names, optionalFields: names } : {}) };
  const { images, options } = await readImageRequest(req, limits);
  const picked = fields ? pickImages(fields, images) : { image: images.image!, extras: {} };
  // Parsing now fails fast; a job parses the raw options again when it runs.
  return { ...picked, raw: options, options: parseOptions(task.options, options) };
}

async function submitAsync(deps: TaskRouteDeps, req: Request, res: Response, task: TaskDefinition, input: TaskInput) {
  noteInput(res, `${task.name} (job)`, [input.image, ...Object.values(input.extras)]);
  if (!deps.jobs) throw new AppError('INVALID_REQUEST', 'Async jobs are not enabled on this server.');
  const webhook = req.get('x-webhook-url');
  const key = idempotencyKey(req);
  const { job, created } = await deps.jobs.submit({
    owner: requestOwner(res),
    operation: task.name,
    image: input.image,
    extras: input.extras,
    options: input.raw,
    ...(webhook ? { webhookUrl: webhook } : {}),
    ...(key ? { idempotencyKey: key } : {}),
  });
  const links = jobLinks(job.id);
  res.setHeader('Location', links.self);
  sendSuccess(res, { jobId: job.id, status: job.status, links }, created ? 202 : 200);
}

function renderJson(res: Response, result: TaskResult): void {
  if (result.kind === 'json') {
    sendSuccess(res, { ...(result.data as object), ...(result.metadata ? { metadata: result.metadata } : {}) });
    return;
  }
  sendSuccess(res, { image: result.image.toString('base64'), format: result.format, metadata: result.metadata });
}

function renderBinary(res: Response, task: TaskDefinition, result: TaskResult): void {
  if (result.kind === 'json') {
    if (task.shortJson) {
      res.setHeader('X-Processing-Time', String(elapsedMs(res)));
      res.status(200).json(task.shortJson(result.data));
    } else sendSuccess(res, result.data);
    return;
  }
  res.status(200).type(MIME_TYPES[result.format]);
  res.setHeader('X-Processing-Time', String(elapsedMs(res)));
  res.end(result.image);
}

/** Runs a task in an overload-gate slot; a model fallback is announced in a response header. */
export async function runGated(deps: RunDeps, req: Request, res: Response, task: TaskDefinition, input: Pick<TaskInput, 'image' | 'extras' | 'options'>) {
  const ctx = contextFor(deps, req, res, input.extras);
  const usage = noteInput(res, task.name, [input.image, ...Object.values(input.extras)]);
  const { result, fallback } = await deps.gate.run(res.locals.signal as AbortSignal | undefined, () => runTask(task, input.image, input.options, ctx));
  if (fallback && !res.headersSent) res.setHeader(FALLBACK_HEADER, fallbackHeaderValue(fallback));
  const { width, height, inferenceMs } = result.metadata ?? {};
  if (result.kind === 'image' && typeof width === 'number' && typeof height === 'number') usage.outputPixels = width * height;
  if (typeof inferenceMs === 'number') usage.inferenceMs = inferenceMs;
  return result;
}

/**
 * One route pair per task: `POST /api/v1/{service}/{action}` (the seed's JSON contract, or any
 * intake form; `Prefer: respond-async` makes it a job) and `POST /v1/{short}` (image in, image out).
 */
export function taskRoutes(deps: TaskRouteDeps): Router {
  const router = Router();
  const timed = deadline(deps.config.REQUEST_TIMEOUT);
  for (const task of deps.tasks.list()) {
    // Express 5 hands a rejected handler promise to the error handler.
    router.post(`/api/v1/${task.route}`, timed, async (req, res) => {
      const input = await readTaskInput(deps.config, req, task);
      if (wantsAsync(req)) return submitAsync(deps, req, res, task, input);
      const result = await runGated(deps, req, res, task, input);
      if (!res.headersSent) renderJson(res, result);
    });
    if (!task.shortRoute) continue;
    router.post(`/v1/${task.shortRoute}`, timed, async (req, res) => {
      const result = await runGated(deps, req, res, task, await readTaskInput(deps.config, req, task));
      if (!res.headersSent) renderBinary(res, task, result);
    });
  }
  return router;
}
