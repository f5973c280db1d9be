/**
 * JSON containment (`data @> filter`, as PostgreSQL's jsonb) as an SQLite condition over the `data` column,
 * built from the filter's shape with every value bound as a parameter:
 *
 * - an object matches an object holding at least its keys, each contained;
 * - an array matches an array holding, for each of its elements, some element that contains it;
 * - a string, number, true, false or null matches the same JSON value (1 and 1.0 alike; "1" is not 1).
 *
 * Keys are checked at the edge (input-schemas.ts: no `"`), so they can be quoted into JSON paths.
 */
export function containsCondition(filter: unknown, params: Record<string, unknown>, column = 'data', prefix = 'd'): string {
  let n = 0;
  const param = (value: unknown) => {
    const key = `${prefix}${n++}`;
    params[key] = value;
    return `@${key}`;
  };
  let each = 0;

  const at = (base: string, path: string, value: unknown): string => {
    if (Array.isArray(value)) {
      const conds = [`json_type(${base}, '${path}') = 'array'`];
      for (const element of value) {
        const e = `e${each++}`;
        conds.push(`EXISTS (SELECT 1 FROM json_each(${base}, '${path}') AS ${e} WHERE ${elementIs(e, element)})`);
      }
      return conds.join(' AND ');
    }
    if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      if (entries.length === 0) return `json_type(${base}, '${path}') = 'object'`;
      return entries.map(([k, v]) => at(base, `${path}."${k}"`, v)).join(' AND ');
    }
    return scalarIs(`json_type(${base}, '${path}')`, `json_extract(${base}, '${path}')`, value);
  };

  /** An element of a json_each over an array contains `value`. */
  const elementIs = (e: string, value: unknown): string => {
    if (value !== null && typeof value === 'object') return `${e}.type = '${Array.isArray(value) ? 'array' : 'object'}' AND ${at(`${e}.value`, '$', value)}`;
    return scalarIs(`${e}.type`, `${e}.value`, value);
  };

  const scalarIs = (type: string, extracted: string, value: unknown): string => {
    if (value === null) return `${type} = 'null'`;
    if (value === true) return `${type} = 'true'`;
    if (value === false) return `${type} = 'false'`;
    if (typeof value === 'number') return `${type} IN ('integer', 'real') AND ${extracted} = ${param(value)}`;
    return `${type} = 'text' AND ${extracted} = ${param(String(value))}`;
  };

  return `(${at(column, '$', filter)})`;
}
