import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { ipKey, limiter } from '../middleware/rate-limits.js';
import { ApiKeyStore } from './api-keys.js';
import { authenticate, principalFor, principalOf, type Principal } from './authenticate.js';
import { migrateIdentity } from './migrations.js';
import { identityRoutes } from './routes.js';
import { loadSigningKeys } from './signing-keys.js';
import { routeTier, isMetered, type Tier } from './tiers.js';
import { TokenService } from './tokens.js';
import { meterUsage, UsageStore } from './usage.js';
import { UserStore } from './users.js';

/** Everything AUTH_MODE=users mounts, in order: before auth, auth, after auth, then the routes. */
export interface Identity {
  /** Per-IP limit, before authentication (it also caps sign-in attempts). */
  beforeAuth: RequestHandler[];
  authenticate: RequestHandler;
  /** For compatibility APIs whose clients send the key in the body (DeepStack's api_key). */
  principalFor(secret: string): Principal;
  /** Per-user and per-tier limits, usage metering and quotas. */
  afterAuth: RequestHandler[];
  routes: ReturnType<typeof identityRoutes>;
  users: UserStore;
  keys: ApiKeyStore;
  tokens: TokenService;
  usage: UsageStore;
}

/** Creates the bootstrap admin from ADMIN_EMAIL/ADMIN_PASSWORD when no account has that email yet. */
async function bootstrapAdmin(config: Config, users: UserStore, logger: Logger): Promise<void> {
  if (!config.ADMIN_EMAIL || !config.ADMIN_PASSWORD) {
    if (users.count() === 0) logger.warn('AUTH_MODE=users with no accounts: set ADMIN_EMAIL and ADMIN_PASSWORD to create the first admin');
    return;
  }
  if (users.byEmail(config.ADMIN_EMAIL.toLowerCase())) return;
  const admin = await users.create({ email: config.ADMIN_EMAIL.toLowerCase(), password: config.ADMIN_PASSWORD, role: 'admin' });
  logger.info({ userId: admin.id }, 'created the bootstrap admin account');
}

export async function createIdentity(config: Config, db: Db, logger: Logger): Promise<Identity> {
  migrateIdentity(db);
  const users = new UserStore(db);
  const keys = new ApiKeyStore(db);
  const signing = loadSigningKeys(config, logger);
  const tokens = new TokenService(db, signing, config);
  const usage = new UsageStore(db);
  await bootstrapAdmin(config, users, logger);
  const owner = (res: Parameters<RequestHandler>[1]) => (res.locals.owner === 'anonymous' ? undefined : String(res.locals.owner));
  const tierLimits: Record<Tier, number> = {
    strict: config.RATE_LIMIT_STRICT_PER_MINUTE,
    moderate: config.RATE_LIMIT_MODERATE_PER_MINUTE,
    lenient: config.RATE_LIMIT_LENIENT_PER_MINUTE,
  };
  const tierLimiters = (Object.keys(tierLimits) as Tier[]).map((tier) => limiter({
    name: `${tier} tier`,
    limit: tierLimits[tier],
    key: (req, res) => (routeTier(req.method, `${req.baseUrl}${req.path}`) === tier && owner(res) ? `${owner(res)}:${tier}` : undefined),
  }));
  return {
    beforeAuth: [limiter({ name: 'per IP', limit: config.RATE_LIMIT_IP_PER_MINUTE, key: (req) => ipKey(req) })],
    authenticate: authenticate({ users, keys, tokens }),
    principalFor: (secret) => principalFor({ users, keys, tokens }, secret),
    afterAuth: [
      limiter({ name: 'per user', limit: (_req, res) => principalOf(res)?.user.limits.ratePerMinute ?? config.RATE_LIMIT_USER_PER_MINUTE, key: (_req, res) => owner(res) }),
      ...tierLimiters,
      meterUsage(usage, (res) => principalOf(res)?.user.limits.dailyQuota ?? null, isMetered),
    ],
    routes: identityRoutes({ config, users, keys, tokens, usage, signing }),
    users, keys, tokens, usage,
  };
}
