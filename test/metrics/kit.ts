import { jobRoutes } from '../../src/endpoints/jobs.js';
import { modelRoutes } from '../../src/endpoints/models.js';
import { ServiceMetrics } from '../../src/metrics/metrics.js';
import { invertModel, invertTask, startTestApp } from '../kit/app.js';
import { tinyManager } from '../kit/models.js';
import { tempDir } from '../kit/onnx.js';
import { createHarness } from '../jobs/kit.js';

/** One sample's value from the exposition text, or undefined. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    const got = Object.fromEntries([...(match?.[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(match?.[2]);
  }
  return undefined;
}

/** The real app with metrics wired as the service wires them, over tiny models, a job queue and a fake GPU reading. */
export async function metricsApp(env: Record<string, string> = {}) {
  const metrics = new ServiceMetrics();
  const kit = tinyManager(tempDir(), [{ id: 'test-invert', graph: invertModel(), memoryMB: 8 }, { id: 'other', graph: invertModel(), memoryMB: 8 }], {
    cpuBudgetMB: 12, observer: metrics.runs, onDecision: metrics.onDecision,
  });
  metrics.watchMemory(() => kit.scheduler.snapshot(), () => ({ usedMB: 1000, totalMB: 6144, utilization: 0.25 }));
  metrics.watchDisks({ data: tempDir() });
  const task = invertTask();
  const h = createHarness([task], {}, { runner: kit.manager });
  metrics.watchJobs(h.queue);
  const app = await startTestApp({
    env,
    tasks: [task],
    runner: kit.manager,
    deps: {
      metrics,
      jobs: h.queue,
      routers: [
        { path: '/api/v1/jobs', router: jobRoutes({ queue: h.queue, config: h.config }), inference: false },
        { path: '/api/v1', router: modelRoutes({ manager: kit.manager, vram: () => kit.scheduler.snapshot(), adminKey: undefined }), inference: false },
      ],
    },
  });
  h.queue.start();
  return {
    app, kit, h,
    close: async () => {
      await app.close();
      await h.queue.close();
      await kit.close();
    },
  };
}

