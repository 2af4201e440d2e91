import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createTaskRegistry } from '../../src/tasks/registry.js';
import express from 'express';
import sharp from 'sharp';
import { z } from 'zod';
import { testConfig, type Config } from '../../src/config.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { jobRoutes } from '../../src/endpoints/jobs.js';
import { AppError } from '../../src/errors.js';
import type { ValidatedImage } from '../../src/image/types.js';
import type { Clock, TimerHandle } from '../../src/jobs/clock.js';
import { JobQueue, type JobQueueOptions } from '../../src/jobs/queue.js';
import type { JobQueueEvents } from '../../src/jobs/events.js';
import { createLogger } from '../../src/logger.js';
import { errorHandler } from '../../src/middleware/error-handler.js';
import type { ModelRunner } from '../../src/models/runner.js';
import type { TaskDefinition } from '../../src/tasks/types.js';
import { tempDir } from '../kit/onnx.js';

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** A clock that moves only when the test says so; due timers fire in time order. */
export class FakeClock implements Clock {
  private timers = new Map<number, FakeTimer>();
  private seq = 0;

  constructor(private current = Date.now()) {}

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    this.seq += 1;
    this.timers.set(this.seq, { at: this.current + Math.max(0, ms), seq: this.seq, fn });
    return this.seq;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Moves time forward, firing every timer that comes due on the way (and letting promises settle between). */
  async advance(ms: number): Promise<void> {
    const end = this.current + ms;
    for (;;) {
      const next = [...this.timers.values()].filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers.delete(next.seq);
      this.current = Math.max(this.current, next.at);
      next.fn();
      await settle();
    }
    this.current = end;
  }

  pending(): number {
    return this.timers.size;
  }
}

/** Lets queued promise callbacks and I/O callbacks run. */
export async function settle(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Resolves with the first event `name` whose payload passes `match`. */
export function nextEvent<K extends keyof JobQueueEvents & string>(
  queue: JobQueue,
  name: K,
  match: (...args: Parameters<JobQueueEvents[K]>) => boolean = () => true,
): Promise<Parameters<JobQueueEvents[K]>> {
  return new Promise((resolve) => {
    const listener = ((...args: Parameters<JobQueueEvents[K]>) => {
      if (!match(...args)) return;
      queue.off(name, listener);
      resolve(args);
    }) as JobQueueEvents[K];
    queue.on(name, listener);
  });
}

export function untilStatus(queue: JobQueue, jobId: string, status: string): Promise<unknown> {
  return nextEvent(queue, 'state', (e) => e.job.id === jobId && e.to === status);
}

/** No models are run by the test tasks; a runner that reports the device is enough. */
export const cpuRunner: ModelRunner = {
  async run() {
    return { outputs: {}, device: 'cpu', inferenceMs: 0 };
  },
};

const invertOptions = z.object({ steps: z.number().int().min(1).max(10).default(3) }).strict();

/** Inverts pixels with sharp in `steps` stages, reporting progress after each and honouring the signal. */
export function invertTask(gate?: { reached: (step: number) => void; proceed: (step: number) => Promise<void> }): TaskDefinition<typeof invertOptions> {
  return {
    name: 'test-invert',
    route: 'test/invert',
    description: 'Inverts pixels (tests only).',
    options: invertOptions,
    models: () => ['test-invert'],
    async run(image, opts, ctx) {
      await ctx.runner.run('test-invert', {});
      for (let step = 1; step <= opts.steps; step += 1) {
        ctx.signal.throwIfAborted();
        gate?.reached(step);
        if (gate) await gate.proceed(step);
        ctx.onProgress({ fraction: step / opts.steps, stage: `step ${step} of ${opts.steps}` });
      }
      const out = await sharp(image.buffer).negate({ alpha: false }).png().toBuffer();
      return { kind: 'image', image: out, format: 'png', metadata: { width: image.width, height: image.height } };
    },
  };
}

/** Throws MODEL_UNAVAILABLE on its first `failures` runs, then answers JSON. */
export function flakyTask(failures: number): TaskDefinition & { runs: () => number } {
  let runs = 0;
  return {
    name: 'test-flaky',
    route: 'test/flaky',
    description: 'Fails transiently (tests only).',
    options: z.object({}).strict(),
    models: () => [],
    async run(image) {
      runs += 1;
      if (runs <= failures) throw new AppError('MODEL_UNAVAILABLE', 'The test model is not loaded yet.');
      return { kind: 'json', data: { width: image.width, runs }, metadata: { attempt: runs } };
    },
    runs: () => runs,
  };
}

/** Always rejects its options at run time: a permanent failure. */
export function invalidTask(): TaskDefinition & { runs: () => number } {
  let runs = 0;
  return {
    name: 'test-invalid',
    route: 'test/invalid',
    description: 'Fails permanently (tests only).',
    options: z.object({}).strict(),
    models: () => [],
    async run() {
      runs += 1;
      throw new AppError('INVALID_OPTIONS', 'The test options can never be satisfied.');
    },
    runs: () => runs,
  };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

/** Holds a task at each step: `arrived(n)` resolves when it reaches step n, `release(n)` lets it pass. */
export function stepGate() {
  const arrivals = new Map<number, ReturnType<typeof deferred>>();
  const releases = new Map<number, ReturnType<typeof deferred>>();
  const get = (m: typeof arrivals, step: number) => {
    if (!m.has(step)) m.set(step, deferred());
    return m.get(step) as ReturnType<typeof deferred>;
  };
  return {
    reached: (step: number) => get(arrivals, step).resolve(),
    proceed: (step: number) => get(releases, step).promise,
    arrived: (step: number) => get(arrivals, step).promise,
    release: (step: number) => get(releases, step).resolve(),
  };
}

export async function samplePng(width = 8, height = 6): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 10 } } }).png().toBuffer();
}

export async function sampleImage(width = 8, height = 6): Promise<ValidatedImage> {
  return { buffer: await samplePng(width, height), format: 'png', width, height, hasAlpha: false };
}

export interface Harness {
  queue: JobQueue;
  db: Db;
  clock: FakeClock;
  config: Config;
  dataDir: string;
  logs: string[];
}

/** A queue on its own temporary data dir and database, with a fake clock. */
export function createHarness(tasks: TaskDefinition[], env: Record<string, string> = {}, extra: Partial<JobQueueOptions> = {}): Harness {
  const dataDir = extra.dataDir ?? tempDir('fotofun-jobs-');
  const config = testConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'debug', ...env });
  const logs: string[] = [];
  const logger = createLogger(config.LOG_LEVEL, new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } }));
  const db = extra.db ?? openDatabase(`${dataDir}/service.db`);
  const clock = (extra.clock as FakeClock | undefined) ?? new FakeClock();
  const queue = new JobQueue({
    db, dataDir, tasks: createTaskRegistry(tasks), runner: cpuRunner, config, logger, clock,
    backoff: { baseMs: 1_000, maxMs: 60_000 }, closeTimeoutMs: 5_000, ...extra,
  });
  return { queue, db, clock, config, dataDir, logs };
}

export interface HttpHarness extends Harness {
  url: string;
  close(): Promise<void>;
}

/** The jobs router in a bare express app: owner from X-Test-Owner, the real error handler. */
export async function startJobsApp(h: Harness, heartbeatMs = 15_000): Promise<HttpHarness> {
  const app = express();
  app.use((req, res, next) => {
    res.locals.owner = req.get('x-test-owner') ?? 'anonymous';
    next();
  });
  app.use('/api/v1/jobs', jobRoutes({ queue: h.queue, config: h.config, heartbeatMs, clock: h.clock }));
  app.use(errorHandler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...h,
    url: `http://127.0.0.1:${port}/api/v1/jobs`,
    async close() {
      const closing = h.queue.close();
      await h.clock.advance(10_000);
      await closing;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      h.db.close();
    },
  };
}
