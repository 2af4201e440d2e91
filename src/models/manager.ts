import fs from 'node:fs';
import type { Logger } from 'pino';
import type { ModelStats } from '../db/model-stats.js';
import { AppError, isAppError } from '../errors.js';
import { PlacementExecutor, isOutOfMemory, type VramScheduler } from '../vram/index.js';
import { parseSessionKey, sessionKey, type DeviceId, type ModelSnapshot, type ModelSpec as SchedulerSpec } from '../vram/types.js';
import type { GpuFootprints } from './gpu-memory.js';
import type { ModelSpec } from './manifest.js';
import type { ModelRunner, RunOptions, RunResult } from './runner.js';
import type { ModelStatus } from './store/model-store.js';
import { cloneFeeds, type Feeds } from './tensor.js';
import type { SessionPool, SessionsLostEvent } from './worker/types.js';
import { QueueFullError, WorkerCrashedError } from './worker/errors.js';

/** What the manager needs of the model store. */
export interface WeightSource {
  has(id: string): boolean;
  spec(id: string): ModelSpec;
  status(id: string): ModelStatus;
  ensure(id: string, opts?: { signal?: AbortSignal }): Promise<string>;
  filePaths(id: string): Record<string, string>;
  list(): { spec: ModelSpec; status: ModelStatus }[];
}

const round1 = (ms: number | null) => (ms === null ? null : Math.round(ms * 10) / 10);

/** What the manager reports of each run (src/metrics implements it). */
export interface RunObserver {
  started(modelId: string): void;
  /** `waitMs`: from the call to session.run (a session load, the worker's queue, moving inputs). */
  finished(modelId: string, outcome: { device?: DeviceId; inferenceMs?: number; waitMs: number; ok: boolean }): void;
}

export interface ModelManagerOptions {
  store: WeightSource;
  observer?: RunObserver;
  scheduler: VramScheduler;
  pool: SessionPool & { on?(event: 'sessionsLost', listener: (e: SessionsLostEvent) => void): unknown };
  stats: ModelStats;
  logger: Logger;
  /** Measures GPU sessions (nvidia-smi); without it GPU estimates stay the manifest's. */
  gpuFootprints?: GpuFootprints;
}

export interface ModelInfo {
  id: string;
  task: string;
  family: string;
  zone: string;
  license: string;
  default: boolean;
  downloaded: boolean;
  weights: ModelStatus;
  state: 'unloaded' | 'loading' | 'gpu' | 'cpu';
  device: DeviceId | null;
  estimatedMB: Partial<Record<DeviceId, number>>;
  measuredMB: Partial<Record<DeviceId, number>>;
  lastUsed: string | null;
  runs: number;
  /** session.run latency over the model's recent runs. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

/** The scheduler's view of a manifest entry. */
export function schedulerSpec(m: ModelSpec): SchedulerSpec {
  return { id: m.id, zone: m.zone, estimatedMB: m.memoryMB, priority: m.priority };
}


/**
 * The only way code runs a model. The scheduler decides where a model lives, the placement
 * executor carries that out on the worker pool (victims first, one load per decision), and every
 * run is timed and recorded. Weights are verified by the store before any session is created.
 */
export class ModelManager implements ModelRunner {
  private readonly executor: PlacementExecutor;
  private closed = false;

  constructor(private readonly opts: ModelManagerOptions) {
    this.executor = new PlacementExecutor(opts.scheduler, {
      load: (modelId, device) => this.loadSession(modelId, device),
      unload: (modelId, device) => this.unloadSession(modelId, device),
    }, { logger: opts.logger });
    opts.pool.on?.('sessionsLost', (e) => this.sessionsLost(e.keys));
  }

  async run(modelId: string, feeds: Feeds, opts: RunOptions = {}): Promise<RunResult> {
    if (this.closed) throw new AppError('NOT_READY', 'The service is shutting down.');
    opts.signal?.throwIfAborted();
    // Weights are checked when a session loads, not on every run of a loaded one.
    this.opts.store.spec(modelId);
    const started = performance.now();
    this.opts.observer?.started(modelId);
    try {
      const result = await this.executor.withSession(modelId, async (device, mayRetry) => {
        // The pool moves input buffers to the worker; a run that may be retried sends a copy.
        const out = await this.opts.pool.run(sessionKey(modelId, device), mayRetry ? cloneFeeds(feeds) : feeds, {
          ...(opts.outputs ? { outputs: opts.outputs } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        this.opts.stats.recordRun(modelId, device, out.inferenceMs);
        return { outputs: out.outputs, device, inferenceMs: out.inferenceMs };
      });
      const waitMs = Math.max(0, performance.now() - started - result.inferenceMs);
      this.opts.observer?.finished(modelId, { device: result.device, inferenceMs: result.inferenceMs, waitMs, ok: true });
      return result;
    } catch (err) {
      this.opts.observer?.finished(modelId, { waitMs: performance.now() - started, ok: false });
      throw this.failure(modelId, err);
    }
  }

  /** Admin: fetch (if needed) and load a model now, without running it. */
  async load(modelId: string): Promise<ModelInfo> {
    await this.opts.store.ensure(modelId);
    const lease = await this.executor.acquire(modelId).catch((err: unknown) => {
      throw this.failure(modelId, err);
    });
    lease.release();
    return this.info(modelId);
  }

  /** Admin: unload a model's idle sessions (one with runs in flight is left to finish). */
  unload(modelId: string): ModelInfo {
    this.opts.store.spec(modelId);
    this.opts.scheduler.requestUnload(modelId, 'unload requested through the API');
    return this.info(modelId);
  }

  info(modelId: string): ModelInfo {
    const spec = this.opts.store.spec(modelId);
    return this.describe(spec, this.opts.store.status(modelId), this.sessionsById());
  }

  list(): ModelInfo[] {
    const sessions = this.sessionsById();
    return this.opts.store.list().map((e) => this.describe(e.spec, e.status, sessions));
  }

  /** Models with a session, from the scheduler's state alone: cheap enough for /health. */
  loaded(): { id: string; state: string; device: DeviceId }[] {
    return this.opts.scheduler.snapshot().models.flatMap((m) => (m.device ? [{ id: m.id, state: m.state, device: m.device }] : []));
  }

  private sessionsById(): Map<string, ModelSnapshot> {
    return new Map(this.opts.scheduler.snapshot().models.map((m) => [m.id, m]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.opts.scheduler.close();
    await this.opts.pool.close();
  }

  private describe(spec: ModelSpec, weights: ModelStatus, sessions: Map<string, ModelSnapshot>): ModelInfo {
    const snap = sessions.get(spec.id);
    const latency = this.opts.stats.latency(spec.id);
    const state = !snap?.device || snap.state === 'unloaded' ? 'unloaded' : snap.state === 'loading' ? 'loading' : snap.device === 'cpu' ? 'cpu' : 'gpu';
    const estimated = snap && Object.keys(snap.estimatedMB).length > 0 ? snap.estimatedMB : { cpu: spec.memoryMB };
    return {
      id: spec.id, task: spec.task, family: spec.family, zone: spec.zone, license: spec.license, default: spec.default,
      downloaded: weights === 'present', weights, state, device: snap?.device ?? null,
      estimatedMB: estimated, measuredMB: snap?.measuredMB ?? {},
      lastUsed: snap?.lastUsed ? new Date(snap.lastUsed).toISOString() : null,
      runs: latency.runs, p50Ms: round1(latency.p50Ms), p95Ms: round1(latency.p95Ms), p99Ms: round1(latency.p99Ms),
    };
  }

  async file(modelId: string, name: string): Promise<Buffer> {
    await this.weightsFor(modelId);
    const file = this.opts.store.filePaths(modelId)[name];
    if (!file) throw new Error(`model ${modelId} has no file ${name}`);
    return fs.promises.readFile(file);
  }

  available(modelId: string): boolean {
    return this.opts.store.has(modelId) && this.opts.store.status(modelId) !== 'missing';
  }

  /** Verified weights for a session; missing ones are not fetched behind a request's back. */
  private async weightsFor(modelId: string): Promise<string> {
    if (this.opts.store.status(modelId) === 'missing') {
      const source = this.opts.store.spec(modelId).source;
      const remedy = source.kind === 'local'
        ? `it has no public download: ${source.export} Place it in MODEL_DIR as ${source.file}.`
        : `run \`npm run models -- pull ${modelId}\`, or POST /api/v1/models/${modelId}/load.`;
      // Requests never fetch weights, so until an operator does, another job attempt fails alike.
      throw new AppError('MODEL_UNAVAILABLE', `Model ${modelId} is not downloaded: ${remedy}`, { details: { modelId, retryable: false } });
    }
    return this.opts.store.ensure(modelId);
  }

  private async loadSession(modelId: string, device: DeviceId): Promise<{ measuredMB?: number }> {
    const modelPath = await this.weightsFor(modelId);
    const key = sessionKey(modelId, device);
    if (device === 'cpu') {
      const res = await this.opts.pool.load(key, { modelPath, device });
      this.opts.logger.info({ modelId, device, loadMs: Math.round(res.loadMs), measuredMB: res.measuredMB }, `loaded ${modelId} on ${device}`);
      // The worker measures host RSS around session creation.
      return res.measuredMB > 0 ? { measuredMB: res.measuredMB } : {};
    }
    const load = async () => {
      const res = await this.opts.pool.load(key, { modelPath, device });
      this.opts.logger.info({ modelId, device, loadMs: Math.round(res.loadMs) }, `loaded ${modelId} on ${device}`);
    };
    if (!this.opts.gpuFootprints) {
      await load();
      return {};
    }
    const measuredMB = await this.opts.gpuFootprints.measureLoad(key, load);
    return measuredMB === undefined ? {} : { measuredMB };
  }

  private async unloadSession(modelId: string, device: DeviceId): Promise<void> {
    const key = sessionKey(modelId, device);
    if (device === 'cpu' || !this.opts.gpuFootprints) return this.opts.pool.unload(key);
    return this.opts.gpuFootprints.checkRelease(key, () => this.opts.pool.unload(key));
  }

  /** A crashed worker took these sessions with it; the scheduler frees their memory and the next request reloads. */
  private sessionsLost(keys: string[]): void {
    for (const key of keys) {
      const { modelId, device } = parseSessionKey(key);
      this.opts.scheduler.unloaded(modelId, device);
    }
  }

  private failure(modelId: string, err: unknown): unknown {
    if (isAppError(err)) return err;
    if (err instanceof Error && err.name === 'AbortError') return err;
    if (err instanceof WorkerCrashedError) {
      return new AppError('PROCESSING_ERROR', `The inference worker running ${modelId} stopped unexpectedly; retry the request.`, { cause: err, details: { modelId, retryable: true } });
    }
    if (err instanceof QueueFullError) {
      return new AppError('OVERLOADED', `Too many runs are waiting for ${modelId}; retry shortly.`, { cause: err, headers: { 'Retry-After': '1' } });
    }
    if (isOutOfMemory(err)) {
      return new AppError('OVERLOADED', `Out of memory running ${modelId}; its memory estimate was raised, retry shortly.`, { cause: err, headers: { 'Retry-After': '1' } });
    }
    return new AppError('PROCESSING_ERROR', `Running ${modelId} failed.`, { cause: err, details: { modelId } });
  }
}
