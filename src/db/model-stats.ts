import type { EstimateStore } from '../vram/types.js';
import { migrate, type Db, type Migration } from './database.js';

/** Per model and device: enough recent latencies for a stable p50/p95 without unbounded growth. */
export const LATENCY_SAMPLES_KEPT = 500;

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE model_estimates (
        model_id TEXT NOT NULL, device TEXT NOT NULL, mb INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        PRIMARY KEY (model_id, device));
      CREATE TABLE model_run_totals (
        model_id TEXT NOT NULL, device TEXT NOT NULL, runs INTEGER NOT NULL, total_ms REAL NOT NULL,
        PRIMARY KEY (model_id, device));
      CREATE TABLE model_run_samples (
        id INTEGER PRIMARY KEY AUTOINCREMENT, model_id TEXT NOT NULL, device TEXT NOT NULL, ms REAL NOT NULL);
      CREATE INDEX model_run_samples_by_model ON model_run_samples (model_id, device, id);`,
  },
];

export interface LatencyStats {
  /** All runs recorded, ever. */
  runs: number;
  meanMs: number | null;
  /** Over the last LATENCY_SAMPLES_KEPT runs. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
}

/**
 * Model statistics in SQLite: the scheduler's size estimates (measured footprints and raised
 * out-of-memory estimates, so a restart starts from what was learnt) and run latencies.
 */
export class ModelStats implements EstimateStore {
  private readonly stmts;

  constructor(private readonly db: Db) {
    migrate(db, 'model_stats', MIGRATIONS);
    this.stmts = {
      get: db.prepare('SELECT mb FROM model_estimates WHERE model_id = ? AND device = ?').pluck(),
      set: db.prepare(`INSERT INTO model_estimates (model_id, device, mb, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (model_id, device) DO UPDATE SET mb = excluded.mb, updated_at = excluded.updated_at`),
      total: db.prepare(`INSERT INTO model_run_totals (model_id, device, runs, total_ms) VALUES (?, ?, 1, ?)
        ON CONFLICT (model_id, device) DO UPDATE SET runs = runs + 1, total_ms = total_ms + excluded.total_ms`),
      sample: db.prepare('INSERT INTO model_run_samples (model_id, device, ms) VALUES (?, ?, ?)'),
      trim: db.prepare(`DELETE FROM model_run_samples WHERE model_id = ? AND device = ? AND id <= (
        SELECT id FROM model_run_samples WHERE model_id = ? AND device = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`),
      totals: db.prepare('SELECT SUM(runs) AS runs, SUM(total_ms) AS total FROM model_run_totals WHERE model_id = ? AND (? IS NULL OR device = ?)'),
      samples: db.prepare('SELECT ms FROM model_run_samples WHERE model_id = ? AND (? IS NULL OR device = ?) ORDER BY ms').pluck(),
    };
  }

  get(modelId: string, device: string): number | undefined {
    const mb = this.stmts.get.get(modelId, device) as number | undefined;
    return mb ?? undefined;
  }

  set(modelId: string, device: string, mb: number): void {
    this.stmts.set.run(modelId, device, Math.round(mb), Date.now());
  }

  /** One completed run (time inside session.run()). */
  recordRun(modelId: string, device: string, ms: number): void {
    this.db.transaction(() => {
      this.stmts.total.run(modelId, device, ms);
      this.stmts.sample.run(modelId, device, ms);
      this.stmts.trim.run(modelId, device, modelId, device, LATENCY_SAMPLES_KEPT);
    })();
  }

  /** Latency of a model on one device, or over all its devices. */
  latency(modelId: string, device?: string): LatencyStats {
    const d = device ?? null;
    const totals = this.stmts.totals.get(modelId, d, d) as { runs: number | null; total: number | null };
    const samples = this.stmts.samples.all(modelId, d, d) as number[];
    const runs = totals.runs ?? 0;
    return {
      runs,
      meanMs: runs > 0 && totals.total !== null ? totals.total / runs : null,
      p50Ms: percentile(samples, 0.5),
      p95Ms: percentile(samples, 0.95),
      p99Ms: percentile(samples, 0.99),
    };
  }
}
