import { PlacementExecutor } from '../../src/vram/executor.js';
import type { PolicyFactory } from '../../src/vram/policy.js';
import { ManualClock } from '../../src/vram/manual-clock.js';
import { VramScheduler } from '../../src/vram/scheduler.js';
import { SimulatedDevice } from '../../src/vram/simulated-device.js';
import type { DeviceId, EstimateStore, ModelSpec, PoolSnapshot, SchedulerLogger, Zone, ZoneSizes } from '../../src/vram/types.js';

export interface ScenarioModel extends ModelSpec {
  /** Real footprint on the simulated device; defaults to the estimate. */
  actualMB?: number;
}

export interface ScenarioOptions {
  /** GPU capacity, MB; omit for a machine without CUDA. */
  gpuMB?: number;
  zones?: ZoneSizes;
  cpuMB: number;
  models: ScenarioModel[];
  keepAliveMs?: number;
  loadMs?: number;
  unloadMs?: number;
  roomWaitMs?: number;
  dwellMs?: number;
  historySize?: number;
  estimates?: EstimateStore;
  policy?: PolicyFactory;
}

export interface LogLine {
  level: 'info' | 'debug' | 'warn';
  obj: Record<string, unknown>;
  msg: string;
}

export const GPU: DeviceId = 'cuda:0';

/** A scheduler on a simulated device and a manual clock, wired as the ModelManager would wire it. */
export function scenario(opts: ScenarioOptions) {
  const clock = new ManualClock(1_000_000);
  const logs: LogLine[] = [];
  const logger: SchedulerLogger = {
    info: (obj, msg) => logs.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    debug: (obj, msg) => logs.push({ level: 'debug', obj: obj as Record<string, unknown>, msg }),
    warn: (obj, msg) => logs.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
  };
  const device = new SimulatedDevice({
    clock,
    capacityMB: { ...(opts.gpuMB ? { [GPU]: opts.gpuMB } : {}), cpu: opts.cpuMB },
    models: Object.fromEntries(opts.models.map((m) => [m.id, { actualMB: m.actualMB ?? m.estimatedMB }])),
    loadMs: () => opts.loadMs ?? 0,
    unloadMs: opts.unloadMs,
  });
  const scheduler = new VramScheduler({
    gpu: opts.gpuMB ? { id: 'cuda:0', totalMB: opts.gpuMB, zones: opts.zones } : undefined,
    cpuBudgetMB: opts.cpuMB,
    keepAliveMs: opts.keepAliveMs ?? 600_000,
    models: opts.models,
    estimates: opts.estimates,
    logger,
    now: clock.now,
    timers: clock,
    roomWaitMs: opts.roomWaitMs ?? 0,
    promotionDwellMs: opts.dwellMs ?? 30_000,
    historySize: opts.historySize,
    ...(opts.policy ? { policy: opts.policy } : {}),
  });
  const executor = new PlacementExecutor(scheduler, device);

  /**
   * One request: acquire, run for `ms` simulated ms (`cpuMs` on CPU, if given), release. Resolves
   * with the device it ran on.
   */
  const run = (modelId: string, ms = 0, cpuMs = ms): Promise<DeviceId> =>
    executor.withSession(modelId, async (d) => {
      await device.run(modelId, d, d === 'cpu' ? cpuMs : ms);
      return d;
    });

  /** Starts a request without waiting for it, so a test can hold it in flight. */
  const start = (modelId: string, ms: number) => {
    const done = run(modelId, ms);
    done.catch(() => undefined);
    return done;
  };

  const pool = (zone: Zone | null): PoolSnapshot => {
    const p = scheduler.snapshot().pools.find((x) => x.zone === zone);
    if (!p) throw new Error(`no pool ${zone}`);
    return p;
  };
  const model = (id: string) => {
    const m = scheduler.snapshot().models.find((x) => x.id === id);
    if (!m) throw new Error(`no model ${id}`);
    return m;
  };
  const kinds = () => scheduler.snapshot().decisions.map((d) => `${d.kind} ${d.modelId}`).reverse();

  return { clock, device, scheduler, executor, logs, run, start, pool, model, kinds };
}
