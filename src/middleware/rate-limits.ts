import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { AppError } from '../errors.js';

export interface LimitSpec {
  /** Named in the 429's message and details: "per IP", "per user", "strict tier"… */
  name: string;
  /** Requests per window; a function for per-user overrides. */
  limit: number | ((req: Request, res: Response) => number);
  windowMs?: number;
  /** The counter's key; undefined skips the limit for this request. */
  key: (req: Request, res: Response) => string | undefined;
  /** Count only failed requests (login attempts). */
  onlyFailures?: boolean;
}

/** IPv6 grouped by /64, so one host cannot rotate addresses. */
export const ipKey = (req: Request) => ipKeyGenerator(req.ip ?? '');

/** One express-rate-limit counter: `RateLimit-*` headers, 429 RATE_LIMITED with Retry-After in the envelope. */
export function limiter(spec: LimitSpec): RequestHandler {
  const windowMs = spec.windowMs ?? 60_000;
  return rateLimit({
    windowMs,
    limit: spec.limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    identifier: spec.name,
    skipSuccessfulRequests: spec.onlyFailures ?? false,
    skip: (req, res) => spec.key(req, res) === undefined,
    keyGenerator: (req, res) => spec.key(req, res)!,
    handler: (req, _res, next, options) => {
      const info = (req as Request & { rateLimit?: { limit: number; resetTime?: Date } }).rateLimit;
      const retry = info?.resetTime ? Math.max(1, Math.ceil((info.resetTime.getTime() - Date.now()) / 1000)) : Math.ceil(options.windowMs / 1000);
      next(new AppError('RATE_LIMITED', `Too many requests (${spec.name}): the limit is ${info?.limit ?? '?'} per ${Math.round(windowMs / 1000)} s.`, {
        details: { limit: spec.name, retryAfterSeconds: retry },
        headers: { 'Retry-After': String(retry) },
      }));
    },
  });
}
