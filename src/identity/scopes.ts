import { z } from 'zod';

/** What a credential may do; checked per route (routeScope), granted per role and narrowed per API key. */
export const SCOPES = ['tasks', 'jobs', 'gallery', 'keys', 'usage', 'models:admin', 'users:admin', 'usage:admin', 'metrics'] as const;
export type Scope = (typeof SCOPES)[number];
export const ScopeSchema = z.enum(SCOPES);

export const ROLES = ['admin', 'user', 'service'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = z.enum(ROLES);

/** `service` is a machine account: it runs work but manages nothing, not even its own keys. */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  admin: SCOPES,
  user: ['tasks', 'jobs', 'gallery', 'keys', 'usage'],
  service: ['tasks', 'jobs', 'gallery'],
};

/** What a route needs: a scope, any signed-in credential, or nothing (signing in, the public key). */
export type RouteNeed = Scope | 'signed-in' | 'public';

interface ScopeRule {
  method?: string;
  path: RegExp;
  need: RouteNeed;
}

/** First match wins; anything not listed is inference or a catalogue read, which needs `tasks`. */
const RULES: readonly ScopeRule[] = [
  { method: 'GET', path: /^\/\.well-known\/jwks\.json$/, need: 'public' },
  { method: 'POST', path: /^\/api\/v1\/auth\/(register|login|refresh)$/, need: 'public' },
  { path: /^\/api\/v1\/auth\//, need: 'signed-in' },
  { path: /^\/api\/v1\/keys(\/|$)/, need: 'keys' },
  { path: /^\/api\/v1\/admin\/users(\/|$)/, need: 'users:admin' },
  { path: /^\/api\/v1\/admin\/usage(\/|$)/, need: 'usage:admin' },
  { path: /^\/api\/v1\/usage(\/|$)/, need: 'usage' },
  { path: /^\/api\/v1\/jobs(\/|$)/, need: 'jobs' },
  { path: /^\/api\/v1\/face\/subjects(\/|$)/, need: 'gallery' },
  { path: /^\/api\/v1\/recognition\//, need: 'gallery' },
  { method: 'POST', path: /^\/api\/v1\/models\/[^/]+\/(load|unload)$/, need: 'models:admin' },
  { method: 'GET', path: /^\/metrics$/, need: 'metrics' },
];

export function routeNeed(method: string, path: string): RouteNeed {
  return RULES.find((r) => (!r.method || r.method === method) && r.path.test(path))?.need ?? 'tasks';
}
