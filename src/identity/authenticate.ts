import type { RequestHandler, Response } from 'express';
import { credential } from '../middleware/auth.js';
import { AppError } from '../errors.js';
import type { ApiKeyStore } from './api-keys.js';
import { looksLikeApiKey } from './api-keys.js';
import { ROLE_SCOPES, routeNeed, type Role, type Scope } from './scopes.js';
import { unauthorized, type TokenService } from './tokens.js';
import type { UserAuth, UserStore } from './users.js';

/** Who is asking, in users mode: res.locals.principal; res.locals.owner is `user:<id>` for every owner-scoped store. */
export interface Principal {
  user: UserAuth;
  role: Role;
  /** The credential's scopes within the user's current role. */
  scopes: Scope[];
  via: 'token' | 'key';
  keyId?: string;
}

export const principalOf = (res: Response): Principal | undefined => res.locals.principal as Principal | undefined;
export const userOwner = (userId: string) => `user:${userId}`;

/** Tokens issued before a password change are void (1 s slack: iat has whole seconds). */
const issuedBefore = (iatS: number, ms: number) => iatS * 1000 < ms - 1000;

export interface AuthDeps {
  users: UserStore;
  keys: ApiKeyStore;
  tokens: TokenService;
}

/** The principal behind an access token or API key secret; 401 UNAUTHORIZED when there is none. */
export function principalFor(deps: AuthDeps, secret: string): Principal {
  if (looksLikeApiKey(secret)) {
    const found = deps.keys.authenticate(secret);
    if ('problem' in found) throw unauthorized(found.problem === 'expired' ? 'The API key has expired.' : 'The API key is not valid (unknown or revoked).');
    const user = deps.users.get(found.userId);
    if (!user || user.disabled) throw unauthorized('The API key belongs to a disabled account.');
    return { user, role: user.role, scopes: found.scopes.filter((s) => ROLE_SCOPES[user.role].includes(s)), via: 'key', keyId: found.keyId };
  }
  const claims = deps.tokens.verifyAccess(secret);
  const user = deps.users.get(claims.sub);
  if (!user || user.disabled) throw unauthorized('The access token belongs to a disabled account.');
  if (issuedBefore(claims.iat, user.passwordChangedAt)) throw unauthorized('The password changed after this token was issued: sign in again.');
  // A role changed by an admin takes effect at once, not when the token expires.
  return { user, role: user.role, scopes: claims.scopes.filter((s) => ROLE_SCOPES[user.role].includes(s)), via: 'token' };
}

/**
 * AUTH_MODE=users: an access token or API key (Authorization: Bearer, or X-API-Key) on every route
 * but the public ones, then the route's scope (src/identity/scopes.ts): 401 UNAUTHORIZED or 403
 * FORBIDDEN naming the missing scope.
 */
export function authenticate(deps: AuthDeps): RequestHandler {
  return (req, res, next) => {
    const need = routeNeed(req.method, req.path);
    res.locals.owner = 'anonymous';
    if (need === 'public') return next();
    const secret = credential(req);
    if (!secret) return next(unauthorized('Sign in first: send Authorization: Bearer <access token or API key>.'));
    let principal: Principal;
    try {
      principal = principalFor(deps, secret);
    } catch (err) {
      return next(err);
    }
    res.locals.principal = principal;
    res.locals.owner = userOwner(principal.user.id);
    if (need !== 'signed-in' && !principal.scopes.includes(need)) {
      return next(new AppError('FORBIDDEN', `This route needs the "${need}" scope, which this ${principal.via === 'key' ? 'API key' : 'account'} does not have.`, {
        details: { missingScope: need, scopes: principal.scopes },
      }));
    }
    next();
  };
}
