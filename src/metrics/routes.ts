import express, { type Express, type RequestHandler } from 'express';
import type { Server } from 'node:http';
import { AppError } from '../errors.js';
import { credential, sameSecret } from '../middleware/auth.js';
import type { ServiceMetrics } from './metrics.js';

/** The exposition itself. */
export const serveMetrics = (metrics: ServiceMetrics): RequestHandler => async (_req, res) => {
  res.setHeader('Content-Type', metrics.contentType);
  res.end(await metrics.render());
};

/** GET /metrics for Prometheus's `authorization: credentials` (METRICS_TOKEN), ahead of the API's own authentication. */
export function metricsWithToken(metrics: ServiceMetrics, token: string): RequestHandler {
  const serve = serveMetrics(metrics);
  return (req, res, next) => {
    const given = credential(req);
    if (!given || !sameSecret(given, token)) {
      next(new AppError('UNAUTHORIZED', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.', { headers: { 'WWW-Authenticate': 'Bearer' } }));
      return;
    }
    void Promise.resolve(serve(req, res, next)).catch(next);
  };
}

/** METRICS_PORT: /metrics alone on its own port (reach it only from the monitoring network). */
export function startMetricsServer(metrics: ServiceMetrics, port: number, host: string): Promise<Server> {
  const app: Express = express();
  app.disable('x-powered-by');
  app.get('/metrics', serveMetrics(metrics));
  const server = app.listen(port, host);
  return new Promise((resolve, reject) => server.once('listening', () => resolve(server)).once('error', reject));
}
