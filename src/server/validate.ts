import type { Context } from 'hono';
import type { z } from 'zod';
import { parseInput } from '../input-schemas.ts';
import { HttpError } from './http-errors.ts';

/**
 * Request input through one schema each: the query string (first value of each key; a key given twice is
 * refused) and the JSON body. Failures are ValidationErrors naming the field, the value and the fix (400).
 */

export function query<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const params = new URL(c.req.url).searchParams;
  const record: Record<string, string> = {};
  for (const [key, value] of params) {
    if (key in record) throw new HttpError(400, 'VALIDATION', `query parameter ${JSON.stringify(key.slice(0, 50))} is given twice; give it once`);
    record[key] = value;
  }
  return parseInput(schema, record, 'query');
}

/** Reads the JSON body (Content-Type application/json; 415 otherwise, 400 when it does not parse). */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `send the body as JSON with Content-Type: application/json (got ${JSON.stringify(type.slice(0, 60)) || 'none'})`);
  }
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'BAD_JSON', `the body is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
  }
  return parseInput(schema, value, 'body');
}

/** A route parameter; absent cannot happen on a matched route. */
export function param(c: Context, name: string): string {
  return c.req.param(name) ?? '';
}
