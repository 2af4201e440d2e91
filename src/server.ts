import express, { type Router } from 'express';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { healthRoutes, type HealthSource, type Readiness } from './endpoints/health.js';
import { docsRoutes } from './openapi/routes-docs.js';
import { playgroundRoutes } from './playground/routes.js';
import { taskRoutes, type AsyncSubmitter } from './endpoints/tasks.js';
import { apiKeyAuth } from './middleware/auth.js';
import { cors } from './middleware/cors.js';
import { deadline } from './middleware/deadline.js';
import { errorHandler, notFound } from './middleware/error-handler.js';
import { ipKey, limiter } from './middleware/rate-limits.js';
import { ConcurrencyGate } from './middleware/overload.js';
import { requestContext } from './middleware/request-context.js';
import type { ModelRunner } from './models/runner.js';
import type { Identity } from './identity/identity.js';
import type { ServiceMetrics } from './metrics/metrics.js';
import { metricsWithToken, serveMetrics } from './metrics/routes.js';
import type { TaskRegistry } from './tasks/registry.js';

export interface MountedRouter {
  path: string;
  router: Router;
  /**
   * Inference routes get REQUEST_TIMEOUT; streams (SSE) and admin routes do not. The overload gate
   * is the routers' own (ConcurrencyGate.run around model work), shared through AppDeps.gate.
   */
  inference: boolean;
}

export interface AppDeps {
  logger: Logger;
  runner: ModelRunner;
  tasks: TaskRegistry;
  health: HealthSource;
  readiness: Readiness;
  jobs?: AsyncSubmitter;
  /** Feature routers that are not plain image → image tasks (faces, jobs, models). */
  routers?: MountedRouter[];
  /** Routers that check credentials themselves, mounted ahead of authentication (DeepStack's api_key form field); inference routes. */
  selfAuthenticating?: Pick<MountedRouter, 'path' | 'router'>[];
  /** The overload gate the task routes share with the feature routers; made from config when absent. */
  gate?: ConcurrencyGate;
  /** Accounts, tokens, keys, limits and usage: required by AUTH_MODE=users, unused otherwise. */
  identity?: Identity;
  /** Prometheus metrics: every request is timed, and GET /metrics is served unless METRICS_PORT moves it. */
  metrics?: ServiceMetrics;
}

/** RATE_LIMIT_PER_MINUTE (key and off modes): per API key when auth is on, otherwise per IP. */
function rateLimiter(perMinute: number) {
  return limiter({ name: 'per client', limit: perMinute, key: (req, res) => (res.locals.owner !== 'anonymous' ? String(res.locals.owner) : ipKey(req)) });
}

/**
 * Builds the HTTP app. Health and readiness come before auth and limits so probes always answer;
 * every other route needs the API key when one is set.
 */
export function createApp(config: Config, deps: AppDeps): express.Express {
  const gate = deps.gate ?? new ConcurrencyGate(config.MAX_CONCURRENT_REQUESTS, config.MAX_QUEUED_REQUESTS);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  app.use(requestContext(deps.logger));
  app.use(cors(config.CORS_ORIGINS));
  if (deps.metrics) app.use(deps.metrics.httpTimer);
  app.use(healthRoutes(deps.health, deps.readiness));
  app.use(docsRoutes(deps.tasks.list()));
  app.use(playgroundRoutes());
  const metricsHere = deps.metrics && config.METRICS_PORT === undefined ? deps.metrics : undefined;
  if (metricsHere && config.METRICS_TOKEN) app.get('/metrics', metricsWithToken(metricsHere, config.METRICS_TOKEN));
  const timed = deadline(config.REQUEST_TIMEOUT);
  // Compatibility APIs whose clients send their key in the body authenticate in their own routes.
  const mountCompat = () => {
    for (const { path, router } of deps.selfAuthenticating ?? []) app.use(path, timed, router);
  };
  if (config.AUTH_MODE === 'users') {
    if (!deps.identity) throw new Error('createApp: AUTH_MODE=users needs deps.identity (createIdentity)');
    app.use(...deps.identity.beforeAuth);
    mountCompat();
    app.use(deps.identity.authenticate, ...deps.identity.afterAuth, deps.identity.routes);
  } else {
    mountCompat();
    app.use(apiKeyAuth(config.AUTH_MODE === 'key' ? config.API_KEY : undefined));
    if (config.RATE_LIMIT_PER_MINUTE > 0) app.use(rateLimiter(config.RATE_LIMIT_PER_MINUTE));
  }
  // Without a token /metrics is an API route: the API key, or the `metrics` scope, or open (AUTH_MODE=off).
  if (metricsHere && !config.METRICS_TOKEN) app.get('/metrics', serveMetrics(metricsHere));
  app.use(taskRoutes({ config, logger: deps.logger, runner: deps.runner, tasks: deps.tasks, gate, ...(deps.jobs ? { jobs: deps.jobs } : {}) }));
  for (const { path, router, inference } of deps.routers ?? []) {
    if (inference) app.use(path, timed, router);
    else app.use(path, router);
  }
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
