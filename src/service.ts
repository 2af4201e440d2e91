import fs from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { ALL_TASKS } from './tasks/all.js';
import { openDatabase, type Db } from './db/database.js';
import { ModelStats } from './db/model-stats.js';
import { modelRoutes } from './endpoints/models.js';
import { faceRoutes } from './endpoints/face.js';
import { compatAuth } from './endpoints/compat/credentials.js';
import { deepStackRoutes } from './endpoints/compat/deepstack.js';
import { compreFaceRoutes } from './endpoints/compat/compreface.js';
import { FaceGallery } from './db/face-gallery.js';
import { rembgRoutes } from './endpoints/compat/rembg.js';
import { jobRoutes } from './endpoints/jobs.js';
import { JobQueue } from './jobs/queue.js';
import { detectDevice, gpuMemoryPoller, probeModel, type DeviceInfo } from './models/device.js';
import { GpuFootprints, nvidiaSmiMemoryReader } from './models/gpu-memory.js';
import { loadManifest, type Manifest } from './models/manifest.js';
import { ModelManager, schedulerSpec } from './models/manager.js';
import { ModelStore } from './models/store/model-store.js';
import { InferencePool } from './models/worker/inference-pool.js';
import { resolvePoolSize } from './models/worker/pool-size.js';
import { ConcurrencyGate } from './middleware/overload.js';
import { createApp } from './server.js';
import { createShutdown, type Closer } from './shutdown.js';
import { createTaskRegistry, type TaskRegistry } from './tasks/registry.js';
import { createIdentity } from './identity/identity.js';
import { ServiceMetrics } from './metrics/metrics.js';
import { startMetricsServer } from './metrics/routes.js';
import { VramScheduler } from './vram/scheduler.js';
import { zoneBudgets } from './vram/zones.js';
import { cudaIndex, sessionKey, type DeviceId } from './vram/types.js';

export interface Service {
  server: Server;
  manager: ModelManager;
  shutdown: () => Promise<void>;
  /** Resolves when default models are pulled and the service is ready. */
  ready: Promise<void>;
}

export interface ServiceOptions {
  manifest?: Manifest;
}

/** The model layer as the service runs it: store, scheduler, worker pool and the ModelManager over them. */
export function buildModels(config: Config, logger: Logger, db: Db, manifest: Manifest, device: DeviceInfo, metrics?: ServiceMetrics) {
  const stats = new ModelStats(db);
  const store = new ModelStore({
    modelDir: config.MODEL_DIR, manifest, logger,
    ...(config.NPM_REGISTRY ? { registry: config.NPM_REGISTRY } : {}),
    downloadTimeoutMs: config.DOWNLOAD_TIMEOUT,
  });
  const gpu = device.primary === 'cpu' || !device.vramTotalMB ? undefined
    : { id: device.primary, totalMB: device.vramTotalMB, zones: zoneBudgets(device.vramTotalMB, config.VRAM_ZONES) };
  const scheduler = new VramScheduler({
    ...(gpu ? { gpu } : {}),
    cpuBudgetMB: config.CPU_MODEL_MEMORY_MB,
    keepAliveMs: config.MODEL_KEEP_ALIVE,
    models: manifest.models.map(schedulerSpec),
    estimates: stats,
    logger: logger.child({ component: 'vram' }),
    ...(metrics ? { onDecision: metrics.onDecision } : {}),
  });
  const size = resolvePoolSize({ workers: config.INFERENCE_WORKERS, intraOpThreads: config.INTRA_OP_THREADS });
  const pool = new InferencePool({ ...size, logger: logger.child({ component: 'inference' }) });
  const gpuFootprints = gpu ? new GpuFootprints(nvidiaSmiMemoryReader(cudaIndex(gpu.id)), logger, () => primeCudaContext(pool, gpu.id, config.DATA_DIR)) : undefined;
  const manager = new ModelManager({ store, scheduler, pool, stats, logger, ...(metrics ? { observer: metrics.runs } : {}), ...(gpuFootprints ? { gpuFootprints } : {}) });
  return { store, scheduler, manager };
}

/** Creates and drops a one-node session on the GPU, so the CUDA context exists before the first footprint is measured. */
async function primeCudaContext(pool: InferencePool, device: DeviceId, dir: string): Promise<void> {
  const file = path.join(dir, 'cuda-probe.onnx');
  await fs.promises.mkdir(dir, { recursive: true });
  await fs.promises.writeFile(file, probeModel());
  const key = sessionKey('cuda-probe', device);
  await pool.load(key, { modelPath: file, device });
  await pool.unload(key);
}

async function pullDefaults(store: ModelStore, manifest: Manifest, logger: Logger): Promise<void> {
  const ids = manifest.models.filter((m) => m.default).map((m) => m.id);
  const outcomes = await store.pull(ids);
  for (const o of outcomes) {
    if (!o.ok) logger.warn({ modelId: o.id, code: o.error.code }, `model ${o.id} is unavailable: ${o.error.message}`);
  }
}

/**
 * Wires every component and starts listening at once; default models are pulled in the background
 * (readiness answers 503 until then) and a model that cannot be fetched leaves its family
 * unavailable instead of stopping the service.
 */
export async function startService(config: Config, logger: Logger, opts: ServiceOptions = {}): Promise<Service> {
  const manifest = opts.manifest ?? loadManifest();
  const device = await detectDevice(config);
  logger.info({ device: device.primary, reason: device.reason }, `inference device: ${device.primary}`);
  // Tasks pick defaults by the device actually found (e.g. the upscaler), not by DEVICE=auto.
  config = { ...config, DEVICE: device.primary === 'cpu' ? 'cpu' : 'cuda' };
  const db = openDatabase(path.join(config.DATA_DIR, 'fotofun.db'));
  const metrics = new ServiceMetrics();
  const { store, scheduler, manager } = buildModels(config, logger, db, manifest, device, metrics);
  const gpuMemory = device.primary === 'cpu' ? undefined : gpuMemoryPoller();
  metrics.watchMemory(() => scheduler.snapshot(), gpuMemory?.read);
  metrics.watchDisks({ data: config.DATA_DIR, models: config.MODEL_DIR });
  const tasks: TaskRegistry = createTaskRegistry(ALL_TASKS);
  const queue = new JobQueue({ db, dataDir: config.DATA_DIR, tasks, runner: manager, config, logger: logger.child({ component: 'jobs' }) });
  metrics.watchJobs(queue);
  let ready = false;
  let reason = 'pulling default models';
  const gate = new ConcurrencyGate(config.MAX_CONCURRENT_REQUESTS, config.MAX_QUEUED_REQUESTS);
  const identity = config.AUTH_MODE === 'users' ? await createIdentity(config, db, logger.child({ component: 'identity' })) : undefined;
  logger.info({ authMode: config.AUTH_MODE }, `auth mode: ${config.AUTH_MODE}`);
  const gallery = new FaceGallery(db, { cacheMB: config.FACE_INDEX_CACHE_MB });
  const app = createApp(config, {
    logger, runner: manager, tasks, jobs: queue, gate, metrics, ...(identity ? { identity } : {}),
    health: {
      device: () => device.primary,
      deviceReason: () => device.reason,
      models: () => manager.loaded(),
    },
    readiness: { isReady: () => ready, reason: () => reason },
    selfAuthenticating: config.COMPAT_APIS.includes('deepstack')
      ? [{ path: '/v1/vision', router: deepStackRoutes({ runner: manager, config, gate, gallery, auth: compatAuth(config, identity) }) }]
      : [],
    routers: [
      { path: '/api/v1/face', router: faceRoutes({ runner: manager, db, config, logger, gate, gallery }), inference: true },
      ...(config.COMPAT_APIS.includes('rembg') ? [{ path: '/api/remove', router: rembgRoutes({ runner: manager, config, gate }), inference: true }] : []),
      { path: '/api/v1/jobs', router: jobRoutes({ queue, config }), inference: false },
      { path: '/api/v1', router: modelRoutes({ manager, vram: () => scheduler.snapshot(), adminKey: config.ADMIN_API_KEY }), inference: false },
      // Last: only requests no native route took reach CompreFace's /api/v1/recognition, /detection, /verification.
      ...(config.COMPAT_APIS.includes('compreface') ? [{ path: '/api/v1', router: compreFaceRoutes({ runner: manager, config, gate, gallery }), inference: true }] : []),
    ],
  });
  const server = app.listen(config.PORT, config.HOST);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const metricsServer = config.METRICS_PORT === undefined ? undefined : await startMetricsServer(metrics, config.METRICS_PORT, config.HOST);
  const closers: Closer[] = [
    ...(metricsServer ? [{ name: 'metrics', close: () => new Promise<void>((resolve) => metricsServer.close(() => resolve())) }] : []),
    { name: 'gpu memory poller', close: () => gpuMemory?.stop() },
    { name: 'jobs', close: () => queue.close(), withDrain: true },
    { name: 'models', close: () => manager.close() },
    { name: 'database', close: () => { db.close(); } },
  ];
  const readyPromise = (async () => {
    if (config.PULL_MODELS_ON_START) await pullDefaults(store, manifest, logger);
    queue.start();
    ready = true;
    reason = 'ready';
    logger.info({ address: server.address() }, 'ready');
  })();
  return { server, manager, ready: readyPromise, shutdown: createShutdown(server, closers, config.SHUTDOWN_TIMEOUT, logger) };
}
