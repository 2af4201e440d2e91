import { Router } from 'express';
import { sendSuccess } from '../middleware/error-handler.js';
import { adminOnly } from '../middleware/admin.js';
import type { ModelManager } from '../models/manager.js';
import type { VramSnapshot } from '../vram/types.js';

export interface ModelRouteDeps {
  manager: Pick<ModelManager, 'list' | 'info' | 'load' | 'unload'>;
  vram: () => VramSnapshot;
  adminKey: string | undefined;
}

/** Mounted at /api/v1: the model catalogue with live state, admin load/unload, and the VRAM view. */
export function modelRoutes(deps: ModelRouteDeps): Router {
  const router = Router();
  const admin = adminOnly(deps.adminKey);
  router.get('/models', (_req, res) => sendSuccess(res, { models: deps.manager.list() }));
  router.get('/models/:id', (req, res) => sendSuccess(res, deps.manager.info(String(req.params.id))));
  router.post('/models/:id/load', admin, async (req, res) => sendSuccess(res, await deps.manager.load(String(req.params.id))));
  router.post('/models/:id/unload', admin, (req, res) => sendSuccess(res, deps.manager.unload(String(req.params.id))));
  router.get('/vram', (_req, res) => sendSuccess(res, deps.vram()));
  return router;
}
