import type { Config } from '../../config.js';
import { AppError } from '../../errors.js';
import type { Identity } from '../../identity/identity.js';
import { userOwner } from '../../identity/authenticate.js';
import type { Scope } from '../../identity/scopes.js';
import { ownerOf, sameSecret } from '../../middleware/auth.js';

/** Who a compatibility request is, from a key its client sends wherever that API puts it. */
export type CompatAuth = (secret: string | undefined, need: Scope) => string;

/**
 * The same identities as the native API: AUTH_MODE=off is everyone's `anonymous`, key compares
 * with API_KEY, users takes an access token or a per-user API key and checks the scope.
 */
export function compatAuth(config: Config, identity?: Identity): CompatAuth {
  return (secret, need) => {
    if (config.AUTH_MODE === 'off') return 'anonymous';
    if (!secret) throw new AppError('UNAUTHORIZED', 'An API key is required.', { headers: { 'WWW-Authenticate': 'Bearer' } });
    if (config.AUTH_MODE === 'key') {
      if (!sameSecret(secret, config.API_KEY!)) throw new AppError('UNAUTHORIZED', 'The API key is not valid.', { headers: { 'WWW-Authenticate': 'Bearer' } });
      return ownerOf(config.API_KEY!);
    }
    if (!identity) throw new Error('compatAuth: AUTH_MODE=users needs the identity service');
    const principal = identity.principalFor(secret);
    if (!principal.scopes.includes(need)) {
      throw new AppError('FORBIDDEN', `This route needs the "${need}" scope.`, { details: { missingScope: need } });
    }
    return userOwner(principal.user.id);
  };
}
