import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { ManifestSchema, type Manifest } from '../../src/models/manifest.js';
import { ModelManager, schedulerSpec, type RunObserver } from '../../src/models/manager.js';
import { ModelStore } from '../../src/models/store/model-store.js';
import { openDatabase } from '../../src/db/database.js';
import { ModelStats } from '../../src/db/model-stats.js';
import { InferencePool } from '../../src/models/worker/inference-pool.js';
import type { WorkerFactory } from '../../src/models/worker/types.js';
import { VramScheduler } from '../../src/vram/scheduler.js';
import type { SchedulerOptions } from '../../src/vram/types.js';
import type { GraphBuilder } from './onnx.js';

export interface TinyModel {
  id: string;
  graph: GraphBuilder | Uint8Array;
  zone?: 'critical' | 'high' | 'flexible';
  memoryMB?: number;
  task?: string;
}

/**
 * Writes tiny models into `modelDir` and returns a manifest naming them with their real sha256, as
 * an operator-supplied url source would: the store verifies them like any downloaded weights.
 */
export function tinyManifest(modelDir: string, models: TinyModel[]): Manifest {
  fs.mkdirSync(modelDir, { recursive: true });
  return ManifestSchema.parse({
    version: 1,
    models: models.map((m) => {
      const bytes = m.graph instanceof Uint8Array ? m.graph : m.graph.toBytes();
      const file = `${m.id}.onnx`;
      fs.writeFileSync(path.join(modelDir, file), bytes);
      return {
        id: m.id, task: m.task ?? 'test', family: 'background', zone: m.zone ?? 'high', priority: 50, default: false,
        license: 'MIT', memoryMB: m.memoryMB ?? 8, description: `tiny test model ${m.id}`,
        inputs: [{ name: 'input', dtype: 'float32', shape: [1, 3, 'h', 'w'], layout: 'NCHW', color: 'RGB', normalize: { scale: 1, mean: 0, std: 1 } }],
        outputs: [{ name: 'output', dtype: 'float32', shape: [1, 1, 'h', 'w'] }],
        source: {
          kind: 'url', url: `https://models.invalid/${file}`, file, verify: 'sha256',
          sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length,
        },
      };
    }),
  });
}

export interface ManagerKit {
  manager: ModelManager;
  scheduler: VramScheduler;
  pool: InferencePool;
  store: ModelStore;
  close(): Promise<void>;
}

/** The real ModelManager over tiny models: real store, scheduler and worker pool, CPU only. */
export function tinyManager(modelDir: string, models: TinyModel[], opts: ManagerKitOptions = {}): ManagerKit {
  return manifestManager(modelDir, tinyManifest(modelDir, models), opts);
}

type ManagerKitOptions = Partial<SchedulerOptions> & { workers?: number; logger?: Logger; workerFactory?: WorkerFactory; observer?: RunObserver };

/** The same over any manifest, e.g. the shipped one's entries with no weights in `modelDir`. */
export function manifestManager(modelDir: string, manifest: Manifest, opts: ManagerKitOptions = {}): ManagerKit {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const store = new ModelStore({ modelDir, manifest, logger, downloadTimeoutMs: 2000 });
  const scheduler = new VramScheduler({
    cpuBudgetMB: 1024, keepAliveMs: 600_000, ...opts,
    models: manifest.models.map(schedulerSpec),
  });
  const pool = new InferencePool({ workers: opts.workers ?? 1, intraOpThreads: 1, logger, ...(opts.workerFactory ? { workerFactory: opts.workerFactory } : {}) });
  const stats = new ModelStats(openDatabase(':memory:'));
  const manager = new ModelManager({ store, scheduler, pool, stats, logger, ...(opts.observer ? { observer: opts.observer } : {}) });
  return { manager, scheduler, pool, store, close: () => manager.close() };
}
