import { z } from 'zod';

type JsonSchema = Record<string, unknown>;

/**
 * A request schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), seen from the client's side
 * (`io: 'input'`: defaults are optional, transforms show what is sent). Parts JSON Schema cannot
 * say (custom refinements) are left open rather than failing the document.
 */
export function jsonSchema(schema: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  delete out.$schema;
  return out;
}

/** A query or path schema as OpenAPI parameters. */
export function parameters(schema: z.ZodType, where: 'query' | 'path'): JsonSchema[] {
  const s = jsonSchema(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, property]) => ({
    name, in: where, required: where === 'path' || (s.required ?? []).includes(name), schema: property,
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
  }));
}
