import type { z } from 'zod';
import { parseWith } from '../schema.js';

/** Validates task options with the task's schema; failures are 400 INVALID_OPTIONS with zod's issues. */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  return parseWith(schema, raw ?? {}, { code: 'INVALID_OPTIONS', what: 'options' });
}
