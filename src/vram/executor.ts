import { isOutOfMemory } from './out-of-memory.js';
import type { VramScheduler } from './scheduler.js';
import { sessionKey, type DeviceId, type Lease, type LoadTicket, type Placement, type SchedulerLogger, type Victim } from './types.js';

/** What the executor needs from the session owner (the ModelManager's worker pool, or a fake). */
export interface SessionDriver {
  /** Creates the session; resolves with its measured footprint when one is known for that device. */
  load(modelId: string, device: DeviceId): Promise<{ measuredMB?: number } | void>;
  /** Disposes the session. */
  unload(modelId: string, device: DeviceId): Promise<void>;
}

export interface ExecutorOptions {
  logger?: SchedulerLogger;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // a victim's CPU load may have no waiter; its failure is reported, not thrown
  return { promise, resolve, reject };
}

/**
 * Carries out the scheduler's placements against a SessionDriver: victims first, then the load;
 * one load per ticket however many requests wait on it; driver calls for one model on one device
 * in order (an unload finishes before the next load starts). Reports every outcome back.
 */
export class PlacementExecutor {
  private readonly loads = new WeakMap<LoadTicket, Deferred>();
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    readonly scheduler: VramScheduler,
    private readonly driver: SessionDriver,
    private readonly opts: ExecutorOptions = {},
  ) {
    scheduler.onUnload((order) => void this.unload(order.modelId, order.device));
  }

  /** A lease on a ready session; an out-of-memory at load is retried once where the scheduler now says. */
  async acquire(modelId: string): Promise<Lease> {
    for (let attempt = 0; ; attempt++) {
      const lease = await this.scheduler.acquire(modelId);
      try {
        await this.carryOut(lease.placement);
        return lease;
      } catch (err) {
        lease.release();
        if (attempt > 0 || !isOutOfMemory(err)) throw err;
      }
    }
  }

  /**
   * Runs `fn` on a leased session and releases it. An out-of-memory during the run is reported (the
   * estimate rises; a GPU model leaves the GPU). A GPU run is then retried once where the scheduler
   * places it next; a CPU run is not, since it would land on the same CPU. `mayRetry` tells `fn`
   * whether its inputs must survive this attempt.
   */
  async withSession<T>(modelId: string, fn: (device: DeviceId, mayRetry: boolean) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const lease = await this.acquire(modelId);
      const mayRetry = attempt === 0 && lease.device !== 'cpu';
      try {
        return await fn(lease.device, mayRetry);
      } catch (err) {
        if (!isOutOfMemory(err)) throw err;
        this.scheduler.runFailed(modelId, lease.device, { oom: true });
        if (!mayRetry) throw err;
      } finally {
        lease.release();
      }
    }
  }

  private carryOut(p: Placement): Promise<void> {
    if (p.kind === 'reuse' || !p.ticket) return Promise.resolve();
    const slot = this.slot(p.ticket);
    if (p.kind !== 'wait') this.perform(p).then(slot.resolve, slot.reject);
    return slot.promise;
  }

  private async perform(p: Placement): Promise<void> {
    await Promise.all(p.victims.map((v) => this.evict(v)));
    await this.load(p.modelId, p.device);
  }

  private async evict(victim: Victim): Promise<void> {
    await this.unload(victim.modelId, victim.from);
    if (victim.to !== 'cpu' || !victim.ticket) return;
    const slot = this.slot(victim.ticket);
    this.load(victim.modelId, 'cpu').then(slot.resolve, slot.reject);
  }

  private load(modelId: string, device: DeviceId): Promise<void> {
    return this.serial(modelId, device, async () => {
      try {
        const result = await this.driver.load(modelId, device);
        this.scheduler.loaded(modelId, device, result?.measuredMB);
      } catch (err) {
        this.scheduler.loadFailed(modelId, device, { oom: isOutOfMemory(err) });
        throw err;
      }
    });
  }

  private unload(modelId: string, device: DeviceId): Promise<void> {
    return this.serial(modelId, device, async () => {
      try {
        await this.driver.unload(modelId, device);
      } catch (err) {
        // A session that fails to dispose is gone for our purposes; its memory is the driver's problem.
        this.opts.logger?.warn({ modelId, device, err }, `unload of ${modelId} on ${device} failed`);
      } finally {
        this.scheduler.unloaded(modelId, device);
      }
    });
  }

  private slot(ticket: LoadTicket): Deferred {
    let d = this.loads.get(ticket);
    if (!d) {
      d = deferred();
      this.loads.set(ticket, d);
    }
    return d;
  }

  private serial(modelId: string, device: DeviceId, fn: () => Promise<void>): Promise<void> {
    const key = sessionKey(modelId, device);
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    this.chains.set(key, next);
    next.catch(() => undefined).finally(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }
}
