import type { z } from 'zod';
import { AppError } from '../errors.js';

/** Validates task options with the task's schema; failures are 400 INVALID_OPTIONS with zod's issues. */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    const first = issues[0];
    throw new AppError('INVALID_OPTIONS', `Invalid options${first ? `: ${first.path || '(root)'}: ${first.message}` : ''}.`, {
      details: { issues },
    });
  }
  return parsed.data;
}
