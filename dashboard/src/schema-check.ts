/**
 * A typed job's JSON Schema (GET /api/job-types), checked in the page as the data is typed: the top-level
 * required properties and each property's JSON type. The server checks again with the job's own schema
 * (Standard Schema), whose message wins; this only catches the common mistakes before a round trip.
 */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
}

const typeOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;

const matches = (value: unknown, type: string): boolean => {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
};

/** What is wrong with `data` against `schema` (top level only), or null. */
export function schemaProblem(schema: JsonSchema, data: unknown): string | null {
  if (schema.type === 'object' && typeOf(data) !== 'object') return `must be an object, got ${typeOf(data)}`;
  if (typeOf(data) !== 'object') return null;
  const record = data as Record<string, unknown>;
  for (const key of schema.required ?? []) if (!(key in record)) return `needs "${key}"`;
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (!(key in record)) continue;
    const types = property.type === undefined ? [] : [property.type].flat();
    if (types.length > 0 && !types.some((t) => matches(record[key], t))) return `"${key}" must be ${types.join(' or ')}, got ${typeOf(record[key])}`;
    if (property.enum && !property.enum.some((v) => JSON.stringify(v) === JSON.stringify(record[key]))) return `"${key}" must be one of ${property.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return null;
}

const EMPTY: Record<string, unknown> = { string: '', number: 0, integer: 0, boolean: false, array: [], object: {}, null: null };

/** A starting value for the data: every property with its default, its first enum value or an empty value of its type. */
export function skeleton(schema: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    const type = [property.type ?? 'string'].flat()[0]!;
    out[key] = property.default ?? property.enum?.[0] ?? (type === 'object' ? skeleton(property) : EMPTY[type] ?? null);
  }
  return out;
}
