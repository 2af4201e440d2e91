import type { SessionDriver } from './executor.js';
import { parseSessionKey, sessionKey, type DeviceId, type Timers } from './types.js';

/** Thrown by the simulated device like onnxruntime's allocation failures; `oom` marks it. */
export class SimulatedOutOfMemory extends Error {
  readonly oom = true;
  constructor(message: string) {
    super(message);
    this.name = 'SimulatedOutOfMemory';
  }
}

export interface SimulatedModel {
  /** What a session really takes on the GPU once loaded and warmed up, MB. */
  actualMB: number;
  /** The same on CPU; defaults to actualMB. */
  cpuActualMB?: number;
}

export interface SimulatedDeviceOptions {
  clock: Timers;
  /** Physical memory per device, MB; a load beyond it fails with an out-of-memory. */
  capacityMB: Partial<Record<DeviceId, number>>;
  models: Record<string, SimulatedModel>;
  /** Simulated time a load takes, ms. */
  loadMs?: (modelId: string, device: DeviceId) => number;
  /** Simulated time an unload takes, ms (memory is freed at its end). */
  unloadMs?: number;
  /** Report the real footprint after load (as the ModelManager does after warm-up). */
  reportMeasured?: boolean;
}

export interface DeviceEvent {
  op: 'load' | 'unload' | 'oom';
  modelId: string;
  device: DeviceId;
  mb: number;
}

/**
 * A fake GPU/CPU for the scheduler's tests and replay benchmark: it holds sessions against a
 * capacity, fails loads that do not fit (and any load or run a test marks) with an out-of-memory,
 * and records every load and unload.
 */
export class SimulatedDevice implements SessionDriver {
  readonly events: DeviceEvent[] = [];
  private readonly resident = new Map<string, number>();
  private readonly failLoads = new Set<string>();
  private readonly failRuns = new Set<string>();
  private readonly running = new Map<string, number>();
  /** Unloads that began while the session had a run in flight: the scheduler must never order one. */
  unloadsInFlight = 0;

  constructor(private readonly opts: SimulatedDeviceOptions) {}

  usedMB(device: DeviceId): number {
    let sum = 0;
    for (const [key, mb] of this.resident) if (parseSessionKey(key).device === device) sum += mb;
    return sum;
  }

  isResident(modelId: string, device: DeviceId): boolean {
    return this.resident.has(sessionKey(modelId, device));
  }

  count(op: DeviceEvent['op'], modelId?: string, device?: DeviceId): number {
    return this.events.filter((e) => e.op === op && (!modelId || e.modelId === modelId) && (!device || e.device === device)).length;
  }

  /** The next load of `modelId` on `device` fails with an out-of-memory. */
  failNextLoad(modelId: string, device: DeviceId): void {
    this.failLoads.add(sessionKey(modelId, device));
  }

  /** The next run of `modelId` on `device` fails with an out-of-memory. */
  failNextRun(modelId: string, device: DeviceId): void {
    this.failRuns.add(sessionKey(modelId, device));
  }

  async load(modelId: string, device: DeviceId): Promise<{ measuredMB?: number }> {
    await this.delay(this.opts.loadMs?.(modelId, device) ?? 0);
    const key = sessionKey(modelId, device);
    if (this.resident.has(key)) throw new Error(`${key} loaded twice`);
    const mb = this.footprint(modelId, device);
    const capacity = this.opts.capacityMB[device] ?? Infinity;
    if (this.failLoads.delete(key) || this.usedMB(device) + mb > capacity) {
      this.events.push({ op: 'oom', modelId, device, mb });
      throw new SimulatedOutOfMemory(`${device}: out of memory loading ${modelId} (${mb} MB, ${this.usedMB(device)}/${capacity} MB used)`);
    }
    this.resident.set(key, mb);
    this.events.push({ op: 'load', modelId, device, mb });
    return this.opts.reportMeasured === false ? {} : { measuredMB: mb };
  }

  async unload(modelId: string, device: DeviceId): Promise<void> {
    const key = sessionKey(modelId, device);
    if ((this.running.get(key) ?? 0) > 0) this.unloadsInFlight++;
    await this.delay(this.opts.unloadMs ?? 0);
    const mb = this.resident.get(key);
    if (mb === undefined) throw new Error(`${key} unloaded but not resident`);
    this.resident.delete(key);
    this.events.push({ op: 'unload', modelId, device, mb });
  }

  /** A run of `ms` simulated milliseconds on a resident session. */
  async run(modelId: string, device: DeviceId, ms: number): Promise<void> {
    const key = sessionKey(modelId, device);
    if (!this.resident.has(key)) throw new Error(`${key} run without a session`);
    if (this.failRuns.delete(key)) {
      this.events.push({ op: 'oom', modelId, device, mb: 0 });
      throw new SimulatedOutOfMemory(`${device}: out of memory running ${modelId}`);
    }
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    try {
      await this.delay(ms);
    } finally {
      this.running.set(key, this.running.get(key)! - 1);
    }
  }

  private footprint(modelId: string, device: DeviceId): number {
    const m = this.opts.models[modelId];
    if (!m) throw new Error(`simulated device knows no model ${modelId}`);
    return device === 'cpu' ? (m.cpuActualMB ?? m.actualMB) : m.actualMB;
  }

  private delay(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.opts.clock.setTimeout(resolve, ms));
  }
}
