import pg from 'pg';
import type { PostgresFacts } from '../inspection.ts';
import { expectedIndexes, quoteIdent, SCHEMA_VERSION } from './schema.ts';

/**
 * Reads what `spool doctor` checks from a PostgreSQL server, read-only, on one short-lived connection of its
 * own (application_name spool/doctor): five statements, none of them reading more of the jobs than the
 * running ones.
 */
export async function inspectPostgres(url: string, schema: string): Promise<PostgresFacts> {
  const facts: PostgresFacts = { kind: 'postgres', schema, connected: false, knownVersion: SCHEMA_VERSION, expectedIndexes: expectedIndexes(schema) };
  const client = new pg.Client({ connectionString: url, application_name: 'spool/doctor', connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    facts.connected = true;
  } catch (error) {
    facts.error = (error as Error).message;
    return facts;
  }
  const S = quoteIdent(schema);
  try {
    const { rows: [server] } = await client.query<{
      version: string; max_conn: number; reserved: number; autovacuum: boolean; track_counts: boolean;
      in_use: number; spool_conns: number; schema_exists: boolean; has_migrations: boolean; has_jobs: boolean;
    }>(
      `SELECT current_setting('server_version') AS version,
              current_setting('max_connections')::int AS max_conn,
              current_setting('superuser_reserved_connections')::int
                + coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int AS reserved,
              current_setting('autovacuum') = 'on' AS autovacuum,
              current_setting('track_counts') = 'on' AS track_counts,
              (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS in_use,
              (SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE $3)::int AS spool_conns,
              to_regnamespace($1) IS NOT NULL AS schema_exists,
              to_regclass($2 || '.migrations') IS NOT NULL AS has_migrations,
              to_regclass($2 || '.jobs') IS NOT NULL AS has_jobs`,
      [schema, S, `spool/${schema}%`],
    );
    Object.assign(facts, {
      serverVersion: server!.version,
      maxConnections: server!.max_conn,
      reservedConnections: server!.reserved,
      autovacuum: server!.autovacuum,
      trackCounts: server!.track_counts,
      connectionsInUse: server!.in_use,
      spoolConnections: server!.spool_conns,
      schemaExists: server!.schema_exists,
      hasJobsTable: server!.has_jobs,
    });
    if (server!.has_migrations) {
      facts.schemaVersion = (await client.query<{ v: number }>(`SELECT coalesce(max(version), 0)::int AS v FROM ${S}.migrations`)).rows[0]!.v;
    } else if (server!.schema_exists) {
      facts.schemaVersion = 0;
    }
    const { rows: indexes } = await client.query<{ name: string; valid: boolean }>(
      `SELECT c.relname AS name, i.indisvalid AS valid
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1`,
      [schema],
    );
    facts.indexes = indexes;
    const { rows: tables } = await client.query<{ name: string; options: string[] | null; live: string; dead: string; last_autovacuum: Date | null }>(
      `SELECT c.relname AS name, c.reloptions AS options, coalesce(s.n_live_tup, 0) AS live, coalesce(s.n_dead_tup, 0) AS dead, s.last_autovacuum
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
      [schema],
    );
    facts.tables = tables.map((t) => ({
      name: t.name,
      options: Object.fromEntries((t.options ?? []).map((o) => [o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1)])),
      liveRows: Number(t.live),
      deadRows: Number(t.dead),
      lastAutovacuum: t.last_autovacuum,
    }));
    if (server!.has_jobs) {
      // Running rows only (a partial index): how many outlived their lease.
      const { rows } = await client.query<{ expired: number }>(`SELECT count(*)::int AS expired FROM ${S}.jobs WHERE status = 'running' AND lease_until < now()`);
      facts.expiredLeases = rows[0]!.expired;
    }
  } catch (error) {
    facts.error = (error as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
  return facts;
}
