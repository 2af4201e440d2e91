import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { AppError } from '../errors.js';

/** Hashing both sides first gives equal-length buffers, so the compare leaks neither content nor length. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A short, non-reversible owner id for per-key data (jobs, face gallery): never the key itself. */
export function ownerOf(key: string): string {
  return `key:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/** The secret a request presents: `Authorization: Bearer <secret>`, else `X-API-Key`. */
export function credential(req: Request): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
  return bearer ?? req.get('x-api-key')?.trim();
}

/** Who is asking: set by apiKeyAuth for every route behind it. */
export function requestOwner(res: Response): string {
  return String(res.locals.owner ?? 'anonymous');
}

/**
 * With API_KEY set, every route it guards needs `Authorization: Bearer <key>` (or X-API-Key).
 * Without it, everyone is the owner 'anonymous'.
 */
export function apiKeyAuth(apiKey: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (!apiKey) {
      res.locals.owner = 'anonymous';
      next();
      return;
    }
    const secret = credential(req);
    if (!secret || !sameSecret(secret, apiKey)) {
      next(new AppError('UNAUTHORIZED', 'A valid API key is required: send Authorization: Bearer <API_KEY>.', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      }));
      return;
    }
    res.locals.owner = ownerOf(apiKey);
    next();
  };
}
