import { EventEmitter } from 'node:events';
import type { JobEvent, JobRow, JobStatus } from './schema.js';

/** Each event name with its listener signature, so `queue.on('state', …)` is type-checked. */
export interface JobQueueEvents {
  /** A status change that won its transition. */
  state: (e: { job: JobRow; from: JobStatus; to: JobStatus }) => void;
  /** Every persisted stream event (status, progress, done, failed), in order per job. */
  event: (e: JobEvent) => void;
  /** A transient failure; the job goes back to pending until `retryAt`. */
  retrying: (e: { job: JobRow; error: { code: string; message: string }; retryAt: number }) => void;
  /** A worker slot was freed: the attempt's task returned or threw (also after a cancel). */
  released: (e: { jobId: string; durationMs: number }) => void;
  /** A webhook delivery attempt finished. */
  webhook: (e: { jobId: string; attempt: number; outcome: 'delivered' | 'failed' | 'refused'; final: boolean }) => void;
  /** The sweeper deleted files or rows. */
  swept: (e: { filesRemoved: number; rowsRemoved: number; orphansRemoved: number }) => void;
}

export class TypedEmitter<E extends { [K in keyof E]: (...args: never[]) => void }> {
  private readonly inner = new EventEmitter();

  constructor() {
    // Every open SSE stream listens; the bound is the number of clients, not a leak.
    this.inner.setMaxListeners(0);
  }

  on<K extends keyof E & string>(name: K, listener: E[K]): this {
    this.inner.on(name, listener as unknown as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(name: K, listener: E[K]): this {
    this.inner.off(name, listener as unknown as (...args: unknown[]) => void);
    return this;
  }

  protected emit<K extends keyof E & string>(name: K, ...args: Parameters<E[K]>): void {
    this.inner.emit(name, ...args);
  }
}
