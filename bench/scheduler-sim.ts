/**
 * Replays a request trace against the VRAM scheduler on a simulated device, under one placement
 * policy: the shipped adaptive one, plain per-zone LRU, or Belady's furthest-next-use with the
 * trace's future as its oracle. Time is simulated (ManualClock), so hours of traffic replay in
 * seconds and every replay of a trace gives the same figures.
 */
import fs from 'node:fs';
import { isAppError } from '../src/errors.js';
import { PlacementExecutor } from '../src/vram/executor.js';
import { ManualClock } from '../src/vram/manual-clock.js';
import { adaptive, furthestNextUsePolicy, lruPolicy, type PolicyFactory } from '../src/vram/policy.js';
import { VramScheduler } from '../src/vram/scheduler.js';
import { SimulatedDevice } from '../src/vram/simulated-device.js';
import type { Decision, DeviceId, SchedulerLogger } from '../src/vram/types.js';
import { TraceSchema, type Trace } from './scheduler-trace.js';

export const POLICIES = ['belady', 'lru', 'ours', 'ours-eager'] as const;
export type PolicyName = (typeof POLICIES)[number];

/** The trace's own future: when each model is next requested at or after `now` (Infinity for never). */
export function traceOracle(trace: Trace): (modelId: string, now: number) => number {
  const times = new Map<string, number[]>();
  for (const r of trace.requests) {
    const list = times.get(r.model) ?? [];
    list.push(r.t);
    times.set(r.model, list);
  }
  return (modelId, now) => {
    const list = times.get(modelId);
    if (!list) return Infinity;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]! < now) lo = mid + 1;
      else hi = mid;
    }
    return list[lo] ?? Infinity;
  };
}

function policyFor(name: PolicyName | PolicyFactory, trace: Trace): PolicyFactory | undefined {
  if (typeof name === 'function') return name;
  if (name === 'lru') return lruPolicy;
  if (name === 'belady') return furthestNextUsePolicy(traceOracle(trace));
  if (name === 'ours-eager') return adaptive(true);
  return undefined;
}

const GPU: DeviceId = 'cuda:0';
const DECISION_KINDS = new Set<string>(['reuse', 'wait', 'load', 'evictThenLoad', 'cpuFallback', 'reject', 'unload', 'demote']);

interface Outcome {
  device: DeviceId | 'rejected';
  hit: boolean;
  latencyMs: number;
}

export function readTrace(file: string): Trace {
  const parsed = TraceSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 10).map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`${file} is not a valid trace:\n${problems.join('\n')}`);
  }
  return parsed.data;
}

/** Every decision the scheduler logs, including reuse/wait that the ring buffer leaves out. */
function collectingLogger(decisions: Decision[]): SchedulerLogger {
  const keep = (obj: object, reason: string) => {
    const d = obj as Partial<Decision> & { vram?: Decision['kind'] };
    if (!d.vram || !DECISION_KINDS.has(d.vram)) return; // 'queue' lines are not decisions
    decisions.push({ kind: d.vram, modelId: d.modelId ?? '', device: d.device ?? null, zone: d.zone ?? 'high', mb: d.mb ?? 0, victims: d.victims ?? [], reason, at: 0 });
  };
  return { info: keep, debug: keep, warn: keep };
}

export async function replay(trace: Trace, policy: PolicyName | PolicyFactory = 'ours') {
  const clock = new ManualClock(0);
  const { device: spec } = trace;
  const decisions: Decision[] = [];
  const sizes = Object.fromEntries(trace.models.map((m) => [m.id, m.actualMB ?? m.estimatedMB]));
  const device = new SimulatedDevice({
    clock,
    capacityMB: { ...(spec.gpuTotalMB ? { [GPU]: spec.gpuTotalMB } : {}), cpu: spec.cpuBudgetMB },
    models: Object.fromEntries(trace.models.map((m) => [m.id, { actualMB: sizes[m.id]! }])),
    loadMs: (id, d) => (sizes[id] ?? 0) * (d === 'cpu' ? spec.cpuLoadMsPerMB : spec.gpuLoadMsPerMB),
  });
  const scheduler = new VramScheduler({
    gpu: spec.gpuTotalMB ? { id: 'cuda:0', totalMB: spec.gpuTotalMB, zones: spec.zones } : undefined,
    cpuBudgetMB: spec.cpuBudgetMB,
    keepAliveMs: spec.keepAliveMs,
    models: trace.models.map(({ id, zone, estimatedMB }) => ({ id, zone, estimatedMB })),
    logger: collectingLogger(decisions),
    ...(policyFor(policy, trace) ? { policy: policyFor(policy, trace) } : {}),
    now: clock.now,
    timers: clock,
  });
  const executor = new PlacementExecutor(scheduler, device);
  const slowdown = new Map(trace.models.map((m) => [m.id, m.cpuSlowdown]));

  const request = async (model: string, durationMs: number): Promise<Outcome> => {
    const start = clock.now();
    try {
      const lease = await executor.acquire(model);
      const ms = lease.device === 'cpu' ? durationMs * (slowdown.get(model) ?? 1) : durationMs;
      try {
        await device.run(model, lease.device, ms);
      } finally {
        lease.release();
      }
      return { device: lease.device, hit: lease.placement.kind === 'reuse', latencyMs: clock.now() - start };
    } catch (err) {
      if (!isAppError(err)) throw err;
      return { device: 'rejected', hit: false, latencyMs: clock.now() - start };
    }
  };

  const outcomes: Promise<Outcome>[] = [];
  for (const r of trace.requests) {
    await clock.advanceTo(r.t);
    outcomes.push(request(r.model, r.durationMs));
  }
  await clock.advance(3_600_000);
  return { outcomes: await Promise.all(outcomes), decisions, device, scheduler };
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export function summarize(trace: Trace, policy: string, result: Awaited<ReturnType<typeof replay>>) {
  const { outcomes, decisions, device } = result;
  const onGpu = outcomes.filter((o) => o.device === GPU);
  const loads = device.events.filter((e) => e.op === 'load');
  const evictions = decisions.flatMap((d) => d.victims);
  const latencies = outcomes.map((o) => o.latencyMs);
  return {
    trace: trace.name,
    policy,
    gpuMB: trace.device.gpuTotalMB,
    cpuBudgetMB: trace.device.cpuBudgetMB,
    requests: outcomes.length,
    gpuHits: onGpu.filter((o) => o.hit).length,
    gpuRuns: onGpu.length,
    cpuRuns: outcomes.filter((o) => o.device === 'cpu').length,
    rejected: outcomes.filter((o) => o.device === 'rejected').length,
    loadsGpu: loads.filter((e) => e.device === GPU).length,
    loadsCpu: loads.filter((e) => e.device === 'cpu').length,
    evictions: evictions.length,
    evictedToCpu: evictions.filter((v) => v.to === 'cpu').length,
    keepAliveUnloads: decisions.filter((d) => d.kind === 'unload' && /MODEL_KEEP_ALIVE/.test(d.reason)).length,
    oomDemotions: decisions.filter((d) => d.kind === 'demote').length,
    promotions: decisions.filter((d) => d.kind === 'load' && d.reason.startsWith('promote')).length,
    mbMoved: Math.round(loads.reduce((sum, e) => sum + e.mb, 0)),
    loads: loads.length,
    unloadsInFlight: device.unloadsInFlight,
    latencyTotalS: Math.round(latencies.reduce((a, b) => a + b, 0) / 1000),
    latencyP50Ms: Math.round(percentile(latencies, 0.5)),
    latencyP95Ms: Math.round(percentile(latencies, 0.95)),
    latencyP99Ms: Math.round(percentile(latencies, 0.99)),
  };
}

