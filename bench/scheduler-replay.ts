/**
 * Replays a request trace against the VRAM scheduler on a simulated device:
 * `npx tsx bench/scheduler-replay.ts --trace bench/traces/zipf-4gb.json [--gpu-mb 6144 | --no-gpu]
 * [--cpu-mb 8192] [--keep-alive-ms 600000] [--json]`.
 *
 * Time is simulated (ManualClock), so hours of traffic replay in seconds and every run of a trace
 * gives the same figures. Prints GPU hits (session already resident), GPU and CPU runs, loads per
 * device, evictions, MB moved, out-of-memory demotions, promotions and request latency.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { isAppError } from '../src/errors.js';
import { PlacementExecutor } from '../src/vram/executor.js';
import { ManualClock } from '../src/vram/manual-clock.js';
import { VramScheduler } from '../src/vram/scheduler.js';
import { SimulatedDevice } from '../src/vram/simulated-device.js';
import type { Decision, DeviceId, SchedulerLogger } from '../src/vram/types.js';
import { TraceSchema, type Trace } from './scheduler-trace.js';

const GPU: DeviceId = 'cuda:0';
const DECISION_KINDS = new Set<string>(['reuse', 'wait', 'load', 'evictThenLoad', 'cpuFallback', 'reject', 'unload', 'demote']);

interface Outcome {
  device: DeviceId | 'rejected';
  hit: boolean;
  latencyMs: number;
}

function readTrace(file: string): Trace {
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

async function replay(trace: Trace) {
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

function summarize(trace: Trace, result: Awaited<ReturnType<typeof replay>>) {
  const { outcomes, decisions, device } = result;
  const onGpu = outcomes.filter((o) => o.device === GPU);
  const loads = device.events.filter((e) => e.op === 'load');
  const evictions = decisions.flatMap((d) => d.victims);
  const latencies = outcomes.map((o) => o.latencyMs);
  return {
    trace: trace.name,
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
    latencyP50Ms: Math.round(percentile(latencies, 0.5)),
    latencyP95Ms: Math.round(percentile(latencies, 0.95)),
    latencyP99Ms: Math.round(percentile(latencies, 0.99)),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trace: { type: 'string' },
      'gpu-mb': { type: 'string' },
      'no-gpu': { type: 'boolean', default: false },
      'cpu-mb': { type: 'string' },
      'keep-alive-ms': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.trace) throw new Error('usage: npx tsx bench/scheduler-replay.ts --trace FILE.json [--gpu-mb N | --no-gpu] [--cpu-mb N] [--keep-alive-ms N] [--json]');
  const trace = readTrace(values.trace);
  if (values['gpu-mb']) trace.device.gpuTotalMB = Number(values['gpu-mb']);
  if (values['no-gpu']) trace.device.gpuTotalMB = null;
  if (values['cpu-mb']) trace.device.cpuBudgetMB = Number(values['cpu-mb']);
  if (values['keep-alive-ms']) trace.device.keepAliveMs = Number(values['keep-alive-ms']);
  const started = performance.now();
  const summary = summarize(trace, await replay(trace));
  const wallMs = Math.round(performance.now() - started);
  if (values.json) {
    console.log(JSON.stringify({ ...summary, wallMs }));
    return;
  }
  const gpu = summary.gpuMB ? `${summary.gpuMB} MB GPU` : 'no GPU';
  console.log(`${summary.trace}: ${summary.requests} requests, ${gpu}, ${summary.cpuBudgetMB} MB host budget (replayed in ${wallMs} ms)`);
  console.log(`  GPU hits ${summary.gpuHits}  GPU runs ${summary.gpuRuns}  CPU runs ${summary.cpuRuns}  rejected ${summary.rejected}`);
  console.log(`  loads GPU ${summary.loadsGpu} / CPU ${summary.loadsCpu}  evictions ${summary.evictions} (${summary.evictedToCpu} to CPU)  keep-alive unloads ${summary.keepAliveUnloads}`);
  console.log(`  OOM demotions ${summary.oomDemotions}  promotions ${summary.promotions}  MB moved ${summary.mbMoved}`);
  console.log(`  latency p50 ${summary.latencyP50Ms} ms  p95 ${summary.latencyP95Ms} ms  p99 ${summary.latencyP99Ms} ms (simulated, incl. loads and waits)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
