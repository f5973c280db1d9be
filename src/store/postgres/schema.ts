import type pg from 'pg';
import { type ExpectedIndex, indexesCreatedBy } from '../inspection.ts';

/**
 * Migrations, applied in order on open; `<schema>.migrations` records which ran. All of them run in one
 * transaction that first takes a transaction-level advisory lock keyed by the schema, so processes opening
 * a fresh database together queue up behind the first, find the work done, and apply nothing.
 * `S` stands for the quoted schema name.
 */
const MIGRATIONS: readonly ((S: string) => string)[] = [
  (S) => `
  CREATE TABLE ${S}.jobs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text        NOT NULL,
    data             json        NOT NULL,
    status           text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    priority         integer     NOT NULL DEFAULT 0,
    attempts         integer     NOT NULL DEFAULT 0,
    max_attempts     integer     NOT NULL,
    backoff          json,
    timeout_ms       integer,
    progress         json,
    result           json,
    error            text,
    error_stack      text,
    run_at           timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    started_at       timestamptz,
    completed_at     timestamptz,
    processing_by    text,
    lease_until      timestamptz,
    cancel_requested boolean     NOT NULL DEFAULT false,
    unique_key       text
  ) WITH (
    -- Every job is updated 2-3 times (claim, ticks, finish): dead tuples pile up fast, so vacuum and
    -- analyze at 2 % of the table instead of the default 20 % / 10 %.
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
  );

  -- The hot set: only pending rows, in claim order. Finished rows never enter it, so a table of
  -- millions of completed jobs claims as fast as an empty one.
  CREATE INDEX jobs_runnable ON ${S}.jobs (priority DESC, run_at, id) WHERE status = 'pending';
  -- Running rows by lease end: how a dead worker's jobs are found again.
  CREATE INDEX jobs_leases ON ${S}.jobs (lease_until) WHERE status = 'running';
  -- At most one pending or running job per unique key.
  CREATE UNIQUE INDEX jobs_unique_key ON ${S}.jobs (unique_key)
    WHERE unique_key IS NOT NULL AND status IN ('pending', 'running');
  -- Listing newest first, filtered by status or by name: one index range scan per page.
  CREATE INDEX jobs_status_id ON ${S}.jobs (status, id);
  CREATE INDEX jobs_name_id ON ${S}.jobs (name, id);
  `,
];

/** How many migrations this version of Spool knows. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The indexes the migrations create in `schema` (what `spool doctor` expects to find). */
export function expectedIndexes(schema: string): ExpectedIndex[] {
  return indexesCreatedBy(MIGRATIONS.map((m) => m(quoteIdent(schema))));
}

/**
 * Brings the schema up to date on one connection; safe to call from many processes at once.
 * Returns how many migrations this call applied (0 when another process, or an earlier open, did)
 * and how many statements it sent.
 */
export async function migrate(client: pg.ClientBase, schema: string): Promise<{ applied: number; statements: number }> {
  const S = quoteIdent(schema);
  let statements = 0;
  const exec = async (text: string, values?: unknown[]) => {
    statements++;
    return client.query(text, values);
  };
  // Fast path, read-only: a current schema needs no lock and no write (so a hot standby can be opened too).
  const { rows: found } = await exec(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${S}.migrations`]);
  if ((found[0] as { present: boolean }).present) {
    const { rows } = await exec(`SELECT coalesce(max(version), 0)::int AS version FROM ${S}.migrations`);
    if ((rows[0] as { version: number }).version >= MIGRATIONS.length) return { applied: 0, statements };
  }
  await exec('BEGIN');
  try {
    // Taken before anything else: concurrent CREATE SCHEMA IF NOT EXISTS would otherwise race on the catalog.
    await exec(`SELECT pg_advisory_xact_lock(hashtext('spool migrations'), hashtext($1))`, [schema]);
    await exec(`CREATE SCHEMA IF NOT EXISTS ${S}`);
    await exec(`CREATE TABLE IF NOT EXISTS ${S}.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await exec(`SELECT coalesce(max(version), 0)::int AS version FROM ${S}.migrations`);
    const current = (rows[0] as { version: number }).version;
    for (let version = current; version < MIGRATIONS.length; version++) {
      await exec(MIGRATIONS[version]!(S));
      await exec(`INSERT INTO ${S}.migrations (version) VALUES ($1)`, [version + 1]);
    }
    await exec('COMMIT');
    return { applied: Math.max(0, MIGRATIONS.length - current), statements };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** Schema names Spool accepts: lower-case SQL identifiers, so they need no quoting anywhere (channels included). */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Quotes an identifier for SQL text. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
