import { EventEmitter } from 'node:events';
import type { Feeds } from '../tensor.js';
import { NoWorkerError, PoolClosedError, SessionAlreadyLoadedError, SessionNotLoadedError } from './errors.js';
import { defaultWorkerFactory } from './spawn.js';
import type {
  InferencePoolEvents,
  InferencePoolOptions,
  LoadOptions,
  LoadResult,
  PoolRunOptions,
  PoolRunResult,
  SessionPool,
  WorkerStats,
} from './types.js';
import { WorkerSlot, type SlotExit } from './worker-slot.js';

/** Enough to absorb a burst at MAX_CONCURRENT_REQUESTS without letting a backlog grow unbounded. */
const DEFAULT_MAX_QUEUED_PER_WORKER = 32;

/**
 * ONNX sessions in worker threads. A session lives in exactly one worker, placed on the
 * least-loaded one at load; its runs queue on that worker. A worker that dies takes its sessions
 * with it: pending requests reject with WorkerCrashedError, 'sessionsLost' names the keys, and a
 * fresh worker takes the slot, so loading the key again makes the next run succeed.
 */
export class InferencePool extends EventEmitter<InferencePoolEvents> implements SessionPool {
  private readonly slots: WorkerSlot[] = [];
  private readonly placement = new Map<string, WorkerSlot>();
  private readonly maxQueued: number;
  private closed: Promise<void> | undefined;

  constructor(private readonly opts: InferencePoolOptions) {
    super();
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new RangeError('workers must be a whole number ≥ 1');
    if (!Number.isInteger(opts.intraOpThreads) || opts.intraOpThreads < 1) {
      throw new RangeError('intraOpThreads must be a whole number ≥ 1');
    }
    this.maxQueued = opts.maxQueuedPerWorker ?? DEFAULT_MAX_QUEUED_PER_WORKER;
    for (let i = 0; i < opts.workers; i++) this.slots.push(this.spawn(i));
  }

  has(key: string): boolean {
    return this.placement.has(key);
  }

  async load(key: string, opts: LoadOptions): Promise<LoadResult> {
    if (this.closed) throw new PoolClosedError();
    if (this.placement.has(key)) throw new SessionAlreadyLoadedError(key);
    const slot = this.leastLoaded();
    this.place(key, slot);
    try {
      const { loadMs, measuredMB, inputNames, outputNames } = await slot.request({ type: 'load', key, opts });
      return { loadMs, measuredMB, inputNames, outputNames };
    } catch (err) {
      this.forget(key, slot);
      throw err;
    }
  }

  async run(key: string, feeds: Feeds, opts: PoolRunOptions = {}): Promise<PoolRunResult> {
    if (this.closed) throw new PoolClosedError();
    const slot = this.placement.get(key);
    if (!slot) throw new SessionNotLoadedError(key);
    const reply = await slot.request({ type: 'run', key, feeds, outputs: opts.outputs }, { signal: opts.signal, bounded: true });
    return { outputs: reply.outputs, inferenceMs: reply.inferenceMs };
  }

  /** Runs already queued for the key finish first; runs requested after this reject at once. */
  async unload(key: string): Promise<void> {
    if (this.closed) return;
    const slot = this.placement.get(key);
    if (!slot) return;
    this.forget(key, slot);
    await slot.request({ type: 'unload', key });
  }

  stats(): WorkerStats[] {
    return this.slots.map((s) => s.stats());
  }

  /**
   * Idempotent: every caller gets the same promise. Queued requests reject with PoolClosedError; a
   * run in flight completes (its worker cannot be stopped safely inside onnxruntime), then each
   * worker releases its sessions and exits.
   */
  close(): Promise<void> {
    this.closed ??= this.closeAll();
    return this.closed;
  }

  private async closeAll(): Promise<void> {
    this.placement.clear();
    await Promise.all(this.slots.map((s) => s.close()));
  }

  private spawn(index: number): WorkerSlot {
    return new WorkerSlot({
      init: { slot: index, intraOpThreads: this.opts.intraOpThreads, allowSpinning: this.opts.allowSpinning ?? false },
      maxQueued: this.maxQueued,
      logger: this.opts.logger,
      factory: this.opts.workerFactory ?? defaultWorkerFactory,
      onExit: (slot, exit) => this.onWorkerExit(slot, exit),
    });
  }

  private leastLoaded(): WorkerSlot {
    const alive = this.slots.filter((s) => s.isAlive);
    const best = alive.reduce<WorkerSlot | undefined>((a, b) => (a && a.weight <= b.weight ? a : b), undefined);
    if (!best) throw new NoWorkerError();
    return best;
  }

  private place(key: string, slot: WorkerSlot): void {
    this.placement.set(key, slot);
    slot.sessions.add(key);
  }

  private forget(key: string, slot: WorkerSlot): void {
    if (this.placement.get(key) === slot) this.placement.delete(key);
    slot.sessions.delete(key);
  }

  /** A worker that came up and later died is replaced; one that died starting is not (no respawn loop). */
  private onWorkerExit(slot: WorkerSlot, exit: SlotExit): void {
    const keys = [...slot.sessions];
    for (const key of keys) this.forget(key, slot);
    const replaced = exit.wasReady && !this.closed;
    if (replaced) this.slots[slot.index] = this.spawn(slot.index);
    const log = { slot: slot.index, threadId: slot.threadId, exitCode: exit.exitCode, err: exit.error, lost: keys, replaced };
    this.opts.logger.error(log, 'inference worker exited; its pending requests failed');
    if (keys.length > 0) this.emit('sessionsLost', { slot: slot.index, keys });
    this.emit('workerExit', { slot: slot.index, threadId: slot.threadId, exitCode: exit.exitCode, error: exit.error, replaced });
  }
}
