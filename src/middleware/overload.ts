import { AppError } from '../errors.js';

export interface GateStats {
  inFlight: number;
  queued: number;
  limit: number;
  queueLimit: number;
  rejected: number;
}

/**
 * At most `limit` holders at once and at most `queueLimit` waiting; beyond that the caller is told
 * to come back later instead of joining an unbounded queue.
 */
export class ConcurrencyGate {
  private inFlight = 0;
  private rejected = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly limit: number,
    private readonly queueLimit: number,
    private readonly retryAfterSeconds = 2,
  ) {}

  /** Resolves with a release function; rejects with OVERLOADED when the queue is full. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    // An abort listener added to an already-aborted signal never fires: such a caller would wait forever.
    signal?.throwIfAborted();
    if (this.inFlight < this.limit) {
      this.inFlight += 1;
      return this.releaser();
    }
    if (this.waiting.length >= this.queueLimit) {
      this.rejected += 1;
      throw new AppError('OVERLOADED', `The server is busy (${this.inFlight} requests running, ${this.waiting.length} queued); retry shortly.`, {
        headers: { 'Retry-After': String(this.retryAfterSeconds) },
        details: { inFlight: this.inFlight, queued: this.waiting.length },
      });
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiting.indexOf(wake);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal?.reason ?? new Error('aborted'));
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.waiting.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return this.releaser();
  }

  /**
   * Runs `work` in a slot, released however it ends. Routes gate only the model work, not the
   * upload before it: a slow client must not hold an inference slot while its body trickles in.
   */
  async run<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await work();
    } finally {
      release();
    }
  }

  stats(): GateStats {
    return { inFlight: this.inFlight, queued: this.waiting.length, limit: this.limit, queueLimit: this.queueLimit, rejected: this.rejected };
  }

  /** A waiter inherits the slot directly, so inFlight never drops below the true count. */
  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.inFlight -= 1;
    };
  }
}
