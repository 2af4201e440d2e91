import type { Timers } from './types.js';

/** Lets pending promise chains run to completion: every microtask drains before the next macrotask. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock and timer API that only move when told: scheduler tests and the replay benchmark run
 * hours of simulated time instantly and deterministically, with no sleeps.
 */
export class ManualClock implements Timers {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 0) {
    this.time = start;
  }

  readonly now = (): number => this.time;

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing due timers in time order and settling promises after each. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.time + ms);
  }

  async advanceTo(target: number): Promise<void> {
    for (;;) {
      await settle();
      const due = this.nextDue(target);
      if (!due) break;
      this.timers.delete(due.id);
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = Math.max(this.time, target);
    await settle();
  }

  private nextDue(target: number): { id: number; at: number; fn: () => void } | undefined {
    let best: { id: number; at: number; fn: () => void } | undefined;
    for (const [id, t] of this.timers) {
      if (t.at > target) continue;
      if (!best || t.at < best.at || (t.at === best.at && id < best.id)) best = { id, ...t };
    }
    return best;
  }
}
