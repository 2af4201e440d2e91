import type { z } from 'zod';
import { AppError, type ErrorCode } from './errors.js';

/**
 * Parses a request part with its schema; a failure is a 400 naming the first bad field, with
 * every zod issue in `details.issues`.
 */
export function parseWith<S extends z.ZodType>(schema: S, raw: unknown, opts: { code: ErrorCode; what: string }): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const first = issues[0];
  throw new AppError(opts.code, `Invalid ${opts.what}${first ? `: ${first.path || '(root)'}: ${first.message}` : ''}.`, {
    details: { issues },
  });
}
