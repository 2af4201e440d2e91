import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { testConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { faceRoutes } from '../../src/endpoints/face.js';
import { taskRoutes } from '../../src/endpoints/tasks.js';
import { errorHandler } from '../../src/middleware/error-handler.js';
import { ConcurrencyGate } from '../../src/middleware/overload.js';
import { requestContext } from '../../src/middleware/request-context.js';
import { faceAnalyzeTask, faceDetectTask } from '../../src/tasks/face-detect.js';
import { createTaskRegistry } from '../../src/tasks/registry.js';
import type { ModelRunner } from '../../src/models/runner.js';

/**
 * The face tasks (detect, analyze) on the generic task routes and the face router (verify,
 * gallery), behind a stand-in for the auth middleware: `x-owner` sets res.locals.owner as the real
 * one does from the API key.
 */
export async function startFaceApp(runner: ModelRunner, gate = new ConcurrencyGate(4, 16)) {
  const app = express();
  const config = testConfig();
  const logger = pino({ level: 'silent' });
  app.use(requestContext(logger));
  app.use((req, res, next) => {
    res.locals.owner = req.get('x-owner') ?? 'anonymous';
    next();
  });
  const tasks = createTaskRegistry([faceDetectTask, faceAnalyzeTask]);
  app.use(taskRoutes({ config, logger, runner, tasks, gate }));
  app.use('/api/v1/face', faceRoutes({ runner, db: openDatabase(':memory:'), config, logger, gate }));
  app.use(errorHandler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/face`;
  return { url, close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

/** JSON in, the envelope out; `owner` goes in the x-owner header. */
export async function call(url: string, body?: unknown, init: { method?: string; owner?: string } = {}) {
  const res = await fetch(url, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', ...(init.owner ? { 'x-owner': init.owner } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as { success: boolean; result?: any; error?: any } };
}
