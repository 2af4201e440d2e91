import express, { Router, type Request, type Response } from 'express';
import type { z } from 'zod';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { sendSuccess } from '../middleware/error-handler.js';
import { ipKey, limiter } from '../middleware/rate-limits.js';
import { parseWith } from '../schema.js';
import type { ApiKeyStore } from './api-keys.js';
import { principalOf, type Principal } from './authenticate.js';
import { dummyHash, verifyPassword } from './passwords.js';
import { Credentials, NewKey, NewUser, Page, PasswordChange, RefreshBody, Registration, UsageQuery, UserPatchBody } from './schemas.js';
import { ROLE_SCOPES } from './scopes.js';
import type { SigningKeys } from './signing-keys.js';
import { unauthorized, type TokenService } from './tokens.js';
import type { UsageStore } from './usage.js';
import { publicUser, type UserStore } from './users.js';

export interface IdentityRouteDeps {
  config: Config;
  users: UserStore;
  keys: ApiKeyStore;
  tokens: TokenService;
  usage: UsageStore;
  signing: SigningKeys;
}

const json = express.json({ limit: '16kb' });
const body = <S extends z.ZodType>(schema: S, req: Request): z.output<S> => parseWith(schema, req.body, { code: 'INVALID_REQUEST', what: 'body' });

/** The principal the authenticate middleware set; the route table guarantees one here. */
const who = (res: Response): Principal => principalOf(res)!;

const liveUser = (users: UserStore) => (id: string) => {
  const user = users.get(id);
  return user && !user.disabled ? user : undefined;
};

/** Failed sign-ins only, per account and per IP (a wrong password counts; a right one does not). */
function loginThrottles(config: Config) {
  const windowMs = config.LOGIN_FAILURE_WINDOW;
  const email = (req: Request) => (typeof req.body?.email === 'string' ? `login:${req.body.email.toLowerCase()}` : undefined);
  return [
    limiter({ name: 'sign-in failures per IP', limit: config.LOGIN_MAX_FAILURES * 4, windowMs, onlyFailures: true, key: (req) => `login-ip:${ipKey(req)}` }),
    limiter({ name: 'sign-in failures per account', limit: config.LOGIN_MAX_FAILURES, windowMs, onlyFailures: true, key: email }),
  ];
}

function authRoutes(router: Router, d: IdentityRouteDeps): void {
  const { users, tokens } = d;
  router.post('/api/v1/auth/register', json, async (req, res) => {
    if (d.config.REGISTRATION !== 'open') throw new AppError('FORBIDDEN', 'Registration is closed here: ask an admin to create your account.');
    const input = body(Registration, req);
    const user = await users.create({ ...input, role: 'user' });
    sendSuccess(res, { user: publicUser(user), ...tokens.issue(user) }, 201);
  });

  router.post('/api/v1/auth/login', json, ...loginThrottles(d.config), async (req, res) => {
    const { email, password } = body(Credentials, req);
    const user = users.byEmail(email);
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash()), password);
    if (!user || !ok) throw unauthorized('Wrong email or password.');
    if (user.disabled) throw unauthorized('This account is disabled.');
    sendSuccess(res, tokens.issue(user));
  });

  router.post('/api/v1/auth/refresh', json, (req, res) => {
    const { refreshToken } = body(RefreshBody, req);
    sendSuccess(res, tokens.refresh(refreshToken, liveUser(users)));
  });

  router.post('/api/v1/auth/logout', json, (req, res) => {
    const { refreshToken } = body(RefreshBody, req);
    tokens.revoke(refreshToken);
    sendSuccess(res, { loggedOut: true });
  });

  router.get('/api/v1/auth/me', (_req, res) => {
    const p = who(res);
    sendSuccess(res, { user: publicUser(p.user), via: p.via, scopes: p.scopes, ...(p.keyId ? { keyId: p.keyId } : {}) });
  });

  router.post('/api/v1/auth/password', json, async (req, res) => {
    const p = who(res);
    if (p.via !== 'token') throw new AppError('FORBIDDEN', 'Change a password with a signed-in session, not an API key.');
    const { currentPassword, newPassword } = body(PasswordChange, req);
    if (!(await verifyPassword(p.user.passwordHash, currentPassword))) throw unauthorized('The current password is wrong.');
    await users.setPassword(p.user.id, newPassword);
    tokens.revokeUser(p.user.id);
    sendSuccess(res, { changed: true, note: 'every session was signed out; sign in again' });
  });

  router.get('/.well-known/jwks.json', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json({ keys: d.signing.jwk ? [d.signing.jwk] : [] });
  });
}

function keyRoutes(router: Router, d: IdentityRouteDeps): void {
  router.post('/api/v1/keys', json, (req, res) => {
    const p = who(res);
    const input = body(NewKey, req);
    const owned = ROLE_SCOPES[p.user.role];
    const scopes = input.scopes ?? [...owned];
    const extra = scopes.filter((s) => !owned.includes(s));
    if (extra.length) throw new AppError('FORBIDDEN', `A key cannot have scopes its owner lacks: ${extra.join(', ')}.`, { details: { missingScope: extra[0] } });
    const expiresAt = input.expiresAt ? Date.parse(input.expiresAt) : undefined;
    if (expiresAt !== undefined && expiresAt <= Date.now()) throw new AppError('INVALID_REQUEST', 'expiresAt is in the past.', { details: { field: 'expiresAt' } });
    const { key, secret } = d.keys.create(p.user.id, { name: input.name, scopes, ...(expiresAt ? { expiresAt } : {}) });
    sendSuccess(res, { key, secret, note: 'the secret is shown once: store it now' }, 201);
  });
  router.get('/api/v1/keys', (_req, res) => sendSuccess(res, { keys: d.keys.list(who(res).user.id) }));
  router.delete('/api/v1/keys/:id', (req, res) => {
    if (!d.keys.revoke(who(res).user.id, req.params.id!)) throw new AppError('NOT_FOUND', `No API key ${req.params.id} among yours; list them with GET /api/v1/keys.`, { details: { id: req.params.id } });
    sendSuccess(res, { deleted: true, id: req.params.id });
  });
}

function usageRange(q: { from?: string; to?: string }, today: string) {
  const to = q.to ?? today;
  const from = q.from ?? new Date(Date.parse(to) - 29 * 86_400_000).toISOString().slice(0, 10);
  return { from, to };
}

function adminRoutes(router: Router, d: IdentityRouteDeps): void {
  const notFound = (id: string) => new AppError('NOT_FOUND', `No user ${id}.`, { details: { id } });
  router.get('/api/v1/admin/users', (req, res) => sendSuccess(res, d.users.list(parseWith(Page, req.query, { code: 'INVALID_REQUEST', what: 'query' }))));
  router.post('/api/v1/admin/users', json, async (req, res) => {
    const input = body(NewUser, req);
    sendSuccess(res, { user: publicUser(await d.users.create(input)) }, 201);
  });
  router.get('/api/v1/admin/users/:id', (req, res) => {
    const user = d.users.get(req.params.id!);
    if (!user) throw notFound(req.params.id!);
    sendSuccess(res, { user: publicUser(user) });
  });
  router.patch('/api/v1/admin/users/:id', json, (req, res) => {
    const patch = body(UserPatchBody, req);
    if (req.params.id === who(res).user.id && (patch.disabled || (patch.role && patch.role !== 'admin'))) {
      throw new AppError('CONFLICT', 'An admin cannot disable or demote themselves; another admin can.');
    }
    const user = d.users.update(req.params.id!, patch);
    if (!user) throw notFound(req.params.id!);
    if (patch.disabled) d.tokens.revokeUser(user.id);
    sendSuccess(res, { user: publicUser(user) });
  });
  router.get('/api/v1/admin/usage', (req, res) => {
    const q = parseWith(UsageQuery, req.query, { code: 'INVALID_REQUEST', what: 'query' });
    const range = usageRange(q, d.usage.today());
    sendSuccess(res, { ...range, usage: d.usage.all({ ...range, ...(q.owner ? { owner: q.owner } : {}) }) });
  });
  router.get('/api/v1/usage', (req, res) => {
    const q = parseWith(UsageQuery.omit({ owner: true }), req.query, { code: 'INVALID_REQUEST', what: 'query' });
    const range = usageRange(q, d.usage.today());
    sendSuccess(res, { ...range, usage: d.usage.forOwner(String(res.locals.owner), range) });
  });
}

/** Accounts, tokens, keys, admin and usage routes (AUTH_MODE=users); the authenticate middleware runs before them. */
export function identityRoutes(d: IdentityRouteDeps): Router {
  const router = Router();
  authRoutes(router, d);
  keyRoutes(router, d);
  adminRoutes(router, d);
  return router;
}
