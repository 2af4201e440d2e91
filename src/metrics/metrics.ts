import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobQueue } from '../jobs/queue.js';
import { JOB_STATUSES, TERMINAL, type JobStatus } from '../jobs/schema.js';
import fs from 'node:fs';
import type { RunObserver } from '../models/manager.js';
import type { GpuReading } from '../models/device.js';
import type { Decision, VramSnapshot } from '../vram/types.js';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const JOB_SECONDS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** GPU memory and utilisation as nvidia-smi reports them, when a GPU is present. */
export type GpuMemory = () => GpuReading | undefined;

/**
 * The service's Prometheus metrics, on a registry of its own (so tests can run several services
 * in one process). Names follow Prometheus conventions: seconds, bytes, `_total` for counters.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly http: Histogram<'route' | 'method' | 'status'>;
  private readonly inference: Histogram<'model' | 'device'>;
  private readonly wait: Histogram<'model'>;
  private readonly failures: Counter<'model'>;
  private readonly inFlight: Gauge<'model'>;
  private readonly decisions: Counter<'kind' | 'model' | 'device'>;
  private readonly evictions: Counter<'model' | 'from' | 'to'>;
  private readonly demotions: Counter<'model'>;
  private readonly jobDuration: Histogram<'operation' | 'status'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'fotofun_' });
    this.http = new Histogram({ name: 'fotofun_http_request_duration_seconds', help: 'HTTP requests by route template, method and status.', labelNames: ['route', 'method', 'status'], buckets: SECONDS, registers });
    this.inference = new Histogram({ name: 'fotofun_inference_duration_seconds', help: 'session.run time per model run, measured in the worker.', labelNames: ['model', 'device'], buckets: SECONDS, registers });
    this.wait = new Histogram({ name: 'fotofun_inference_queue_wait_seconds', help: 'Time a model run waited before session.run: a session load, the worker queue, moving inputs.', labelNames: ['model'], buckets: SECONDS, registers });
    this.failures = new Counter({ name: 'fotofun_inference_failures_total', help: 'Model runs that failed.', labelNames: ['model'], registers });
    this.inFlight = new Gauge({ name: 'fotofun_inference_runs_in_flight', help: 'Model runs started and not finished.', labelNames: ['model'], registers });
    this.decisions = new Counter({ name: 'fotofun_scheduler_decisions_total', help: 'VRAM scheduler decisions: reuse, wait, load, evictThenLoad, cpuFallback, reject, unload, demote.', labelNames: ['kind', 'model', 'device'], registers });
    this.evictions = new Counter({ name: 'fotofun_model_evictions_total', help: 'Sessions pushed out to make room, by where they went (cpu or unload).', labelNames: ['model', 'from', 'to'], registers });
    this.demotions = new Counter({ name: 'fotofun_model_oom_demotions_total', help: 'GPU sessions moved to CPU after an out-of-memory error.', labelNames: ['model'], registers });
    this.jobDuration = new Histogram({ name: 'fotofun_job_duration_seconds', help: 'Async jobs from start to their end state, by operation.', labelNames: ['operation', 'status'], buckets: JOB_SECONDS, registers });
  }

  /** Counts loads (load, evictThenLoad, cpuFallback), evictions and out-of-memory demotions. */
  readonly onDecision = (d: Decision): void => {
    this.decisions.inc({ kind: d.kind, model: d.modelId, device: d.device ?? 'none' });
    for (const v of d.victims) this.evictions.inc({ model: v.modelId, from: v.from, to: v.to });
    if (d.kind === 'demote') this.demotions.inc({ model: d.modelId });
  };

  readonly runs: RunObserver = {
    started: (model) => this.inFlight.inc({ model }),
    finished: (model, o) => {
      this.inFlight.dec({ model });
      this.wait.observe({ model }, o.waitMs / 1000);
      if (o.ok && o.device && o.inferenceMs !== undefined) this.inference.observe({ model, device: o.device }, o.inferenceMs / 1000);
      else this.failures.inc({ model });
    },
  };

  /** Zone budgets and use, and GPU memory, read at scrape time. */
  watchMemory(snapshot: () => VramSnapshot, gpu?: GpuMemory): void {
    const registers = [this.registry];
    const pools = () => snapshot().pools;
    new Gauge({
      name: 'fotofun_zone_budget_bytes', help: 'Memory budget per device and zone (cpu: the host-memory budget).', labelNames: ['device', 'zone'], registers,
      collect() {
        for (const p of pools()) this.set({ device: p.device, zone: p.zone ?? 'cpu' }, p.budgetMB * 2 ** 20);
      },
    });
    new Gauge({
      name: 'fotofun_zone_used_bytes', help: 'Memory reserved by loaded, loading and releasing sessions per device and zone.', labelNames: ['device', 'zone'], registers,
      collect() {
        for (const p of pools()) this.set({ device: p.device, zone: p.zone ?? 'cpu' }, (p.usedMB + p.releasingMB) * 2 ** 20);
      },
    });
    if (!gpu) return;
    new Gauge({
      name: 'fotofun_gpu_memory_bytes', help: 'GPU memory as nvidia-smi reports it.', labelNames: ['kind'], registers,
      collect() {
        const m = gpu();
        if (!m) return;
        this.set({ kind: 'used' }, m.usedMB * 2 ** 20);
        this.set({ kind: 'total' }, m.totalMB * 2 ** 20);
      },
    });
    new Gauge({
      name: 'fotofun_gpu_utilization_ratio', help: 'Share of the last nvidia-smi sample period a GPU kernel ran, 0..1.', registers,
      collect() {
        const m = gpu();
        if (m) this.set(m.utilization);
      },
    });
  }

  /** Free and total bytes of the file systems holding these directories (DATA_DIR, MODEL_DIR). */
  watchDisks(dirs: Record<string, string>): void {
    const read = (dir: string) => {
      try {
        const s = fs.statfsSync(dir);
        return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
      } catch {
        return undefined;
      }
    };
    new Gauge({
      name: 'fotofun_disk_bytes', help: 'Free and total bytes of the file system under each directory the service writes.', labelNames: ['dir', 'kind'], registers: [this.registry],
      collect() {
        for (const [name, dir] of Object.entries(dirs)) {
          const d = read(dir);
          if (!d) continue;
          this.set({ dir: name, kind: 'free' }, d.free);
          this.set({ dir: name, kind: 'total' }, d.total);
        }
      },
    });
  }

  /** Jobs by state (read at scrape time) and each finished job's duration. */
  watchJobs(queue: JobQueue): void {
    new Gauge({
      name: 'fotofun_jobs', help: 'Jobs by status.', labelNames: ['status'], registers: [this.registry],
      collect() {
        const counts = queue.store.countByStatus();
        for (const status of JOB_STATUSES) this.set({ status }, counts[status] ?? 0);
      },
    });
    queue.on('event', (e) => {
      const to = e.type === 'status' ? String(e.data.to) : '';
      if (!TERMINAL.includes(to as JobStatus)) return;
      const job = queue.store.get(e.jobId);
      if (!job?.started_at) return;
      this.jobDuration.observe({ operation: job.operation, status: to }, Math.max(0, e.at - job.started_at) / 1000);
    });
  }

  /** Times every request under its route template (`/api/v1/jobs/:id`), never the raw URL with ids. */
  readonly httpTimer: RequestHandler = (req, res, next) => {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      this.http.observe({ route, method: req.method, status: String(res.statusCode) }, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
