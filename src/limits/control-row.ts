import type { NameControl } from './limits.ts';

/**
 * A row of the per-name control table as either store returns it: the same columns on both; `paused` is a
 * boolean on PostgreSQL and 0/1 on SQLite (which has no boolean type).
 */
export interface ControlRow {
  name: string;
  paused: boolean | number;
  concurrency: number | null;
  per_key_concurrency: number | null;
  rate_max: number | null;
  rate_interval_ms: number | null;
  per_key_rate_max: number | null;
  per_key_rate_interval_ms: number | null;
  rate_state?: string | null;
}

const rateOf = (max: number | null, intervalMs: number | null) => (max !== null && intervalMs !== null ? { max, intervalMs } : null);

export function controlFromRow(row: ControlRow): NameControl {
  return {
    name: row.name,
    paused: row.paused === true || row.paused === 1,
    concurrency: row.concurrency,
    perKeyConcurrency: row.per_key_concurrency,
    rate: rateOf(row.rate_max, row.rate_interval_ms),
    perKeyRate: rateOf(row.per_key_rate_max, row.per_key_rate_interval_ms),
  };
}
