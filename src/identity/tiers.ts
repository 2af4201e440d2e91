import { routeNeed } from './scopes.js';

/** Seed 002's endpoint cost tiers: heavy inference, light inference, reads. */
export type Tier = 'strict' | 'moderate' | 'lenient';

const LIGHT_INFERENCE = /\/face\/(detect|analyze|verify)$|\/detect-objects$/;

export function routeTier(method: string, path: string): Tier {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return 'lenient';
  const need = routeNeed(method, path);
  if ((need === 'tasks' || need === 'jobs') && !LIGHT_INFERENCE.test(path)) return 'strict';
  return 'moderate';
}

/** Work requests, counted in usage and against a daily quota: inference, job submissions, gallery enrolment. */
export function isMetered(method: string, path: string): boolean {
  if (method !== 'POST') return false;
  const need = routeNeed(method, path);
  return need === 'tasks' || need === 'jobs' || (need === 'gallery' && path.endsWith('/faces'));
}
