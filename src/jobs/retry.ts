import { isAppError } from '../errors.js';

export interface BackoffPolicy {
  /** Delay before the second attempt; doubles per attempt. */
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 2_000, maxMs: 5 * 60_000 };

/** Delay before attempt `attempt + 1`, after `attempt` attempts failed (1-based). */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Whether another attempt could succeed. The request's own faults (4xx: invalid options, image too
 * large…) never will; server-side conditions (model unavailable, overloaded, timeout, out of memory,
 * a crashed worker) may clear. An AppError can say otherwise with `details.retryable`.
 */
export function isRetryable(err: unknown): boolean {
  if (!isAppError(err)) return true;
  const flag = (err.details as { retryable?: unknown } | undefined)?.retryable;
  if (typeof flag === 'boolean') return flag;
  return err.status >= 500;
}

/** The code and message a client sees for a failed attempt; internal errors keep their detail in the log. */
export function describeFailure(err: unknown): { code: string; message: string } {
  if (isAppError(err)) return { code: err.code, message: err.message };
  return { code: 'PROCESSING_ERROR', message: 'The job failed inside the service; it was retried where possible. See the server log for the cause.' };
}
