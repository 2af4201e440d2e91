import type { Worker } from 'node:worker_threads';
import { InferenceError, PoolClosedError, QueueFullError, RunAbortedError, SessionNotLoadedError, WorkerCrashedError } from './errors.js';
import {
  isFromWorker,
  isWorkerReady,
  REPLY_TYPE,
  transferablesOf,
  type FromWorker,
  type ReplyTo,
  type Request,
  type RequestType,
  type ToWorker,
  type WorkerShutdown,
} from './protocol.js';
import type { PoolLogger, WorkerFactory, WorkerInit, WorkerStats } from './types.js';

interface Pending {
  message: ToWorker;
  resolve(reply: FromWorker): void;
  reject(err: Error): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export interface SlotExit {
  exitCode: number;
  error?: Error;
  /** Whether the worker had come up; one that died starting would die again if respawned. */
  wasReady: boolean;
}

export interface SlotOptions {
  init: WorkerInit;
  maxQueued: number;
  logger: PoolLogger;
  factory: WorkerFactory;
  onExit(slot: WorkerSlot, exit: SlotExit): void;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Runs count against the queue bound; loads and unloads do not. */
  bounded?: boolean;
}

/**
 * One worker thread and its FIFO of requests: at most one in flight, so `busy` and `queued` are
 * exact and an aborted run can be taken out of the queue before the worker ever sees it.
 */
export class WorkerSlot {
  readonly worker: Worker;
  readonly threadId: number;
  /** Keys placed on this worker, loaded or loading. */
  readonly sessions = new Set<string>();
  private readonly queue: Pending[] = [];
  private inFlight: Pending | undefined;
  private nextId = 1;
  private ready = false;
  private alive = true;
  private closing = false;
  private fatal: Error | undefined;
  private exitCode = 0;

  constructor(private readonly opts: SlotOptions) {
    this.worker = opts.factory(opts.init);
    this.threadId = this.worker.threadId;
    this.worker.on('message', (msg: unknown) => this.onMessage(msg));
    this.worker.on('error', (err: Error) => {
      this.fatal = err;
    });
    this.worker.on('exit', (code: number) => this.onExit(code));
    this.worker.on('messageerror', (err: Error) => this.onMessageError(err));
  }

  get index(): number {
    return this.opts.init.slot;
  }

  get isAlive(): boolean {
    return this.alive && !this.closing;
  }

  /** Placement weight: sessions first, then work waiting. */
  get weight(): number {
    return this.sessions.size * 1000 + this.queue.length + (this.inFlight ? 1 : 0);
  }

  stats(): WorkerStats {
    return {
      slot: this.opts.init.slot,
      threadId: this.threadId,
      sessions: [...this.sessions],
      queued: this.queue.length,
      busy: this.inFlight !== undefined,
      alive: this.alive,
    };
  }

  request<T extends RequestType>(req: Request & { type: T }, opts: RequestOptions = {}): Promise<ReplyTo<T>> {
    if (!this.isAlive) return Promise.reject(this.closing ? new PoolClosedError() : this.crashError());
    if (opts.signal?.aborted) return Promise.reject(new RunAbortedError(req.key, { cause: opts.signal.reason }));
    const queuedRuns = this.queue.filter((p) => p.message.type === 'run').length;
    if (opts.bounded && queuedRuns >= this.opts.maxQueued) {
      return Promise.reject(new QueueFullError(this.opts.init.slot, this.opts.maxQueued));
    }
    const message = { ...req, id: this.nextId++ } as ToWorker;
    return new Promise<FromWorker>((resolve, reject) => {
      const pending: Pending = { message, resolve, reject, signal: opts.signal };
      this.watchAbort(pending);
      this.queue.push(pending);
      this.pump();
    }).then((reply) => this.expect(message, reply) as ReplyTo<T>);
  }

  /**
   * Rejects the queued requests, lets the one in flight finish, then has the worker release its
   * sessions and exit (see WorkerShutdown for why it is not terminated). The exit is not a crash.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.rejectQueued(new PoolClosedError());
    if (!this.alive) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'shutdown' } satisfies WorkerShutdown);
    await exited;
  }

  private watchAbort(pending: Pending): void {
    const { signal } = pending;
    if (!signal) return;
    pending.onAbort = () => {
      const at = this.queue.indexOf(pending);
      if (at < 0) return;
      this.queue.splice(at, 1);
      pending.reject(new RunAbortedError(pending.message.key, { cause: signal.reason }));
    };
    signal.addEventListener('abort', pending.onAbort, { once: true });
  }

  private pump(): void {
    if (this.inFlight || !this.alive) return;
    const next = this.queue.shift();
    if (!next) return;
    if (next.onAbort) next.signal?.removeEventListener('abort', next.onAbort);
    this.inFlight = next;
    const transfer = next.message.type === 'run' ? transferablesOf(next.message.feeds) : [];
    try {
      this.worker.postMessage(next.message, transfer);
    } catch (err) {
      this.retryWithoutTransfer(next, transfer, err);
    }
  }

  /** Buffers Node marks untransferable (e.g. from native addons) throw in a transfer list; copy them. */
  private retryWithoutTransfer(pending: Pending, transfer: ArrayBuffer[], err: unknown): void {
    try {
      if (transfer.length === 0) throw err;
      this.worker.postMessage(pending.message);
    } catch (final) {
      this.inFlight = undefined;
      pending.reject(final instanceof Error ? final : new Error(String(final)));
      this.pump();
    }
  }

  private onMessage(msg: unknown): void {
    if (isWorkerReady(msg)) {
      this.ready = true;
      return;
    }
    const pending = this.inFlight;
    if (!isFromWorker(msg) || !pending || msg.id !== pending.message.id) {
      this.opts.logger.warn({ slot: this.opts.init.slot }, 'inference worker sent an unexpected message; ignored');
      return;
    }
    this.inFlight = undefined;
    pending.resolve(msg);
    this.pump();
  }

  /** A reply that could not be deserialized still answers the request in flight. */
  private onMessageError(err: Error): void {
    const pending = this.inFlight;
    this.inFlight = undefined;
    pending?.reject(err);
    this.pump();
  }

  private expect(sent: ToWorker, reply: FromWorker): FromWorker {
    if (reply.type === REPLY_TYPE[sent.type]) return reply;
    if (reply.type !== 'failed') throw new Error(`inference worker answered ${sent.type} with ${reply.type}`);
    if (reply.reason === 'not-loaded') throw new SessionNotLoadedError(sent.key);
    throw new InferenceError(sent.key, sent.type, reply.message);
  }

  private onExit(exitCode: number): void {
    this.alive = false;
    this.exitCode = exitCode;
    if (this.closing) {
      this.rejectAll(new PoolClosedError());
      return;
    }
    this.rejectAll(this.crashError());
    this.opts.onExit(this, { exitCode, error: this.fatal, wasReady: this.ready });
  }

  private crashError(): WorkerCrashedError {
    return new WorkerCrashedError(this.opts.init.slot, this.exitCode, { cause: this.fatal });
  }

  private rejectAll(err: Error): void {
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    inFlight?.reject(err);
    this.rejectQueued(err);
  }

  private rejectQueued(err: Error): void {
    const queued = this.queue.splice(0);
    for (const p of queued) {
      if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
      p.reject(err);
    }
  }
}
