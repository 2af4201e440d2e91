import { Router } from 'express';
import { VERSION } from '../version.js';
import { AppError } from '../errors.js';

export interface ModelHealth {
  id: string;
  state: string;
  device?: string;
}

/** What /health reads; cheap and synchronous so it answers while models run. */
export interface HealthSource {
  device(): string;
  /** Why that device: e.g. "the CUDA provider cannot load libcudnn.so.9: install cuDNN 9". */
  deviceReason?(): string;
  models(): ModelHealth[];
}

export interface Readiness {
  isReady(): boolean;
  /** Why not ready yet (e.g. "pulling default models"). */
  reason(): string;
}

export function healthRoutes(source: HealthSource, readiness: Readiness): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({
      status: readiness.isReady() ? 'ok' : 'starting',
      version: VERSION,
      uptime: Math.round(process.uptime()),
      device: source.device(),
      ...(source.deviceReason ? { deviceReason: source.deviceReason() } : {}),
      models: source.models(),
    });
  });
  router.get('/ready', (_req, res, next) => {
    if (!readiness.isReady()) {
      next(new AppError('NOT_READY', `Not ready: ${readiness.reason()}.`, { headers: { 'Retry-After': '5' } }));
      return;
    }
    res.json({ status: 'ready' });
  });
  return router;
}
