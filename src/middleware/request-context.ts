import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { RequestHandler } from 'express';

const ID_PATTERN = /^[\w.:-]{1,128}$/;

/**
 * Gives every request an id (a well-formed X-Request-Id is honoured), a child logger, and one JSON
 * log line when the response finishes: method, route, status, duration. Never bodies or headers.
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id');
    const id = given && ID_PATTERN.test(given) ? given : randomUUID();
    res.locals.startedAt = process.hrtime.bigint();
    res.locals.requestId = id;
    res.setHeader('X-Request-Id', id);
    req.log = logger.child({ reqId: id });
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - (res.locals.startedAt as bigint)) / 1e6;
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : req.path;
      const level = res.statusCode === 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      req.log[level]({ method: req.method, route, status: res.statusCode, durationMs: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}

declare module 'express-serve-static-core' {
  interface Request {
    log: Logger;
  }
}
