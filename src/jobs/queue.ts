import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { AppError } from '../errors.js';
import type { ValidatedImage } from '../image/types.js';
import type { ModelRunner } from '../models/runner.js';
import { parseOptions } from '../tasks/options.js';
import type { TaskDefinition } from '../tasks/types.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { TypedEmitter, type JobQueueEvents } from './events.js';
import { JobFiles } from './files.js';
import { DEFAULT_BACKOFF, backoffDelay, describeFailure, isRetryable, type BackoffPolicy } from './retry.js';
import type { JobEvent, JobRow, JobStatus } from './schema.js';
import { JobStore, type EventDraft, type JobPatch } from './store.js';
import { sweepOnce, type SweepStats } from './sweeper.js';
import { jobLinks, jobView, type JobView } from './view.js';
import { WebhookDispatcher } from './webhooks.js';
import { parseWebhookUrl, resolveWebhookTarget, type LookupAll } from './webhook-target.js';
import { imageMeta, progressThrottle, runJobTask, storeResult, type InputMeta, type StoredResult, type TaskLookup } from './worker.js';

export interface JobQueueOptions {
  db: Db;
  dataDir: string;
  tasks: TaskLookup;
  runner: ModelRunner;
  config: Config;
  logger: Logger;
  clock?: Clock;
  backoff?: BackoffPolicy;
  webhook?: { backoff?: BackoffPolicy; maxAttempts?: number; timeoutMs?: number; lookup?: LookupAll };
  /** How often the retention sweeper runs. */
  sweepIntervalMs?: number;
  /** close() waits this long for running jobs before asking them to stop (default SHUTDOWN_TIMEOUT). */
  closeTimeoutMs?: number;
}

export interface SubmitInput {
  owner: string;
  operation: string;
  image: ValidatedImage;
  /** A multi-image task's further images by field (style transfer's "style"), stored beside the input. */
  extras?: Record<string, ValidatedImage>;
  options: unknown;
  webhookUrl?: string;
  idempotencyKey?: string;
}

interface Running {
  job: JobRow;
  controller: AbortController;
  settled: Promise<void>;
}

/** How long close() waits for aborted jobs to reach their next abort check (tiles take ≤ 0.5 s on x4fast). */
const STOP_GRACE_MS = 2_000;

/** The abort reason of a job stopped by close(): it goes back to pending, not to failed. */
class ShutdownSignal extends Error {}
/** The abort reason of a cancelled job: the row is already cancelled, the task just has to stop. */
class CancelSignal extends Error {}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function requestHash(input: SubmitInput): string {
  const hash = createHash('sha256')
    .update(`${input.operation}\0${stableJson(input.options ?? {})}\0${input.webhookUrl ?? ''}\0`)
    .update(input.image.buffer);
  for (const [field, image] of Object.entries(input.extras ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(`\0${field}\0`).update(image.buffer);
  }
  return hash.digest('hex');
}

/**
 * The durable job queue: SQLite rows plus files under DATA_DIR/jobs, JOB_CONCURRENCY in-process
 * workers sharing the one ModelRunner, retries with backoff for transient failures, webhooks and a
 * retention sweeper. Every status change goes through `store.transition`.
 */
export class JobQueue extends TypedEmitter<JobQueueEvents> {
  readonly store: JobStore;
  readonly files: JobFiles;
  private readonly clock: Clock;
  private readonly backoff: BackoffPolicy;
  private readonly webhooks: WebhookDispatcher;
  private readonly running = new Map<string, Running>();
  private readonly recentDurations: number[] = [];
  private wakeTimer: TimerHandle | undefined;
  private sweepTimer: TimerHandle | undefined;
  private sweeping: Promise<unknown> = Promise.resolve();
  private started = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly o: JobQueueOptions) {
    super();
    this.clock = o.clock ?? systemClock;
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.store = new JobStore(o.db, () => this.clock.now());
    this.files = new JobFiles(o.dataDir);
    this.webhooks = new WebhookDispatcher({
      store: this.store,
      clock: this.clock,
      logger: o.logger,
      secret: o.config.WEBHOOK_SECRET,
      allowPrivate: o.config.WEBHOOK_ALLOW_PRIVATE,
      lookup: o.webhook?.lookup,
      backoff: o.webhook?.backoff ?? { baseMs: 5_000, maxMs: 10 * 60_000 },
      maxAttempts: o.webhook?.maxAttempts ?? 6,
      timeoutMs: o.webhook?.timeoutMs ?? 10_000,
      onAttempt: (e) => this.emit('webhook', e),
    });
  }

  /** Puts jobs a crash left processing back in line, resumes webhooks, starts workers and the sweeper. */
  start(): void {
    if (this.started || this.closing) return;
    this.started = true;
    this.recoverInterrupted();
    this.webhooks.resume();
    this.scheduleSweep();
    this.pump();
  }

  /** The task an operation names; an unknown one is a 400 listing the valid operations. */
  task(operation: string): TaskDefinition {
    return this.o.tasks.get(operation);
  }

  /** Every further image field some task takes (style transfer's "style"), for reading a job request before its operation is known. */
  extraImageFields(): string[] {
    return [...new Set(this.o.tasks.list().flatMap((t) => t.images?.extra ?? []))];
  }

  async submit(input: SubmitInput): Promise<{ job: JobView; created: boolean }> {
    const task = this.o.tasks.get(input.operation);
    parseOptions(task.options, input.options);
    const unexpected = Object.keys(input.extras ?? {}).filter((f) => !task.images?.extra.includes(f));
    if (unexpected.length) {
      throw new AppError('INVALID_REQUEST', `Operation ${task.name} takes no "${unexpected[0]}" image.`, { details: { field: unexpected[0] } });
    }
    if (input.webhookUrl !== undefined) await this.checkWebhook(input.webhookUrl);
    // Only an Idempotency-Key needs the request's fingerprint; hashing a 50 MB image costs ~100 ms.
    const hash = input.idempotencyKey ? requestHash(input) : null;
    const existing = input.idempotencyKey ? this.store.findByIdempotencyKey(input.owner, input.idempotencyKey) : undefined;
    if (existing) return { job: jobView(this.sameRequest(existing, hash)), created: false };
    this.checkBound();
    const id = randomUUID();
    await this.files.writeInput(id, input.image.buffer);
    const extras = Object.entries(input.extras ?? {});
    for (const [field, image] of extras) await this.files.writeInput(id, image.buffer, field);
    const meta: InputMeta = {
      ...imageMeta(input.image),
      ...(extras.length ? { extras: Object.fromEntries(extras.map(([field, image]) => [field, imageMeta(image)])) } : {}),
    };
    try {
      // Checked again after the await: concurrent submits must not overshoot MAX_QUEUED_JOBS.
      this.checkBound();
      const { job, event } = this.store.insert({
        id, owner: input.owner, operation: input.operation, options: JSON.stringify(input.options ?? {}),
        input_meta: JSON.stringify(meta), max_attempts: this.o.config.JOB_MAX_ATTEMPTS, webhook_url: input.webhookUrl ?? null,
        idempotency_key: input.idempotencyKey ?? null, request_hash: hash,
      });
      this.emit('event', event);
      this.pump();
      return { job: jobView(job), created: true };
    } catch (err) {
      await this.files.remove(id);
      const raced = input.idempotencyKey ? this.store.findByIdempotencyKey(input.owner, input.idempotencyKey) : undefined;
      if (raced) return { job: jobView(this.sameRequest(raced, hash)), created: false };
      throw err;
    }
  }

  get(id: string, owner: string): JobView {
    return jobView(this.owned(id, owner));
  }

  list(owner: string, q: { status?: JobStatus; limit: number; cursor?: string }): { jobs: JobView[]; nextCursor: string | null } {
    const page = this.store.list({ owner, ...q });
    return { jobs: page.jobs.map(jobView), nextCursor: page.nextCursor };
  }

  /** The stored result of a completed job: its bytes and content type. */
  async result(id: string, owner: string): Promise<{ body: Buffer; contentType: string; kind: 'image' | 'json'; job: JobView }> {
    const job = this.owned(id, owner);
    if (job.status !== 'completed') {
      throw new AppError('CONFLICT', `Job ${id} is ${job.status}; its result exists once it is completed (watch ${jobView(job).links.events}).`, {
        details: { status: job.status },
      });
    }
    if (!job.result_path) {
      throw new AppError('NOT_FOUND', `The result of job ${id} was deleted after RESULT_TTL; submit the job again.`, { details: { expired: true } });
    }
    const body = await this.files.read(job.result_path);
    return { body, contentType: job.result_type ?? 'application/octet-stream', kind: job.result_kind ?? 'json', job: jobView(job) };
  }

  /** Cancels a pending job, or marks a running one cancelled and asks it to stop between steps. */
  cancel(id: string, owner: string): JobView {
    for (let tries = 0; tries < 3; tries += 1) {
      const job = this.owned(id, owner);
      if (job.status === 'cancelled') return jobView(job);
      if (job.status === 'completed' || job.status === 'failed') {
        throw new AppError('CONFLICT', `Job ${id} already ${job.status}; there is nothing to cancel.`, { details: { status: job.status } });
      }
      const moved = this.move(job.id, job.status, 'cancelled', { finished_at: this.clock.now(), cancel_requested: 1 });
      if (!moved) continue;
      this.running.get(id)?.controller.abort(new CancelSignal(`job ${id} cancelled`));
      return jobView(moved);
    }
    throw new AppError('CONFLICT', `Job ${id} kept changing state; retry the cancel.`);
  }

  /** Persisted stream events after `seq` (for SSE replay with Last-Event-ID). */
  eventsAfter(id: string, owner: string, seq: number): { job: JobRow; events: JobEvent[] } {
    const job = this.owned(id, owner);
    return { job, events: this.store.eventsAfter(id, seq) };
  }

  async sweep(): Promise<SweepStats> {
    const stats = await sweepOnce(this.store, this.files, {
      resultTtlMs: this.o.config.RESULT_TTL,
      historyTtlMs: this.o.config.JOB_HISTORY_TTL,
      orphanGraceMs: 60 * 60_000,
    }, this.clock.now());
    if (stats.filesRemoved + stats.rowsRemoved + stats.orphansRemoved > 0) this.emit('swept', stats);
    return stats;
  }

  /** Idempotent. Waits up to the bound for running jobs, then stops them; they go back to pending. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  get runningCount(): number {
    return this.running.size;
  }

  private async shutdown(): Promise<void> {
    for (const t of [this.wakeTimer, this.sweepTimer]) if (t !== undefined) this.clock.clearTimeout(t);
    try {
      const all = Promise.allSettled([...this.running.values()].map((r) => r.settled));
      let timer: TimerHandle | undefined;
      const bound = new Promise<'timeout'>((resolve) => {
        timer = this.clock.setTimeout(() => resolve('timeout'), this.o.closeTimeoutMs ?? this.o.config.SHUTDOWN_TIMEOUT);
      });
      const outcome = await Promise.race([all.then(() => 'done' as const), bound]);
      this.clock.clearTimeout(timer);
      if (outcome === 'timeout') {
        this.stopRunning();
        // Aborted tasks stop at their next step; their bookkeeping must not outlive the database.
        await Promise.race([all, new Promise<void>((resolve) => this.clock.setTimeout(resolve, STOP_GRACE_MS))]);
      }
    } finally {
      await this.webhooks.close();
      await this.sweeping;
    }
  }

  /** Jobs still running at the shutdown bound are put back in line now, so the row is right even if the task never returns. */
  private stopRunning(): void {
    for (const { job, controller } of this.running.values()) {
      controller.abort(new ShutdownSignal('the service is shutting down'));
      this.move(job.id, 'processing', 'pending', { attempts: job.attempts - 1, next_attempt_at: this.clock.now(), stage: 'interrupted by shutdown' });
    }
  }

  private owned(id: string, owner: string): JobRow {
    const job = this.store.getOwned(id, owner);
    if (!job) throw new AppError('NOT_FOUND', `No job ${id} for this API key.`);
    return job;
  }

  private sameRequest(existing: JobRow, hash: string | null): JobRow {
    if (existing.request_hash !== hash) {
      throw new AppError('CONFLICT', 'This Idempotency-Key was already used for a different request; use a new key for a new job.', {
        details: { jobId: existing.id },
      });
    }
    return existing;
  }

  private async checkWebhook(url: string): Promise<void> {
    parseWebhookUrl(url);
    if (!this.o.config.WEBHOOK_SECRET) {
      throw new AppError('INVALID_REQUEST', 'webhookUrl needs signed deliveries: set WEBHOOK_SECRET (16+ characters) on the server, or poll the job instead.');
    }
    await resolveWebhookTarget(url, { allowPrivate: this.o.config.WEBHOOK_ALLOW_PRIVATE, lookup: this.o.webhook?.lookup });
  }

  private checkBound(): void {
    const active = this.store.countActive();
    if (active < this.o.config.MAX_QUEUED_JOBS) return;
    const retryAfter = this.estimateRetryAfterSeconds(active);
    throw new AppError('QUEUE_FULL', `The job queue is full (${active} jobs waiting or running, MAX_QUEUED_JOBS=${this.o.config.MAX_QUEUED_JOBS}); retry after ${retryAfter} s.`, {
      headers: { 'Retry-After': String(retryAfter) },
      details: { active, limit: this.o.config.MAX_QUEUED_JOBS, retryAfterSeconds: retryAfter },
    });
  }

  /** Time for one concurrency slot's worth of the queue to drain, from recent job durations. */
  private estimateRetryAfterSeconds(active: number): number {
    if (this.recentDurations.length === 0) return 30;
    const avg = this.recentDurations.reduce((a, b) => a + b, 0) / this.recentDurations.length;
    const drainOne = (avg * Math.max(1, active - this.o.config.MAX_QUEUED_JOBS + 1)) / this.o.config.JOB_CONCURRENCY;
    return Math.min(3600, Math.max(1, Math.ceil(drainOne / 1000)));
  }

  /** The one place rows change status; events are emitted only for transitions that won. */
  private move(id: string, from: JobStatus, to: JobStatus, patch: JobPatch = {}, extra: EventDraft[] = []): JobRow | undefined {
    const won = this.store.transition(id, from, to, patch, extra);
    if (!won) {
      this.o.logger.debug({ jobId: id, from, to }, 'job transition lost a race');
      return undefined;
    }
    this.emit('state', { job: won.job, from, to });
    for (const e of won.events) this.emit('event', e);
    return won.job;
  }

  /**
   * A finished job's webhook becomes pending in the same UPDATE as the status, so a crash between
   * the two cannot lose the delivery (resume() picks up what is pending).
   */
  private finish(job: JobRow, to: 'completed' | 'failed', patch: JobPatch, extra: EventDraft[]): JobRow | undefined {
    const webhook: JobPatch = job.webhook_url ? { webhook_status: 'pending', webhook_attempts: 0, webhook_next_at: this.clock.now() } : {};
    const done = this.move(job.id, 'processing', to, { ...patch, ...webhook }, extra);
    if (done) this.webhooks.enqueue(done);
    return done;
  }

  private recoverInterrupted(): void {
    for (const id of this.store.idsIn('processing')) {
      const job = this.store.get(id) as JobRow;
      if (job.attempts >= job.max_attempts) {
        const error = { code: 'PROCESSING_ERROR', message: `The service stopped while running this job on all ${job.max_attempts} attempts; it may be too large for this server.` };
        this.finish(job, 'failed', { finished_at: this.clock.now(), error_code: error.code, error_message: error.message }, [{ type: 'failed', data: { error } }]);
        continue;
      }
      this.move(id, 'processing', 'pending', { next_attempt_at: this.clock.now(), stage: 'interrupted by a restart' });
    }
  }

  private pump(): void {
    if (!this.started || this.closing) return;
    while (this.running.size < this.o.config.JOB_CONCURRENCY) {
      const job = this.claimNext();
      if (!job) break;
      this.launch(job);
    }
    this.armWakeTimer();
  }

  private claimNext(): JobRow | undefined {
    for (let due = this.store.nextDue(this.clock.now()); due; due = this.store.nextDue(this.clock.now())) {
      const claimed = this.move(due.id, 'pending', 'processing', {
        attempts: due.attempts + 1, started_at: this.clock.now(), progress: 0, stage: 'starting',
      });
      if (claimed) return claimed;
    }
    return undefined;
  }

  /** Wakes the workers when the earliest retry comes due. */
  private armWakeTimer(): void {
    if (this.wakeTimer !== undefined) this.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    if (this.running.size >= this.o.config.JOB_CONCURRENCY) return;
    const at = this.store.earliestPendingAt();
    if (at === undefined) return;
    this.wakeTimer = this.clock.setTimeout(() => {
      this.wakeTimer = undefined;
      this.pump();
    }, Math.max(0, at - this.clock.now()));
  }

  /** Fixed-rate ticks; each tick's sweep runs after the previous one, so sweeps never overlap. */
  private scheduleSweep(): void {
    this.sweepTimer = this.clock.setTimeout(() => {
      if (this.closing) return;
      this.scheduleSweep();
      this.sweeping = this.sweeping
        .then(() => this.sweep())
        .catch((err: unknown) => this.o.logger.error({ err }, 'job retention sweep failed'));
    }, this.o.sweepIntervalMs ?? 60_000);
  }

  private launch(job: JobRow): void {
    const controller = new AbortController();
    const startedAt = this.clock.now();
    const settled = this.attempt(job, controller.signal)
      .catch((err: unknown) => this.o.logger.error({ err, jobId: job.id }, 'job bookkeeping failed'))
      .finally(() => {
        this.running.delete(job.id);
        const durationMs = this.clock.now() - startedAt;
        this.recentDurations.push(durationMs);
        if (this.recentDurations.length > 20) this.recentDurations.shift();
        this.emit('released', { jobId: job.id, durationMs });
        this.pump();
      });
    this.running.set(job.id, { job, controller, settled });
  }

  private async attempt(job: JobRow, signal: AbortSignal): Promise<void> {
    const onProgress = progressThrottle((fraction, stage) => {
      const event = this.store.recordProgress(job.id, fraction, stage);
      if (event) this.emit('event', event);
    });
    try {
      const { result, used } = await runJobTask(job, { ...this.o, files: this.files }, signal, onProgress);
      // A result that cannot be written durably is a failed attempt (full disk clears), not a completion.
      this.completed(job, await storeResult(this.files, job.id, result), used);
    } catch (err) {
      this.failed(job, signal.aborted ? signal.reason : err);
    }
  }

  private completed(job: JobRow, stored: StoredResult, used: { model: string | null; device: string | null }): void {
    this.finish(job, 'completed', {
      progress: 1, stage: 'done', finished_at: this.clock.now(), error_code: null, error_message: null,
      model: used.model, device: used.device, result_path: stored.path, result_kind: stored.kind,
      result_type: stored.contentType, result_metadata: JSON.stringify(stored.metadata),
    }, [{ type: 'done', data: { result: { kind: stored.kind, contentType: stored.contentType, metadata: stored.metadata }, links: jobLinks(job.id) } }]);
  }

  private failed(job: JobRow, err: unknown): void {
    if (err instanceof CancelSignal) return;
    if (err instanceof ShutdownSignal) {
      this.move(job.id, 'processing', 'pending', { attempts: job.attempts - 1, next_attempt_at: this.clock.now() });
      return;
    }
    const error = describeFailure(err);
    if (isRetryable(err) && job.attempts < job.max_attempts) {
      const retryAt = this.clock.now() + backoffDelay(job.attempts, this.backoff);
      this.o.logger.warn({ jobId: job.id, attempt: job.attempts, err, retryAt }, 'job attempt failed; retrying');
      const back = this.move(job.id, 'processing', 'pending', { next_attempt_at: retryAt, error_code: error.code, error_message: error.message, stage: 'waiting to retry' });
      if (back) this.emit('retrying', { job: back, error, retryAt });
      return;
    }
    this.o.logger.warn({ jobId: job.id, attempt: job.attempts, err }, 'job failed');
    this.finish(job, 'failed', {
      finished_at: this.clock.now(), error_code: error.code, error_message: error.message,
    }, [{ type: 'failed', data: { error, attempts: job.attempts } }]);
  }
}
