import type { Request, RequestHandler, Response } from 'express';
import type { Config } from '../../config.js';
import { AppError } from '../../errors.js';
import type { Identity } from '../../identity/identity.js';
import { userOwner } from '../../identity/authenticate.js';
import type { Scope } from '../../identity/scopes.js';
import { ownerOf, sameSecret } from '../../middleware/auth.js';

/**
 * Authenticates a compatibility request from a key its client sends wherever that API puts it,
 * and leaves it where the app's own authentication would: res.locals.owner (and principal) set,
 * and with AUTH_MODE=users the same per-user and per-tier limits, usage metering and quota.
 */
export type CompatAuth = (req: Request, res: Response, secret: string | undefined, need: Scope) => Promise<void>;

/** Runs express middleware in order outside a router: resolves when each called next(), rejects on next(err). */
function runHandlers(handlers: readonly RequestHandler[], req: Request, res: Response): Promise<void> {
  return handlers.reduce<Promise<void>>((prev, handler) => prev.then(() => new Promise((resolve, reject) => {
    void handler(req, res, (err?: unknown) => (err ? reject(err) : resolve()));
  })), Promise.resolve());
}

function unauthorized(message: string): AppError {
  return new AppError('UNAUTHORIZED', message, { headers: { 'WWW-Authenticate': 'Bearer' } });
}

/** The same identities as the native API: off is everyone's `anonymous`, key compares with API_KEY, users takes a token or a per-user key and checks the scope. */
export function compatAuth(config: Config, identity?: Identity): CompatAuth {
  return async (req, res, secret, need) => {
    if (config.AUTH_MODE === 'off') {
      res.locals.owner = 'anonymous';
      return;
    }
    if (!secret) throw unauthorized('An API key is required.');
    if (config.AUTH_MODE === 'key') {
      if (!sameSecret(secret, config.API_KEY!)) throw unauthorized('The API key is not valid.');
      res.locals.owner = ownerOf(config.API_KEY!);
      return;
    }
    if (!identity) throw new Error('compatAuth: AUTH_MODE=users needs the identity service');
    const principal = identity.principalFor(secret);
    if (!principal.scopes.includes(need)) {
      throw new AppError('FORBIDDEN', `This route needs the "${need}" scope.`, { details: { missingScope: need } });
    }
    res.locals.principal = principal;
    res.locals.owner = userOwner(principal.user.id);
    await runHandlers(identity.afterAuth, req, res);
  };
}
