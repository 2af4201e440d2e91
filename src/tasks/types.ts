import type { z } from 'zod';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ImageFormat, ValidatedImage } from '../image/types.js';
import type { ModelRunner } from '../models/runner.js';

export interface TaskProgress {
  /** 0..1 */
  fraction: number;
  stage: string;
}

export interface TaskContext {
  runner: ModelRunner;
  config: Config;
  logger: Logger;
  /** Aborted on client disconnect, request timeout or job cancel: stop between steps (tiles). */
  signal: AbortSignal;
  onProgress: (p: TaskProgress) => void;
  /** Caller identity (API key id or user), for per-owner data such as the face gallery. */
  owner: string;
  /** The request's further images by field name (TaskDefinition.images.extra): a style image, a mask. */
  images?: Readonly<Record<string, ValidatedImage>>;
}

export type TaskResult =
  | { kind: 'image'; image: Buffer; format: ImageFormat; metadata: Record<string, unknown> }
  | { kind: 'json'; data: unknown; metadata?: Record<string, unknown> };

/**
 * One task: options schema (with defaults) and the work. Registered in src/tasks/registry.ts; the
 * sync routes, the short routes and the job workers all run tasks through this one shape.
 */
export interface TaskDefinition<S extends z.ZodType = z.ZodType> {
  /** Stable operation name, e.g. 'remove-background'; used by jobs. */
  name: string;
  /** `{service}/{action}` for POST /api/v1/{service}/{action}. */
  route: string;
  /** Short route for the FotoFun client (image in, image out), if any: e.g. 'remove-background'. */
  shortRoute?: string;
  description: string;
  options: S;
  /** Model ids this task may run (for /health and readiness of its family). */
  models: (options: z.output<S>) => string[];
  run(image: ValidatedImage, options: z.output<S>, ctx: TaskContext): Promise<TaskResult>;
  /**
   * Which option picks the model (an option value, e.g. `model: 'rmbg-1.4'` or `detector`) and
   * the family default served when that model's weights are absent (src/tasks/fallback.ts).
   */
  modelChoice?: { option: string; fallback: (config: Config) => string };
  /**
   * The short route's body for a JSON result, where the FotoFun client expects a bare value (the
   * `Detection[]` of detectObjects) rather than the envelope; default: the envelope.
   */
  shortJson?: (data: unknown) => unknown;
  /**
   * For a task that takes more than one image: the fields that may carry the main image (the
   * first present is run's `image`, e.g. ['content', 'image']) and the optional further ones handed
   * over as `ctx.images` (e.g. ['style']). Default: the main image is "image", and nothing more.
   */
  images?: TaskImageFields;
}

export interface TaskImageFields {
  main: readonly [string, ...string[]];
  extra: readonly string[];
}
